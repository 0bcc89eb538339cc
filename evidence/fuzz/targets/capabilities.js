'use strict';
// CapabilitySet.parse over libcap's grammar and garbage; from/with/without/has/fromMasks/isSubsetOf.
const fc = require('fast-check');
const { privdrop } = require('../dist');
const { FuzzSentinel, names, maxBits, anyString, anyValue, capSetValue, nameArg } = require('../generators');
const { classify, FuzzFailure, check, outcome } = require('../oracle');

const { CapabilitySet, PrivdropError, ErrorCodes } = privdrop;

function checkParsed(set) {
  check(set instanceof CapabilitySet && Object.isFrozen(set), 'parse returned something that is not a frozen CapabilitySet');
  const back = CapabilitySet.parse(set.toString());
  check(back.equals(set), `parse(toString()) does not round-trip: ${set.toString()}`);
  const m = set.masks;
  for (const f of ['effective', 'permitted', 'inheritable']) check(typeof m[f] === 'bigint' && m[f] >= 0n && m[f] < 1n << 64n, `mask ${f} out of range`);
}

function checkCapError(text, e) {
  if (!(e instanceof PrivdropError)) return;
  check(e.code === ErrorCodes.INVALID_CAPABILITIES, `parse threw ${e.code}, not INVALID_CAPABILITIES`);
  if (e.clause !== undefined) {
    check(typeof e.offset === 'number' && text.slice(e.offset, e.offset + e.clause.length) === e.clause, `error clause ${JSON.stringify(e.clause)} is not at offset ${e.offset}`);
  }
}

const capsParse = {
  name: 'capabilities.parse',
  share: 0.3,
  arbitrary: fc.oneof({ weight: 12, arbitrary: anyString }, { weight: 1, arbitrary: anyValue }),
  run(text) {
    try {
      checkParsed(CapabilitySet.parse(text));
      return 'ok';
    } catch (e) {
      if (e instanceof FuzzFailure) throw e;
      const label = classify(e);
      if (typeof text === 'string') {
        check(!(e instanceof TypeError || e instanceof RangeError), `string input gave ${e.name}: ${e.message}`);
        checkCapError(text, e);
      } else {
        check(e instanceof TypeError || e instanceof FuzzSentinel, `non-string input gave ${e.name}, not TypeError`);
      }
      return label;
    }
  },
};

const namesArg = fc.oneof(
  { weight: 6, arbitrary: fc.array(nameArg, { maxLength: 6 }) },
  { weight: 1, arbitrary: fc.constant(names) },
  { weight: 1, arbitrary: fc.array(nameArg, { maxLength: 3 }).map((a) => new Set(a)) },
  { weight: 2, arbitrary: anyValue },
);
const flagsArg = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom(undefined, 'e', 'p', 'i', 'ep', 'eip', 'pie', 'ee', 'effective', 'permitted', 'inheritable', 'EP', '', 'x', 'e p', 'Effective') },
  { weight: 2, arbitrary: fc.subarray(['effective', 'permitted', 'inheritable', 'ep', 'e', '__proto__', 'EFFECTIVE']) },
  { weight: 2, arbitrary: anyValue },
);
const maskValue = fc.oneof(fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }), fc.constantFrom(-1n, 1n << 64n, (1n << 64n) - 1n, 1n << 63n, 1n << BigInt(maxBits), 1n << 200n), anyValue);
const masksArg = fc.oneof(
  { weight: 4, arbitrary: fc.record({ effective: maskValue, permitted: maskValue, inheritable: maskValue }, { requiredKeys: [] }) },
  { weight: 1, arbitrary: anyValue },
);

const capsMethods = {
  name: 'capabilities.from/with/without/has/fromMasks',
  share: 0.2,
  arbitrary: fc.record({ op: fc.constantFrom('from', 'with', 'without', 'has', 'fromMasks', 'isSubsetOf'), base: capSetValue, names: namesArg, name: nameArg, flags: flagsArg, masks: masksArg, other: fc.oneof(capSetValue, anyValue) }),
  run({ op, base, names: ns, name, flags, masks, other }) {
    let result;
    const label = outcome(() => {
      switch (op) {
        case 'from':
          result = CapabilitySet.from(ns, flags);
          break;
        case 'with':
          result = base.with(ns, flags);
          break;
        case 'without':
          result = base.without(ns, flags);
          break;
        case 'has':
          result = base.has(name, flags);
          break;
        case 'fromMasks':
          result = CapabilitySet.fromMasks(masks);
          break;
        case 'isSubsetOf':
          result = base.isSubsetOf(other);
          break;
      }
    });
    if (label === 'ok') {
      if (op === 'has' || op === 'isSubsetOf') check(typeof result === 'boolean', `${op} returned ${typeof result}`);
      else checkParsed(result);
      if (op === 'fromMasks') for (const f of ['effective', 'permitted', 'inheritable']) check(result.masks[f] === masks[f], `fromMasks changed ${f}`);
      if (op === 'with' && Array.isArray(ns) && flags === undefined) for (const n of ns) check(result.has(n, 'effective') && result.has(n, 'permitted'), `with(${n}) not raised in ep`);
      if (op === 'without' && Array.isArray(ns) && flags === undefined) for (const n of ns) check(!result.has(n, 'effective') && !result.has(n, 'permitted') && !result.has(n, 'inheritable'), `without(${n}) still raised`);
    }
    return label;
  },
};

module.exports = { capsParse, capsMethods };
