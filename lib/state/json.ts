// JSON forms of what the API returns. BigInt has no JSON form, so every capability mask
// (a bigint) carries a non-enumerable toJSON (CapabilitySet#masks defines its own, in
// lib/capabilities/index.ts, so that require('privdrop') does not load this file) that writes it as "0x" and 16 hex digits -- the
// form `privdrop show --json` and `privdrop parse --json` print, and one BigInt() reads back.
// processStateFromJSON() turns the JSON of a processState() result back into one.
import { ErrorCodes, invalidArgument, PrivdropError } from '../errors';
import type { CapabilityMask, ProcessState, ThreadState } from './read';

/** Replaces every bigint in T by its JSON form, a string. */
export type JSONForm<T> = T extends bigint
  ? string
  : T extends readonly (infer U)[]
    ? JSONForm<U>[]
    : T extends object
      ? { [K in keyof T]: JSONForm<T[K]> }
      : T;

/** What JSON.stringify(processState()) writes: masks as "0x" + 16 hex digits. */
export type ProcessStateJSON = JSONForm<ProcessState>;

/** A 64-bit mask as "0x" and 16 hex digits, e.g. "0x0000000000000400". */
export function hex64(mask: bigint): string {
  return '0x' + mask.toString(16).padStart(16, '0');
}

// A class, not a property defined on each object: processState() makes five of these per thread,
// and a prototype method costs nothing per object (Object.keys is still names, mask).
class Mask implements CapabilityMask {
  constructor(
    public names: string[],
    public mask: bigint,
  ) {}

  toJSON(): JSONForm<CapabilityMask> {
    return { names: this.names, mask: hex64(this.mask) };
  }
}

/** A CapabilityMask whose JSON form has the mask as a hex string (toJSON is on the prototype). */
export function capabilityMask(names: string[], mask: bigint): CapabilityMask {
  return new Mask(names, mask);
}

// ---- reading back -------------------------------------------------------------------------

const SETS = ['inheritable', 'permitted', 'effective', 'bounding', 'ambient'] as const;
const HEX_MASK = /^0x[0-9a-fA-F]{1,16}$/;

const bad = (where: string, what: string) => invalidArgument(`processStateFromJSON: ${where} ${what}`);

function record(value: unknown, where: string): Record<string, unknown> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw bad(where, 'must be an object');
  return value as Record<string, unknown>;
}

function integer(value: unknown, where: string): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0) throw bad(where, 'must be a non-negative integer');
  return value;
}

function ids(value: unknown, where: string): { real: number; effective: number; saved: number; fs: number } {
  const o = record(value, where);
  return {
    real: integer(o.real, `${where}.real`),
    effective: integer(o.effective, `${where}.effective`),
    saved: integer(o.saved, `${where}.saved`),
    fs: integer(o.fs, `${where}.fs`),
  };
}

function strings(value: unknown, where: string): string[] {
  if (!Array.isArray(value) || value.some((s) => typeof s !== 'string')) throw bad(where, 'must be an array of strings');
  return value.slice() as string[];
}

function numbers(value: unknown, where: string): number[] {
  if (!Array.isArray(value)) throw bad(where, 'must be an array of integers');
  return value.map((n, i) => integer(n, `${where}[${i}]`));
}

function mask(value: unknown, where: string): CapabilityMask {
  const o = record(value, where);
  // A bigint is accepted too, so that a processState() result itself reads back unchanged.
  if (typeof o.mask === 'bigint') return capabilityMask(strings(o.names, `${where}.names`), o.mask);
  if (typeof o.mask !== 'string' || !HEX_MASK.test(o.mask)) throw bad(`${where}.mask`, 'must be "0x" and 1 to 16 hex digits');
  return capabilityMask(strings(o.names, `${where}.names`), BigInt(o.mask));
}

function thread(value: unknown, where: string): ThreadState {
  const o = record(value, where);
  const caps = record(o.capabilities, `${where}.capabilities`);
  const capabilities = {} as ThreadState['capabilities'];
  for (const set of SETS) capabilities[set] = mask(caps[set], `${where}.capabilities.${set}`);
  if (typeof o.name !== 'string') throw bad(`${where}.name`, 'must be a string');
  if (typeof o.noNewPrivs !== 'boolean') throw bad(`${where}.noNewPrivs`, 'must be a boolean');
  return {
    tid: integer(o.tid, `${where}.tid`),
    name: o.name,
    uid: ids(o.uid, `${where}.uid`),
    gid: ids(o.gid, `${where}.gid`),
    groups: numbers(o.groups, `${where}.groups`),
    capabilities,
    noNewPrivs: o.noNewPrivs,
    seccomp: integer(o.seccomp, `${where}.seccomp`),
  };
}

/** processState().windows (absent in JSON written before windows existed: none). */
function windows(value: unknown): ProcessState['windows'] {
  if (value === undefined) return [];
  if (!Array.isArray(value)) throw bad('windows', 'must be an array');
  return value.map((w, i) => {
    const r = record(w, `windows[${i}]`);
    return { tid: integer(r.tid, `windows[${i}].tid`), depth: integer(r.depth, `windows[${i}].depth`), raised: strings(r.raised, `windows[${i}].raised`) };
  });
}

/**
 * A processState() result from its JSON (the text, or the value JSON.parse made of it): masks
 * become bigints again, so it can be compared, formatted with formatProcessState(), or
 * stringified again to the same text. Throws ERR_PRIVDROP_INVALID_ARGUMENT naming the first
 * field that is missing or of the wrong kind.
 */
export function processStateFromJSON(json: string | ProcessStateJSON | ProcessState): ProcessState {
  let value: unknown = json;
  if (typeof json === 'string') {
    try {
      value = JSON.parse(json);
    } catch (e) {
      throw new PrivdropError(ErrorCodes.INVALID_ARGUMENT, `processStateFromJSON: not JSON: ${(e as Error).message}`, { cause: e });
    }
  }
  const o = record(value, 'the state');
  if (!Array.isArray(o.threads)) throw bad('threads', 'must be an array');
  const bits = record(o.securebits, 'securebits');
  if (typeof o.consistent !== 'boolean') throw bad('consistent', 'must be a boolean');
  if (!Array.isArray(o.differences)) throw bad('differences', 'must be an array');
  const differences = o.differences.map((d, i) => {
    const r = record(d, `differences[${i}]`);
    const values = record(r.values, `differences[${i}].values`);
    const copy: Record<string, number[]> = {};
    for (const [k, v] of Object.entries(values)) copy[k] = numbers(v, `differences[${i}].values[${JSON.stringify(k)}]`);
    if (typeof r.field !== 'string') throw bad(`differences[${i}].field`, 'must be a string');
    return { field: r.field, values: copy };
  });
  return {
    pid: integer(o.pid, 'pid'),
    tid: integer(o.tid, 'tid'),
    securebits: { value: integer(bits.value, 'securebits.value'), flags: strings(bits.flags, 'securebits.flags') },
    threads: o.threads.map((t, i) => thread(t, `threads[${i}]`)),
    consistent: o.consistent,
    differences: differences as ProcessState['differences'],
    windows: windows(o.windows),
  };
}
