// Least privilege after start-up: setCapabilities() changes every thread, withCapabilities()
// raises permitted capabilities on the calling thread for one synchronous call.
import { binding, mainThread } from '../addon/binding';
import { CapabilityName, CapabilitySet } from '../capabilities';
import { effectiveNotPermitted, toCapabilitySet } from '../capabilities/options';
import { checkMainThread, describe, ErrorCodes, PrivdropError } from '../errors';

/** Capabilities for setCapabilities(): libcap text, names (meaning effective and permitted), or a CapabilitySet. */
export type CapabilitiesArgument = string | readonly CapabilityName[] | CapabilitySet;

export interface SetCapabilitiesOptions {
  /**
   * The ambient set afterwards, as names; it can only be lowered. Default: the ambient
   * capabilities that are still permitted and inheritable stay (the kernel lowers the others).
   */
  ambient?: readonly CapabilityName[];
}

export interface SetCapabilitiesResult {
  /** The effective, permitted and inheritable sets every thread now holds, in libcap's canonical text. */
  capabilities: string;
  effective: string[];
  permitted: string[];
  inheritable: string[];
  ambient: string[];
  /** The bounding set (unchanged by setCapabilities). */
  bounding: string[];
  /** Threads verified in /proc/self/task afterwards. */
  threads: number;
  ms: number;
  /** 'noop' (every thread answers, before any change) and 'setcaps' (the change). */
  broadcasts: { name: string; ms: number; threads: number }[];
}

function namesOf(mask: bigint): string[] {
  return CapabilitySet.fromMasks({ effective: mask, permitted: 0n, inheritable: 0n }).effective;
}

/**
 * The process-wide cap_set_proc: sets the effective, permitted and inheritable capabilities of
 * EVERY thread (Workers and the libuv threadpool included) with the drop's broadcast, then
 * verifies every thread in /proc. It can only lower: asking for a capability that is not in the
 * permitted set throws ERR_PRIVDROP_CAPABILITY_NOT_HELD and changes nothing. Effective can be
 * raised from and lowered to permitted ('cap_net_bind_service+p' keeps the right, not in effect).
 * Main thread only. A failure after the first thread changed aborts the process, as the drop does.
 */
export function setCapabilities(capabilities: CapabilitiesArgument, options: SetCapabilitiesOptions = {}): SetCapabilitiesResult {
  checkMainThread('setCapabilities()', mainThread());
  const native = binding(); // the platform error comes before any argument error
  // Unlike dropPrivileges(), where leaving capabilities out means "keep none", the argument is required.
  if (capabilities === undefined) throw new TypeError('capabilities must be libcap text, an array of names or a CapabilitySet, got undefined');
  const set = toCapabilitySet(capabilities);
  if (options === null || typeof options !== 'object') throw new TypeError(`options must be an object, got ${describe(options)}`);
  for (const key of Object.keys(options)) {
    if (key !== 'ambient') throw new PrivdropError(ErrorCodes.INVALID_ARGUMENT, `unknown option ${JSON.stringify(key)}; known options: ambient`);
  }
  let ambient: bigint | undefined;
  if (options.ambient !== undefined) {
    if (!Array.isArray(options.ambient)) throw new TypeError(`ambient must be an array of capability names, got ${describe(options.ambient)}`);
    ambient = CapabilitySet.from(options.ambient as CapabilityName[], 'effective').masks.effective;
  }
  const notPermitted = effectiveNotPermitted(set);
  if (notPermitted) throw new PrivdropError(ErrorCodes.INVALID_CAPABILITIES, notPermitted);
  const m = set.masks;
  const raw = native.setCapabilities(ambient === undefined ? { ...m } : { ...m, ambient });
  const verified = CapabilitySet.fromMasks({ effective: raw.effective, permitted: raw.permitted, inheritable: raw.inheritable });
  return {
    capabilities: verified.toString(),
    effective: verified.effective,
    permitted: verified.permitted,
    inheritable: verified.inheritable,
    ambient: namesOf(raw.ambient),
    bounding: namesOf(raw.bounding),
    threads: raw.threads,
    ms: raw.ms,
    broadcasts: raw.broadcasts.map((b) => ({ ...b })),
  };
}

function isAsyncFunction(fn: (...args: never[]) => unknown): boolean {
  const kind = Object.getPrototypeOf(fn)?.constructor?.name;
  return kind === 'AsyncFunction' || kind === 'AsyncGeneratorFunction';
}

function isThenable(value: unknown): boolean {
  return (
    value !== null && (typeof value === 'object' || typeof value === 'function') && typeof (value as { then?: unknown }).then === 'function'
  );
}

/** The names as one mask; a single name is accepted for an array of one. */
function maskOfNames(names: unknown): bigint {
  const list = typeof names === 'string' ? [names] : names;
  if (!Array.isArray(list)) throw new TypeError(`capabilities must be an array of capability names, got ${describe(names)}`);
  for (const name of list) {
    if (typeof name !== 'string') throw new TypeError('capabilities must be an array of capability names (strings)');
  }
  return CapabilitySet.from(list as CapabilityName[], 'effective').masks.effective;
}

/**
 * Raises `capabilities` (names; each must already be permitted) in the effective set of the
 * CALLING thread only, runs `fn` synchronously, and lowers them again however `fn` ends
 * (return or throw). Returns what `fn` returns. Windows nest; a capability that was effective
 * before stays effective afterwards.
 *
 * `fn` must not be async: the window closes when `fn` returns, so the code after an `await` would
 * run without the capabilities (and a bind inside an asynchronous lookup, as Node's
 * `server.listen(port, host)` does, would miss the window). An async function is refused before it
 * runs; any other function that returns a promise or thenable makes withCapabilities throw
 * ERR_PRIVDROP_INVALID_ARGUMENT after the window has closed.
 */
export function withCapabilities<T>(capabilities: readonly CapabilityName[] | CapabilityName, fn: () => T): T {
  const native = binding();
  const mask = maskOfNames(capabilities);
  if (typeof fn !== 'function') throw new TypeError(`withCapabilities() needs a function to run, got ${describe(fn)}`);
  if (isAsyncFunction(fn)) {
    throw new PrivdropError(
      ErrorCodes.INVALID_ARGUMENT,
      'withCapabilities() runs its function synchronously and closes the window when it returns; an async function would ' +
        'continue after its first await without the capabilities. Do the privileged call synchronously inside the window ' +
        '(for a server, use listen()), and the awaiting outside it.',
      { step: 'window' },
    );
  }
  const raised = native.windowEnter(mask);
  let result: T;
  try {
    result = fn();
  } finally {
    native.windowLeave(raised);
  }
  if (isThenable(result)) {
    throw new PrivdropError(
      ErrorCodes.INVALID_ARGUMENT,
      'the function given to withCapabilities() returned a promise: the window has closed already, so whatever it awaits ' +
        'runs without the capabilities. Keep the privileged call synchronous inside the window.',
      { step: 'window' },
    );
  }
  return result;
}

/** One thread inside a withCapabilities() window, as processState() reports it (plain JSON). */
export interface CapabilityWindow {
  tid: number;
  /** Nested windows open on that thread. */
  depth: number;
  /** The capabilities the windows raised (effective only while they are open). */
  raised: string[];
}

/** Internal: a window with the mask of what it raised. */
export interface OpenWindow extends CapabilityWindow {
  mask: bigint;
}

/** Internal: the windows open now and a counter that changes whenever one opens or closes. */
export function openWindows(): { seq: number; windows: OpenWindow[] } {
  const raw = binding().windows();
  return { seq: raw.seq, windows: raw.windows.map((w) => ({ tid: w.tid, depth: w.depth, raised: namesOf(w.raised), mask: w.raised })) };
}

function mergeWindows(a: OpenWindow[], b: OpenWindow[]): OpenWindow[] {
  const byTid = new Map<number, OpenWindow>();
  for (const w of [...a, ...b]) {
    const seen = byTid.get(w.tid);
    const mask = (seen?.mask ?? 0n) | w.mask;
    byTid.set(w.tid, { tid: w.tid, depth: Math.max(seen?.depth ?? 0, w.depth), mask, raised: namesOf(mask) });
  }
  return [...byTid.values()].sort((x, y) => x.tid - y.tid);
}

/**
 * Internal (processState): runs `read` (which reads /proc) between two looks at the open windows,
 * again when a window opened or closed meanwhile (a few times at most). A window registers its
 * capabilities before raising them and lowers them before it unregisters, so what /proc showed
 * raised is in the union of the two looks.
 */
export function readAcrossWindows<T>(read: () => T): { value: T; windows: OpenWindow[] } {
  for (let attempt = 0; ; attempt++) {
    const before = openWindows();
    const value = read();
    const after = openWindows();
    if (before.seq === after.seq || attempt >= 4) return { value, windows: mergeWindows(before.windows, after.windows) };
  }
}

interface HasEffective {
  tid: number;
  capabilities: { effective: { names: string[]; mask: bigint } };
}

/**
 * Internal (processState): the threads as they are outside their windows: a thread inside one
 * shows its effective set without what the window raised, so that comparing threads does not
 * report the window as an inconsistency.
 */
export function outsideWindows<T extends HasEffective>(threads: T[], windows: OpenWindow[]): T[] {
  if (windows.length === 0) return threads;
  const raisedBy = new Map(windows.map((w) => [w.tid, w.mask]));
  return threads.map((t) => {
    const raised = raisedBy.get(t.tid);
    if (raised === undefined) return t;
    const mask = t.capabilities.effective.mask & ~raised;
    return { ...t, capabilities: { ...t.capabilities, effective: { mask, names: namesOf(mask) } } };
  });
}
