'use strict';
// One real-drop case (see drop-case.js; evidence/realdrop.js runs many), run as its own process: reads the options (a JavaScript
// literal) from argv[2], records this process's credentials, calls dropPrivileges() for real,
// and prints one JSON line:
//   {"outcome":"dropped", ...}  then waits for a line on stdin, so the parent can read every
//                               /proc/<pid>/task/*/status from outside (a chroot has no /proc);
//   {"outcome":"rejected", ...} with the error and whether the process is exactly as before.
// Dying any other way (an abort, a crash) is what the parent counts as an abort.
const fs = require('fs');
const path = require('path');
const vm = require('vm');
const { Worker } = require('worker_threads');

const privdrop = require(path.join(__dirname, '..', '..', 'dist', 'index.js'));

// Loads what CapabilitySet.parse() loads lazily (dist/debug.js): after a chroot drop it could not
// be found, and this child parses the result's capabilities after the drop.
privdrop.CapabilitySet.parse('=');

const options = vm.runInNewContext(`(${process.argv[2]})`, Object.create(null), { timeout: 1000 });

function snapshot() {
  const s = privdrop.processState();
  const t = s.threads.map((x) => ({
    uid: x.uid,
    gid: x.gid,
    groups: x.groups,
    caps: Object.fromEntries(Object.entries(x.capabilities).map(([k, v]) => [k, v.mask.toString(16)])),
    noNewPrivs: x.noNewPrivs,
  }));
  let root = '';
  try {
    root = fs.readlinkSync('/proc/self/root');
  } catch (e) {
    root = String(e.code);
  }
  let tty = '';
  try {
    tty = fs.readFileSync('/proc/self/stat', 'utf8').split(') ')[1].split(' ')[4]; // tty_nr
  } catch (e) {
    tty = String(e.code);
  }
  // Threads come and go (the threadpool): compare the set of distinct states, not the count.
  const distinct = [...new Set(t.map((x) => JSON.stringify(x)))].sort();
  return { threads: distinct, securebits: s.securebits && s.securebits.value, cwd: process.cwd(), root, tty };
}

// A line can be 400 kB (65,536 groups): let the stream write it all (a pipe takes 64 kB at once).
const out = (v, then) => process.stdout.write(JSON.stringify(v, (k, x) => (typeof x === 'bigint' ? x.toString(16) : x)) + '\n', then);

// The process state the case asks for (evidence/realdrop.js idsArbitrary): effective ids other than the
// ones the wrapper left, set here because execve makes the saved ids equal to the effective ones.
try {
  if (process.env.PRIVDROP_REALDROP_EGID) process.setegid(Number(process.env.PRIVDROP_REALDROP_EGID));
  if (process.env.PRIVDROP_REALDROP_EUID) process.seteuid(Number(process.env.PRIVDROP_REALDROP_EUID));
} catch (e) {
  out({ outcome: 'setup-failed', message: String(e.message) }, () => process.exit(0));
  return;
}

// privdrop loads an export's module when it is first read, which a chroot would prevent later.
if (process.env.PRIVDROP_REALDROP_WINDOW) void privdrop.withCapabilities;

// A Worker and a busy threadpool, so the drop has threads to reach.
const worker = new Worker('setInterval(() => {}, 1000)', { eval: true });
worker.on('online', () => {
  fs.readFile(__filename, () => {});
  const before = snapshot();
  let result;
  try {
    result = privdrop.dropPrivileges(options);
  } catch (e) {
    const after = snapshot();
    const untouched = JSON.stringify(before) === JSON.stringify(after);
    out({
      outcome: 'rejected',
      seccomp: process.env.PRIVDROP_TEST_SECCOMP_INSTALLED === '1',
      name: e && e.name,
      code: e && e.code,
      message: String(e && e.message).slice(0, 300),
      untouched,
      before: untouched ? undefined : before,
      after: untouched ? undefined : after,
    }, () => process.exit(0));
    return;
  }
  // Checks that need no /proc (there may be none after a chroot).
  const expected = privdrop.CapabilitySet.parse(result.capabilities).masks;
  let setuid0 = 'not tried (cap_setuid kept)';
  if (!(expected.permitted & (1n << 7n))) {
    try {
      process.setuid(0);
      setuid0 = 'succeeded';
    } catch {
      setuid0 = 'refused';
    }
  }
  bornInWindow(privdrop.CapabilitySet.parse(result.capabilities)).then((windowError) => {
    out({
      outcome: 'dropped',
      seccomp: process.env.PRIVDROP_TEST_SECCOMP_INSTALLED === '1',
      pid: process.pid,
      result,
      uid: process.getuid(),
      gid: process.getgid(),
      setuid0,
      windowError,
      expected: { permitted: expected.permitted, effective: expected.effective, inheritable: expected.inheritable },
    }, () => {});
    process.stdin.once('data', () => process.exit(0));
    process.stdin.once('end', () => process.exit(0));
  });
});

// Workers started inside a withCapabilities() window on what was kept permitted only
// (evidence/realdrop.js windowArbitrary); resolves once they run (with an error text if the window threw).
function bornInWindow(set) {
  if (!process.env.PRIVDROP_REALDROP_WINDOW) return Promise.resolve(undefined);
  const spec = JSON.parse(process.env.PRIVDROP_REALDROP_WINDOW);
  const names = set.permitted.filter((n) => !set.effective.includes(n));
  const idle = 'setInterval(() => {}, 1000)';
  const body = spec.nested
    ? `const { Worker, parentPort } = require('worker_threads'); new Worker(${JSON.stringify(idle)}, { eval: true }).once('online', () => parentPort.postMessage('up')); ${idle}`
    : `require('worker_threads').parentPort.postMessage('up'); ${idle}`;
  try {
    const workers = privdrop.withCapabilities(names, () => Array.from({ length: spec.workers }, () => new Worker(body, { eval: true })));
    return Promise.all(workers.map((w) => new Promise((res) => w.once('message', res)))).then(() => undefined);
  } catch (e) {
    return Promise.resolve(`${e.code}: ${e.message}`);
  }
}
