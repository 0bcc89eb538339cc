// The one place that loads the native addon. Users never see the raw binding.
import * as fs from 'fs';
import * as path from 'path';
import { ErrorCodes, PrivdropError, errorFromNative } from '../errors';
import { detectLibc } from './libc';

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

/** The drop's plan; field names and meanings are the DropOptions' (native/drop.h DropPlan). */
export interface RawPlan {
  uid: number;
  gid: number;
  groups: number[];
  capabilities: RawMasks;
  boundingSet: 'retained' | 'unchanged';
  ambient: boolean;
  noNewPrivileges: boolean;
  lockSecurebits: boolean;
  chroot: string;
  /** Ignore SIGUSR1 if Node's handler is installed, before any uid changes (native/debug_signal.h). Absent: false. */
  closeDebugSignal?: boolean;
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
  /** SIGUSR1 was handled (by Node: the inspector) and is now ignored. */
  debugSignalClosed: boolean;
  /** 'rehearse' and 'transition', the two all-thread broadcasts. */
  broadcasts: RawTiming[];
  /** Every step that ran, in order: validate, rehearse, chroot (if asked), transition, verify, regain-check. */
  steps: RawTiming[];
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

const packageRoot = path.resolve(__dirname, '..', '..');

/** Where a from-source build (node-gyp or cmake-js) puts the addon. */
export const buildPath = path.join(packageRoot, 'build', 'Release', 'privdrop.node');

/**
 * The prebuilt binary for this platform in prebuilds/<platform>-<arch>/, chosen with
 * node-gyp-build's own tag matching (runtime, Node-API, libc), or null when none matches.
 * node-gyp-build's resolve() is not called: it also honours PRIVDROP_PREBUILD, an environment
 * variable that would let the environment pick the code a root process loads.
 */
export function prebuildPath(): string | null {
  // eslint-disable-next-line @typescript-eslint/no-var-requires
  const gypBuild = require('node-gyp-build') as NodeGypBuild;
  const list = (dir: string): string[] => {
    try {
      return fs.readdirSync(dir);
    } catch {
      return [];
    }
  };
  const root = path.join(packageRoot, 'prebuilds');
  const tuple = list(root)
    .map((name) => gypBuild.parseTuple(name))
    .filter(gypBuild.matchTuple(process.platform, process.arch))
    .sort(gypBuild.compareTuples)[0];
  if (!tuple) return null;
  const dir = path.join(root, tuple.name);
  const winner = list(dir)
    .map((file) => gypBuild.parseTags(file))
    .filter(gypBuild.matchTags('node', process.versions.modules))
    .sort(gypBuild.compareTags('node'))[0];
  return winner ? path.join(dir, winner.file) : null;
}

interface GypTags {
  file: string;
}
interface GypTuple {
  name: string;
}
interface NodeGypBuild {
  parseTuple(name: string): GypTuple | undefined;
  matchTuple(platform: string, arch: string): (t: GypTuple | undefined) => t is GypTuple;
  compareTuples(a: GypTuple, b: GypTuple): number;
  parseTags(file: string): GypTags | undefined;
  matchTags(runtime: string, abi: string): (t: GypTags | undefined) => t is GypTags;
  compareTags(runtime: string): (a: GypTags, b: GypTags) => number;
}

/**
 * The files the loader tries, in order: a from-source build first (someone built it on purpose:
 * the install script builds only when no prebuild loads, and a developer's checkout must test
 * the code it just compiled), then the prebuild. Nothing here comes from the environment.
 */
export function bindingCandidates(): string[] {
  const prebuild = prebuildPath();
  return prebuild ? [buildPath, prebuild] : [buildPath];
}

/** Why this platform is not supported, or null when it is (Linux with glibc on x64 or arm64). */
export function unsupportedReason(): string | null {
  if (process.platform !== 'linux') return `privdrop supports Linux only; this is ${process.platform}`;
  if (process.arch !== 'x64' && process.arch !== 'arm64') {
    return `privdrop supports x64 and arm64 only; this is ${process.arch}`;
  }
  const libc = detectLibc();
  if (libc !== 'glibc') {
    return libc === 'musl'
      ? 'privdrop supports Linux with glibc only; this node uses musl (Alpine?): use a glibc-based image such as node:22-bookworm-slim'
      : `privdrop supports Linux with glibc only; the C library of ${process.execPath} is not glibc`;
  }
  return null;
}

const fromSource =
  'Build it from source: install a C++ toolchain and the libcap headers (Debian/Ubuntu: apt-get install g++ make python3 pkg-config libcap-dev; ' +
  'Fedora: dnf install gcc-c++ make python3 pkgconf libcap-devel), then run `npm rebuild privdrop --build-from-source`.';

/** The message for "nothing loaded": the real cause per file tried, and the one command that fixes it. */
function notLoadedMessage(tried: { file: string; error?: string }[]): string {
  const found = tried.filter((t) => t.error !== undefined && !/^(Cannot find module|ENOENT)/.test(t.error));
  if (found.length === 0) {
    return (
      `privdrop's native addon is not installed: there is no prebuilt binary for linux-${process.arch} in this copy of the package ` +
      `and no build at ${buildPath} (the install script was skipped, e.g. --ignore-scripts, or its build failed). ${fromSource}`
    );
  }
  const causes = found.map((t) => `${t.file}: ${t.error}`).join('; ');
  const oldGlibc = found.some((t) => /GLIBC_[0-9.]+' not found/.test(t.error ?? ''));
  return (
    `privdrop's native addon could not be loaded (${causes}). ` +
    (oldGlibc ? 'The prebuilt binary needs a newer glibc than this system has. ' : '') +
    fromSource
  );
}

let cached: RawBinding | undefined;
let loadedFrom: string | undefined;
let override: string | undefined;

/**
 * Test-only: load this file instead of the packaged binary (the fault-injection build). Only
 * test code calls it, through dist/testing.js, which the package does not ship; no environment
 * variable reaches it. Must run before the first call into privdrop.
 * @internal
 */
export function setBindingFileForTesting(file: string): void {
  if (cached) throw new Error('privdrop: the binding is already loaded; set the test binding first');
  override = path.resolve(file);
}

/** The file binding() loaded, or would try first: the test override, the build, or the prebuild. */
export function bindingPath(): string {
  if (loadedFrom) return loadedFrom;
  if (override) return override;
  return bindingCandidates().find((file) => fs.existsSync(file)) ?? buildPath;
}

/** Loads the addon once. Throws a PrivdropError; require('privdrop') itself never does. */
export function binding(): RawBinding {
  if (cached) return cached;
  const reason = unsupportedReason();
  if (reason) throw new PrivdropError(ErrorCodes.UNSUPPORTED_PLATFORM, reason);
  const tried: { file: string; error?: string; cause?: unknown }[] = [];
  let loaded: RawBinding | undefined;
  // The prebuild directory is listed (and node-gyp-build loaded) only when the build is not
  // there or does not load: that listing cost about 1 ms of every first call.
  const candidates = function* (): Generator<string> {
    if (override) {
      yield override;
      return;
    }
    yield buildPath;
    const prebuild = prebuildPath();
    if (prebuild) yield prebuild;
  };
  for (const file of candidates()) {
    try {
      // eslint-disable-next-line @typescript-eslint/no-var-requires
      loaded = require(file) as RawBinding;
      loadedFrom = file;
      break;
    } catch (cause) {
      tried.push({ file, cause, error: cause instanceof Error ? cause.message.split('\n')[0] : String(cause) });
    }
  }
  if (!loaded) {
    const last = tried[tried.length - 1];
    throw new PrivdropError(ErrorCodes.BINDING_NOT_FOUND, notLoadedMessage(tried), { path: last.file, cause: last.cause });
  }
  loaded.setErrorFactory(errorFromNative);
  cached = loaded;
  return loaded;
}
