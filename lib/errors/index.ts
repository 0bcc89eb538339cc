/** Every code a PrivdropError can carry. */
export const ErrorCodes = {
  /** The platform is not Linux with glibc on x86_64 or arm64. */
  UNSUPPORTED_PLATFORM: 'ERR_PRIVDROP_UNSUPPORTED_PLATFORM',
  /** The native binary is missing or failed to load, or (a Worker after a chroot) one of privdrop's own files is out of reach. */
  BINDING_NOT_FOUND: 'ERR_PRIVDROP_BINDING_NOT_FOUND',
  /**
   * The runtime's own permissions refuse what privdrop needs: Deno without --allow-all (--allow-ffi
   * for the addon; Deno reads /proc only under --allow-all), Node's permission model without
   * --allow-addons or --allow-fs-read=/proc.
   */
  RUNTIME_PERMISSION: 'ERR_PRIVDROP_RUNTIME_PERMISSION',
  /** An argument has the right type but a value privdrop cannot accept. */
  INVALID_ARGUMENT: 'ERR_PRIVDROP_INVALID_ARGUMENT',
  /** Capability text that libcap's grammar rejects. */
  INVALID_CAPABILITIES: 'ERR_PRIVDROP_INVALID_CAPABILITIES',
  /** The user is not known to the system (NSS). */
  UNKNOWN_USER: 'ERR_PRIVDROP_UNKNOWN_USER',
  /** The group is not known to the system (NSS). */
  UNKNOWN_GROUP: 'ERR_PRIVDROP_UNKNOWN_GROUP',
  /** A capability asked for is not in the process's permitted set. */
  CAPABILITY_NOT_HELD: 'ERR_PRIVDROP_CAPABILITY_NOT_HELD',
  /** The process lacks a privilege the drop needs (cap_setuid, cap_setgid, cap_setpcap, cap_sys_chroot). */
  NOT_PERMITTED: 'ERR_PRIVDROP_NOT_PERMITTED',
  /** dropPrivileges() was called from a Worker or a thread other than the main thread. */
  NOT_MAIN_THREAD: 'ERR_PRIVDROP_NOT_MAIN_THREAD',
  /** The threads of the process disagree about their credentials before the drop. */
  INCONSISTENT_THREADS: 'ERR_PRIVDROP_INCONSISTENT_THREADS',
  /** A thread could not be signalled or did not answer the rehearsal before the drop. */
  THREAD_UNREACHABLE: 'ERR_PRIVDROP_THREAD_UNREACHABLE',
  /** The chroot directory does not exist or is not a directory. */
  INVALID_CHROOT: 'ERR_PRIVDROP_INVALID_CHROOT',
  /** A configuration file could not be read or parsed. */
  INVALID_CONFIG: 'ERR_PRIVDROP_INVALID_CONFIG',
  /** A configuration file (or a directory above it) could be written by a user other than root: it is not read. */
  UNSAFE_CONFIG: 'ERR_PRIVDROP_UNSAFE_CONFIG',
  /** A door Node opens on a signal (--heapsnapshot-signal) cannot be closed before the drop: nothing was changed. */
  OPEN_SIGNAL_DOOR: 'ERR_PRIVDROP_OPEN_SIGNAL_DOOR',
  /** execve failed: the command could not be run. */
  EXEC_FAILED: 'ERR_PRIVDROP_EXEC_FAILED',
  /** The command to execute was not found. */
  COMMAND_NOT_FOUND: 'ERR_PRIVDROP_COMMAND_NOT_FOUND',
  /**
   * privdrop/register in a process that is not root (a child or Worker of a server it dropped):
   * the process is not exactly the configured user, or holds more than the configuration keeps.
   */
  STATE_MISMATCH: 'ERR_PRIVDROP_STATE_MISMATCH',
  /** A system call failed outside the drop (reading /proc, NSS, libcap). */
  SYSTEM: 'ERR_PRIVDROP_SYSTEM',
} as const;

export type ErrorCode = (typeof ErrorCodes)[keyof typeof ErrorCodes];

export interface PrivdropErrorDetails {
  errno?: number;
  syscall?: string;
  step?: string;
  path?: string;
  /** Configuration errors: where in the file (1-based). */
  line?: number;
  column?: number;
  /** Capability text errors: the first clause that fails and its offset in the text. */
  clause?: string;
  offset?: number;
  cause?: unknown;
}

/**
 * The one error class privdrop throws (besides TypeError for arguments of the wrong type).
 * Shaped like Node's SystemError: branch on `code`, never on the message.
 */
export class PrivdropError extends Error {
  readonly code: ErrorCode;
  /** Positive errno value for system failures (Node's SystemError uses a negative one in `errno`; see `errnoName`). */
  readonly errno?: number;
  /** The errno's name, e.g. 'EPERM'. */
  readonly errnoName?: string;
  readonly syscall?: string;
  /** The step of the drop that failed, e.g. 'resolve', 'validate', 'rehearse'. */
  readonly step?: string;
  readonly path?: string;
  /** ERR_PRIVDROP_INVALID_CONFIG: 1-based line and column of the problem. */
  readonly line?: number;
  readonly column?: number;
  /** ERR_PRIVDROP_INVALID_CAPABILITIES: the offending clause and its offset in the input. */
  readonly clause?: string;
  readonly offset?: number;

  constructor(code: ErrorCode, message: string, details: PrivdropErrorDetails = {}) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.name = 'PrivdropError';
    this.code = code;
    if (details.errno) {
      this.errno = details.errno;
      this.errnoName = errnoName(details.errno);
    }
    if (details.syscall) this.syscall = details.syscall;
    if (details.step) this.step = details.step;
    if (details.path) this.path = details.path;
    if (details.line !== undefined) this.line = details.line;
    if (details.column !== undefined) this.column = details.column;
    if (details.clause !== undefined) this.clause = details.clause;
    if (details.offset !== undefined) this.offset = details.offset;
  }

  /** For loggers: name, code, message and the details that are set (not the cause or the stack). */
  toJSON(): Record<string, string | number> {
    const out: Record<string, string | number> = { name: this.name, code: this.code, message: this.message };
    for (const key of ['errno', 'errnoName', 'syscall', 'step', 'path', 'line', 'column', 'clause', 'offset'] as const) {
      const value = this[key];
      if (value !== undefined) out[key] = value;
    }
    return out;
  }
}

let errnoNames: Map<number, string> | undefined;

/**
 * errno value -> its name ('EPERM'), or 'E<number>' when unknown. Node's os module, loaded on the
 * first system error (most programs never see one), is built in: it loads after a chroot too.
 */
export function errnoName(errno: number): string {
  if (!errnoNames) {
    errnoNames = new Map();
    // eslint-disable-next-line @typescript-eslint/no-var-requires
    for (const [name, value] of Object.entries((require('os') as typeof import('os')).constants.errno)) {
      if (!errnoNames.has(value)) errnoNames.set(value, name);
    }
  }
  return errnoNames.get(errno) ?? `E${errno}`;
}

/**
 * Internal: loads one of privdrop's own files on first use. `load` is a literal require (bundlers
 * follow it); `part` is the file's path under the package's dist/ without extension. After a
 * chroot the package's files are out of reach: a file already loaded in this thread is taken from
 * the module cache (the main thread's drop with chroot loads them all first: lib/parts.ts), and a
 * first use in a Worker that loaded privdrop before the drop is a coded error saying what to do,
 * instead of Node's MODULE_NOT_FOUND.
 */
export function loadPart<T>(load: () => T, part: string): T {
  try {
    return load();
  } catch (e) {
    const code = (e as { code?: unknown } | null)?.code;
    // eslint-disable-next-line @typescript-eslint/no-var-requires
    if ((code !== 'MODULE_NOT_FOUND' && code !== 'ENOENT') || (require('fs') as typeof import('fs')).existsSync(__filename)) throw e;
    const file = `${__dirname.slice(0, __dirname.lastIndexOf('/'))}/${part}${__filename.slice(__filename.lastIndexOf('.'))}`;
    const loaded = require.cache[file];
    if (loaded?.loaded) return loaded.exports as T;
    throw new PrivdropError(
      ErrorCodes.BINDING_NOT_FOUND,
      `privdrop cannot load ${file}: its files are out of reach from this thread, because the process's root directory ` +
        'changed (dropPrivileges() with chroot) after this thread loaded privdrop. A Worker started before a drop with ' +
        'chroot must use what it needs from privdrop once before the drop (the first use loads it: e.g. ' +
        "CapabilitySet.parse('=') for CapabilitySet, reading privdrop.processState for processState). See docs/design.md, Loading.",
      { step: 'load', path: file, cause: e },
    );
  }
}

/**
 * A value's kind for an error message, e.g. 'an object', 'number 1.5'. Never calls the value's
 * own toString or getters (they may throw or lie).
 */
export function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'object') return 'an object';
  if (typeof value === 'function') return 'a function';
  return `${typeof value} ${String(value).slice(0, 40)}`;
}

/** The one ERR_PRIVDROP_INVALID_ARGUMENT: a value of the right type that cannot be used, and why. */
export function invalidArgument(message: string, details: PrivdropErrorDetails = {}): PrivdropError {
  return new PrivdropError(ErrorCodes.INVALID_ARGUMENT, message, details);
}

/**
 * Internal: names the step of an error thrown before a drop's first irreversible step, when the
 * code that threw it did not ('load', 'validate'; see README, PrivdropError). Returns `e`.
 */
export function withStep(e: unknown, step: string): unknown {
  if (e instanceof PrivdropError && e.step === undefined) (e as { step?: string }).step = step;
  return e;
}

/**
 * Internal: throws ERR_PRIVDROP_NOT_MAIN_THREAD (step 'validate') when `call` ("dropPrivileges()")
 * runs in a Worker. `isMainThread` is the addon's answer (lib/addon/binding.ts mainThread()).
 */
export function checkMainThread(call: string, isMainThread: boolean): void {
  if (!isMainThread) {
    throw new PrivdropError(ErrorCodes.NOT_MAIN_THREAD, `${call} must be called from the main thread, not from a Worker`, { step: 'validate' });
  }
}

const knownCodes = new Set<string>(Object.values(ErrorCodes));

/** Made for the native side, which throws what this returns. */
export function errorFromNative(code: string, message: string, errno: number, syscall: string, step: string): PrivdropError {
  const known = (knownCodes.has(code) ? code : ErrorCodes.SYSTEM) as ErrorCode;
  return new PrivdropError(known, message, { errno: errno || undefined, syscall: syscall || undefined, step: step || undefined });
}
