#!/usr/bin/env node
'use strict';
// Bad input, at scale: fast-check properties over every place privdrop takes input from a user
// (capability text and names, dropPrivileges() options, config files, the command line). Each
// case must work or throw the documented error (PrivdropError with an ERR_PRIVDROP_* code, or
// TypeError/RangeError for a wrong type); never anything else, never a hang, never a polluted
// Object.prototype, never a change to this process's credentials.
//
//   node evidence/fuzz.js [--cases N] [--seed S] [--target NAME] [--hang-seconds T]
//
// No child processes: everything runs here, with the native drop/exec/capset entry points
// replaced by tripwires (reaching one is a failure), and processState() compared before and after.
// test/fuzz.test.ts runs the same targets with a fixed seed and a CI-sized count.

const path = require('path');
const util = require('util');
const fc = require('fast-check');

const dist = path.join(__dirname, '..', 'dist');
const privdrop = require(path.join(dist, 'index.js'));
const { binding } = require(path.join(dist, 'binding.js'));
const { MAX_CAPABILITY_TEXT_LENGTH } = require(path.join(dist, 'capabilities.js'));
const { parseArgs, UsageError } = require(path.join(dist, 'cli-args.js'));
const { run: runCli } = require(path.join(dist, 'cli.js'));
const { runExec } = require(path.join(dist, 'cli-exec.js'));
const { runShow } = require(path.join(dist, 'cli-show.js'));

const { CapabilitySet, PrivdropError, ErrorCodes, capabilityNames, resolveDropOptions, dropPrivileges, parseSecurityConfig, processState } =
  privdrop;

const KNOWN_CODES = new Set(Object.values(ErrorCodes));
const OPTION_KEYS = ['user', 'group', 'supplementaryGroups', 'capabilities', 'chroot', 'boundingSet', 'ambient', 'noNewPrivileges', 'lockSecurebits'];
const FIXTURES = path.join(__dirname, '..', 'test', 'fixtures');
const MAX_ID = 4294967294;

// ---- hostile values ------------------------------------------------------------------------

/** What our own getters, traps and toString throw: seeing it come back out is correct propagation. */
class FuzzSentinel extends Error {
  constructor(where) {
    super(`fuzz sentinel: ${where}`);
    this.name = 'FuzzSentinel';
  }
}

const HOSTILE_KINDS = ['throwingProxy', 'throwingGetter', 'throwingToString', 'nullProto', 'revokedProxy', 'arrayProxy', 'throwingIterator', 'symbolKeyed'];

// fast-check inspects generated values (clone symbols, printing), so arbitraries generate markers
// and each case turns them into the real objects just before the call: fresh every time.
class Marker {
  constructor(kind) {
    this.kind = kind;
  }
}

function materialize(v, depth = 0) {
  if (v instanceof Marker) return v.kind.startsWith('odd:') ? oddObject(v.kind.slice(4)) : hostile(v.kind);
  if (v === null || typeof v !== 'object' || depth > 8) return v;
  if (Array.isArray(v)) return v.map((x) => materialize(x, depth + 1));
  const proto = Object.getPrototypeOf(v);
  if (proto !== Object.prototype && proto !== null) return v;
  const out = Object.create(proto);
  for (const k of Reflect.ownKeys(v)) {
    Object.defineProperty(out, k, { value: materialize(v[k], depth + 1), enumerable: true, writable: true, configurable: true });
  }
  return out;
}

function hostile(kind) {
  const thrower = (where) => () => {
    throw new FuzzSentinel(where);
  };
  switch (kind) {
    case 'throwingProxy':
      return new Proxy({}, { get: thrower('get'), has: thrower('has'), ownKeys: thrower('ownKeys'), getOwnPropertyDescriptor: thrower('gopd'), getPrototypeOf: thrower('getPrototypeOf') });
    case 'throwingGetter':
      return Object.defineProperty({}, 'user', { enumerable: true, get: thrower('getter') });
    case 'throwingToString':
      return { toString: thrower('toString'), valueOf: thrower('valueOf'), [Symbol.toPrimitive]: thrower('toPrimitive') };
    case 'nullProto':
      return Object.create(null);
    case 'revokedProxy': {
      const r = Proxy.revocable({}, {});
      r.revoke();
      return r.proxy;
    }
    case 'arrayProxy':
      return new Proxy(['cap_chown'], { get: (t, k) => (k === 'length' ? 100000 : Reflect.get(t, k)) });
    case 'throwingIterator':
      return { [Symbol.iterator]: () => ({ next: thrower('next') }) };
    case 'symbolKeyed':
      return { [Symbol('user')]: 'nobody' };
    default:
      throw new Error(kind);
  }
}

// Long inputs, computed once.
const HUGE = [
  'a'.repeat(1 << 20),
  '\0'.repeat(MAX_CAPABILITY_TEXT_LENGTH + 1),
  'x'.repeat(MAX_CAPABILITY_TEXT_LENGTH),
  'x'.repeat(MAX_CAPABILITY_TEXT_LENGTH + 1),
  'cap_chown+ep '.repeat(5000),
  '= '.repeat(32000) + 'cap_foo',
  ','.repeat(MAX_CAPABILITY_TEXT_LENGTH - 3) + '=ep',
  '\ud800'.repeat(70000),
  'nobody'.repeat(50),
  '9'.repeat(300),
];

const ADVERSARIAL = [
  '', ' ', '\t', '\n', '\0', 'nobody\0', '\0nobody', '__proto__', 'constructor', 'prototype', 'toString', 'hasOwnProperty', 'valueOf',
  '\ud800', '\udfff', '\udfff\ud800', '\u{1f600}', '\ufeff', '\u00a0', '\u2028', '\u212a', 'ＣAP_CHOWN', 'root', 'nobody', 'nogroup', 'www-data',
  'daemon', 'bin', '0', '00', '-0', '-1', '+1', '1.5', '1e3', '0x10', '010', 'NaN', 'Infinity', '65534', '4294967294', '4294967295',
  '4294967296', '18446744073709551616', '99999999999999999999999', 'a:b', 'a b', 'a,b', '%s%n%x', '../../etc/passwd', '/', '.', '..',
];

const SPECIAL_NUMBERS = [0, -0, 1, 33, 65534, -1, 2 ** 31 - 1, 2 ** 31, 2 ** 32 - 2, 2 ** 32 - 1, 2 ** 32, 2 ** 53, 2 ** 53 + 2, -(2 ** 32), 1.5, NaN, Infinity, -Infinity, Number.MAX_VALUE, Number.MIN_VALUE, Number.EPSILON];

const names = capabilityNames();
const maxBits = names.length;

// Every capability name, in any case: lower, upper, or a random mix.
const capName = fc.constantFrom(...names);
const anyCaseName = fc.tuple(capName, fc.integer({ min: 0, max: 2 })).chain(([n, mode]) =>
  mode === 0 ? fc.constant(n) : mode === 1 ? fc.constant(n.toUpperCase()) : fc.array(fc.boolean(), { minLength: n.length, maxLength: n.length }).map((up) => Array.from(n, (c, i) => (up[i] ? c.toUpperCase() : c)).join('')),
);
const capNumber = fc.oneof(fc.integer({ min: 0, max: 70 }), fc.constantFrom(maxBits - 1, maxBits, maxBits + 1, 63, 64, 65, 2 ** 31, 2 ** 32 - 1, 2 ** 32, 2 ** 32 + 10)).map(String);
const capToken = fc.oneof(
  { weight: 4, arbitrary: anyCaseName },
  { weight: 2, arbitrary: capNumber },
  { weight: 1, arbitrary: fc.constantFrom('all', 'ALL', 'All', '010', '0x1', '00', '-1', 'cap_foo', 'cap_', 'chown', 'cap_10', 'cap_chown\0', '\u212acap') },
);
const flagLetters = fc.subarray(['e', 'i', 'p', 'E', 'I', 'P', 'x', ''], { maxLength: 4 }).map((l) => l.join(''));
const operator = fc.constantFrom('=', '+', '-', '==', '+-', '=+', '');
// One clause: names, then operator+flags, repeated: cap_a,cap_b+ep-i
const clause = fc
  .tuple(fc.array(capToken, { maxLength: 4 }), fc.array(fc.tuple(operator, flagLetters), { minLength: 0, maxLength: 3 }))
  .map(([ns, ops]) => ns.join(',') + ops.map(([o, f]) => o + f).join(''));
const separator = fc.constantFrom(' ', '  ', '\t', '\n', '\r', '\v', '\f', '\u00a0', '\u2028', ',', '\0', '');
const capText = fc.array(fc.tuple(clause, separator), { maxLength: 8 }).map((cs) => cs.map(([c, s]) => c + s).join(''));

// Bytes that are not UTF-8, as a string the way Node would decode them (latin1) or mangle them (utf8).
const bytes = fc.uint8Array({ maxLength: 96 });
const latin1 = bytes.map((b) => Buffer.from(b).toString('latin1'));
const badUtf8 = bytes.map((b) => Buffer.from(b).toString('utf8'));

const ordinaryString = fc.oneof(
  { weight: 6, arbitrary: fc.string({ maxLength: 64 }) },
  { weight: 4, arbitrary: fc.string({ unit: 'binary', maxLength: 64 }) },
  { weight: 2, arbitrary: fc.string({ unit: 'grapheme', maxLength: 16 }) },
  { weight: 3, arbitrary: latin1 },
  { weight: 2, arbitrary: badUtf8 },
  { weight: 6, arbitrary: fc.constantFrom(...ADVERSARIAL) },
  { weight: 4, arbitrary: capText },
);
// Huge inputs are rare (one in 500): each costs up to ~100 ms.
const anyString = fc.oneof({ weight: 499, arbitrary: ordinaryString }, { weight: 1, arbitrary: fc.constantFrom(...HUGE) });

const anyNumber = fc.oneof(fc.constantFrom(...SPECIAL_NUMBERS), fc.integer(), fc.double(), fc.integer({ min: -1, max: 2 ** 32 + 1 }));

const capSetValue = fc.oneof(
  fc.constant(CapabilitySet.empty()),
  fc.record({ effective: fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }), permitted: fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }), inheritable: fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }) }).map((m) => CapabilitySet.fromMasks(m)),
);

// Any JavaScript value, of every type, hostile ones included.
const anyValue = fc.letrec((tie) => ({
  value: fc.oneof(
    { weight: 5, arbitrary: anyString },
    { weight: 4, arbitrary: anyNumber },
    { weight: 1, arbitrary: fc.bigInt() },
    { weight: 1, arbitrary: fc.boolean() },
    { weight: 1, arbitrary: fc.constantFrom(null, undefined) },
    { weight: 1, arbitrary: fc.string({ maxLength: 8 }).map((s) => Symbol(s)) },
    { weight: 2, arbitrary: fc.array(tie('value'), { maxLength: 4 }) },
    { weight: 1, arbitrary: fc.dictionary(fc.oneof(fc.string({ maxLength: 8 }), fc.constantFrom('__proto__', 'constructor', 'prototype')), tie('value'), { maxKeys: 3 }) },
    { weight: 2, arbitrary: fc.constantFrom(...HOSTILE_KINDS).map((k) => new Marker(k)) },
    { weight: 1, arbitrary: capSetValue },
    { weight: 1, arbitrary: fc.constantFrom('fn', 'date', 'regexp', 'buffer', 'map', 'set', 'generator', 'boxedString').map((k) => new Marker(`odd:${k}`)) },
  ),
})).value;

function oddObject(kind) {
  switch (kind) {
    case 'fn':
      return () => 'nobody';
    case 'date':
      return new Date(0);
    case 'regexp':
      return /cap_chown/;
    case 'buffer':
      return Buffer.from('cap_chown');
    case 'map':
      return new Map([['user', 'nobody']]);
    case 'set':
      return new Set(['cap_chown']);
    case 'generator':
      return (function* () {
        yield 'cap_chown';
        yield 'cap_kill';
      })();
    case 'boxedString':
      return new String('cap_chown'); // eslint-disable-line no-new-wrappers
    default:
      throw new Error(kind);
  }
}

// ---- the oracle ----------------------------------------------------------------------------

/**
 * What an exception means. Returns a label ('coded:ERR_…', 'TypeError', 'propagated', …) or throws
 * a FuzzFailure describing why this exception is not allowed.
 */
function classify(e, { allowTypeErrors = true, extra = [] } = {}) {
  if (e instanceof FuzzSentinel) return 'propagated';
  if (e instanceof PrivdropError) {
    if (!KNOWN_CODES.has(e.code)) throw new FuzzFailure(`PrivdropError with unknown code ${String(e.code)}`, e);
    if (typeof e.message !== 'string' || e.message === '') throw new FuzzFailure('PrivdropError without a message', e);
    if (e.name !== 'PrivdropError') throw new FuzzFailure(`PrivdropError named ${e.name}`, e);
    return `coded:${e.code}`;
  }
  for (const cls of extra) if (e instanceof cls) return cls.name;
  if ((e instanceof TypeError || e instanceof RangeError) && allowTypeErrors) {
    // The engine's own RangeError for a blown stack is a crash in disguise, not a range check.
    if (/Maximum call stack size exceeded|Invalid string length|Array buffer allocation failed/.test(e.message)) {
      throw new FuzzFailure(`engine error instead of a coded one: ${e.name}: ${e.message}`, e);
    }
    return /is not a function|Cannot read propert|Cannot convert|is not iterable|Cannot use 'in' operator/.test(e.message) ? `${e.name}(engine)` : e.name;
  }
  throw new FuzzFailure(`not an allowed error: ${e && e.name}: ${e && e.message}`, e);
}

class FuzzFailure extends Error {
  constructor(message, cause) {
    super(message);
    this.name = 'FuzzFailure';
    this.causeError = cause;
  }
}

function check(cond, message) {
  if (!cond) throw new FuzzFailure(message);
}

/** Runs fn; returns 'ok' or the label of its allowed exception; FuzzFailure otherwise. */
function outcome(fn, opts) {
  try {
    fn();
    return 'ok';
  } catch (e) {
    if (e instanceof FuzzFailure) throw e;
    return classify(e, opts);
  }
}

const sameError = (a, b) => a === b || (a && b && a.constructor === b.constructor && a.code === b.code && a.message === b.message);

// ---- targets -------------------------------------------------------------------------------

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

// Names: known names in every case, numbers past cap_max_bits, and anything else.
const nameArg = fc.oneof({ weight: 6, arbitrary: anyCaseName }, { weight: 2, arbitrary: capNumber }, { weight: 3, arbitrary: anyString }, { weight: 1, arbitrary: anyValue });
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

// dropPrivileges() options: right keys with right and wrong values, wrong keys, odd objects.
const idArg = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom(0, 1, 33, 65534, 'nobody', 'root', 'www-data', 'daemon', 'nogroup', '65534', '0', '33', '4294967294', '4294967295', '4294967296', -1, 2 ** 32, 2 ** 32 - 1, 2 ** 32 - 2, NaN, Infinity, 1.5, -0) },
  { weight: 2, arbitrary: fc.integer({ min: -2, max: 70000 }) },
  { weight: 2, arbitrary: anyString },
  { weight: 2, arbitrary: anyValue },
);
const optionValues = {
  user: idArg,
  group: idArg,
  supplementaryGroups: fc.oneof(fc.constantFrom('init', 'clear', 'INIT', '', []), fc.array(idArg, { maxLength: 4 }), anyValue),
  capabilities: fc.oneof(capText, fc.array(nameArg, { maxLength: 4 }), capSetValue, fc.constantFrom('', '=', 'cap_net_bind_service+ep', 'cap_net_bind_service+e', 'all=ep', '41+ep', '63=ep'), anyValue),
  chroot: fc.oneof(fc.constantFrom('/', '/tmp', '/nonexistent', 'relative', '/a\0b', '', '/proc', '/etc/passwd'), anyString, anyValue),
  boundingSet: fc.oneof(fc.constantFrom('retained', 'unchanged', 'RETAINED', '', 'all'), anyValue),
  ambient: fc.oneof(fc.boolean(), anyValue),
  noNewPrivileges: fc.oneof(fc.boolean(), anyValue),
  lockSecurebits: fc.oneof(fc.boolean(), anyValue),
};
// Mostly right, so validation gets past the first check: a known user and sane values, one wrong.
const saneOptions = fc
  .record({
    user: fc.constantFrom('nobody', 65534, '65534', 'daemon', 1, 'www-data'),
    group: fc.constantFrom(undefined, 'nogroup', 65534, '0', 0),
    supplementaryGroups: fc.constantFrom(undefined, 'init', 'clear', [], ['nogroup', 4], ['65534']),
    capabilities: fc.oneof(fc.constantFrom(undefined, 'cap_net_bind_service+ep', '=', 'cap_chown,cap_kill=ep cap_kill-e'), fc.array(anyCaseName, { maxLength: 3 }), capSetValue),
    ambient: fc.constantFrom(undefined, true, false),
    boundingSet: fc.constantFrom(undefined, 'retained', 'unchanged'),
  }, { requiredKeys: ['user'] })
  .chain((o) => fc.tuple(fc.constant(o), fc.constantFrom(...OPTION_KEYS, 'none'), fc.oneof(idArg, anyValue)))
  .map(([o, key, wrong]) => ({ entries: key === 'none' ? o : { ...o, [key]: wrong }, extras: [], style: 'plain' }));
const extraKey = fc.oneof(fc.constantFrom('__proto__', 'constructor', 'prototype', 'capabilites', 'User', 'toString', 'hasOwnProperty'), fc.string({ maxLength: 12 }));
const optionsArg = fc
  .record({
    entries: fc.record(optionValues, { requiredKeys: [] }),
    extras: fc.array(fc.tuple(extraKey, anyValue), { maxLength: 2 }),
    style: fc.constantFrom('plain', 'plain', 'plain', 'nullProto', 'frozen', 'json', 'inheritedUser', 'getterThrows', 'proxy'),
  });

// Own properties are defined, not assigned, so '__proto__' becomes an own key as JSON.parse makes it.
function buildOptions(entries, extras, style) {
  const base = style === 'nullProto' ? Object.create(null) : style === 'inheritedUser' ? Object.create({ user: 'nobody', capabilities: 'cap_chown+ep' }) : {};
  for (const [k, v] of [...Object.entries(entries), ...extras]) Object.defineProperty(base, k, { value: v, enumerable: true, writable: true, configurable: true });
  let options = base;
  let plain = style !== 'getterThrows' && style !== 'proxy' && isPlainData(entries) && extras.every(([, v]) => isPlainData(v));
  if (style === 'frozen') Object.freeze(base);
  if (style === 'json') {
    try {
      options = JSON.parse(JSON.stringify(base, (_k, v) => (typeof v === 'bigint' ? String(v) : v)) ?? 'null');
    } catch (e) {
      options = base; // a throwing toJSON or a revoked proxy: keep the object as it was
      plain = false;
    }
  }
  if (style === 'getterThrows') {
    Object.defineProperty(base, 'capabilities', { enumerable: true, configurable: true, get: () => { throw new FuzzSentinel('options getter'); } });
  }
  if (style === 'proxy') options = new Proxy(base, { ownKeys: (t) => [...Reflect.ownKeys(t), 'user'], getOwnPropertyDescriptor: (t, k) => Reflect.getOwnPropertyDescriptor(t, k) ?? (k === 'user' ? { value: 'nobody', enumerable: true, configurable: true } : undefined) });
  return { options, plain, style };
}

// Deterministic data: reading it twice gives the same answer (no getters, proxies, iterators).
function isPlainData(v, depth = 0) {
  try {
    return plainData(v, depth);
  } catch {
    return false; // a revoked or throwing proxy
  }
}

function plainData(v, depth) {
  if (v === null || typeof v !== 'object') return typeof v !== 'function';
  if (depth > 4 || v instanceof Map || v instanceof Set || util.types.isProxy(v)) return false;
  if (v instanceof CapabilitySet) return true;
  if (Array.isArray(v)) return v.every((x) => isPlainData(x, depth + 1));
  const proto = Object.getPrototypeOf(v);
  if (proto !== Object.prototype && proto !== null) return false;
  return Reflect.ownKeys(v).every((k) => {
    const d = Object.getOwnPropertyDescriptor(v, k);
    return 'value' in d && isPlainData(d.value, depth + 1);
  });
}

function checkResolved(r) {
  check(Number.isInteger(r.uid) && r.uid > 0 && r.uid <= MAX_ID, `resolved uid ${r.uid}`);
  check(Number.isInteger(r.gid) && r.gid >= 0 && r.gid <= MAX_ID, `resolved gid ${r.gid}`);
  check(Array.isArray(r.groups) && r.groups.every((g, i) => Number.isInteger(g) && g >= 0 && g <= MAX_ID && (i === 0 || r.groups[i - 1] < g)), 'resolved groups not sorted unique ids');
  check(r.capabilities instanceof CapabilitySet, 'resolved capabilities is not a CapabilitySet');
  const m = r.capabilities.masks;
  check((m.effective & ~m.permitted) === 0n, 'resolved effective not within permitted');
  check(typeof r.chroot === 'string' && (r.chroot === '' || r.chroot.startsWith('/')), 'resolved chroot');
  for (const k of ['trimBounding', 'ambient', 'noNewPrivileges', 'lockSecurebits']) check(typeof r[k] === 'boolean', `resolved ${k}`);
}

const dropOptions = {
  name: 'dropPrivileges options',
  share: 0.2,
  arbitrary: fc.oneof({ weight: 8, arbitrary: optionsArg }, { weight: 6, arbitrary: saneOptions }, { weight: 1, arbitrary: anyValue.map((value) => ({ value })) }),
  run(input) {
    const { options, plain } = 'value' in input ? { options: input.value, plain: isPlainData(input.value) } : buildOptions(input.entries, input.extras, input.style);
    let resolveError;
    let resolved;
    try {
      resolved = resolveDropOptions(options);
    } catch (e) {
      resolveError = e;
    }
    if (resolveError === undefined) {
      checkResolved(resolved);
      return 'ok';
    }
    const label = classify(resolveError);
    // Invalid options: dropPrivileges() must throw the same error before changing anything. Only
    // for deterministic data (a getter could answer differently the second time); the tripwire on
    // binding().drop makes even a wrong guess harmless.
    if (plain) {
      try {
        dropPrivileges(options);
      } catch (e) {
        if (e instanceof TripwireError) throw new FuzzFailure(`dropPrivileges() reached native ${e.message} with options resolveDropOptions() rejected`);
        check(sameError(e, resolveError), `dropPrivileges() threw ${e && e.name} ${e && e.code} "${e && e.message}", resolveDropOptions() threw ${resolveError.name} ${resolveError.code} "${resolveError.message}"`);
        return label;
      }
      throw new FuzzFailure('dropPrivileges() returned for options resolveDropOptions() rejected');
    }
    return label;
  },
};

// Config text: Security stanzas and JSON built from the grammar, then mangled; random text.
const stanzaKeys = ['user', 'group', 'capabilities', 'chroot', 'supplemental_groups', 'supplementary_groups', 'bounding_set', 'ambient', 'no_new_privs', 'lock_securebits'];
const stanzaKey = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom(...stanzaKeys).chain((k) => fc.constantFrom(k, k.toUpperCase(), k[0].toUpperCase() + k.slice(1))) },
  { weight: 1, arbitrary: fc.constantFrom('privileges', 'Privileges', '__proto__', 'constructor', 'prototype', 'toString', 'hasOwnProperty', 'User1', '_', 'security') },
  { weight: 1, arbitrary: fc.string({ maxLength: 10 }) },
);
// A value as written in a stanza: bare when it can be, else quoted with \" and \\ escaped.
const bareOrQuoted = (arb) => fc.tuple(arb, fc.boolean()).map(([s, q]) => (/^[^\s#"{}=]+$/.test(s) && !q ? s : `"${s.replace(/[\\"]/g, (c) => '\\' + c)}"`));
const stanzaValue = fc.oneof(
  fc.constantFrom('nobody', 'root', '65534', '0', '-1', '4294967294', '4294967295', '4294967296', 'true', 'false', 'yes', 'no', 'on', 'off', '1', '0', 'maybe', 'init', 'clear', 'retained', 'unchanged', '/', '/tmp', 'relative', '""', '"adm, 4 ,nogroup"', '"a b"', '"\\"', '"\\x"', 'a,b', 'cap_net_bind_service+ep', '"cap_net_bind_service+ep cap_foo+p"'),
  bareOrQuoted(capText),
  bareOrQuoted(anyString.map((s) => s.slice(0, 300))),
  anyString,
);
const lineEnd = fc.constantFrom('\n', '\r\n', ' # comment\n', '\t\n', '', ' }', '\n\n', '\0\n', ' x\n');
const stanzaText = fc
  .record({
    head: fc.constantFrom('Security {\n', 'security{', 'SECURITY {\n', '\ufeffSecurity {\n', '# c\nSecurity\n{\n', 'Security\n', 'Secure {', '{', ''),
    lines: fc.array(fc.tuple(fc.constantFrom('', '  ', '\t'), stanzaKey, fc.constantFrom(' = ', '=', ' == ', ' : ', ' '), stanzaValue, lineEnd), { maxLength: 8 }),
    tail: fc.constantFrom('}\n', '}', '', '} extra', '}}', '} # done\n', '\n}\n\n'),
  })
  .map(({ head, lines, tail }) => head + lines.map((l) => l.join('')).join('') + tail);

const jsonKey = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom(...OPTION_KEYS) },
  { weight: 1, arbitrary: fc.constantFrom('__proto__', 'constructor', 'prototype', 'privileges', 'Privileges', 'User', 'capabilites', 'toString') },
  { weight: 1, arbitrary: fc.string({ maxLength: 10 }) },
);
const jsonLeaf = fc.oneof(
  fc.constantFrom('nobody', 'root', 'init', 'clear', 'retained', 'unchanged', '/', '/tmp', 'relative', 'cap_net_bind_service+ep', 'cap_foo', '', true, false, null, 0, -0, -1, 1.5, 65534, 4294967294, 4294967295, 4294967296, 1e400, 2 ** 53),
  capText,
  anyString.map((s) => s.slice(0, 200)),
  fc.double(),
  fc.integer(),
);
const jsonValue = fc.letrec((tie) => ({
  v: fc.oneof({ weight: 5, arbitrary: jsonLeaf }, { weight: 1, arbitrary: fc.array(tie('v'), { maxLength: 4 }) }, { weight: 1, arbitrary: fc.dictionary(jsonKey, tie('v'), { maxKeys: 2 }) }),
})).v;
const jsonObjectText = fc
  .array(fc.tuple(jsonKey, jsonValue), { maxLength: 8 })
  .map((entries) => '{' + entries.map(([k, v]) => `${JSON.stringify(k)}: ${JSON.stringify(v) ?? 'null'}`).join(', ') + '}');
// Mangle valid-looking text: cut it, or splice in a character that often breaks parsers.
const mangled = (text) =>
  fc.tuple(text, fc.nat(), fc.constantFrom('', '"', '\\', '{', '}', '[', ']', ',', ':', '=', '#', '\n', '\0', '\ud800', '\u2028', '\ufeff', 'u', '\\u12', '\\ud800')).map(([t, at, ins]) => {
    const i = at % (t.length + 1);
    return t.slice(0, i) + ins + t.slice(i + (ins === '' ? 1 : 0));
  });
const deepJson = fc.tuple(fc.integer({ min: 1, max: 20000 }), fc.constantFrom('[', '{"user":', '{"capabilities":[', '["'), fc.boolean()).map(([n, open, closed]) => {
  const close = open === '[' ? ']' : open === '{"user":' ? '}' : open === '["' ? '"]' : ']}';
  return open.repeat(n) + (closed ? (open === '{"user":' ? '"nobody"' : '') + close.repeat(n) : '');
});
// Well-formed files whose values are right or wrong for their key: reaches the value checks.
const typedConfig = fc
  .tuple(fc.record({ user: idArg, group: idArg, supplementaryGroups: fc.oneof(fc.constantFrom('init', 'clear'), fc.array(idArg, { maxLength: 3 })), capabilities: fc.oneof(capText, fc.array(anyCaseName, { maxLength: 3 })), chroot: fc.constantFrom('/', '/tmp', 'relative'), boundingSet: fc.constantFrom('retained', 'unchanged', 'x'), ambient: fc.boolean(), noNewPrivileges: fc.boolean(), lockSecurebits: fc.boolean() }, { requiredKeys: [] }), fc.boolean())
  .map(([o, json]) => {
    const plain = (v) => (typeof v === 'number' || typeof v === 'string' || typeof v === 'boolean' || (Array.isArray(v) && v.every((x) => typeof x !== 'object' && typeof x !== 'symbol' && typeof x !== 'bigint')) ? v : typeof v === 'symbol' ? 'symbol' : typeof v === 'object' && v !== null ? 'obj' : String(v));
    if (json) return JSON.stringify(Object.fromEntries(Object.entries(o).map(([k, v]) => [k, plain(v)]))) ?? '{}';
    const stanza = { user: 'user', group: 'group', supplementaryGroups: 'supplemental_groups', capabilities: 'capabilities', chroot: 'chroot', boundingSet: 'bounding_set', ambient: 'ambient', noNewPrivileges: 'no_new_privs', lockSecurebits: 'lock_securebits' };
    const str = (x) => (typeof x === 'symbol' ? String(x.description) : typeof x === 'object' && x !== null ? 'obj' : String(x));
    const q = (v) => `"${(Array.isArray(v) ? v.map(str).join(',') : str(v)).replace(/[\\"\n]/g, (c) => (c === '\n' ? ' ' : '\\' + c))}"`;
    return 'Security {\n' + Object.entries(o).map(([k, v]) => `  ${stanza[k]} = ${q(v)}\n`).join('') + '}\n';
  });
const configTextArg = fc.oneof(
  { weight: 8, arbitrary: typedConfig },
  { weight: 5, arbitrary: stanzaText },
  { weight: 3, arbitrary: mangled(stanzaText) },
  { weight: 5, arbitrary: jsonObjectText },
  { weight: 3, arbitrary: mangled(jsonObjectText) },
  { weight: 1, arbitrary: fc.oneof({ weight: 9, arbitrary: jsonObjectText }, { weight: 1, arbitrary: deepJson }) },
  { weight: 3, arbitrary: anyString },
  { weight: 1, arbitrary: fc.constantFrom('a'.repeat(1 << 20), 'Security {\n' + 'user = nobody\n'.repeat(2) + '}', '\n'.repeat(100000) + 'Security { user = nobody }', '{"user":"' + 'a'.repeat(1 << 20) + '"}') },
);
const configPathArg = fc.oneof(
  { weight: 8, arbitrary: fc.constantFrom(undefined, '<config>', 'security.conf', 'x.json', 'X.JSON', '', '/etc/myapp/security.conf', '__proto__', 'a\0b.json', '\ud800.json') },
  { weight: 1, arbitrary: anyString },
  { weight: 1, arbitrary: anyValue },
);

function checkConfig(result, text) {
  check(result !== null && typeof result === 'object' && Object.getPrototypeOf(result) === Object.prototype, 'config result is not a plain object');
  for (const k of Reflect.ownKeys(result)) check(OPTION_KEYS.includes(k), `config result has key ${String(k)}`);
  // What the reader accepted must be well-typed options: resolving them gives a coded error, never a TypeError/RangeError.
  if (result.user !== undefined) {
    let label;
    try {
      checkResolved(resolveDropOptions(result));
      label = 'ok';
    } catch (e) {
      if (e instanceof FuzzFailure) throw e;
      label = classify(e);
      check(e instanceof PrivdropError, `config ${JSON.stringify(text.slice(0, 200))} was accepted as ${JSON.stringify(result)}, then resolveDropOptions() threw ${e.name}: ${e.message}`);
    }
    return label;
  }
  return 'ok';
}

const configParse = {
  name: 'parseSecurityConfig',
  share: 0.2,
  arbitrary: fc.oneof({ weight: 20, arbitrary: fc.tuple(configTextArg, configPathArg) }, { weight: 1, arbitrary: fc.tuple(anyValue, configPathArg) }),
  run([text, file]) {
    let result;
    try {
      result = file === undefined ? parseSecurityConfig(text) : parseSecurityConfig(text, file);
    } catch (e) {
      if (e instanceof FuzzFailure) throw e;
      const label = classify(e);
      if (typeof text === 'string' && (file === undefined || typeof file === 'string')) {
        check(e instanceof PrivdropError, `string config gave ${e.name}: ${e.message}`);
        check(e.code === ErrorCodes.INVALID_CONFIG, `config error coded ${e.code}`);
        check(Number.isInteger(e.line) && e.line >= 1 && Number.isInteger(e.column) && e.column >= 1, `config error without line/column: ${e.message}`);
        check(e.path === (file === undefined ? '<config>' : file) || (file === '' && e.path === undefined), `config error path ${e.path}`);
      }
      return label;
    }
    return 'accepted+' + checkConfig(result, typeof text === 'string' ? text : '');
  },
};

// Command lines. exec is only ever run with --dry-run as its first option.
const cliOption = fc.constantFrom(
  '--user', '--group', '--groups', '--caps', '--ambient', '--no-ambient', '--bounding-set', '--chroot', '--no-new-privs', '--lock-securebits',
  '--keep-fd', '--config', '--dry-run', '--help', '-h', '--json', '--', '-', '-V', '--version', '--__proto__', '--constructor', '--toString',
  '--user=', '--user=nobody', '--caps=cap_net_bind_service', '--groups=adm,4', '--keep-fd=3', '--keep-fd=99999', '--=x', '---', '-x', '-hh',
);
const cliValue = fc.oneof(
  fc.constantFrom('nobody', 'root', '65534', '0', '-1', '4294967295', '4294967296', 'init', 'clear', '', 'adm,4,nogroup', 'retained', 'unchanged',
    'cap_net_bind_service', 'cap_net_bind_service+ep', 'cap_chown,cap_kill', 'cap_foo', '41', '63=ep', 'true', '/bin/true', 'sh', 'node', 'nonexistent-command',
    '/etc/passwd', '/', '/nonexistent', '/tmp', '/dev/null', '/dev/zero', '/dev/urandom', '/proc/self/status', '/proc/self/task', 'relative/path', '1', '2', '3',
    '99999', path.join(FIXTURES, 'cli-security.conf'), path.join(FIXTURES, 'cli-security.json'), path.join(FIXTURES, 'fuzz-proto.json'),
    path.join(FIXTURES, 'fuzz-deep.json'), path.join(FIXTURES, 'fuzz-stanza.conf'), String(process.pid), '1', '2147483647', '2147483648'),
  capText,
  anyString.map((s) => s.slice(0, 300)),
);
const cliWord = fc.oneof({ weight: 3, arbitrary: cliOption }, { weight: 4, arbitrary: cliValue });
const cliCommand = fc.constantFrom('exec', 'show', 'parse', 'help', '-h', '--help', '-V', '--version', 'Exec', 'bogus', '', '--', '-x', undefined);
const execOption = fc.oneof(
  fc.tuple(fc.constantFrom('--user', '--group'), fc.oneof(fc.constantFrom('nobody', '65534', 'daemon', 'nogroup', 'root', '0', '4294967295', '-1'), cliValue)),
  fc.tuple(fc.constant('--groups'), fc.oneof(fc.constantFrom('init', 'clear', '', 'nogroup,4', ' , '), cliValue)),
  fc.tuple(fc.constant('--caps'), fc.oneof(capText, fc.array(anyCaseName, { maxLength: 3 }).map((a) => a.join(',')))),
  fc.tuple(fc.constant('--bounding-set'), fc.constantFrom('retained', 'unchanged', 'RETAINED', '')),
  fc.tuple(fc.constant('--chroot'), fc.constantFrom('/', '/tmp', '/nonexistent', 'relative', '/etc/passwd')),
  fc.tuple(fc.constant('--keep-fd'), fc.constantFrom('0', '1', '2', '3', '99999', '-1', '2147483648', 'x', '')),
  fc.tuple(fc.constant('--config'), fc.constantFrom(path.join(FIXTURES, 'fuzz-stanza.conf'), path.join(FIXTURES, 'fuzz-proto.json'), path.join(FIXTURES, 'fuzz-deep.json'), path.join(FIXTURES, 'cli-security.json'), '/dev/zero', '/dev/null', '/etc', '/nonexistent')),
  fc.constantFrom(['--ambient'], ['--no-ambient'], ['--no-new-privs'], ['--lock-securebits'], ['--help']),
);
const execArgv = fc
  .tuple(fc.array(execOption, { maxLength: 6 }), fc.boolean(), fc.array(fc.oneof(fc.constantFrom('true', '/bin/true', 'sh', 'node', '/etc/passwd', '/', 'nonexistent-command', '', './x', '-c'), cliValue), { minLength: 0, maxLength: 3 }))
  .map(([opts, dashdash, cmd]) => ['exec', '--dry-run', '--user', 'nobody', ...opts.flat(), ...(dashdash ? ['--'] : []), ...cmd]);
const argvArg0 = fc.tuple(cliCommand, fc.array(cliWord, { maxLength: 10 })).map(([cmd, words]) => {
  if (cmd === undefined) return [];
  return cmd === 'exec' ? ['exec', '--dry-run', ...words] : [cmd, ...words];
});
const argvArg = fc.oneof(argvArg0, execArgv);

const EXIT_STATUSES = new Set([0, 1, 2, 125, 126, 127]);

const cliRun = {
  name: 'cli run (exec --dry-run, show, parse)',
  share: 0.05,
  arbitrary: argvArg,
  run(argv) {
    check(argv[0] !== 'exec' || argv[1] === '--dry-run', 'fuzzer bug: exec without --dry-run');
    let out = '';
    let err = '';
    let status;
    try {
      status = runCli(argv, (s) => (out += s), (s) => (err += s));
    } catch (e) {
      if (e instanceof TripwireError) throw new FuzzFailure(`privdrop ${argv.join(' ')} reached native ${e.message}`);
      throw new FuzzFailure(`run() threw ${e && e.name}: ${e && e.message}`);
    }
    check(EXIT_STATUSES.has(status), `exit status ${status}`);
    check(typeof out === 'string' && typeof err === 'string', 'output is not text');
    if (status !== 0) check(/^privdrop( exec| show| parse)?: |^Usage: privdrop/.test(err), `exit ${status} without a "privdrop:" message: ${JSON.stringify(err.slice(0, 200))}`);
    check(!/\n\s+at /.test(err), `stack trace on stderr: ${err.slice(0, 300)}`);
    // The same command, the error seen directly: a usage error or a coded one, never a TypeError (args are strings).
    const [cmd, ...rest] = argv;
    let direct = 'ok';
    const noop = () => {};
    try {
      if (cmd === 'exec') runExec(rest, noop);
      else if (cmd === 'show') runShow(rest, noop);
      else return `exit${status}`;
    } catch (e) {
      if (e instanceof TripwireError) throw new FuzzFailure(`privdrop ${argv.join(' ')} reached native ${e.message}`);
      direct = classify(e, { allowTypeErrors: false, extra: [UsageError] });
      check((e instanceof UsageError) === (status === 2), `exit ${status} for ${e.name}`);
    }
    return `exit${status}:${direct}`;
  },
};

const SPECS = {
  user: { value: true },
  caps: { value: true },
  'keep-fd': { value: true, repeat: true },
  'dry-run': { value: false },
  json: { value: false },
  help: { value: false },
};
const cliArgs = {
  name: 'cli parseArgs',
  share: 0.05,
  arbitrary: fc.tuple(fc.array(fc.oneof(cliWord, fc.constantFrom('--keep-fd', '--json', '--dry-run', '-h', '--user=a=b', '--caps')), { maxLength: 12 }), fc.boolean()),
  run([args, stopAtPositional]) {
    let parsed;
    const label = outcome(() => (parsed = parseArgs('fuzz', args, SPECS, { short: { h: 'help' }, stopAtPositional })), { allowTypeErrors: false, extra: [UsageError] });
    if (label === 'ok') {
      check(parsed.options instanceof Map, 'options is not a Map');
      for (const k of parsed.options.keys()) check(Object.prototype.hasOwnProperty.call(SPECS, k), `unknown option ${k} accepted`);
      for (const [k, v] of parsed.options) check(SPECS[k].repeat || v.length === 1, `--${k} kept twice`);
      const consumed = parsed.positional.length + parsed.rest.length;
      check(consumed <= args.length, 'more arguments out than in');
      check(parsed.rest.every((r, i) => r === args[args.length - parsed.rest.length + i]), 'rest is not the tail of args');
    }
    return label;
  },
};

const TARGETS = [capsParse, capsMethods, dropOptions, configParse, cliArgs, cliRun];

// ---- guards: tripwires, prototype pollution, process state ---------------------------------

class TripwireError extends Error {}

/** Replaces the native entry points that change the process; returns a function that restores them. */
function installTripwires() {
  const native = binding();
  const saved = {};
  for (const name of ['drop', 'exec', 'capSetProc']) {
    saved[name] = native[name];
    native[name] = () => {
      tripped.push(name);
      throw new TripwireError(name);
    };
  }
  return () => Object.assign(native, saved);
}
const tripped = [];

const PROTOTYPES = { Object: Object.prototype, Array: Array.prototype, Function: Function.prototype, String: String.prototype, Map: Map.prototype };

function prototypeSnapshot() {
  const out = {};
  for (const [n, p] of Object.entries(PROTOTYPES)) {
    out[n] = Reflect.ownKeys(p)
      .map((k) => {
        const d = Object.getOwnPropertyDescriptor(p, k);
        return `${String(k)}:${typeof d.value}:${d.get ? 'get' : ''}${d.set ? 'set' : ''}`;
      })
      .sort()
      .join(',');
  }
  out.plain = JSON.stringify(Object.keys({})) + String({}.user) + String({}.capabilities) + String([].user);
  return JSON.stringify(out);
}

/** What must not change: every thread's credentials, securebits, the working directory, our identity. */
function stateSnapshot() {
  const s = processState();
  const perThread = [...new Set(s.threads.map((t) => JSON.stringify({ uid: t.uid, gid: t.gid, groups: t.groups, caps: Object.fromEntries(Object.entries(t.capabilities).map(([k, v]) => [k, v.mask.toString(16)])), noNewPrivs: t.noNewPrivs, seccomp: t.seccomp })))].sort();
  return JSON.stringify({
    perThread,
    consistent: s.consistent,
    securebits: s.securebits.value,
    current: CapabilitySet.current().toString(),
    ids: [process.getuid(), process.geteuid(), process.getgid(), process.getegid(), process.getgroups().sort((a, b) => a - b)],
    cwd: process.cwd(),
  });
}

// ---- running -------------------------------------------------------------------------------

function describeInput(v) {
  try {
    const s = fc.stringify(v);
    return s.length > 400 ? `${s.slice(0, 400)}... (${s.length} chars)` : s;
  } catch {
    return '<unprintable>';
  }
}

/**
 * Runs `cases` cases of one target with fast-check (in chunks, so state is checked between them).
 * Never stops at the first failure: every failure is counted, the first few are kept.
 */
function runTarget(target, { cases, seed, chunk = 10000, progress, heartbeat, maxKept = 10 }) {
  const result = { name: target.name, cases: 0, failures: 0, examples: [], outcomes: {}, slowest: { ms: 0, input: '' }, ms: 0 };
  const protoBefore = prototypeSnapshot();
  const t0 = process.hrtime.bigint();
  for (let done = 0, part = 0; done < cases; part++) {
    const numRuns = Math.min(chunk, cases - done);
    const out = fc.check(
      fc.property(target.arbitrary, (input) => {
        const c0 = process.hrtime.bigint();
        let label;
        try {
          label = target.run(materialize(input));
        } catch (e) {
          label = 'FAILURE';
          result.failures++;
          if (result.examples.length < maxKept) {
            result.examples.push({ reason: e instanceof FuzzFailure ? e.message : `harness: ${e && e.stack}`, input: describeInput(input), seed: seed + part });
          }
        }
        const ms = Number(process.hrtime.bigint() - c0) / 1e6;
        if (ms > result.slowest.ms) result.slowest = { ms, input: describeInput(input) };
        result.outcomes[label] = (result.outcomes[label] ?? 0) + 1;
        result.cases++;
        if (heartbeat) heartbeat();
        if (prototypeChanged(protoBefore)) {
          result.failures++;
          result.examples.push({ reason: 'prototype polluted', input: describeInput(input), seed: seed + part });
          restorePrototypes();
        }
        return true;
      }),
      { numRuns, seed: seed + part },
    );
    if (out.failed) throw new Error(`fast-check itself failed: ${out.errorInstance?.stack ?? 'unknown'}`);
    done += numRuns;
    if (progress) progress(target, done, cases);
  }
  result.ms = Number(process.hrtime.bigint() - t0) / 1e6;
  return result;
}

let protoCount = Reflect.ownKeys(Object.prototype).length;
let arrayProtoCount = Reflect.ownKeys(Array.prototype).length;
function prototypeChanged() {
  return Reflect.ownKeys(Object.prototype).length !== protoCount || Reflect.ownKeys(Array.prototype).length !== arrayProtoCount || {}.user !== undefined || {}.capabilities !== undefined;
}
function restorePrototypes() {
  protoCount = Reflect.ownKeys(Object.prototype).length;
  arrayProtoCount = Reflect.ownKeys(Array.prototype).length;
}

/**
 * Runs every target (or those named), splitting `total` by each target's share. Returns per-target
 * results plus the checks around them. Used by this script and test/fuzz.test.ts.
 */
function runAll({ total, seed, only, progress, heartbeat, onTarget }) {
  const restore = installTripwires();
  const stateBefore = stateSnapshot();
  const protoBefore = prototypeSnapshot();
  const results = [];
  const problems = [];
  try {
    const targets = only ? TARGETS.filter((t) => only.includes(t.name) || only.some((o) => t.name.startsWith(o))) : TARGETS;
    const shares = targets.reduce((a, t) => a + t.share, 0);
    targets.forEach((target, i) => {
      if (onTarget) onTarget(i, target);
      const cases = Math.max(1, Math.round((total * target.share) / shares));
      const r = runTarget(target, { cases, seed: seed + i * 1000003, progress, heartbeat });
      const stateAfter = stateSnapshot();
      r.stateChanged = stateAfter !== stateBefore;
      if (r.stateChanged) problems.push(`${target.name}: process state changed:\n  before ${stateBefore}\n  after  ${stateAfter}`);
      results.push(r);
    });
  } finally {
    restore();
  }
  if (tripped.length) problems.push(`native tripwires reached: ${tripped.join(', ')}`);
  if (prototypeSnapshot() !== protoBefore) problems.push('a built-in prototype changed');
  const stateAfter = stateSnapshot();
  if (stateAfter !== stateBefore) problems.push(`process state changed over the run:\n  before ${stateBefore}\n  after  ${stateAfter}`);
  const cases = results.reduce((a, r) => a + r.cases, 0);
  const failures = results.reduce((a, r) => a + r.failures, 0) + problems.length;
  return { results, problems, cases, failures, state: stateBefore };
}

module.exports = { runAll, runTarget, TARGETS, materialize, FuzzSentinel, classify, stateSnapshot, prototypeSnapshot, installTripwires, hostile };

// ---- command line --------------------------------------------------------------------------

function startWatchdog(hangSeconds, seed) {
  const { Worker } = require('worker_threads');
  const shared = new Int32Array(new SharedArrayBuffer(12)); // [beats, target index, stop]
  const code = `
    const { workerData: { shared, hangMs, names, seed } } = require('worker_threads');
    const fs = require('fs');
    let last = -1, since = Date.now();
    for (;;) {
      Atomics.wait(shared, 2, 0, 500);
      if (Atomics.load(shared, 2)) break;
      const beats = Atomics.load(shared, 0);
      if (beats !== last) { last = beats; since = Date.now(); continue; }
      if (Date.now() - since > hangMs) {
        fs.writeSync(2, '\\nfuzz: HANG: target "' + names[Atomics.load(shared, 1)] + '" made no progress for ' + hangMs / 1000 + ' s after case ' + beats + ' of this run (seed ' + seed + '); killing the process\\n');
        process.kill(process.pid, 'SIGKILL');
      }
    }`;
  const worker = new Worker(code, { eval: true, workerData: { shared, hangMs: hangSeconds * 1000, names: TARGETS.map((t) => t.name), seed } });
  worker.unref();
  return {
    beat: () => Atomics.add(shared, 0, 1),
    target: (i) => Atomics.store(shared, 1, TARGETS.indexOf(i)),
    stop: () => {
      Atomics.store(shared, 2, 1);
      Atomics.notify(shared, 2);
    },
  };
}

function main(argv) {
  const opts = { cases: 1000000, seed: 20261126, hangSeconds: 30, only: undefined };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const next = () => {
      if (i + 1 >= argv.length) throw new Error(`${a} needs a value`);
      return argv[++i];
    };
    if (a === '--cases') opts.cases = Number(next());
    else if (a === '--seed') opts.seed = Number(next());
    else if (a === '--target') opts.only = [...(opts.only ?? []), next()];
    else if (a === '--hang-seconds') opts.hangSeconds = Number(next());
    else if (a === '-h' || a === '--help') {
      process.stdout.write('Usage: node evidence/fuzz.js [--cases N] [--seed S] [--target NAME]... [--hang-seconds T]\n');
      return 0;
    } else throw new Error(`unknown argument ${a}`);
  }
  if (!Number.isInteger(opts.cases) || opts.cases < 1 || !Number.isInteger(opts.seed)) throw new Error('--cases and --seed take integers');

  const watchdog = startWatchdog(opts.hangSeconds, opts.seed);
  const t0 = Date.now();
  let lastPrint = 0;
  process.stdout.write(`privdrop fuzz: ${opts.cases} cases, seed ${opts.seed}, hang limit ${opts.hangSeconds} s per case, uid ${process.getuid()}\n`);
  const summary = runAll({
    total: opts.cases,
    seed: opts.seed,
    only: opts.only,
    heartbeat: watchdog.beat,
    onTarget: (_i, t) => watchdog.target(t),
    progress: (target, done, cases) => {
      if (Date.now() - lastPrint > 5000 || done === cases) {
        lastPrint = Date.now();
        process.stderr.write(`  ${target.name}: ${done}/${cases} (${((Date.now() - t0) / 1000).toFixed(0)} s)\n`);
      }
    },
  });
  watchdog.stop();
  const seconds = (Date.now() - t0) / 1000;

  const w = Math.max(...summary.results.map((r) => r.name.length));
  process.stdout.write('\n' + `${'target'.padEnd(w)}  ${'cases'.padStart(9)}  ${'failures'.padStart(8)}  ${'seconds'.padStart(8)}  ${'slowest ms'.padStart(10)}  state\n`);
  for (const r of summary.results) {
    process.stdout.write(`${r.name.padEnd(w)}  ${String(r.cases).padStart(9)}  ${String(r.failures).padStart(8)}  ${(r.ms / 1000).toFixed(1).padStart(8)}  ${r.slowest.ms.toFixed(1).padStart(10)}  ${r.stateChanged ? 'CHANGED' : 'unchanged'}\n`);
  }
  process.stdout.write(`${'total'.padEnd(w)}  ${String(summary.cases).padStart(9)}  ${String(summary.failures).padStart(8)}  ${seconds.toFixed(1).padStart(8)}\n\n`);
  for (const r of summary.results) {
    const top = Object.entries(r.outcomes).sort((a, b) => b[1] - a[1]).map(([k, v]) => `${k} ${v}`).join(', ');
    process.stdout.write(`${r.name}: ${top}\n`);
  }
  for (const r of summary.results) {
    for (const ex of r.examples) process.stdout.write(`\nFAILURE in ${r.name} (chunk seed ${ex.seed}): ${ex.reason}\n  input: ${ex.input}\n`);
  }
  for (const p of summary.problems) process.stdout.write(`\nFAILURE: ${p}\n`);
  process.stdout.write(`\n${summary.cases} cases, ${summary.failures} failures, 0 crashes, 0 hangs (this process is still alive), process state ${summary.problems.some((p) => /state/.test(p)) ? 'CHANGED' : 'unchanged'}, ${seconds.toFixed(1)} s\n`);
  return summary.failures === 0 ? 0 : 1;
}

if (require.main === module) {
  try {
    process.exitCode = main(process.argv.slice(2));
  } catch (e) {
    process.stderr.write(`fuzz: ${e && e.stack}\n`);
    process.exitCode = 2;
  }
}
