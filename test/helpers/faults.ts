// The fault names the drop's fault tests run (test/drop/faults.test.ts, keyring.test.ts), in one
// place: test/drop/fault-table.test.ts holds docs/design.md's fault table to these lists.

// The per-thread steps, each failed on the calling thread and on one other thread.
export const onBoth = (name: string): string[] => [name, `${name}@thread`];

// [fault name, code, err.step, err.syscall] — every system call made before the first irreversible step.
export const beforeIrreversible: Array<[string, string, string, string | undefined]> = [
  ['open-task', 'ERR_PRIVDROP_SYSTEM', 'validate', 'open'],
  ['read-threads', 'ERR_PRIVDROP_SYSTEM', 'validate', 'read'],
  ['open-chroot', 'ERR_PRIVDROP_INVALID_CHROOT', 'validate', 'open'],
  ['getgroups', 'ERR_PRIVDROP_SYSTEM', 'validate', 'getgroups'],
  ['rt_sigaction:rehearse', 'ERR_PRIVDROP_THREAD_UNREACHABLE', 'rehearse', 'rt_sigaction'],
  ['getdents64:rehearse', 'ERR_PRIVDROP_THREAD_UNREACHABLE', 'rehearse', 'getdents64'],
  ['rt_tgsigqueueinfo:rehearse', 'ERR_PRIVDROP_THREAD_UNREACHABLE', 'rehearse', 'rt_tgsigqueueinfo'],
  // A thread that never answers: the rehearsal's deadline passes, nothing has changed.
  ['silent:rehearse@thread', 'ERR_PRIVDROP_THREAD_UNREACHABLE', 'rehearse', undefined],
  // Another thread's status file cannot be parsed: validate reads every thread's.
  ['unreadable-status:validate', 'ERR_PRIVDROP_SYSTEM', 'validate', 'read'],
  // [the transition step the rehearsal stands in for, the system call it names]
  ...([
    ['capset', 'capset'], ['session-keyring', 'keyctl'], ['setfsuid', 'setfsuid'], ['capbset-drop', 'prctl'],
    ['securebits', 'prctl'], ['keepcaps', 'prctl'], ['setgroups', 'setgroups'], ['setresgid', 'setresgid'],
    ['setresuid', 'setresuid'], ['ambient-clear', 'prctl'], ['ambient-raise', 'prctl'], ['no-new-privs', 'prctl'],
  ] as const).flatMap(([step, call]) =>
    onBoth(`${step}:rehearse`).map((f): [string, string, string, string] => [f, 'ERR_PRIVDROP_NOT_PERMITTED', 'rehearse', call]),
  ),
];

// [fault name, step named in the diagnostic, what the diagnostic names as failing, extra options]
// — every call from the first irreversible step on.
const transitionSteps = [
  'capset-raise', 'capbset-drop', 'keepcaps-set', 'setgroups', 'setresgid', 'setresuid',
  'capset-final', 'ambient-clear', 'ambient-raise', 'keepcaps-clear', 'no-new-privs',
];
export const afterIrreversible: Array<[string, string, string, string]> = [
  ['chroot', 'chroot', '', ''],
  ['chdir', 'chroot', 'chdir', ''],
  ['rt_sigaction:transition', 'transition', 'install-handler', ''],
  ['getdents64:transition', 'transition', 'list-threads', ''],
  ['rt_tgsigqueueinfo:transition', 'transition', 'send-signal', ''],
  ['silent:transition@thread', 'transition', 'no-answer', ''],
  ...transitionSteps.flatMap((step) => onBoth(step).map((f): [string, string, string, string] => [f, 'transition', step, ''])),
  ...onBoth('securebits').map((f): [string, string, string, string] => [f, 'transition', 'securebits', ', lockSecurebits: true']),
  ['verify', 'verify', '', ''],
  // Another thread's status file cannot be parsed: the verification must not pass over it.
  ['unreadable-status', 'verify', '', ''],
  ['regain-check', 'regain-check', '', ''],
];

/** The rehearsal cannot lower the effective set it raised (a process with euid not 0): abort. */
export const REHEARSAL_RESTORE = ['capset-restore', 'capset-restore@thread'];

/** The drop's new session keyring cannot be created: a coded error (keyring.test.ts). */
export const KEYRING_REFUSED = 'create-keyring';

/** A thread cannot join the keyring, or the chroot's fchdir fails: abort (keyring.test.ts). */
export const KEYRING_ABORTS = ['session-keyring', 'session-keyring@thread', 'fchdir'];

/** Every fault name these lists run, `@thread` taken off. */
export function faultNamesRun(): Set<string> {
  const all = [...beforeIrreversible.map((f) => f[0]), ...afterIrreversible.map((f) => f[0]), ...REHEARSAL_RESTORE, KEYRING_REFUSED, ...KEYRING_ABORTS];
  return new Set(all.map((n) => n.replace(/@thread$/, '')));
}
