// The one place that loads the native addon. Users never see the raw binding.
import * as path from 'path';
import { ErrorCodes, PrivdropError, errorFromNative } from './errors';

/** Three capability flags as 64-bit masks, bit n = capability number n. */
export interface RawMasks {
  effective: bigint;
  permitted: bigint;
  inheritable: bigint;
}

export interface RawUser {
  name: string;
  uid: number;
  gid: number;
  dir: string;
  shell: string;
}

export interface RawGroup {
  name: string;
  gid: number;
}

export interface RawPlan {
  uid: number;
  gid: number;
  groups: number[];
  caps: RawMasks;
  trimBounding: boolean;
  ambient: boolean;
  noNewPrivs: boolean;
  lockSecurebits: boolean;
  chroot: string;
}

export interface RawTerminal {
  fd: number;
  leader: boolean;
}

export interface RawTiming {
  name: string;
  ms: number;
  threads: number;
}

export interface RawDropResult {
  threads: number;
  ms: number;
  regainChecked: boolean;
  broadcasts: RawTiming[];
}

/** What native/binding.cc exports. Keep in step with its Init(). */
export interface RawBinding {
  setErrorFactory(factory: typeof errorFromNative): void;
  platform(): { glibc: boolean; libcVersion: string; arch: string; broadcastSupported: boolean };
  gettid(): number;
  isMainThread(): boolean;
  getSecurebits(): number;
  capMaxBits(): number;
  capName(index: number): string;
  capFromText(text: string): RawMasks;
  capToText(masks: RawMasks): string;
  capGetProc(): RawMasks;
  capGetPid(pid: number): RawMasks;
  capSetProc(masks: RawMasks): void;
  lookupUser(user: string | number): RawUser | null;
  lookupGroup(group: string | number): RawGroup | null;
  groupList(user: string, gid: number): number[];
  drop(plan: RawPlan): RawDropResult;
  probeBroadcast(): RawTiming;
  glibcSetgroupsBroadcast(): RawTiming;
  exec(file: string, argv: string[], env: string[], keepFds: number[]): void;
  /** native/session.h: the controlling terminal (fd -1: none) and whether this process leads its session. */
  openTerminal(): RawTerminal;
  releaseTerminal(terminal: RawTerminal): void;
  closeTerminal(terminal: RawTerminal): void;
  /** 0 if this process can search (chroot into) the directory now; else the errno and the call that failed. */
  searchAccess(path: string): { errno: number; syscall: string };
  faultInjection: boolean;
}

const packageRoot = path.resolve(__dirname, '..');

/** The built addon; PRIVDROP_BINDING names another file (tests load the fault-injection build this way). */
export function bindingPath(): string {
  return process.env.PRIVDROP_BINDING || path.join(packageRoot, 'build', 'Release', 'privdrop.node');
}

/** Why this platform is not supported, or null when it is (Linux with glibc). */
export function unsupportedReason(): string | null {
  if (process.platform !== 'linux') return `privdrop supports Linux only; this is ${process.platform}`;
  const header = (process.report?.getReport() as { header?: { glibcVersionRuntime?: string } } | undefined)?.header;
  if (!header?.glibcVersionRuntime) return 'privdrop supports Linux with glibc only; this C library is not glibc (musl?)';
  if (process.arch !== 'x64' && process.arch !== 'arm64') {
    return `privdrop supports x64 and arm64 only; this is ${process.arch}`;
  }
  return null;
}

let cached: RawBinding | undefined;

/** Loads the addon once. Throws a PrivdropError; require('privdrop') itself never does. */
export function binding(): RawBinding {
  if (cached) return cached;
  const reason = unsupportedReason();
  if (reason) throw new PrivdropError(ErrorCodes.UNSUPPORTED_PLATFORM, reason);
  const file = bindingPath();
  let loaded: RawBinding;
  try {
    // eslint-disable-next-line @typescript-eslint/no-var-requires
    loaded = require(file) as RawBinding;
  } catch (cause) {
    const detail = cause instanceof Error ? cause.message.split('\n')[0] : String(cause);
    throw new PrivdropError(
      ErrorCodes.BINDING_NOT_FOUND,
      `privdrop's native addon could not be loaded from ${file} (${detail}). ` +
        'Install the libcap headers and a C++ toolchain (Debian/Ubuntu: apt-get install libcap-dev g++ make python3 pkg-config; ' +
        'Fedora: dnf install libcap-devel gcc-c++ make python3 pkgconf), then run `npm rebuild privdrop`.',
      { path: file, cause },
    );
  }
  loaded.setErrorFactory(errorFromNative);
  cached = loaded;
  return loaded;
}
