// processState(): every thread's credentials as the kernel reports them in /proc/self/task.
// Credentials and capabilities are per thread (docs/design.md, "Threads"), so one thread's view
// proves nothing about the others; this reads them all and says where they disagree.
// The text form is lib/state/format.ts.
import fs = require('fs');
import { constants as osConstants } from 'os';
import { binding } from '../addon/binding';
import { capabilityNameTable } from '../capabilities';
import { debug, debugEnabled, msSince } from '../debug';
import { ErrorCodes, PrivdropError } from '../errors';
import { CapabilityWindow, outsideWindows, readAcrossWindows } from '../runtime';
import { capabilityMask } from './json';

/** One capability set of one thread. In JSON the mask is "0x" and 16 hex digits (a non-enumerable toJSON). */
export interface CapabilityMask {
  /**
   * Capability names, lowest number first, e.g. 'cap_net_bind_service'. A bit this system's
   * libcap has no name for appears as its number, e.g. '41'.
   */
  names: string[];
  /** Bit n set = capability number n. */
  mask: bigint;
}

/** The five capability sets of one thread (the CapInh..CapAmb lines of its status file). */
export interface ThreadCapabilities {
  inheritable: CapabilityMask;
  permitted: CapabilityMask;
  effective: CapabilityMask;
  bounding: CapabilityMask;
  ambient: CapabilityMask;
}

/** The four ids of a Uid: or Gid: line. */
export interface IdSet {
  real: number;
  effective: number;
  saved: number;
  fs: number;
}

/** One thread, as /proc/self/task/<tid>/status describes it. */
export interface ThreadState {
  tid: number;
  /** The thread's name (comm), e.g. 'node', 'V8 Worker', 'libuv-worker'. */
  name: string;
  uid: IdSet;
  gid: IdSet;
  /** Supplementary groups, as the kernel lists them. */
  groups: number[];
  capabilities: ThreadCapabilities;
  noNewPrivs: boolean;
  /** Seccomp mode: 0 disabled, 1 strict, 2 filter. */
  seccomp: number;
}

/** Names of the securebits (linux/securebits.h), bit 0 first. */
export const SECUREBIT_NAMES = [
  'noroot',
  'noroot_locked',
  'no_setuid_fixup',
  'no_setuid_fixup_locked',
  'keep_caps',
  'keep_caps_locked',
  'no_cap_ambient_raise',
  'no_cap_ambient_raise_locked',
  'exec_restrict_file',
  'exec_restrict_file_locked',
  'exec_deny_interactive',
  'exec_deny_interactive_locked',
] as const;

export interface Securebits {
  /** prctl(PR_GET_SECUREBITS) of the calling thread. */
  value: number;
  /** The names of the bits set, bit 0 first; an unknown bit appears as its number, e.g. '12'. */
  flags: string[];
}

/** The status-file fields that must be equal on every thread. */
export const CONSISTENCY_FIELDS = ['Uid', 'Gid', 'Groups', 'CapInh', 'CapPrm', 'CapEff', 'CapBnd', 'CapAmb', 'NoNewPrivs'] as const;
export type ConsistencyField = (typeof CONSISTENCY_FIELDS)[number];

/** One field on which threads disagree. */
export interface StateDifference {
  field: ConsistencyField;
  /** Each value seen, written as in /proc (masks as 16 hex digits, ids space-separated), to the tids that have it. */
  values: Record<string, number[]>;
}

export interface ProcessState {
  pid: number;
  /** The thread that called processState() (a Worker's own thread when called from a Worker). */
  tid: number;
  /** The calling thread's securebits (not in /proc, so only this thread's). */
  securebits: Securebits;
  /** Every thread that could be read, by ascending tid. */
  threads: ThreadState[];
  /**
   * True when every thread has the same CONSISTENCY_FIELDS, a thread inside a withCapabilities()
   * window counted without what its window raised (see `windows`).
   */
  consistent: boolean;
  /** The fields that differ, in CONSISTENCY_FIELDS order; empty when consistent. */
  differences: StateDifference[];
  /**
   * The threads inside withCapabilities() windows while the state was read: their `threads[]`
   * entry shows the raised capabilities in its effective set, as /proc does.
   */
  windows: CapabilityWindow[];
}

const TASK_DIR = '/proc/self/task';

/**
 * Reads every thread of this process. Synchronous: meant to be called right after a drop.
 * A thread that exits while it is read is left out.
 */
export function processState(): ProcessState {
  // First, so that an unsupported platform or a missing binary throws its own coded error.
  const native = binding();
  const start = process.hrtime.bigint();
  const decode = capabilityDecoder();
  const tid = native.gettid();
  const securebits = decodeSecurebits(native.getSecurebits());
  const { value: threads, windows } = readAcrossWindows(() => readThreads(TASK_DIR, decode));
  const differences = compareThreads(outsideWindows(threads, windows));
  if (debugEnabled()) {
    const agree = differences.length === 0 ? 'all agree' : `they DISAGREE on ${differences.map((d) => d.field).join(', ')}`;
    const inside = windows.length ? `; inside windows: ${windows.map((w) => `${w.tid} (${w.raised.join(' ')})`).join(', ')}` : '';
    debug('processState: %d threads read from %s in %s ms, %s%s', threads.length, TASK_DIR, msSince(start), agree, inside);
  }
  return {
    pid: process.pid,
    tid,
    securebits,
    threads,
    consistent: differences.length === 0,
    differences,
    windows: windows.map(({ tid: windowTid, depth, raised }) => ({ tid: windowTid, depth, raised })),
  };
}

/** Internal (tests): reads every <tid>/status under taskDir, skipping threads that are gone. */
export function readThreads(taskDir: string, decode: (hex: string) => CapabilityMask = capabilityDecoder()): ThreadState[] {
  let entries: string[];
  try {
    entries = fs.readdirSync(taskDir);
  } catch (e) {
    throw systemError(e, taskDir);
  }
  const tids = entries
    .map(Number)
    .filter((n) => Number.isInteger(n) && n > 0)
    .sort((a, b) => a - b);
  const threads: ThreadState[] = [];
  for (const tid of tids) {
    const text = readProcText(`${taskDir}/${tid}/status`);
    if (text !== null) threads.push(threadFromStatus(tid, parseStatus(text), decode));
  }
  return threads;
}

/** The lines of a status file that processState() uses, as written there. */
export interface StatusFields {
  Name: string;
  Uid: string;
  Gid: string;
  Groups: string;
  CapInh: string;
  CapPrm: string;
  CapEff: string;
  CapBnd: string;
  CapAmb: string;
  NoNewPrivs: string;
  Seccomp: string;
}

// Kernels before 4.3 have no CapAmb line, before 4.10 no NoNewPrivs; without CONFIG_SECCOMP no Seccomp.
const OPTIONAL_DEFAULTS = { CapAmb: '0000000000000000', NoNewPrivs: '0', Seccomp: '0' } as const;
// In the order the kernel writes them, so that one forward scan finds them all.
const WANTED_KEYS = ['Uid', 'Gid', 'Groups', 'CapInh', 'CapPrm', 'CapEff', 'CapBnd', 'CapAmb', 'NoNewPrivs', 'Seccomp'] as const;
const NEEDLES = WANTED_KEYS.map((key) => `\n${key}:`);

/** Internal (tests): picks the wanted lines out of one /proc/<pid>/task/<tid>/status text. */
export function parseStatus(text: string): StatusFields {
  // The kernel writes "Key:\tvalue"; a thread name may itself start or end with spaces.
  if (!text.startsWith('Name:')) throw new PrivdropError(ErrorCodes.SYSTEM, 'unexpected /proc status format: no Name: line');
  let cursor = text.indexOf('\n');
  if (cursor === -1) cursor = text.length;
  const name = text.slice(text.startsWith('Name:\t') ? 6 : 5, cursor);
  const found: Record<string, string> = { Name: unescapeName(name), ...OPTIONAL_DEFAULTS };
  // This runs for every thread: a few native indexOf calls, no splitting into ~55 lines.
  for (let i = 0; i < WANTED_KEYS.length; i++) {
    const needle = NEEDLES[i];
    let at = text.indexOf(needle, cursor);
    if (at === -1) at = text.indexOf(needle); // not in the usual order
    if (at === -1) {
      if (WANTED_KEYS[i] in OPTIONAL_DEFAULTS) continue;
      throw new PrivdropError(ErrorCodes.SYSTEM, `unexpected /proc status format: no ${WANTED_KEYS[i]}: line`);
    }
    const start = at + needle.length;
    let end = text.indexOf('\n', start);
    if (end === -1) end = text.length;
    found[WANTED_KEYS[i]] = text.slice(start, end).trim();
    cursor = end;
  }
  return found as unknown as StatusFields;
}

// The kernel escapes only newline and backslash in the Name: line.
function unescapeName(value: string): string {
  return value.includes('\\') ? value.replace(/\\(n|\\)/g, (_m, c: string) => (c === 'n' ? '\n' : '\\')) : value;
}

function threadFromStatus(tid: number, f: StatusFields, decode: (hex: string) => CapabilityMask): ThreadState {
  return {
    tid,
    name: f.Name,
    uid: idSet(f.Uid, 'Uid'),
    gid: idSet(f.Gid, 'Gid'),
    groups: f.Groups === '' ? [] : f.Groups.split(/\s+/).map(Number),
    capabilities: {
      inheritable: decode(f.CapInh),
      permitted: decode(f.CapPrm),
      effective: decode(f.CapEff),
      bounding: decode(f.CapBnd),
      ambient: decode(f.CapAmb),
    },
    noNewPrivs: f.NoNewPrivs === '1',
    seccomp: Number(f.Seccomp),
  };
}

function idSet(line: string, key: string): IdSet {
  const ids = line.split(/\s+/).map(Number);
  if (ids.length !== 4 || ids.some((n) => !Number.isInteger(n))) {
    throw new PrivdropError(ErrorCodes.SYSTEM, `unexpected /proc status format: ${key}: ${line}`);
  }
  return { real: ids[0], effective: ids[1], saved: ids[2], fs: ids[3] };
}

/**
 * Internal (tests): decodes a status-file capability mask (hex) to names and a bigint.
 * Names come from CapabilitySet's table (libcap's names; numbers past libcap's table).
 */
export function capabilityDecoder(): (hex: string) => CapabilityMask {
  const table = capabilityNameTable();
  // Threads nearly always share masks: decode each distinct one once per call.
  const cache = new Map<string, { names: string[]; mask: bigint }>();
  return (hex) => {
    let decoded = cache.get(hex);
    if (!decoded) {
      if (!/^[0-9a-fA-F]{1,16}$/.test(hex)) throw new PrivdropError(ErrorCodes.SYSTEM, `unexpected capability mask in /proc: ${hex}`);
      const names: string[] = [];
      for (let digit = 0; digit < hex.length; digit++) {
        const nibble = parseInt(hex[hex.length - 1 - digit], 16);
        for (let b = 0; b < 4; b++) if (nibble & (1 << b)) names.push(table[digit * 4 + b]);
      }
      decoded = { names, mask: BigInt('0x' + hex) };
      cache.set(hex, decoded);
    }
    return capabilityMask(decoded.names.slice(), decoded.mask);
  };
}

/** Internal (tests): the names of the bits set in a securebits value. */
export function decodeSecurebits(value: number): Securebits {
  const flags: string[] = [];
  for (let bit = 0; bit < 32; bit++) {
    if ((value >>> bit) & 1) flags.push(bit < SECUREBIT_NAMES.length ? SECUREBIT_NAMES[bit] : String(bit));
  }
  return { value, flags };
}

/** A field of a thread written as /proc writes it (tabs as single spaces). */
export function fieldValue(thread: ThreadState, field: ConsistencyField): string {
  const ids = (s: IdSet) => `${s.real} ${s.effective} ${s.saved} ${s.fs}`;
  const hex = (m: CapabilityMask) => m.mask.toString(16).padStart(16, '0');
  const c = thread.capabilities;
  switch (field) {
    case 'Uid': return ids(thread.uid);
    case 'Gid': return ids(thread.gid);
    case 'Groups': return thread.groups.join(' ');
    case 'CapInh': return hex(c.inheritable);
    case 'CapPrm': return hex(c.permitted);
    case 'CapEff': return hex(c.effective);
    case 'CapBnd': return hex(c.bounding);
    case 'CapAmb': return hex(c.ambient);
    case 'NoNewPrivs': return thread.noNewPrivs ? '1' : '0';
  }
}

/** Internal (tests): the fields on which the threads disagree. */
export function compareThreads(threads: ThreadState[]): StateDifference[] {
  const differences: StateDifference[] = [];
  for (const field of CONSISTENCY_FIELDS) {
    const values: Record<string, number[]> = {};
    let distinct = 0;
    for (const t of threads) {
      const v = fieldValue(t, field);
      if (!Object.prototype.hasOwnProperty.call(values, v)) {
        values[v] = [];
        distinct++;
      }
      values[v].push(t.tid);
    }
    if (distinct > 1) differences.push({ field, values });
  }
  return differences;
}

/** The file's text, or null when the thread it belongs to is gone. */
function readProcText(file: string): string | null {
  try {
    // Node 20 reads a whole file as UTF-8 in one native call: faster than open/read/close from JS.
    return fs.readFileSync(file, 'utf8');
  } catch (e) {
    if (isVanished(e)) return null;
    throw systemError(e, file);
  }
}

function isVanished(e: unknown): boolean {
  const code = (e as NodeJS.ErrnoException | null)?.code;
  return code === 'ENOENT' || code === 'ESRCH';
}

function systemError(e: unknown, file: string): PrivdropError {
  const err = e as NodeJS.ErrnoException;
  const errno = err.code ? (osConstants.errno as Record<string, number>)[err.code] : undefined;
  const hint = file.startsWith(TASK_DIR) && err.code === 'ENOENT' ? ' (is /proc mounted? after a chroot it must be mounted inside the new root)' : '';
  return new PrivdropError(ErrorCodes.SYSTEM, `cannot read ${file}: ${err.message}${hint}`, {
    errno,
    syscall: err.syscall,
    path: file,
    cause: e,
  });
}
