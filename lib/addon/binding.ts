// The one place that loads the native addon. Users never see the raw binding.
// `import x = require()` is a plain require; `import * as` would copy each of the module's exports
// into a new object on load (esModuleInterop's __importStar: about 0.3 ms for fs).
import fs = require('fs');
import path = require('path');
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
  /** Every thread joined the drop's new session keyring; false when no thread can make a key call (native/session.h). */
  sessionKeyring: boolean;
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
  // native/capset.cc and native/listen.cc: setCapabilities(), withCapabilities() windows, listen().
  setCapabilities(plan: { effective: bigint; permitted: bigint; inheritable: bigint; ambient?: bigint }): {
    threads: number;
    ms: number;
    effective: bigint;
    permitted: bigint;
    inheritable: bigint;
    ambient: bigint;
    bounding: bigint;
    broadcasts: RawTiming[];
  };
  windowEnter(mask: bigint): bigint;
  windowLeave(raised: bigint): void;
  windows(): { seq: number; windows: { tid: number; depth: number; raised: bigint }[] };
  bindTcp(request: { address: string; port: number; ipv6Only: boolean; reusePort: boolean }): number;
  /** The file's capabilities (effective: the effective bit applied), or null when it has none. */
  capGetFile(path: string): RawMasks | null;
  faultInjection: boolean;
}

const packageRoot = path.resolve(__dirname, '..', '..');

/**
 * Whether this code runs from the package's own dist/ (or lib/ under ts-jest), or was bundled
 * into an application's file by a bundler (esbuild, webpack, ...). A bundle has no package
 * directory around it: no build/ to look for, and the errors give a bundler's remedy.
 */
export const bundled = !/^binding\.[cm]?[jt]s$/.test(path.basename(__filename));

/** Where a from-source build (scripts/build-from-source.js, cmake-js) puts the addon. */
export const buildPath = path.join(packageRoot, 'build', 'Release', 'privdrop.node');

/** Where the package keeps the prebuilt binary for this architecture. */
export function prebuildPath(): string {
  return path.join(packageRoot, 'prebuilds', `linux-${process.arch}`, 'node.napi.glibc.node');
}

/**
 * Loads the prebuilt binary for this architecture: one literal require per supported target,
 * so that a bundler sees both files (esbuild's --loader:.node=copy copies them beside the
 * bundle and rewrites these paths). Nothing is listed or chosen at run time; no environment
 * variable is read. unsupportedReason() has refused any other architecture before this runs.
 */
function requirePrebuild(): unknown {
  if (process.arch === 'x64') return require('../../prebuilds/linux-x64/node.napi.glibc.node');
  if (process.arch === 'arm64') return require('../../prebuilds/linux-arm64/node.napi.glibc.node');
  throw new Error(`no prebuilt binary for linux-${process.arch}`);
}

/**
 * The files the loader tries, in order: a from-source build first (someone built it on purpose,
 * and a developer's checkout must test the code it just compiled), then the prebuild. In a
 * bundle only the prebuild the bundler copied. Nothing here comes from the environment.
 */
export function bindingCandidates(): string[] {
  return bundled ? [prebuildPath()] : [buildPath, prebuildPath()];
}

interface DenoGlobal {
  build: { env?: string };
  permissions: { querySync(d: { name: string }): { state: string } };
}

/** Deno's global when running under Deno, else undefined. */
function deno(): DenoGlobal | undefined {
  return (globalThis as { Deno?: DenoGlobal }).Deno;
}

/** Why this platform is not supported, or null when it is (Linux with glibc on x64 or arm64). */
export function unsupportedReason(): string | null {
  if (process.platform !== 'linux') return `privdrop supports Linux only; this is ${process.platform}`;
  if (process.arch !== 'x64' && process.arch !== 'arm64') {
    return `privdrop supports x64 and arm64 only; this is ${process.arch}`;
  }
  // Deno says which C library it was built for; reading its executable would need --allow-read.
  const denoEnv = deno()?.build.env;
  let libc = denoEnv ? (denoEnv === 'gnu' ? 'glibc' : denoEnv) : detectLibc();
  // Under Node's permission model node's own executable may be unreadable, and after a chroot it is
  // out of reach (a Worker loading the addon then): ask node instead (slow, but only then).
  const unreadable = () => (nodePermission() ? !nodePermission()!.has('fs.read', process.execPath) : !fs.existsSync(process.execPath));
  if (libc === 'unknown' && !denoEnv && unreadable()) {
    const header = (process.report?.getReport() as { header?: { glibcVersionRuntime?: string } } | undefined)?.header;
    libc = header?.glibcVersionRuntime ? 'glibc' : 'unknown';
  }
  if (libc !== 'glibc') {
    return libc === 'musl'
      ? `privdrop supports Linux with glibc only; this ${denoEnv ? 'deno' : 'node'} uses musl (Alpine?): use a glibc-based image such as node:22-bookworm-slim`
      : `privdrop supports Linux with glibc only; the C library of ${process.execPath} is not glibc`;
  }
  return null;
}

/**
 * Under Deno, why its permissions refuse what privdrop needs, or null. privdrop loads a native
 * addon (--allow-ffi, itself a way out of Deno's sandbox) and reads /proc from JavaScript (every
 * thread's credentials for processState(), the drop's prechecks, listen()'s port check); Deno 2
 * lets a program read /proc only under --allow-all, whatever --allow-read says. Checked once,
 * before loading, so that no check reads "unreadable" as "absent" later.
 */
export function denoPermissionProblem(): string | null {
  const d = deno();
  if (!d) return null;
  const problems: string[] = [];
  if (d.permissions.querySync({ name: 'ffi' }).state !== 'granted') problems.push('loading its native addon needs --allow-ffi');
  try {
    fs.readFileSync('/proc/self/status');
  } catch (e) {
    problems.push(`reading /proc needs --allow-all (${e instanceof Error ? e.message : String(e)})`);
  }
  return problems.length ? problems.join('; ') : null;
}

/** Node's permission model, when it is on. */
function nodePermission(): { has(scope: string, reference?: string): boolean } | undefined {
  return (process as { permission?: { has(scope: string, reference?: string): boolean } }).permission;
}

/**
 * Under Node's permission model (`--permission`; `--experimental-permission` in Node 20), the file
 * access privdrop needs and is not granted: /proc, where it reads every thread's state and the
 * kernel's limits before it changes anything. (Whether addons are allowed is learnt from the load
 * itself: Node 20 answers no to `process.permission.has('addon')` even with --allow-addons.)
 */
export function missingNodePermissions(): string[] {
  const permission = nodePermission();
  if (!permission || deno()) return [];
  return permission.has('fs.read', '/proc/self/task') ? [] : ['--allow-fs-read=/proc'];
}

function nodePermissionError(missing: string[]): PrivdropError {
  const why: Record<string, string> = {
    '--allow-addons': '--allow-addons loads its native addon',
    '--allow-fs-read=/proc': "--allow-fs-read=/proc reads every thread's state",
  };
  return new PrivdropError(
    ErrorCodes.RUNTIME_PERMISSION,
    `Node's permission model refuses what privdrop needs: run node with ${missing.join(' ')} ` +
      `(${missing.map((m) => why[m]).join('; ')}). See docs/deployment.md, Node's permission model.`,
  );
}

const fromSource = (): string =>
  'Build it from source: install a C++ toolchain and the libcap headers (Debian/Ubuntu: apt-get install g++ make python3 pkg-config libcap-dev; ' +
  `Fedora: dnf install gcc-c++ make python3 pkgconf libcap-devel), then run \`node ${path.join(packageRoot, 'scripts', 'build-from-source.js')}\`.`;

const inBundle = (): string =>
  `privdrop is bundled into ${__filename}, and its native binary is not beside the bundle. ` +
  'Either bundle with the binary copied next to the output (esbuild: --loader:.node=copy, then ship the .node files the bundler writes ' +
  'with the bundle), or leave privdrop out of the bundle (esbuild: --external:privdrop) and install it with the application ' +
  '(npm install privdrop). See docs/install.md, Bundlers.';

/** The message for "nothing loaded": the real cause per file tried, and what fixes it. */
function notLoadedMessage(tried: { file: string; error?: string }[]): string {
  const found = tried.filter((t) => t.error !== undefined && !/^(Cannot find module|ENOENT)/.test(t.error));
  if (found.length === 0) {
    if (bundled) return `${inBundle()} (tried: ${tried.map((t) => t.error).join('; ')})`;
    return (
      `privdrop's native addon is not in this copy of the package: there is no prebuilt binary for linux-${process.arch} ` +
      `(${prebuildPath()}) and no build at ${buildPath}. The published package carries the binary; a git checkout or a copy ` +
      `without prebuilds/ needs a build. ${fromSource()}`
    );
  }
  const causes = found.map((t) => `${t.file}: ${t.error}`).join('; ');
  const oldGlibc = found.some((t) => /GLIBC_[0-9.]+' not found/.test(t.error ?? ''));
  return (
    `privdrop's native addon could not be loaded (${causes}). ` +
    (oldGlibc ? 'The prebuilt binary needs a newer glibc than this system has. ' : '') +
    (bundled ? inBundle() : fromSource())
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
  return bindingCandidates().find((file) => fs.existsSync(file)) ?? bindingCandidates()[0];
}

function dlopen(file: string): unknown {
  const module = { exports: {} };
  process.dlopen(module, file);
  return module.exports;
}

/** The file a module was loaded from, found by its exports (a bundle's copy has its own name). */
function loadedFile(exports: unknown, fallback: string): string {
  const cache = (require as NodeJS.Require).cache ?? {};
  for (const m of Object.values(cache)) if (m && m.exports === exports) return m.filename;
  return fallback;
}

/**
 * Whether this is the process's main thread. The addon answers (gettid() == getpid(), as the
 * native drop checks) so that the drop's path loads no worker_threads, which pulls in some 25 of
 * Node's own modules (streams, worker messaging); where the addon cannot load, worker_threads
 * answers, so that a Worker is refused before any platform error.
 */
export function mainThread(): boolean {
  let native: RawBinding | undefined;
  try {
    native = binding();
  } catch {
    // eslint-disable-next-line @typescript-eslint/no-var-requires
    return (require('worker_threads') as typeof import('worker_threads')).isMainThread;
  }
  return native.isMainThread();
}

/** Loads the addon once. Throws a PrivdropError; require('privdrop') itself never does. */
export function binding(): RawBinding {
  if (cached) return cached;
  const reason = unsupportedReason();
  if (reason) throw new PrivdropError(ErrorCodes.UNSUPPORTED_PLATFORM, reason);
  const denied = denoPermissionProblem();
  if (denied) {
    throw new PrivdropError(
      ErrorCodes.RUNTIME_PERMISSION,
      `Deno's permissions refuse what privdrop needs (${denied}): run with --allow-all (-A). See docs/install.md, Deno.`,
    );
  }
  const missingNode = missingNodePermissions();
  const tried: { file: string; error?: string; cause?: unknown }[] = [];
  let loaded: RawBinding | undefined;
  // Outside a bundle each file is opened by its fixed path with process.dlopen: no module
  // resolution, no stat of a missing build/, and a thread that loads it again after a chroot gets
  // the copy already in the process (the dynamic linker matches the path it was loaded by).
  const attempts: [string, () => unknown][] = override
    ? [[override, () => dlopen(override as string)]]
    : bindingCandidates().map((file) => [file, bundled ? requirePrebuild : () => dlopen(file)]);
  for (const [file, load] of attempts) {
    try {
      loaded = load() as RawBinding;
      loadedFrom = bundled ? loadedFile(loaded, file) : file;
      break;
    } catch (cause) {
      const message = cause instanceof Error ? cause.message.split('\n')[0] : String(cause);
      tried.push({ file, cause, error: !bundled && !fs.existsSync(file) ? `ENOENT: no such file ${file}` : message });
    }
  }
  if (tried.some((t) => (t.cause as { code?: unknown } | undefined)?.code === 'ERR_DLOPEN_DISABLED')) missingNode.unshift('--allow-addons');
  if (missingNode.length) throw nodePermissionError(missingNode);
  if (!loaded) {
    const last = tried[tried.length - 1];
    throw new PrivdropError(ErrorCodes.BINDING_NOT_FOUND, notLoadedMessage(tried), { path: last.file, cause: last.cause });
  }
  loaded.setErrorFactory(errorFromNative);
  cached = loaded;
  return loaded;
}
