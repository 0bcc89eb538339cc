// Seccomp filters that refuse, kill or trap one call of the drop (issue 16): a native thread with
// a filter of its own (another addon, an LD_PRELOAD library: evidence/seccomp-preload.c, built
// with cc), or a filter every thread inherited. Each must be a coded error with every thread
// unchanged (the child compares every thread's state from /proc before and after; runCase reads
// them from outside when it dropped). Before the fix the rehearsal made only read-only prctls and
// one keyctl read, so each of these got past it and aborted in the transition, after the main
// thread had dropped (a filter that kills took a thread away and the drop went on without it).
import { describeAsRoot } from '../helpers/child';

// eslint-disable-next-line @typescript-eslint/no-var-requires
const dropCase = require('../helpers/drop-case.js');

type Denial = { name: string; call: string; arg0: number; arg1: number };
const DENIALS: Denial[] = dropCase.SECCOMP_DENIALS;
const none = { argv: [] };

// Options that make every call the denials name (keep-caps and locked securebits exclude each
// other: the securebits row locks them instead).
const ALL = `{ user: 'nobody', capabilities: 'cap_net_bind_service+ep', supplementaryGroups: [4242], ambient: true, noNewPrivileges: true }`;
const LOCKED = `{ user: 'nobody', capabilities: 'cap_net_bind_service+ep', supplementaryGroups: [4242], ambient: true, noNewPrivileges: true, lockSecurebits: true }`;
const optionsFor = (d: Denial) => (d.name === 'prctl(PR_SET_SECUREBITS)' ? LOCKED : ALL);
// setfsuid is made only where the real uid is not the fs uid (the keyring step, session.h); the
// effective uid is changed after the execve (a secure-execution process ignores LD_PRELOAD).
const idsFor = (d: Denial) => (d.call === 'setfsuid' ? { name: 'effective uid 1000', argv: [], euid: 1000 } : null);

function run(d: Denial, scope: 'thread' | 'process', action: 'errno' | 'kill' | 'trap') {
  return dropCase.runCase({ options: new dropCase.Raw(optionsFor(d)), wrapper: none, userns: null, ids: idsFor(d), seccomp: { scope, action, denial: d } });
}

describeAsRoot('a seccomp filter on every thread refusing one call of the drop: a coded error from the rehearsal, naming it', () => {
  test.each(DENIALS.map((d) => [d.name, d]))('%s', async (name, d) => {
    const out = await run(d, 'process', 'errno');
    expect({ kind: out.kind, code: out.code, detail: out.detail }).toEqual({ kind: 'coded', code: 'ERR_PRIVDROP_NOT_PERMITTED', detail: undefined });
    expect(out.message).toContain(`may not make ${name}`);
    expect(out.message).toMatch(/^thread \d+ /);
    expect(out.message).toContain('nothing was changed');
  }, 30000);
});

describeAsRoot('a thread with a seccomp filter of its own: a coded error before the rehearsal, naming the thread', () => {
  const cases = DENIALS.flatMap((d) => (['errno', 'kill', 'trap'] as const).map((a) => [`${d.name}, ${a}`, d, a] as const));
  test.each(cases)('%s', async (_name, d, action) => {
    const out = await run(d, 'thread', action);
    expect({ kind: out.kind, code: out.code, detail: out.detail }).toEqual({ kind: 'coded', code: 'ERR_PRIVDROP_NOT_PERMITTED', detail: undefined });
    expect(out.message).toMatch(/^thread \d+ has seccomp 1 filter\(s\) but the main thread has no filter/);
  }, 30000);
});

describeAsRoot('a filter on a call this drop does not make', () => {
  test('every thread refusing prctl(PR_SET_NO_NEW_PRIVS), noNewPrivileges not asked: it drops, every thread verified', async () => {
    const d = DENIALS.find((x) => x.name === 'prctl(PR_SET_NO_NEW_PRIVS)');
    const out = await dropCase.runCase({
      options: new dropCase.Raw(`{ user: 'nobody', capabilities: 'cap_net_bind_service+ep' }`), wrapper: none, userns: null, ids: null,
      seccomp: { scope: 'process', action: 'errno', denial: d },
    });
    expect({ kind: out.kind, detail: out.detail }).toEqual({ kind: 'dropped', detail: undefined });
  });

  // Found by the real-drop property test (seed 16016): the keyring step read the fs uid with
  // setfsuid(-1) on every thread, where the rehearsal (rightly) made no setfsuid, and aborted.
  test('every thread refusing setfsuid where the real uid is the fs uid: it drops, every thread verified', async () => {
    const d = DENIALS.find((x) => x.call === 'setfsuid');
    const out = await dropCase.runCase({
      options: new dropCase.Raw(ALL), wrapper: none, userns: null, ids: null, seccomp: { scope: 'process', action: 'errno', denial: d },
    });
    expect({ kind: out.kind, detail: out.detail }).toEqual({ kind: 'dropped', detail: undefined });
  });
});
