// Fault injection (the test-only build, privdrop_faults.node): every step of the drop is
// forced to fail. Before the first irreversible step: a coded error, nothing changed. After
// it: the process ends with the diagnostic and never runs another line of JavaScript.
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { describeAsRoot, faultsBinding, runNode } from './helpers/child';
import { prelude } from './helpers/drop';

let jail: string;
beforeAll(() => {
  jail = fs.mkdtempSync(path.join(os.tmpdir(), 'privdrop-jail-'));
  fs.chmodSync(jail, 0o755);
});
afterAll(() => fs.rmSync(jail, { recursive: true, force: true }));

function withFault(fault: string, body: string) {
  return runNode(`${prelude}\n${body}`, { env: { PRIVDROP_BINDING: faultsBinding, PRIVDROP_FAULT: fault } });
}

const dropAndContinue = () => `
  const before = summary();
  const d = tryDrop({ user: 'nobody', capabilities: 'cap_net_bind_service+ep', chroot: ${JSON.stringify(jail)} });
  process.stdout.write('CONTINUED\\n');
  report({ d, before, after: summary() });
`;

describe('the fault-injection switch', () => {
  test('is compiled into the test build only', () => {
    const normal = runNode(`report(require(${JSON.stringify(require.resolve('../dist/binding'))}).binding().faultInjection)`);
    expect(normal.json).toBe(false);
    const faults = runNode(`report(require(${JSON.stringify(require.resolve('../dist/binding'))}).binding().faultInjection)`, {
      env: { PRIVDROP_BINDING: faultsBinding },
    });
    expect(faults.json).toBe(true);
  });
});

describeAsRoot('a failure before the first irreversible step', () => {
  test.each([
    ['read-threads', 'ERR_PRIVDROP_SYSTEM'],
    ['noop-broadcast', 'ERR_PRIVDROP_THREAD_UNREACHABLE'],
    ['noop-broadcast@thread', 'ERR_PRIVDROP_THREAD_UNREACHABLE'],
  ])('%s: a coded error and processState() unchanged', (fault, code) => {
    const r = withFault(fault, dropAndContinue());
    expect(r.signal).toBeNull();
    expect(r.json.d).toMatchObject({ ok: false, code });
    expect(r.json.after).toEqual(r.json.before);
    expect(r.json.after.uid).toEqual([0, 0, 0, 0]);
  });
});

describeAsRoot('a failure after the first irreversible step', () => {
  test.each([
    'prepare-broadcast',
    'prepare-broadcast@thread',
    'chroot',
    'chdir',
    'setgroups',
    'setresgid',
    'setresuid',
    'final-broadcast',
    'final-broadcast@thread',
    'verify',
    'regain-check',
  ])('%s: the process aborts with the diagnostic and runs no more JavaScript', (fault) => {
    const step = fault.replace('@thread', '');
    const r = withFault(fault, dropAndContinue());
    expect(r.signal).toBe('SIGABRT');
    expect(r.stdout).not.toContain('CONTINUED');
    expect(r.json).toBeUndefined();
    expect(r.stderr).toContain(`privdrop: FATAL: the privilege drop failed after its first irreversible step, at step '${step}'`);
    if (fault.endsWith('@thread')) {
      // The failing thread is named, and it is not the main thread.
      const tid = Number(/on thread (\d+)/.exec(r.stderr)?.[1]);
      expect(tid).toBeGreaterThan(0);
      expect(r.stderr).not.toContain(`(pid ${tid})`);
    }
  });
});
