// Fault injection (the test-only build, privdrop_faults.node): every step of the drop is
// forced to fail. Before the first irreversible step: a coded error, nothing changed. After
// it: the process ends with the diagnostic and never runs another line of JavaScript.
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { describeAsRoot, faultsBinding, runNode } from '../helpers/child';
import { prelude } from '../helpers/drop';
import { afterIrreversible, beforeIrreversible, REHEARSAL_RESTORE } from '../helpers/faults';

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
  report({ d, before, after: summary(), pid: process.pid });
`;

describe('the fault-injection switch', () => {
  test('is compiled into the test build only', () => {
    const normal = runNode(`report(require(${JSON.stringify(require.resolve('../../dist/addon/binding'))}).binding().faultInjection)`);
    expect(normal.json).toBe(false);
    const faults = runNode(`report(require(${JSON.stringify(require.resolve('../../dist/addon/binding'))}).binding().faultInjection)`, {
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

describeAsRoot('a failure before the first irreversible step', () => {
  test.each(beforeIrreversible)('%s: a coded error and processState() unchanged', (fault, code, step, syscall) => {
    const r = withFault(fault, dropAndContinue());
    expect(r.signal).toBeNull();
    expect(r.json.d).toMatchObject({ ok: false, code, step });
    expect(r.json.d.syscall).toBe(syscall);
    expect(r.json.after).toEqual(r.json.before);
    expect(r.json.after.uid).toEqual([0, 0, 0, 0]);
    // The failing thread is named: another thread's id for @thread, the caller's otherwise.
    const tid = Number(/thread (\d+)/.exec(r.json.d.message)?.[1]);
    if (fault.endsWith('@thread')) {
      expect(tid).toBeGreaterThan(0);
      expect(tid).not.toBe(r.json.pid);
    } else if (step === 'rehearse' && code === 'ERR_PRIVDROP_NOT_PERMITTED') {
      expect(tid).toBe(r.json.pid);
    }
  });
});

describeAsRoot('a failure after the first irreversible step', () => {
  test.each(afterIrreversible)('%s: the process aborts with the diagnostic and runs no more JavaScript', (fault, step, what, extra) => {
    const r = withFault(fault, dropAndContinue(extra));
    expect(r.signal).toBe('SIGABRT');
    expect(r.stdout).not.toContain('CONTINUED');
    expect(r.json).toBeUndefined();
    expect(r.stderr).toContain(`privdrop: FATAL: the privilege drop failed after its first irreversible step, at step '${step}'`);
    if (what) expect(r.stderr).toContain(`; ${what}`);
    const tid = Number(/on thread (\d+)/.exec(r.stderr)?.[1]);
    const pid = Number(/\(pid (\d+)\)/.exec(r.stderr)?.[1]);
    expect(tid).toBeGreaterThan(0);
    // A fault on another thread is reported with that thread's id, not the main thread's.
    if (fault.endsWith('@thread')) expect(tid).not.toBe(pid);
    else expect(tid).toBe(pid);
  });
});

describeAsRoot('the rehearsal puts back the effective set it raised', () => {
  // Effective uid 1000 (permitted kept, effective empty): the rehearsal raises effective to
  // permitted on each thread for the calls and lowers it again; if lowering fails it aborts.
  test.each(REHEARSAL_RESTORE)('%s: abort with the diagnostic, no JavaScript after it', (fault) => {
    const r = runNode(`${prelude}\nprocess.seteuid(1000);\n${dropAndContinue()}`, { binding: faultsBinding, env: { PRIVDROP_FAULT: fault } });
    expect(r.signal).toBe('SIGABRT');
    expect(r.stdout).not.toContain('CONTINUED');
    expect(r.stderr).toContain("privdrop: FATAL: the rehearsal raised a thread's effective set to its permitted set and could not lower it again, at step 'rehearse'");
  });

  test('without a fault, the same process drops', () => {
    const r = runNode(
      `${prelude}\nprocess.seteuid(1000);\nconst d = tryDrop({ user: 'nobody', capabilities: 'cap_net_bind_service+ep', ambient: true });\nreport({ d, after: summary() });`,
      { binding: faultsBinding },
    );
    expect(r.json.d.ok).toBe(true);
    expect(r.json.after).toMatchObject({ consistent: true, uid: [65534, 65534, 65534, 65534] });
  });
});

describeAsRoot('after a coded error in the rehearsal', () => {
  test.each(['silent:rehearse@thread', 'setresuid:rehearse@thread', 'rt_tgsigqueueinfo:rehearse'])(
    '%s: glibc setgroups still works, and a second call (fault removed) drops every thread',
    (fault) => {
      const r = withFault(
        fault,
        `
        const attempt = (fn) => { try { fn(); return 'ok'; } catch (e) { return e.code || e.message; } };
        const w = new Worker('setInterval(() => {}, 1000)', { eval: true });
        w.once('online', () => {
          const first = tryDrop({ user: 'nobody', capabilities: 'cap_net_bind_service+ep' });
          const setgroups = attempt(() => process.setgroups([4321]));
          delete process.env.PRIVDROP_FAULT;
          const second = tryDrop({ user: 'nobody', capabilities: 'cap_net_bind_service+ep' });
          const s = summary();
          w.terminate().then(() => report({ first, setgroups, second, s }));
        });
      `,
      );
      expect(r.signal).toBeNull();
      expect(r.json.first).toMatchObject({ ok: false, step: 'rehearse' });
      expect(r.json.setgroups).toBe('ok');
      expect(r.json.second.ok).toBe(true);
      expect(r.json.s).toMatchObject({ consistent: true, uid: [65534, 65534, 65534, 65534] });
    },
  );
});
