'use strict';
// Run-time capabilities: setCapabilities(), withCapabilities() and listen() with right and wrong
// arguments. A wrong one must be a coded PrivdropError or a TypeError/RangeError, thrown before any
// native call that changes the process. A right one reaches exactly the expected native call (a
// tripwire here: nothing changes), and the target checks that its arguments say what the input
// said, by the fuzzer's own reading of the input.
const net = require('net');
const fc = require('fast-check');
const { privdrop } = require('../dist');
const { anyCaseName, capText, anyString, anyNumber, anyValue, capSetValue, nameArg } = require('../generators');
const { classify, FuzzFailure, check, TripwireError, expectNative } = require('../oracle');

const { CapabilitySet, setCapabilities, withCapabilities, listen } = privdrop;
const U64 = (1n << 64n) - 1n;

/** The set `value` means, or undefined when it is not a valid capabilities argument. */
function meantSet(value) {
  try {
    if (value instanceof CapabilitySet) return value;
    if (typeof value === 'string') return CapabilitySet.parse(value);
    if (Array.isArray(value) && value.every((n) => typeof n === 'string')) return CapabilitySet.from(value, 'ep');
  } catch {
    return undefined;
  }
  return undefined;
}

/** The mask of a list of names, or undefined when it is not one (a single name counts as a list of one). */
function meantNames(value) {
  return safely(() => namesMask(value), undefined);
}
function namesMask(value) {
  const list = typeof value === 'string' ? [value] : value;
  if (!Array.isArray(list) || !list.every((n) => typeof n === 'string')) return undefined;
  try {
    return CapabilitySet.from(list, 'effective').masks.effective;
  } catch {
    return undefined;
  }
}

/** fn(), or `fallback` when reading the input throws (a hostile proxy or getter: never valid input). */
function safely(fn, fallback) {
  try {
    return fn();
  } catch {
    return fallback;
  }
}

const isMask = (m) => typeof m === 'bigint' && m >= 0n && m <= U64;

/** Judges a TripwireError: it must be an expected call, for input the fuzzer reads as valid. */
function reached(e, name, valid, checkArgs) {
  if (!(e instanceof TripwireError)) return undefined;
  if (!e.expected) throw new FuzzFailure(`reached native ${e.message}, which this call must never reach`);
  check(e.message === name, `reached native ${e.message}, expected ${name}`);
  check(valid, `reached native ${name} with input the fuzzer reads as invalid`);
  checkArgs(...e.args);
  return `native:${name}`;
}

// ---- setCapabilities(capabilities, options) ------------------------------------------------

const ambientArg = fc.oneof(fc.array(nameArg, { maxLength: 3 }), fc.array(anyCaseName, { maxLength: 3 }), anyValue);
const setCapsOptions = fc.oneof(
  fc.constant(undefined),
  fc.record({ ambient: ambientArg }, { requiredKeys: [] }),
  fc.dictionary(fc.oneof(fc.constantFrom('ambient', 'Ambient', 'bounding', '__proto__'), fc.string({ maxLength: 8 })), anyValue, { maxKeys: 2 }),
  anyValue,
);
const capabilitiesArg = fc.oneof(
  { weight: 3, arbitrary: capText },
  { weight: 3, arbitrary: fc.array(nameArg, { maxLength: 4 }) },
  { weight: 2, arbitrary: capSetValue },
  { weight: 2, arbitrary: fc.constantFrom('', '=', 'cap_net_bind_service+ep', 'cap_net_bind_service+e', 'cap_net_bind_service+p', 'all=ep', '63=ep', undefined) },
  { weight: 2, arbitrary: anyValue },
);

// Any object is an options object (an array or a Map has no own keys to object to); its only key is ambient.
function meantAmbient(options) {
  return safely(() => ambientOf(options), { valid: false });
}
function ambientOf(options) {
  if (options === undefined) return { valid: true, ambient: undefined };
  if (options === null || typeof options !== 'object') return { valid: false };
  const keys = Object.keys(options);
  if (keys.some((k) => k !== 'ambient')) return { valid: false };
  if (options.ambient === undefined) return { valid: true, ambient: undefined };
  if (!Array.isArray(options.ambient)) return { valid: false };
  const ambient = meantNames(options.ambient);
  return { valid: ambient !== undefined, ambient };
}

const setCaps = {
  name: 'setCapabilities arguments',
  share: 0.06,
  arbitrary: fc.record({ capabilities: capabilitiesArg, options: setCapsOptions }),
  run({ capabilities, options }) {
    const set = meantSet(capabilities);
    const m = set?.masks;
    const amb = meantAmbient(options);
    const valid = m !== undefined && (m.effective & ~m.permitted) === 0n && amb.valid;
    try {
      expectNative(['setCapabilities'], () => (options === undefined ? setCapabilities(capabilities) : setCapabilities(capabilities, options)));
    } catch (e) {
      const label = reached(e, 'setCapabilities', valid, (plan) => {
        check(plan !== null && typeof plan === 'object', 'setCapabilities plan is not an object');
        for (const k of ['effective', 'permitted', 'inheritable']) check(isMask(plan[k]) && plan[k] === m[k], `setCapabilities plan.${k} ${String(plan[k])}, the input means ${m[k]}`);
        check((plan.effective & ~plan.permitted) === 0n, 'setCapabilities plan: effective not within permitted');
        check(plan.ambient === amb.ambient, `setCapabilities plan.ambient ${String(plan.ambient)}, the input means ${String(amb.ambient)}`);
      });
      return label ?? classify(e);
    }
    throw new FuzzFailure('setCapabilities() returned without reaching native code');
  },
};

// ---- withCapabilities(capabilities, fn) -----------------------------------------------------

const fnArg = fc.oneof(
  fc.constantFrom('plain', 'arrow', 'async', 'asyncArrow', 'asyncGenerator', 'returnsPromise', 'bound'),
  anyValue.map((value) => ({ value })),
);
function makeFn(kind) {
  const ran = { count: 0 };
  const fns = {
    plain: function () { ran.count++; return 1; }, // eslint-disable-line object-shorthand
    arrow: () => { ran.count++; return 2; },
    async: async function () { ran.count++; },
    asyncArrow: async () => { ran.count++; },
    asyncGenerator: async function* () { ran.count++; },
    returnsPromise: () => { ran.count++; return Promise.resolve(3); },
    bound: function () { ran.count++; }.bind(null),
  };
  return { fn: typeof kind === 'string' ? fns[kind] : kind.value, ran, syncKind: ['plain', 'arrow', 'returnsPromise', 'bound'].includes(kind) };
}

const withCaps = {
  name: 'withCapabilities arguments',
  share: 0.06,
  arbitrary: fc.record({ capabilities: fc.oneof(fc.array(nameArg, { maxLength: 4 }), nameArg, anyValue), fn: fnArg }),
  run({ capabilities, fn: kind }) {
    const { fn, ran, syncKind } = makeFn(kind);
    const mask = meantNames(capabilities);
    // A plain non-async function given in anyValue (the 'fn' odd object) is valid too.
    const isSyncFunction = syncKind || (typeof fn === 'function' && safely(() => !['AsyncFunction', 'AsyncGeneratorFunction'].includes(Object.getPrototypeOf(fn)?.constructor?.name), false));
    const valid = mask !== undefined && isSyncFunction;
    try {
      expectNative(['windowEnter'], () => withCapabilities(capabilities, fn));
    } catch (e) {
      check(ran.count === 0, 'withCapabilities() ran the function although the window was not opened');
      const label = reached(e, 'windowEnter', valid, (m) => check(isMask(m) && m === mask, `windowEnter(${String(m)}), the input means ${mask}`));
      return label ?? classify(e);
    }
    throw new FuzzFailure('withCapabilities() returned without opening a window');
  },
};

// ---- listen(server, options) ----------------------------------------------------------------

// Hosts that need no name lookup (a lookup would go to the network), plus wrong values: never an
// arbitrary string, which listen() would resolve.
const hostArg = fc.oneof(fc.constantFrom(undefined, '127.0.0.1', '::1', '0.0.0.0', '::', '', '\0', '127.0.0.1\0x'), anyNumber, fc.constantFrom(null, true, {}, []));
const portArg = fc.oneof(fc.constantFrom(0, 80, 443, 1023, 1024, 8080, 65535, 65536, -1, 1.5, NaN, Infinity, '80', 80n), fc.integer({ min: -10, max: 70000 }), anyValue);
const listenOptions = fc.oneof(
  { weight: 6, arbitrary: fc.record({
    port: portArg,
    host: hostArg,
    backlog: fc.oneof(fc.constantFrom(undefined, 0, 511, -1, 1.5, '511'), anyValue),
    ipv6Only: fc.oneof(fc.constantFrom(undefined, true, false, 'true', 0), anyValue),
    reusePort: fc.oneof(fc.constantFrom(undefined, true, false, 1), anyValue),
    capabilities: fc.oneof(fc.constant(undefined), fc.array(nameArg, { maxLength: 3 }), anyValue),
  }, { requiredKeys: ['port'] }) },
  // Mostly right, so validation gets past the first check: sane values, at most one wrong.
  { weight: 6, arbitrary: fc
    .record({
      port: fc.constantFrom(0, 80, 443, 8443, 65535),
      host: fc.oneof({ weight: 4, arbitrary: fc.constantFrom(undefined, '127.0.0.1', '::1', '0.0.0.0', '::') }, { weight: 1, arbitrary: hostArg }),
      backlog: fc.constantFrom(undefined, 0, 16, 511),
      ipv6Only: fc.constantFrom(undefined, true, false),
      reusePort: fc.constantFrom(undefined, true, false),
      capabilities: fc.oneof(fc.constant(undefined), fc.constant([]), fc.array(anyCaseName, { maxLength: 2 })),
    }, { requiredKeys: ['port'] })
    .chain((o) => fc.tuple(fc.constant(o), fc.constantFrom('port', 'backlog', 'ipv6Only', 'reusePort', 'capabilities', 'none', 'none'), anyValue))
    .map(([o, key, wrong]) => (key === 'none' ? o : { ...o, [key]: wrong })) },
  { weight: 1, arbitrary: fc.record({ port: portArg, extra: fc.constantFrom('hots', 'fd', 'path', 'signal', '__proto__') }).map(({ port, extra }) => Object.defineProperty({ port }, extra, { value: 1, enumerable: true })) },
  { weight: 1, arbitrary: anyValue },
);
const serverArg = fc.oneof({ weight: 4, arbitrary: fc.constant('server') }, { weight: 1, arbitrary: fc.constantFrom('ready', 'listening-like', 'app') }, { weight: 1, arbitrary: anyValue.map((value) => ({ value })) });

function makeServer(kind) {
  if (kind === 'server') return new net.Server();
  if (kind === 'ready') return { server: new net.Server(), ready: () => Promise.resolve() };
  if (kind === 'listening-like') return { listen: () => {} }; // an object with listen, not an app function
  if (kind === 'app') return Object.assign(() => {}, { listen: () => new net.Server() });
  return kind.value;
}

/** The fuzzer's reading of listen() options: valid or not, and what a bind request must say. */
function meantListen(options) {
  return safely(() => listenOf(options), { valid: false });
}
function listenOf(options) {
  if (options === null || typeof options !== 'object' || Array.isArray(options)) return { valid: false };
  const known = ['port', 'host', 'backlog', 'ipv6Only', 'reusePort', 'capabilities'];
  if (Object.keys(options).some((k) => !known.includes(k))) return { valid: false };
  const { port, host, backlog, ipv6Only, reusePort, capabilities } = options;
  const bool = (v) => v === undefined || typeof v === 'boolean';
  const valid =
    Number.isInteger(port) && port >= 0 && port <= 65535 &&
    (host === undefined || (typeof host === 'string' && net.isIP(host) !== 0)) &&
    (backlog === undefined || (Number.isInteger(backlog) && backlog >= 0)) &&
    bool(ipv6Only) && bool(reusePort) &&
    (capabilities === undefined || (Array.isArray(capabilities) && meantNames(capabilities) !== undefined));
  return { valid, port, host, ipv6Only: ipv6Only === true, reusePort: reusePort === true, mask: capabilities === undefined ? undefined : meantNames(capabilities) };
}

const listenArgs = {
  name: 'listen arguments',
  share: 0.04,
  async: true,
  arbitrary: fc.record({ server: serverArg, options: listenOptions }),
  async run({ server: kind, options }) {
    const server = makeServer(kind);
    const serverValid = typeof kind === 'string' && kind !== 'listening-like';
    const o = meantListen(options);
    const valid = serverValid && o.valid;
    try {
      await expectNative(['windowEnter', 'bindTcp'], () => listen(server, options));
    } catch (e) {
      if (e instanceof TripwireError && e.expected && e.message === 'windowEnter') {
        // Only with capabilities to raise: named ones, or cap_net_bind_service by default for a low port.
        return reached(e, 'windowEnter', valid, (m) => {
          check(isMask(m), `windowEnter(${String(m)})`);
          if (o.mask !== undefined) check(m === o.mask, `windowEnter(${m}), the capabilities option means ${o.mask}`);
          else check(m === CapabilitySet.from(['cap_net_bind_service'], 'effective').masks.effective, `windowEnter(${m}) without a capabilities option`);
        });
      }
      const label = reached(e, 'bindTcp', valid, (request) => {
        check(request !== null && typeof request === 'object', 'bindTcp request is not an object');
        check(typeof request.address === 'string' && net.isIP(request.address) !== 0, `bindTcp address ${String(request.address)}`);
        if (o.host !== undefined) check(request.address === o.host, `bindTcp address ${request.address}, host ${o.host}`);
        check(request.port === o.port, `bindTcp port ${request.port}, port ${o.port}`);
        check(request.ipv6Only === o.ipv6Only && request.reusePort === o.reusePort, 'bindTcp flags differ from the options');
        check(o.mask === undefined || o.mask === 0n, 'bindTcp reached without a window although capabilities were named');
      });
      return label ?? classify(e);
    } finally {
      if (safely(() => server instanceof net.Server && server.listening, false)) server.close();
    }
    throw new FuzzFailure('listen() resolved without reaching native code');
  },
};

module.exports = { setCaps, withCaps, listenArgs };
