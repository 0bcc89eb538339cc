'use strict';
// dropPrivileges() options: right keys with right and wrong values, wrong keys, odd objects. What
// resolveDropOptions() rejects, dropPrivileges() must reject the same way before reaching native code.
const util = require('util');
const fc = require('fast-check');
const { privdrop, OPTION_KEYS } = require('../dist');
const { FuzzSentinel, anyCaseName, capText, anyString, anyValue, capSetValue, nameArg, idArg } = require('../generators');
const { classify, FuzzFailure, check, sameError, checkResolved, TripwireError } = require('../oracle');

const { CapabilitySet, resolveDropOptions, dropPrivileges } = privdrop;

// dropPrivileges() options: right keys with right and wrong values, wrong keys, odd objects.
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
  keepTerminal: fc.oneof(fc.boolean(), anyValue),
  keepDebugSignals: fc.oneof(fc.boolean(), anyValue),
};
// One generator per option the fuzzer knows (test/evidence/fuzz.test.ts checks that list against the library's).
for (const k of OPTION_KEYS) if (!optionValues[k]) throw new Error(`fuzz: no value generator for option ${k}`);
// Mostly right, so validation gets past the first check: a known user and sane values, one wrong.
const saneOptions = fc
  .record({
    user: fc.constantFrom('nobody', 65534, '65534', 'daemon', 1, 'www-data'),
    group: fc.constantFrom(undefined, 'nogroup', 65534, '0', 0),
    supplementaryGroups: fc.constantFrom(undefined, 'init', 'clear', [], ['nogroup', 4], ['65534']),
    capabilities: fc.oneof(fc.constantFrom(undefined, 'cap_net_bind_service+ep', '=', 'cap_chown,cap_kill=ep cap_kill-e'), fc.array(anyCaseName, { maxLength: 3 }), capSetValue),
    ambient: fc.constantFrom(undefined, true, false),
    boundingSet: fc.constantFrom(undefined, 'retained', 'unchanged'),
    keepTerminal: fc.constantFrom(undefined, true, false),
    keepDebugSignals: fc.constantFrom(undefined, true, false),
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

module.exports = { dropOptions, optionValues };
