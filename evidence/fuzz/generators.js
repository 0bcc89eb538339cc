'use strict';
// Inputs: hostile objects (made fresh for each case from markers), strings and numbers that break
// parsers, capability text built from libcap's grammar, and any JavaScript value.
const fc = require('fast-check');
const { privdrop, MAX_CAPABILITY_TEXT_LENGTH } = require('./dist');

const { CapabilitySet, capabilityNames } = privdrop;

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

// Names: known names in every case, numbers past cap_max_bits, and anything else.
const nameArg = fc.oneof({ weight: 6, arbitrary: anyCaseName }, { weight: 2, arbitrary: capNumber }, { weight: 3, arbitrary: anyString }, { weight: 1, arbitrary: anyValue });

// A user or group: right and wrong ids and names.
const idArg = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom(0, 1, 33, 65534, 'nobody', 'root', 'www-data', 'daemon', 'nogroup', '65534', '0', '33', '4294967294', '4294967295', '4294967296', -1, 2 ** 32, 2 ** 32 - 1, 2 ** 32 - 2, NaN, Infinity, 1.5, -0) },
  { weight: 2, arbitrary: fc.integer({ min: -2, max: 70000 }) },
  { weight: 2, arbitrary: anyString },
  { weight: 2, arbitrary: anyValue },
);

// The rest of a whole Momentum configuration file (ecelerity.conf): settings, arrays, stanzas with
// quoted arguments, nested, and comments, all well formed. privdrop skips them.
const otherName = fc.constantFrom('Spool_Base', 'Debug_Flags', 'Control_Listener', 'ESMTP_Listener', 'Listen', 'Enable', 'Alerting', 'spf_macros',
  'Cluster', 'Keep_Message_Dicts_In_Memory', 'SecurityPolicy', 'security.x', 'Security-2', 'privileges', 'user', 'Capabilities', '_');
const otherScalar = fc.oneof(
  fc.constantFrom('true', '25', '":25"', '"/var/spool/ecelerity"', '"a \\" b"', '0.0.0.0:25', '"{ } [ ] # = ,"', '/tmp/2025', '"Security {"', '-1', 'a.b-c'),
  fc.string({ unit: fc.constantFrom('a', 'Z', '0', '_', '.', ':', '/', '-'), minLength: 1, maxLength: 8 }).filter((w) => !/^[#]/.test(w)),
);
const otherTree = fc.letrec((tie) => ({
  value: fc.oneof(
    { weight: 4, arbitrary: otherScalar },
    { weight: 1, arbitrary: fc.tuple(fc.array(fc.oneof(tie('value'), fc.tuple(otherName, tie('value')).map(([k, v]) => `${k} = ${v}`)), { maxLength: 3 }), fc.constantFrom(', ', ' ', '\n  ', ',\n')).map(([xs, sep]) => `[ ${xs.join(sep)} ]`) },
  ),
  item: fc.oneof(
    { weight: 4, arbitrary: fc.tuple(otherName, tie('value'), fc.constantFrom('', ' # note', ';')).map(([k, v, end]) => `${k} = ${v}${end}\n`) },
    { weight: 2, arbitrary: fc.tuple(otherName, fc.array(fc.constantFrom('":25"', '"/tmp/2025"', 'sieve1', '"a b"'), { maxLength: 2 }), fc.array(tie('item'), { maxLength: 3 }), fc.constantFrom(' ', '\n'))
      .map(([k, args, body, brace]) => `${[k, ...args].join(' ')}${brace}{\n${body.join('')}}\n`) },
    { weight: 1, arbitrary: fc.constantFrom('# a comment with { [ " and Security {\n', '\n', '  \t\n') },
  ),
})).item;
/** A whole configuration file: well-formed other items around one text (a Security stanza, or anything). */
const wholeConfigFile = (security) =>
  fc.tuple(fc.array(otherTree, { maxLength: 4 }), security, fc.array(otherTree, { maxLength: 4 })).map(([before, s, after]) => ({ before: before.join(''), security: s, after: after.join('') }));

module.exports = {
  otherTree, wholeConfigFile,
  FuzzSentinel, Marker, materialize, hostile, HOSTILE_KINDS, names, maxBits, anyCaseName, capNumber, capText, anyString, anyNumber, capSetValue,
  anyValue, nameArg, idArg,
};
