// dropPrivileges(): validates and resolves everything in TypeScript, then hands one plan to
// the native drop, which re-checks what only it can see and never returns half-dropped.
// Why the steps come in their order: docs/design.md, "The drop, step by step".
import { binding, RawGroup, RawUser } from './binding';
import { CapabilityName, CapabilitySet } from './capabilities';
import { debugEnabled } from './debug';
import { ErrorCodes, PrivdropError, withStep } from './errors';
import { didYouMean } from './suggest';
import { BoundingSet, checkBoolean, checkBoundingSet, checkId, checkChroot, checkSupplementaryGroups, effectiveNotPermitted, GroupForm, Id, isOptionName, numericName, OPTION_NAMES, toCapabilitySet } from './options';

export type { Id };

export interface DropOptions {
  /** User name or uid to become. Required. */
  user: Id;
  /** Group name or gid. Default: the user's primary group. */
  group?: Id;
  /** 'init' (the user's groups, as initgroups; default), 'clear' (none), or an exact list (readonly arrays too). */
  supplementaryGroups?: GroupForm | readonly Id[];
  /**
   * Capabilities to keep: libcap text, an array of names (meaning +ep), or a CapabilitySet. Default: none.
   * Names are typed (CapabilityName): a typo does not compile. A name newer than the types: `'cap_x' as CapabilityName`.
   */
  capabilities?: string | readonly CapabilityName[] | CapabilitySet;
  /** chroot into this absolute path (after resolving names), then chdir('/'). */
  chroot?: string;
  /** 'retained' (default): drop every other capability from the bounding set. 'unchanged': leave it. */
  boundingSet?: BoundingSet;
  /** Raise the kept capabilities into the ambient set, so exec'd children keep them. Default false. */
  ambient?: boolean;
  /** Set no_new_privs on every thread: exec can never gain privileges again. Default false. */
  noNewPrivileges?: boolean;
  /** Set and lock SECBIT_NOROOT and SECBIT_NO_SETUID_FIXUP, and lock keep-caps off. Default false. */
  lockSecurebits?: boolean;
}

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
  /** Whether the call proved that uid 0 cannot be regained (false only when cap_setuid is kept). */
  regainRootChecked: boolean;
  /** Wall time of the whole native drop, in milliseconds. */
  ms: number;
  broadcasts: BroadcastTiming[];
}

function invalid(message: string): PrivdropError {
  return new PrivdropError(ErrorCodes.INVALID_ARGUMENT, message);
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

export interface ResolvedDrop {
  uid: number;
  gid: number;
  groups: number[];
  capabilities: CapabilitySet;
  chroot: string;
  /** 'retained': the bounding set keeps only the permitted capabilities; 'unchanged': left as it is (the boundingSet option). */
  boundingSet: BoundingSet;
  ambient: boolean;
  noNewPrivileges: boolean;
  lockSecurebits: boolean;
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

function resolve(options: DropOptions): ResolvedDrop {
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    throw new TypeError('dropPrivileges() takes an options object, e.g. { user: "www-data", capabilities: "cap_net_bind_service+ep" }');
  }
  for (const key of Object.keys(options)) {
    if (!isOptionName(key)) {
      throw invalid(`unknown option ${JSON.stringify(key)}${didYouMean(key, OPTION_NAMES)}; known options: ${OPTION_NAMES.join(', ')}`);
    }
  }
  const own = (key: keyof DropOptions): unknown => (Object.prototype.hasOwnProperty.call(options, key) ? options[key] : undefined);

  // The platform error comes before any argument error.
  try {
    binding();
  } catch (e) {
    throw withStep(e, 'load');
  }
  if (own('user') === undefined) throw invalid('the user option is required');
  const user = checkId(own('user'), 'user');
  const groupOption = own('group') === undefined ? undefined : checkId(own('group'), 'group');
  const capabilities = toCapabilitySet(own('capabilities'));
  const chroot = checkChroot(own('chroot'));
  const bounding = checkBoundingSet(own('boundingSet'));
  const ambient = checkBoolean(own('ambient'), 'ambient');
  const noNewPrivileges = checkBoolean(own('noNewPrivileges'), 'noNewPrivileges');
  const lockSecurebits = checkBoolean(own('lockSecurebits'), 'lockSecurebits');
  const sgOption = checkSupplementaryGroups(own('supplementaryGroups'));

  const notPermitted = effectiveNotPermitted(capabilities);
  if (notPermitted) throw new PrivdropError(ErrorCodes.INVALID_CAPABILITIES, notPermitted);

  const { uid, entry } = resolveUser(user);
  if (uid === 0) throw invalid(`user ${JSON.stringify(user)} is root (uid 0): dropPrivileges() drops to an unprivileged user`);
  let gid: number;
  if (groupOption !== undefined) gid = resolveGroup(groupOption, 'group');
  else if (entry) gid = entry.gid;
  else throw invalid(`uid ${uid} has no entry in the user database, so it has no primary group: give the group option`);

  let groups: number[];
  if (sgOption === 'init') {
    if (!entry) throw invalid(`supplementaryGroups 'init' needs a user known to the user database; uid ${uid} is not: use 'clear' or a list`);
    groups = binding().groupList(entry.name, gid);
  } else if (sgOption === 'clear') {
    groups = [];
  } else {
    groups = sgOption.map((g) => resolveGroup(g, 'supplementary group'));
  }
  groups = [...new Set(groups)].sort((a, b) => a - b);

  return {
    uid,
    gid,
    groups,
    capabilities,
    chroot,
    boundingSet: bounding,
    ambient,
    noNewPrivileges,
    lockSecurebits,
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
  // worker_threads is loaded here, not when privdrop is: most programs never call this.
  // eslint-disable-next-line @typescript-eslint/no-var-requires
  if (!(require('worker_threads') as typeof import('worker_threads')).isMainThread) {
    throw new PrivdropError(ErrorCodes.NOT_MAIN_THREAD, 'dropPrivileges() must be called from the main thread, not from a Worker', {
      step: 'validate',
    });
  }
  const start = process.hrtime.bigint();
  const trace = debugEnabled() ? (require('./drop-trace') as typeof import('./drop-trace')) : undefined; // NODE_DEBUG=privdrop
  trace?.traceStart();
  let plan: ResolvedDrop;
  try {
    plan = resolveDropOptions(options);
  } catch (e) {
    trace?.traceRefused(e, start);
    throw e;
  }
  trace?.traceResolved(plan, keptSet(plan).toString(), start);
  const raw = binding().drop({
    uid: plan.uid,
    gid: plan.gid,
    groups: plan.groups,
    capabilities: plan.capabilities.masks,
    boundingSet: plan.boundingSet,
    ambient: plan.ambient,
    noNewPrivileges: plan.noNewPrivileges,
    lockSecurebits: plan.lockSecurebits,
    chroot: plan.chroot,
  });
  trace?.traceDone(raw, start);
  // Node caches the working directory; the native chdir('/') after chroot bypassed it.
  if (plan.chroot) process.chdir('/');
  return {
    uid: plan.uid,
    gid: plan.gid,
    groups: plan.groups,
    capabilities: keptSet(plan).toString(),
    threads: raw.threads,
    regainRootChecked: raw.regainChecked,
    ms: raw.ms,
    broadcasts: raw.broadcasts.map((b) => ({ ...b })),
  };
}
