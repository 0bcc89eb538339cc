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
  return runNode(`${prelude}\n${body}`, { binding: faultsBinding, env: { PRIVDROP_FAULT: fault } });
}

const dropAndContinue = (extra = '') => `
  const before = summary();
  const d = tryDrop({ user: 'nobody', capabilities: 'cap_net_bind_service+ep', chroot: ${JSON.stringify(jail)}, ambient: true, noNewPrivileges: true${extra} });
  process.stdout.write('CONTINUED\\n');
  report({ d, before, after: summary() });
`;

describe('the fault-injection switch', () => {
  test('is compiled into the test build only', () => {
    const normal = runNode(`report(require(${JSON.stringify(require.resolve('../dist/binding'))}).binding().faultInjection)`);
    expect(normal.json).toBe(false);
    const faults = runNode(`report(require(${JSON.stringify(require.resolve('../dist/binding'))}).binding().faultInjection)`, {
      binding: faultsBinding,
    });
    expect(faults.json).toBe(true);
  });
});

describeAsRoot('the normal build', () => {
  test('ignores a fault name', () => {
    const r = runNode(`${prelude}\nreport(tryDrop({ user: 'nobody' }))`, { env: { PRIVDROP_FAULT: 'setresuid' } });
    expect(r.signal).toBeNull();
    expect(r.json.ok).toBe(true);
  });
});

// [fault name, code] — every system call made before the first irreversible step.
const beforeIrreversible: Array<[string, string]> = [
  ['open-task', 'ERR_PRIVDROP_SYSTEM'],
  ['read-threads', 'ERR_PRIVDROP_SYSTEM'],
  ['open-chroot', 'ERR_PRIVDROP_INVALID_CHROOT'],
  ['rt_sigaction:noop', 'ERR_PRIVDROP_THREAD_UNREACHABLE'],
  ['getdents64:noop', 'ERR_PRIVDROP_THREAD_UNREACHABLE'],
  ['rt_tgsigqueueinfo:noop', 'ERR_PRIVDROP_THREAD_UNREACHABLE'],
  ['noop', 'ERR_PRIVDROP_THREAD_UNREACHABLE'],
  ['noop@thread', 'ERR_PRIVDROP_THREAD_UNREACHABLE'],
];

// [fault name, step named in the diagnostic, extra options] — every call from the first irreversible step on.
const afterIrreversible: Array<[string, string, string]> = [
  ['rt_sigaction:prepare', 'prepare-broadcast', ''],
  ['getdents64:prepare', 'prepare-broadcast', ''],
  ['rt_tgsigqueueinfo:prepare', 'prepare-broadcast', ''],
  ['capset-raise', 'prepare-broadcast', ''],
  ['capset-raise@thread', 'prepare-broadcast', ''],
  ['capbset-drop', 'prepare-broadcast', ''],
  ['capbset-drop@thread', 'prepare-broadcast', ''],
  ['keepcaps-set', 'prepare-broadcast', ''],
  ['keepcaps-set@thread', 'prepare-broadcast', ''],
  ['securebits', 'prepare-broadcast', ', lockSecurebits: true'],
  ['securebits@thread', 'prepare-broadcast', ', lockSecurebits: true'],
  ['chroot', 'chroot', ''],
  ['chdir', 'chdir', ''],
  ['setgroups', 'setgroups', ''],
  ['setresgid', 'setresgid', ''],
  ['setresuid', 'setresuid', ''],
  ['rt_sigaction:final', 'final-broadcast', ''],
  ['getdents64:final', 'final-broadcast', ''],
  ['rt_tgsigqueueinfo:final', 'final-broadcast', ''],
  ['capset-final', 'final-broadcast', ''],
  ['capset-final@thread', 'final-broadcast', ''],
  ['ambient-clear', 'final-broadcast', ''],
  ['ambient-clear@thread', 'final-broadcast', ''],
  ['ambient-raise', 'final-broadcast', ''],
  ['ambient-raise@thread', 'final-broadcast', ''],
  ['keepcaps-clear', 'final-broadcast', ''],
  ['keepcaps-clear@thread', 'final-broadcast', ''],
  ['no-new-privs', 'final-broadcast', ''],
  ['no-new-privs@thread', 'final-broadcast', ''],
  ['verify', 'verify', ''],
  ['regain-check', 'regain-check', ''],
];

describeAsRoot('a failure before the first irreversible step', () => {
  test.each(beforeIrreversible)('%s: a coded error and processState() unchanged', (fault, code) => {
    const r = withFault(fault, dropAndContinue());
    expect(r.signal).toBeNull();
    expect(r.json.d).toMatchObject({ ok: false, code });
    expect(r.json.after).toEqual(r.json.before);
    expect(r.json.after.uid).toEqual([0, 0, 0, 0]);
  });
});

describeAsRoot('a failure after the first irreversible step', () => {
  test.each(afterIrreversible)('%s: the process aborts with the diagnostic and runs no more JavaScript', (fault, step, extra) => {
    const r = withFault(fault, dropAndContinue(extra));
    expect(r.signal).toBe('SIGABRT');
    expect(r.stdout).not.toContain('CONTINUED');
    expect(r.json).toBeUndefined();
    expect(r.stderr).toContain(`privdrop: FATAL: the privilege drop failed after its first irreversible step, at step '${step}'`);
    const tid = Number(/on thread (\d+)/.exec(r.stderr)?.[1]);
    const pid = Number(/\(pid (\d+)\)/.exec(r.stderr)?.[1]);
    expect(tid).toBeGreaterThan(0);
    // A fault on another thread is reported with that thread's id, not the main thread's.
    if (fault.endsWith('@thread')) expect(tid).not.toBe(pid);
    else expect(tid).toBe(pid);
  });
});
