// Capabilities as option values, shared by the drop, setCapabilities() and the command line:
// text or names to a CapabilitySet, and the sets dropPrivileges() refuses whatever the process holds.
import { describe } from '../errors';
import { CapabilityName, capabilityNames, CapabilitySet } from './index';

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
