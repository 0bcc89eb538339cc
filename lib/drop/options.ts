// The one place for option rules: what a user or group id may be, the boundingSet values, the
// forms of supplementaryGroups, capability text versus a list of names, and how a value is named
// in a message. dropPrivileges() (lib/drop/index.ts), the config reader (lib/config/), the command line
// (lib/cli/) and CapabilitySet (lib/capabilities/index.ts) call these; none repeats a rule.
import { CapabilityName, capabilityNames, CapabilitySet } from '../capabilities';
import { ErrorCodes, PrivdropError } from '../errors';

/** Every option of dropPrivileges(), in the order messages list them. */
export const OPTION_NAMES = [
  'user', 'group', 'supplementaryGroups', 'capabilities', 'chroot', 'boundingSet', 'ambient', 'noNewPrivileges', 'lockSecurebits',
  'keepTerminal', 'keepDebugSignals',
] as const;
export type OptionName = (typeof OPTION_NAMES)[number];

export function isOptionName(key: string): key is OptionName {
  return (OPTION_NAMES as readonly string[]).includes(key);
}

/** A user or group: a name, or a numeric id. */
export type Id = string | number;

/** The largest uid or gid: (uid_t)-1 = 4294967295 means "unchanged" to the kernel. */
export const MAX_ID = 4294967294;

/** The longest user or group name privdrop passes to NSS. */
export const MAX_NAME_LENGTH = 256;

// Whitespace, ':' (the field separator of /etc/passwd and /etc/group) and ',' (the member
// separator of /etc/group, and the list separator of --groups and of stanza values).
const NAME_SEPARATOR = /[\s:,]/;

/** The values of the boundingSet option; the first is the default. */
export const BOUNDING_SET_VALUES = ['retained', 'unchanged'] as const;
export type BoundingSet = (typeof BOUNDING_SET_VALUES)[number];

/** The word forms of supplementaryGroups (otherwise a list); the first is the default. */
export const GROUP_FORMS = ['init', 'clear'] as const;
export type GroupForm = (typeof GROUP_FORMS)[number];

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

/** An integer id from 0 to MAX_ID. */
export function isIdNumber(value: unknown): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value >= 0 && value <= MAX_ID;
}

/** A user or group name privdrop will look up: 1 to MAX_NAME_LENGTH characters, no NUL, no whitespace, ':' or ','. */
export function isValidName(value: unknown): boolean {
  return typeof value === 'string' && value.length > 0 && value.length <= MAX_NAME_LENGTH && !value.includes('\0') && !NAME_SEPARATOR.test(value);
}

/** A name made of digits that NSS does not know is taken as that number, as setpriv does. */
export function numericName(name: string): number | undefined {
  return /^\d+$/.test(name) && Number(name) <= MAX_ID ? Number(name) : undefined;
}

/**
 * Checks a user or group given to dropPrivileges(): RangeError for a number out of range,
 * ERR_PRIVDROP_INVALID_ARGUMENT for a name that cannot be one, TypeError for anything else.
 */
export function checkId(value: unknown, what: string): Id {
  if (typeof value === 'number') {
    if (!isIdNumber(value)) throw new RangeError(`${what} must be an integer from 0 to ${MAX_ID}, got ${value}`);
    return value;
  }
  if (typeof value === 'string') {
    if (!isValidName(value)) throw invalidArgument(`${what} ${JSON.stringify(value.slice(0, 64))} is not a valid name`);
    return value;
  }
  throw new TypeError(`${what} must be a name (string) or an id (number), got ${describe(value)}`);
}

/** A boolean option; undefined means false. */
export function checkBoolean(value: unknown, what: string): boolean {
  if (value === undefined) return false;
  if (typeof value !== 'boolean') throw new TypeError(`${what} must be a boolean, got ${describe(value)}`);
  return value;
}

/** A chroot directory: an absolute path without NUL bytes. */
export function isChrootPath(value: unknown): boolean {
  return typeof value === 'string' && value.startsWith('/') && !value.includes('\0');
}

/** The chroot option; undefined means none (''). */
export function checkChroot(value: unknown): string {
  if (value === undefined) return '';
  if (typeof value !== 'string') throw new TypeError('chroot must be a string');
  if (!isChrootPath(value)) {
    throw new PrivdropError(ErrorCodes.INVALID_CHROOT, `chroot must be an absolute path without NUL bytes, got ${JSON.stringify(value.slice(0, 256))}`);
  }
  return value;
}

export function isBoundingSet(value: unknown): value is BoundingSet {
  return (BOUNDING_SET_VALUES as readonly unknown[]).includes(value);
}

/** The boundingSet option; undefined means 'retained'. */
export function checkBoundingSet(value: unknown): BoundingSet {
  if (value === undefined) return BOUNDING_SET_VALUES[0];
  const expected = `boundingSet must be ${BOUNDING_SET_VALUES.map((v) => `'${v}'`).join(' or ')}`;
  if (typeof value !== 'string') throw new TypeError(`${expected}, got ${describe(value)}`);
  if (!isBoundingSet(value)) throw invalidArgument(`${expected}, got ${JSON.stringify(value.slice(0, 64))}`);
  return value;
}

export function isGroupForm(value: unknown): value is GroupForm {
  return (GROUP_FORMS as readonly unknown[]).includes(value);
}

/** The supplementaryGroups option: 'init' (default), 'clear', or a list of checked ids. */
export function checkSupplementaryGroups(value: unknown): GroupForm | Id[] {
  if (value === undefined) return GROUP_FORMS[0];
  if (isGroupForm(value)) return value;
  if (!Array.isArray(value)) throw new TypeError(`supplementaryGroups must be 'init', 'clear' or an array of group names or ids`);
  return value.map((g: unknown, i: number) => checkId(g, `supplementaryGroups[${i}]`));
}

/**
 * supplementaryGroups written as text (--groups, a stanza value): 'init', 'clear', or names and
 * ids separated by commas ('' is the empty list). List entries are trimmed, not yet checked.
 */
export function groupsFromText(text: string): GroupForm | string[] {
  const t = text.trim();
  if (isGroupForm(t)) return t;
  if (t === '') return [];
  return t.split(',').map((g) => g.trim());
}

/** The capabilities option: libcap text, an array of names (kept effective and permitted), or a CapabilitySet. */
export function toCapabilitySet(value: unknown): CapabilitySet {
  if (value === undefined) return CapabilitySet.empty();
  if (value instanceof CapabilitySet) return value;
  if (typeof value === 'string') return CapabilitySet.parse(value);
  if (Array.isArray(value)) {
    for (const name of value) {
      if (typeof name !== 'string') throw new TypeError('capabilities must be an array of capability names (strings)');
    }
    return CapabilitySet.from(value as CapabilityName[], 'ep'); // checked against libcap here
  }
  throw new TypeError(`capabilities must be libcap text, an array of names or a CapabilitySet, got ${describe(value)}`);
}

/**
 * Capabilities written on the command line: text with an operator (=, +, -) is libcap text;
 * without one it is a list of names separated by commas or spaces ("cap_chown,cap_kill").
 */
export function capabilitiesFromText(text: string): string | string[] {
  return /[=+-]/.test(text) ? text : text.split(/[\s,]+/).filter(Boolean);
}

function invalidArgument(message: string): PrivdropError {
  return new PrivdropError(ErrorCodes.INVALID_ARGUMENT, message);
}

/**
 * Why dropPrivileges() refuses to keep this set, whatever the process holds, or undefined:
 * effective capabilities that are not permitted (the drop throws ERR_PRIVDROP_INVALID_CAPABILITIES).
 */
export function effectiveNotPermitted(set: CapabilitySet): string | undefined {
  const m = set.masks;
  if ((m.effective & ~m.permitted) === 0n) return undefined;
  return `effective capabilities must also be permitted: ${set.toString()} (write +ep, not +e)`;
}

/**
 * What `privdrop parse` warns about: text that libcap reads but that dropPrivileges() (and
 * privdrop exec) would refuse, on any process of this system.
 */
export function capabilityWarnings(set: CapabilitySet): string[] {
  const warnings: string[] = [];
  const notPermitted = effectiveNotPermitted(set);
  if (notPermitted) warnings.push(`${notPermitted}; dropPrivileges() refuses it (ERR_PRIVDROP_INVALID_CAPABILITIES)`);
  const known = capabilityNames();
  const m = set.masks;
  const all = m.effective | m.permitted | m.inheritable;
  const past: number[] = [];
  for (let bit = known.length; bit < 64; bit++) if ((all >> BigInt(bit)) & 1n) past.push(bit);
  if (past.length) {
    warnings.push(
      `capabilit${past.length === 1 ? 'y' : 'ies'} ${past.join(', ')} ${past.length === 1 ? 'is' : 'are'} unknown to this kernel ` +
        `(its last is ${known.length - 1}, ${known[known.length - 1]}): dropPrivileges() refuses ${past.length === 1 ? 'it' : 'them'} ` +
        `(ERR_PRIVDROP_INVALID_CAPABILITIES)`,
    );
  }
  return warnings;
}
