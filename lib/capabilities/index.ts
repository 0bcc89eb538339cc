// Capability sets as immutable values: libcap's text grammar in, names and masks out.
import type { RawBinding, RawMasks } from '../addon/binding';
import { describe, ErrorCodes, invalidArgument, loadPart, PrivdropError } from '../errors';

/** util.inspect.custom, by its registered name: the public types then need no @types/node. */
const inspectCustom: unique symbol = Symbol.for('nodejs.util.inspect.custom') as never;

/** One of the three capability sets of a thread. */
export type CapabilityFlag = 'effective' | 'permitted' | 'inheritable';

import type { CapabilityName } from './names';
export type { CapabilityName, KnownCapabilityName } from './names';

/** The three sets as 64-bit masks: bit n is capability number n. In JSON (CapabilitySet#masks), "0x" + 16 hex digits. */
export interface CapabilityMasks {
  effective: bigint;
  permitted: bigint;
  inheritable: bigint;
}

/** What `JSON.stringify(set)` writes. */
export interface CapabilitySetJSON {
  /** libcap's canonical text, which `CapabilitySet.parse` reads back. */
  text: string;
  effective: CapabilityName[];
  permitted: CapabilityName[];
  inheritable: CapabilityName[];
}

/** Longest capability text `CapabilitySet.parse` accepts, in UTF-16 code units (JavaScript string length). */
export const MAX_CAPABILITY_TEXT_LENGTH = 64 * 1024;

const FLAGS: readonly CapabilityFlag[] = ['effective', 'permitted', 'inheritable'];
const FLAG_OF_LETTER: Readonly<Record<string, CapabilityFlag>> = { e: 'effective', p: 'permitted', i: 'inheritable' };
const MASK_BITS = 64;
const ALL_BITS = (1n << 64n) - 1n;
// C isspace() in the C locale: the only characters libcap treats as clause separators.
const CLAUSE = /[^ \t\n\v\f\r]+/g;
const MAX_QUOTED_CLAUSE = 80;

interface NameTable {
  /** libcap's name for each bit 0..63: 'cap_chown', or the decimal number past libcap's table. */
  names: readonly string[];
  byName: ReadonlyMap<string, number>;
  maxBits: number;
}

let table: NameTable | undefined;

// Built on first use, not at require() time: loading privdrop never touches the addon.
function nameTable(): NameTable {
  if (table) return table;
  const b = binding();
  const names: string[] = [];
  const byName = new Map<string, number>();
  for (let bit = 0; bit < MASK_BITS; bit++) {
    const name = b.capName(bit);
    names.push(name);
    byName.set(asciiLower(name), bit);
    byName.set(String(bit), bit);
  }
  table = { names, byName, maxBits: b.capMaxBits() };
  return table;
}

// The addon's loader, loaded on first use: requiring privdrop loads no binding code.
function binding(): RawBinding {
  // eslint-disable-next-line @typescript-eslint/no-var-requires
  return loadPart(() => require('../addon/binding') as typeof import('../addon/binding'), 'addon/binding').binding();
}

// libcap folds case with C tolower(): ASCII only, so 'ＣAP_CHOWN' or a Kelvin sign never match.
function asciiLower(s: string): string {
  return s.replace(/[A-Z]/g, (c) => c.toLowerCase());
}

function invalidCapabilities(message: string, where?: { clause: string; offset: number }): PrivdropError {
  return new PrivdropError(ErrorCodes.INVALID_CAPABILITIES, message, where ?? {});
}

function bitOf(name: unknown): number {
  if (typeof name !== 'string') throw new TypeError(`a capability name must be a string, got ${describe(name)}`);
  const { byName } = nameTable();
  const bit = byName.get(asciiLower(name));
  if (bit !== undefined) return bit;
  throw invalidCapabilities(`unknown capability ${JSON.stringify(name)}${capabilityHint(name)}`);
}

const hex64 = (m: bigint) => '0x' + m.toString(16).padStart(16, '0');
function masksToJSON(this: CapabilityMasks): Record<CapabilityFlag, string> {
  return { effective: hex64(this.effective), permitted: hex64(this.permitted), inheritable: hex64(this.inheritable) };
}

/** ' (did you mean "cap_net_bind_service"?)' for a misspelt or unprefixed name, else ''. */
export function capabilityHint(name: string): string {
  const { byName, names, maxBits } = nameTable();
  const lower = asciiLower(name);
  if (byName.has(`cap_${lower}`)) return ` (did you mean "cap_${lower}"?)`;
  // Loaded here, on the error path only: require('privdrop') stays small (test/lazy-load.test.ts).
  // eslint-disable-next-line @typescript-eslint/no-var-requires
  const { didYouMean } = loadPart(() => require('../errors/suggest') as typeof import('../errors/suggest'), 'errors/suggest');
  return didYouMean(lower, names.slice(0, maxBits));
}

function maskOfNames(names: unknown): bigint {
  if (typeof names === 'string' || names === null || typeof names !== 'object' || !(Symbol.iterator in names)) {
    throw new TypeError(`capability names must be an array of strings, got ${describe(names)}`);
  }
  let mask = 0n;
  for (const name of names as Iterable<unknown>) mask |= 1n << BigInt(bitOf(name));
  return mask;
}

function flagOf(flag: unknown): CapabilityFlag {
  if (typeof flag !== 'string') throw new TypeError(`a capability flag must be a string, got ${describe(flag)}`);
  if ((FLAGS as readonly string[]).includes(flag)) return flag as CapabilityFlag;
  throw invalidArgument(`unknown capability flag ${JSON.stringify(flag)}: use 'effective', 'permitted' or 'inheritable'`);
}

// 'ep', 'effective', or an iterable of flag names. Letters are lower case, as in libcap.
function flagsOf(flags: unknown, fallback: string): Set<CapabilityFlag> {
  const given = flags === undefined ? fallback : flags;
  const out = new Set<CapabilityFlag>();
  if (typeof given === 'string') {
    if ((FLAGS as readonly string[]).includes(given)) {
      out.add(given as CapabilityFlag);
    } else {
      for (const letter of given) {
        const flag = FLAG_OF_LETTER[letter];
        if (!flag) {
          throw invalidArgument(
            `invalid capability flags ${JSON.stringify(given)}: use the letters e, p, i (lower case) or flag names`,
          );
        }
        out.add(flag);
      }
    }
  } else if (given !== null && typeof given === 'object' && Symbol.iterator in given) {
    for (const flag of given as Iterable<unknown>) out.add(flagOf(flag));
  } else {
    throw new TypeError(`capability flags must be a string like 'ep' or an array of flag names, got ${describe(given)}`);
  }
  if (out.size === 0) throw invalidArgument('capability flags must name at least one of effective, permitted, inheritable');
  return out;
}

function maskArg(m: Record<string, unknown>, flag: CapabilityFlag): bigint {
  const v = m[flag];
  if (typeof v !== 'bigint') throw new TypeError(`masks.${flag} must be a bigint, got ${describe(v)}`);
  if (v < 0n || v > ALL_BITS) throw invalidArgument(`masks.${flag} must be from 0n to 2n ** 64n - 1n, got ${v}`);
  return v;
}

function namesOf(mask: bigint): CapabilityName[] {
  const { names } = nameTable();
  const out: CapabilityName[] = [];
  for (let bit = 0; bit < MASK_BITS; bit++) if ((mask >> BigInt(bit)) & 1n) out.push(names[bit] as CapabilityName);
  return out;
}

// ---- parse errors --------------------------------------------------------------------------

interface Clause {
  text: string;
  offset: number;
}

function clausesOf(text: string): Clause[] {
  return Array.from(text.matchAll(CLAUSE), (m) => ({ text: m[0], offset: m.index ?? 0 }));
}

// The capability list of a clause: everything before its first operator.
function namesPartOf(clause: string): string[] {
  const end = clause.search(/[=+-]/);
  const part = end < 0 ? clause : clause.slice(0, end);
  return part === '' ? [] : part.split(',');
}

// libcap reads numbers with strtoul(base 0): '010' is 8 (cap_setpcap) and '0x10' is 16. Too easy
// to get a capability nobody meant, so privdrop accepts decimal without leading zeros only.
function ambiguousNumberIn(clause: string): string | undefined {
  return namesPartOf(clause).find((token) => /^0./.test(token));
}

function whyClauseFails(clause: string): string | undefined {
  const ambiguous = ambiguousNumberIn(clause);
  if (ambiguous !== undefined) {
    return `capability number ${JSON.stringify(ambiguous)} must be written in decimal without leading zeros`;
  }
  try {
    binding().capFromText(clause);
  } catch (e) {
    if ((e as PrivdropError | undefined)?.code !== ErrorCodes.INVALID_CAPABILITIES) throw e;
    const { byName } = nameTable();
    const unknown = namesPartOf(clause).find((t) => t !== '' && asciiLower(t) !== 'all' && !byName.has(asciiLower(t)));
    if (unknown !== undefined) return `unknown capability ${quote(unknown)}${capabilityHint(unknown)}`;
    const foreign = /[^\x21-\x7e]/u.exec(clause);
    if (foreign) return `character ${quote(foreign[0])} is not part of the grammar`;
    if (/[=+-][a-zA-Z]*[EIP]/.test(clause)) return 'flags are the lower-case letters e, i, p';
    return '';
  }
  return undefined;
}

// JSON quoting, plus \u escapes for invisible and non-ASCII spaces, so a no-break space is visible.
function quote(s: string): string {
  return JSON.stringify(s).replace(/[\s\p{C}]/gu, (c) =>
    c === ' ' ? c : Array.from(c, (_, i) => `\\u${c.charCodeAt(i).toString(16).padStart(4, '0')}`).join(''),
  );
}

function quoteClause(clause: string): string {
  return quote(clause.length > MAX_QUOTED_CLAUSE ? `${clause.slice(0, MAX_QUOTED_CLAUSE)}...` : clause);
}

// libcap only says EINVAL; name the first clause that fails on its own (clauses are independent).
function parseError(text: string, clauses: Clause[]): PrivdropError {
  for (const clause of clauses) {
    const why = whyClauseFails(clause.text);
    if (why === undefined) continue;
    return invalidCapabilities(
      `invalid capability text: clause ${quoteClause(clause.text)} at offset ${clause.offset}${why ? `: ${why}` : ''}`,
      { clause: clause.text, offset: clause.offset },
    );
  }
  return invalidCapabilities(`invalid capability text: ${quoteClause(text)}`);
}

// ---- the value ------------------------------------------------------------------------------

/**
 * An immutable (frozen) value holding the effective, permitted and inheritable capability sets.
 * Build one with `parse`, `from`, `fromMasks`, `empty`, `current` or `ofProcess`; every method that
 * changes something returns a new set.
 */
export class CapabilitySet {
  readonly #effective: bigint;
  readonly #permitted: bigint;
  readonly #inheritable: bigint;

  private constructor(m: CapabilityMasks) {
    this.#effective = m.effective;
    this.#permitted = m.permitted;
    this.#inheritable = m.inheritable;
    Object.freeze(this);
  }

  /**
   * Reads libcap's text form (cap_from_text(3), cap_text_formats(7)), e.g. 'cap_net_bind_service=ep'.
   * Throws PrivdropError ERR_PRIVDROP_INVALID_CAPABILITIES naming the first bad clause and its offset,
   * for NUL characters, and for text longer than MAX_CAPABILITY_TEXT_LENGTH; TypeError for a non-string.
   */
  static parse(text: string): CapabilitySet {
    if (typeof text !== 'string') throw new TypeError(`capability text must be a string, got ${describe(text)}`);
    if (text.length > MAX_CAPABILITY_TEXT_LENGTH) {
      throw invalidCapabilities(
        `invalid capability text: ${text.length} characters long, the limit is ${MAX_CAPABILITY_TEXT_LENGTH}`,
      );
    }
    const nul = text.indexOf('\0');
    if (nul >= 0) throw invalidCapabilities(`invalid capability text: NUL character at offset ${nul}`);
    const clauses = clausesOf(text);
    if (clauses.some((c) => ambiguousNumberIn(c.text) !== undefined)) throw parseError(text, clauses);
    let masks: RawMasks;
    try {
      masks = binding().capFromText(text);
    } catch (e) {
      if ((e as PrivdropError | undefined)?.code === ErrorCodes.INVALID_CAPABILITIES) throw parseError(text, clauses);
      throw e;
    }
    const set = new CapabilitySet(masks);
    // NODE_DEBUG=privdrop; debug.js loads on the first parse, not with require('privdrop').
    // eslint-disable-next-line @typescript-eslint/no-var-requires
    const { debug, debugEnabled } = loadPart(() => require('../debug') as typeof import('../debug'), 'debug');
    if (debugEnabled()) debug('capabilities: parsed %j as %s', text.length > 200 ? text.slice(0, 200) + '...' : text, set.toString());
    return set;
  }

  /** The named capabilities raised in `flags` (default 'ep': effective and permitted), nothing else. */
  static from(names: Iterable<CapabilityName>, flags?: Iterable<CapabilityFlag> | string): CapabilitySet {
    return CapabilitySet.empty().with(names, flags);
  }

  /** A set from three 64-bit masks (bit n = capability number n). */
  static fromMasks(masks: CapabilityMasks): CapabilitySet {
    if (masks === null || typeof masks !== 'object') {
      throw new TypeError(`masks must be an object with bigint effective, permitted, inheritable, got ${describe(masks)}`);
    }
    const m = masks as unknown as Record<string, unknown>;
    return new CapabilitySet({
      effective: maskArg(m, 'effective'),
      permitted: maskArg(m, 'permitted'),
      inheritable: maskArg(m, 'inheritable'),
    });
  }

  /** No capabilities in any set. */
  static empty(): CapabilitySet {
    return new CapabilitySet({ effective: 0n, permitted: 0n, inheritable: 0n });
  }

  /** The calling thread's sets (cap_get_proc). Other threads may differ. */
  static current(): CapabilitySet {
    return new CapabilitySet(binding().capGetProc());
  }

  /**
   * The sets of the process (its main thread) or thread with this id (cap_get_pid). TypeError for a
   * non-number, ERR_PRIVDROP_INVALID_ARGUMENT for anything but a positive integer, ERR_PRIVDROP_SYSTEM
   * (errnoName 'ESRCH') when there is no such process.
   */
  static ofProcess(pid: number): CapabilitySet {
    if (typeof pid !== 'number') throw new TypeError(`pid must be a number, got ${describe(pid)}`);
    if (!Number.isInteger(pid) || pid < 1 || pid > 0x7fffffff) {
      throw invalidArgument(`pid must be a positive integer, got ${pid}`);
    }
    return new CapabilitySet(binding().capGetPid(pid));
  }

  /** Whether the capability is raised in `flag` (default 'effective': what the thread can use right now). */
  has(name: CapabilityName, flag: CapabilityFlag = 'effective'): boolean {
    const bit = bitOf(name);
    return ((this.#mask(flagOf(flag)) >> BigInt(bit)) & 1n) === 1n;
  }

  /** Effective capability names, in capability-number order. */
  get effective(): CapabilityName[] {
    return namesOf(this.#effective);
  }

  /** Permitted capability names, in capability-number order. */
  get permitted(): CapabilityName[] {
    return namesOf(this.#permitted);
  }

  /** Inheritable capability names, in capability-number order. */
  get inheritable(): CapabilityName[] {
    return namesOf(this.#inheritable);
  }

  /** A fresh copy of the three masks. */
  get masks(): CapabilityMasks {
    const masks = { effective: this.#effective, permitted: this.#permitted, inheritable: this.#inheritable };
    // BigInt has no JSON form: JSON.stringify(set.masks) writes "0x" + 16 hex digits (not enumerable).
    Object.defineProperty(masks, 'toJSON', { value: masksToJSON, writable: true, configurable: true });
    return masks;
  }

  /** Same capabilities in all three sets. False for anything that is not a CapabilitySet. */
  equals(other: unknown): boolean {
    if (!(other instanceof CapabilitySet)) return false;
    return FLAGS.every((flag) => this.#mask(flag) === other.#mask(flag));
  }

  /** Every capability of each set is also in the same set of `other`. */
  isSubsetOf(other: CapabilitySet): boolean {
    if (!(other instanceof CapabilitySet)) throw new TypeError(`other must be a CapabilitySet, got ${describe(other)}`);
    return FLAGS.every((flag) => (this.#mask(flag) & ~other.#mask(flag)) === 0n);
  }

  /** A new set with the named capabilities raised in `flags` (default 'ep'). */
  with(names: Iterable<CapabilityName>, flags?: Iterable<CapabilityFlag> | string): CapabilitySet {
    const add = maskOfNames(names);
    const chosen = flagsOf(flags, 'ep');
    return this.#map((flag, mask) => (chosen.has(flag) ? mask | add : mask));
  }

  /** A new set with the named capabilities lowered in `flags` (default 'eip': all three). */
  without(names: Iterable<CapabilityName>, flags?: Iterable<CapabilityFlag> | string): CapabilitySet {
    const remove = maskOfNames(names);
    const chosen = flagsOf(flags, 'eip');
    return this.#map((flag, mask) => (chosen.has(flag) ? mask & ~remove : mask));
  }

  /** libcap's canonical text (cap_to_text), e.g. 'cap_net_bind_service=ep'; `parse` reads it back. */
  toString(): string {
    return binding().capToText(this.masks);
  }

  /** { text, effective, permitted, inheritable }: the canonical text and the name lists. */
  toJSON(): CapabilitySetJSON {
    return { text: this.toString(), effective: this.effective, permitted: this.permitted, inheritable: this.inheritable };
  }

  [inspectCustom](): string {
    return `CapabilitySet <${this.toString()}>`;
  }

  #mask(flag: CapabilityFlag): bigint {
    return flag === 'effective' ? this.#effective : flag === 'permitted' ? this.#permitted : this.#inheritable;
  }

  #map(fn: (flag: CapabilityFlag, mask: bigint) => bigint): CapabilitySet {
    return new CapabilitySet({
      effective: fn('effective', this.#effective),
      permitted: fn('permitted', this.#permitted),
      inheritable: fn('inheritable', this.#inheritable),
    });
  }
}

/**
 * Internal (lib/state): the one capability-name table, libcap's name for each bit 0..63 (its
 * number, '41', past libcap's table). Built on first use, once per process.
 */
export function capabilityNameTable(): readonly string[] {
  return nameTable().names;
}

/**
 * Every capability both this kernel and libcap can handle (numbers 0 to cap_max_bits() - 1), in
 * number order. A capability the kernel has but this libcap cannot name appears as its number, '41'.
 */
export function capabilityNames(): CapabilityName[] {
  const { names, maxBits } = nameTable();
  return names.slice(0, maxBits) as CapabilityName[]; // a name newer than the types is still a name
}
