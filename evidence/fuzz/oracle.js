'use strict';
// What is allowed: every case works or throws the documented error (a PrivdropError with a known
// ERR_PRIVDROP_* code, or a TypeError/RangeError for a wrong type), never anything else. And the
// guards around the run: tripwires on the native calls that change the process, snapshots of the
// built-in prototypes and of the process's credentials.
const util = require('util');
const { privdrop, binding, MAX_ID } = require('./dist');
const { FuzzSentinel } = require('./generators');

const { CapabilitySet, PrivdropError, ErrorCodes, processState } = privdrop;
const KNOWN_CODES = new Set(Object.values(ErrorCodes));

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
  if ((isEngineError(e, TypeError) || isEngineError(e, RangeError)) && allowTypeErrors) {
    // The engine's own RangeError for a blown stack is a crash in disguise, not a range check.
    if (/Maximum call stack size exceeded|Invalid string length|Array buffer allocation failed/.test(e.message)) {
      throw new FuzzFailure(`engine error instead of a coded one: ${e.name}: ${e.message}`, e);
    }
    return /is not a function|Cannot read propert|Cannot convert|is not iterable|Cannot use 'in' operator/.test(e.message) ? `${e.name}(engine)` : e.name;
  }
  throw new FuzzFailure(`not an allowed error: ${e && e.name}: ${e && e.message}`, e);
}

/**
 * e is a `cls` (TypeError, RangeError) of this realm or of another one: a built-in such as
 * net.Server's instanceof throws the main realm's TypeError even when the fuzzer runs under jest.
 */
function isEngineError(e, cls) {
  return e instanceof cls || (util.types.isNativeError(e) && Object.getPrototypeOf(e)?.constructor?.name === cls.name && e.name === cls.name);
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

function checkResolved(r) {
  check(Number.isInteger(r.uid) && r.uid > 0 && r.uid <= MAX_ID, `resolved uid ${r.uid}`);
  check(Number.isInteger(r.gid) && r.gid >= 0 && r.gid <= MAX_ID, `resolved gid ${r.gid}`);
  check(Array.isArray(r.groups) && r.groups.every((g, i) => Number.isInteger(g) && g >= 0 && g <= MAX_ID && (i === 0 || r.groups[i - 1] < g)), 'resolved groups not sorted unique ids');
  check(r.capabilities instanceof CapabilitySet, 'resolved capabilities is not a CapabilitySet');
  const m = r.capabilities.masks;
  check((m.effective & ~m.permitted) === 0n, 'resolved effective not within permitted');
  check(typeof r.chroot === 'string' && (r.chroot === '' || r.chroot.startsWith('/')), 'resolved chroot');
  check(r.boundingSet === 'retained' || r.boundingSet === 'unchanged', `resolved boundingSet ${String(r.boundingSet)}`);
  for (const k of ['ambient', 'noNewPrivileges', 'lockSecurebits']) check(typeof r[k] === 'boolean', `resolved ${k}`);
}

// ---- guards: tripwires, prototype pollution, process state ---------------------------------

// Every export of native/binding.cc's Init(), in exactly one of these two lists (test/evidence/fuzz.test.ts
// compares them with binding.cc). A call that changes the process, or anything outside this
// JavaScript heap, is a tripwire while fuzzing; an export in neither list is tripwired too and
// reported (runAll), so a new native call cannot be forgotten.
const CHANGES_STATE = {
  drop: 'every thread\'s credentials',
  exec: 'replaces the process image',
  capSetProc: 'the calling thread\'s capabilities',
  setCapabilities: 'every thread\'s capabilities (a broadcast)',
  windowEnter: 'raises effective capabilities on the calling thread',
  windowLeave: 'lowers them again',
  bindTcp: 'opens and binds a socket (with whatever capabilities are effective)',
  probeBroadcast: 'installs a signal handler and signals every thread',
  glibcSetgroupsBroadcast: 'setgroups() on every thread',
  setErrorFactory: 'replaces the factory every native error is made by',
  openTerminal: 'opens a descriptor of the controlling terminal',
  releaseTerminal: 'gives the controlling terminal up (TIOCNOTTY)',
  closeTerminal: 'closes a descriptor',
};
const HARMLESS = {
  platform: 'reads', gettid: 'reads', isMainThread: 'reads', getSecurebits: 'reads', capMaxBits: 'reads',
  capName: 'converts', capFromText: 'converts', capToText: 'converts', capGetProc: 'reads', capGetPid: 'reads',
  lookupUser: 'reads the user database', lookupGroup: 'reads the group database', groupList: 'reads the group database',
  windows: 'reads the window registry', capGetFile: 'reads a file\'s capability attribute', faultInjection: 'a constant',
  searchAccess: 'opens a directory O_PATH, faccessat, closes it',
};

class TripwireError extends Error {
  constructor(name, args, expected) {
    super(name);
    this.name = 'TripwireError';
    this.args = args;
    this.expected = expected;
  }
}

/** The native object's exports that are in neither list. */
function unclassifiedExports(native = binding()) {
  return Object.keys(native).filter((k) => !(k in CHANGES_STATE) && !(k in HARMLESS)).sort();
}

let expected = new Set();

/**
 * Replaces every native entry point that changes the process (and every unclassified one) with a
 * tripwire; returns a function that restores them. Reaching a tripwire is a failure (recorded in
 * `tripped`) unless the target expects it (expectNative): then it throws a TripwireError carrying
 * the arguments, for the target to judge.
 */
function installTripwires() {
  const native = binding();
  const saved = {};
  for (const name of [...Object.keys(CHANGES_STATE), ...unclassifiedExports(native)]) {
    if (!(name in native)) continue;
    saved[name] = native[name];
    native[name] = (...args) => {
      if (!expected.has(name)) tripped.push(name);
      throw new TripwireError(name, args, expected.has(name));
    };
  }
  return () => Object.assign(native, saved);
}
const tripped = [];

/**
 * Runs fn with the tripwires `names` expected: reaching one of them throws a TripwireError with
 * `expected` set (the target must check that the input was valid and the arguments right) instead
 * of counting as a failure. Every other tripwire still fails. fn may return a promise.
 */
function expectNative(names, fn) {
  const before = expected;
  expected = new Set(names);
  let result;
  try {
    result = fn();
  } catch (e) {
    expected = before;
    throw e;
  }
  if (result && typeof result.then === 'function') {
    return Promise.resolve(result).finally(() => {
      expected = before;
    });
  }
  expected = before;
  return result;
}

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

module.exports = {
  classify, FuzzFailure, check, outcome, sameError, checkResolved, TripwireError, installTripwires, tripped, expectNative, unclassifiedExports,
  CHANGES_STATE, HARMLESS, prototypeSnapshot, stateSnapshot,
};
