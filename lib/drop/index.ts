// dropPrivileges(): validates and resolves everything in TypeScript, then hands one plan to
// the native drop, which re-checks what only it can see and never returns half-dropped.
// Why the steps come in their order: docs/design.md, "The drop, step by step".
import { binding, mainThread, RawDropResult, RawGroup, RawPlan, RawUser } from '../addon/binding';
import { CapabilitySet } from '../capabilities';
import { effectiveNotPermitted } from '../capabilities/options';
import { debugEnabled } from '../debug';
import { checkMainThread, ErrorCodes, invalidArgument, loadPart, PrivdropError, withStep } from '../errors';
import { checkOptions, DropOptions, Id, isOptionName, nativePlan, numericName, OPTION_NAMES, ResolvedDrop } from './options';
import { precheck } from './prechecks';
import { DropWarning, rootEquivalence, ROOT_USER_REASON } from './root-equivalent';
import { checkSignalDoors, closeJavaScriptDoors, inspectorSignalUnhandled, sharedUserWarning, SignalDoor } from './signal-doors';

export type { DropWarning } from './root-equivalent';
export type { SignalDoor } from './signal-doors';

export type { DropOptions, Id, ResolvedDrop };

export interface BroadcastTiming {
  /** 'rehearse' (every thread can make each call; nothing changes) or 'transition' (the whole drop, one signal per thread). */
  name: string;
  ms: number;
  /** Threads that ran this step, the calling one included. */
  threads: number;
}

export interface DropResult {
  uid: number;
  gid: number;
  /** Supplementary groups now set, sorted. */
  groups: number[];
  /** The kept capabilities in libcap's canonical text ('=' when none). */
  capabilities: string;
  /** Threads whose credentials were verified in /proc/self/task after the drop. */
  threads: number;
  /**
   * Whether the call proved that uid 0 cannot be regained: setresuid(-1, 0, -1) and raising a
   * dropped capability both failed. False when a kept capability gives root back anyway
   * (see rootRegainable), since the probe proves nothing then.
   */
  regainRootChecked: boolean;
  /** Whether a kept capability gives root back (cap_setuid, cap_sys_admin, cap_dac_override, ...: see warnings). */
  rootRegainable: boolean;
  /** One entry per root-equivalent capability kept, for group 0, and for kept signal doors with a shared user (nobody); each was also emitted with process.emitWarning(). */
  warnings: DropWarning[];
  /** 'released': the controlling terminal was given up; 'kept': keepTerminal; 'none': there was none. */
  terminal: 'released' | 'kept' | 'none';
  /**
   * 'replaced': every thread joined a new, empty session keyring, so root's keys stay behind.
   * 'unreachable': no thread can make a key system call at all (keyctl, add_key and request_key
   * refused whole by a seccomp filter, as the container runtimes' default profiles do, or a kernel
   * without keys), nor can anything it starts: there was nothing to leave behind.
   */
  sessionKeyring: 'replaced' | 'unreachable';
  /** The doors Node opens on a signal that were open and that the drop closed ([] with keepDebugSignals). */
  closedSignalDoors: SignalDoor[];
  /** Wall time of the whole native drop, in milliseconds. */
  ms: number;
  broadcasts: BroadcastTiming[];
}

/** A name is looked up first; a name made only of digits that NSS does not know is taken as a number (as setpriv does). */
function resolveUser(user: Id): { uid: number; entry: RawUser | null } {
  const native = binding();
  const entry = native.lookupUser(user);
  if (entry) return { uid: entry.uid, entry };
  if (typeof user === 'number') return { uid: user, entry: null };
  const uid = numericName(user);
  if (uid !== undefined) return { uid, entry: native.lookupUser(uid) };
  throw new PrivdropError(ErrorCodes.UNKNOWN_USER, `unknown user ${JSON.stringify(user)}: no such entry in the user database`, {
    step: 'resolve',
  });
}

function resolveGroup(group: Id, what: string): number {
  if (typeof group === 'number') return group; // an id is an id: no NSS lookup (65,536 of them would take seconds)
  const native = binding();
  const entry: RawGroup | null = native.lookupGroup(group);
  if (entry) return entry.gid;
  if (typeof group === 'number') return group;
  const gid = numericName(group);
  if (gid !== undefined) return gid;
  throw new PrivdropError(ErrorCodes.UNKNOWN_GROUP, `unknown ${what} ${JSON.stringify(group)}: no such entry in the group database`, {
    step: 'resolve',
  });
}

/**
 * Checks and resolves options without changing anything: what dropPrivileges() would do.
 * User and group names are resolved here, through NSS, before any chroot.
 */
export function resolveDropOptions(options: DropOptions): ResolvedDrop {
  // Every PrivdropError from here names its step: 'load' (the addon), 'resolve' (NSS), else 'validate'.
  try {
    return resolve(options);
  } catch (e) {
    throw withStep(e, 'validate');
  }
}

/**
 * Internal (privdrop/register in a process that is already the configured user): the same
 * checks and name resolution, without the prechecks of the drop itself (they need root).
 */
export function resolveWithoutPrechecks(options: DropOptions): ResolvedDrop {
  try {
    return resolve(options, false);
  } catch (e) {
    throw withStep(e, 'validate');
  }
}

function resolve(options: DropOptions, prechecks = true): ResolvedDrop {
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    throw new TypeError('dropPrivileges() takes an options object, e.g. { user: "www-data", capabilities: "cap_net_bind_service+ep" }');
  }
  for (const key of Object.keys(options)) {
    if (!isOptionName(key)) {
      // eslint-disable-next-line @typescript-eslint/no-var-requires
      const { didYouMean } = loadPart(() => require('../errors/suggest') as typeof import('../errors/suggest'), 'errors/suggest'); // the error path only
      throw invalidArgument(`unknown option ${JSON.stringify(key)}${didYouMean(key, OPTION_NAMES)}; known options: ${OPTION_NAMES.join(', ')}`);
    }
  }
  // The platform error comes before any argument error.
  try {
    binding();
  } catch (e) {
    throw withStep(e, 'load');
  }
  const checked = checkOptions(options);
  const { user, group: groupOption, supplementaryGroups: sgOption, ...applied } = checked;
  const { capabilities } = applied;

  const notPermitted = effectiveNotPermitted(capabilities);
  if (notPermitted) throw new PrivdropError(ErrorCodes.INVALID_CAPABILITIES, notPermitted);

  const { uid, entry } = resolveUser(user);
  if (uid === 0) throw invalidArgument(`user ${JSON.stringify(user)} is root (uid 0): dropPrivileges() drops to an unprivileged user; ${ROOT_USER_REASON}`);
  let gid: number;
  if (groupOption !== undefined) gid = resolveGroup(groupOption, 'group');
  else if (entry) gid = entry.gid;
  else throw invalidArgument(`uid ${uid} has no entry in the user database, so it has no primary group: give the group option`);

  let groups: number[];
  if (sgOption === 'init') {
    if (!entry) throw invalidArgument(`supplementaryGroups 'init' needs a user known to the user database; uid ${uid} is not: use 'clear' or a list`);
    groups = binding().groupList(entry.name, gid);
  } else if (sgOption === 'clear') {
    groups = [];
  } else {
    groups = sgOption.map((g) => resolveGroup(g, 'supplementary group'));
  }
  groups = [...new Set(groups)].sort((a, b) => a - b);

  // What only the system can tell: ngroups_max, user namespace maps, chroot search access.
  if (prechecks) {
    const { chroot, ambient, lockSecurebits } = applied;
    precheck({ uid, gid, groups, chroot, effective: capabilities.effective, masks: capabilities.masks, ambient, lockSecurebits });
  }
  if (prechecks) checkSignalDoors(applied.keepDebugSignals);
  const { warnings, rootRegainable } = rootEquivalence(capabilities.permitted, gid, groups);
  const shared = sharedUserWarning(applied.keepDebugSignals, uid, entry?.name);
  if (shared) warnings.push(shared);

  return {
    uid,
    gid,
    groups,
    ...applied,
    account: entry ? { name: entry.name, home: entry.dir, shell: entry.shell } : null,
    warnings,
    rootRegainable,
  };
}

/** The sets every thread holds after the drop: with ambient, the kept ones are inheritable too. */
export function keptSet(plan: ResolvedDrop): CapabilitySet {
  const m = plan.capabilities.masks;
  return plan.ambient ? CapabilitySet.fromMasks({ ...m, inheritable: m.inheritable | m.permitted }) : plan.capabilities;
}

/**
 * Become `user` and `group` on every thread of this process, keeping exactly `capabilities`.
 *
 * Everything that can be checked without side effects is checked first; any failure there
 * throws a PrivdropError and leaves the process exactly as it was. A failure after the first
 * irreversible step never returns: privdrop writes a diagnostic to stderr and aborts.
 */
export function dropPrivileges(options: DropOptions): DropResult {
  checkMainThread('dropPrivileges()', mainThread());
  const start = process.hrtime.bigint();
  const trace = debugEnabled() ? loadPart(() => require('./trace') as typeof import('./trace'), 'drop/trace') : undefined; // NODE_DEBUG=privdrop
  trace?.traceStart();
  let plan: ResolvedDrop;
  try {
    plan = resolveDropOptions(options);
  } catch (e) {
    trace?.traceRefused(e, start);
    throw e;
  }
  trace?.traceResolved(plan, keptSet(plan), start);
  return dropPlan(plan, { trace, start });
}

/**
 * Drops exactly the plan resolveDropOptions() returned (the CLI checks a plan, prints it, and
 * drops that one: names are resolved once). Internal: not exported from the package.
 */
export function dropPlan(
  plan: ResolvedDrop,
  { emitWarnings = true, trace, start = process.hrtime.bigint() }: { emitWarnings?: boolean; trace?: typeof import('./trace'); start?: bigint } = {},
): DropResult {
  checkMainThread('dropPrivileges()', mainThread());
  // After the chroot privdrop's files are out of reach: load every part a later call can need now.
  // eslint-disable-next-line @typescript-eslint/no-var-requires
  if (plan.chroot) (require('../parts') as typeof import('../parts')).loadEveryPart();
  // The JavaScript doors close here, while only root can signal this process; SIGUSR1's in the drop.
  const doors = plan.keepDebugSignals ? { closed: [], reopen: () => undefined } : closeJavaScriptDoors();
  // After a chroot the package's files may be out of reach: load what windows need now (listen()
  // and withCapabilities() are how a permitted-only capability is used after the drop).
  if (plan.chroot) {
    require('../runtime');
    require('../runtime/listen');
  }
  let terminal: ReturnType<ReturnType<typeof binding>['openTerminal']> | undefined;
  let raw: RawDropResult;
  try {
    // Opened before the drop: after a chroot there may be no /dev/tty to name the terminal by.
    terminal = binding().openTerminal();
    // Whether Node's SIGUSR1 handler is there is known only now, so it is not a plan field of the table.
    const closeDebugSignal = !plan.keepDebugSignals && inspectorSignalUnhandled();
    raw = binding().drop({ ...nativePlan(plan), closeDebugSignal } as unknown as RawPlan);
  } catch (e) {
    if (terminal) binding().closeTerminal(terminal); // nothing was changed: the terminal stays as it was
    doors.reopen();
    throw e;
  }
  trace?.traceDone(raw, start);
  // Root's terminal: given up unless asked to keep it (aborts if that fails: the drop is done).
  let terminalState: DropResult['terminal'] = 'none';
  if (terminal.fd >= 0 && !plan.keepTerminal) {
    binding().releaseTerminal(terminal);
    terminalState = 'released';
  } else if (terminal.fd >= 0) {
    binding().closeTerminal(terminal);
    terminalState = 'kept';
  }
  // Node caches the working directory; the native chdir('/') after chroot bypassed it.
  if (plan.chroot) process.chdir('/');
  if (emitWarnings) {
    for (const w of plan.warnings) process.emitWarning(w.message, { code: w.code, detail: `privdrop: ${w.subject}` });
  }
  return {
    uid: plan.uid,
    gid: plan.gid,
    groups: plan.groups,
    capabilities: keptSet(plan).toString(),
    threads: raw.threads,
    regainRootChecked: raw.regainChecked && !plan.rootRegainable,
    rootRegainable: plan.rootRegainable,
    warnings: plan.warnings.map((w) => ({ ...w })),
    terminal: terminalState,
    sessionKeyring: raw.sessionKeyring ? 'replaced' : 'unreachable',
    closedSignalDoors: [...(raw.debugSignalClosed ? [{ signal: 'SIGUSR1', door: 'inspector' as const }] : []), ...doors.closed],
    ms: raw.ms,
    broadcasts: raw.broadcasts.map((b) => ({ ...b })),
  };
}
