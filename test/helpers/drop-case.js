'use strict';
// One dropPrivileges() case run for real in its own child process (drop-child.js), optionally
// behind a wrapper (setpriv) and in a new user namespace, with every thread's credentials read
// from outside through /proc. Shared by the tests (test/drop/prechecks.test.ts) and the evidence
// (evidence/realdrop.js runs many generated cases). Plain CommonJS, so evidence/ can require it.
const { spawn } = require('child_process');
const fs = require('fs');
const os = require('os');
const path = require('path');
const { threadStatuses } = require('./proc-status');

const CHILD = path.join(__dirname, 'drop-child.js');
const UNSHARE = '/usr/bin/unshare';

// ---- running a command in a child process, optionally in a new user namespace ------------------

/**
 * Runs file+args (behind `wrapper`, e.g. a setpriv command line). With `userns`
 * ({ uidMap, gidMap, setgroups }), the command starts in a new user namespace whose maps this
 * process writes before the command is executed (so it starts as uid 0 of that namespace with
 * every capability in it). `onLine(line, child)` sees each stdout line as it arrives.
 * Resolves to { status, signal, stdout, stderr, timedOut, setupError }.
 */
function runChild(file, args, { wrapper = [], userns = null, timeoutMs = 20000, onLine, env } = {}) {
  return new Promise((resolve) => {
    const command = [...wrapper, file, ...args];
    const argv = userns
      ? [UNSHARE, ['-U', '--', '/bin/sh', '-c', 'echo privdrop-userns-ready; read go; exec "$@"', 'sh', ...command]]
      : [command[0], command.slice(1)];
    const child = spawn(argv[0], argv[1], { stdio: ['pipe', 'pipe', 'pipe'], env: env ?? process.env });
    let stdout = '';
    let stderr = '';
    let pending = '';
    let timedOut = false;
    let setupError;
    let ready = !userns;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, timeoutMs);
    child.stdout.setEncoding('utf8');
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (d) => {
      if (stderr.length < 65536) stderr += d;
    });
    child.stdout.on('data', (d) => {
      pending += d;
      let nl;
      while ((nl = pending.indexOf('\n')) >= 0) {
        const line = pending.slice(0, nl);
        pending = pending.slice(nl + 1);
        if (!ready && line === 'privdrop-userns-ready') {
          ready = true;
          try {
            fs.writeFileSync(`/proc/${child.pid}/setgroups`, userns.setgroups ?? 'allow');
            fs.writeFileSync(`/proc/${child.pid}/uid_map`, userns.uidMap);
            fs.writeFileSync(`/proc/${child.pid}/gid_map`, userns.gidMap);
            child.stdin.write('go\n');
          } catch (e) {
            setupError = `writing the user namespace maps: ${e.message}`;
            child.kill('SIGKILL');
          }
          continue;
        }
        if (stdout.length < 1 << 20) stdout += line + '\n';
        if (onLine) onLine(line, child);
      }
    });
    child.stdin.on('error', () => {});
    child.on('close', (status, signal) => {
      clearTimeout(timer);
      if (pending && stdout.length < 1 << 20) stdout += pending;
      resolve({ status, signal, stdout, stderr, timedOut, setupError });
    });
  });
}

/** The last line of `stdout` that parses as JSON, or undefined. */
function lastJson(stdout) {
  for (const line of stdout.trim().split('\n').reverse()) {
    try {
      return JSON.parse(line);
    } catch {
      /* not JSON */
    }
  }
  return undefined;
}

// ---- reading a process's threads from outside ----------------------------------------------

const FIELDS = ['Uid', 'Gid', 'Groups', 'CapInh', 'CapPrm', 'CapEff', 'CapBnd', 'CapAmb', 'NoNewPrivs'];

/** Each live thread's FIELDS (whitespace runs as one space), read with proc-status.js. */
function readTasks(pid) {
  return threadStatuses(pid).map(({ tid, fields }) => {
    const f = {};
    for (const k of FIELDS) if (k in fields) f[k] = fields[k].replace(/\s+/g, ' ');
    return { tid, ...f };
  });
}

const hex16 = (h) => BigInt('0x' + (h || '0')).toString(16).padStart(16, '0');

/** What is wrong with a dropped child, read from /proc/<pid>/task (empty: nothing). */
function verifyDropped(pid, report) {
  const problems = [];
  const tasks = readTasks(pid);
  if (tasks.length === 0) return ['no thread could be read'];
  const first = tasks[0];
  for (const t of tasks) {
    for (const k of FIELDS) if (t[k] !== first[k]) problems.push(`thread ${t.tid} ${k} ${t[k]} != thread ${first.tid} ${first[k]}`);
  }
  const r = report.result;
  const ids = (n) => `${n} ${n} ${n} ${n}`;
  if (first.Uid !== ids(r.uid)) problems.push(`Uid ${first.Uid}, expected ${ids(r.uid)}`);
  if (first.Gid !== ids(r.gid)) problems.push(`Gid ${first.Gid}, expected ${ids(r.gid)}`);
  const groups = (first.Groups || '').split(' ').filter(Boolean).map(Number).sort((a, b) => a - b).join(',');
  if (groups !== r.groups.join(',')) problems.push(`Groups ${groups.slice(0, 80)}, expected ${r.groups.join(',').slice(0, 80)}`);
  if (first.CapPrm !== hex16(report.expected.permitted)) problems.push(`CapPrm ${first.CapPrm}, expected ${hex16(report.expected.permitted)}`);
  if (first.CapEff !== hex16(report.expected.effective)) problems.push(`CapEff ${first.CapEff}, expected ${hex16(report.expected.effective)}`);
  if (first.CapInh !== hex16(report.expected.inheritable)) problems.push(`CapInh ${first.CapInh}, expected ${hex16(report.expected.inheritable)}`);
  if (BigInt('0x' + first.CapAmb) & ~BigInt('0x' + first.CapPrm)) problems.push(`CapAmb ${first.CapAmb} not within CapPrm ${first.CapPrm}`);
  if (report.uid !== r.uid || report.gid !== r.gid) problems.push(`getuid/getgid ${report.uid}/${report.gid}`);
  if (report.setuid0 === 'succeeded') problems.push('process.setuid(0) succeeded after the drop');
  if (report.windowError) problems.push(`the window with new threads failed: ${report.windowError}`);
  return problems;
}

// ---- one case ----------------------------------------------------------------------------------

/** A JavaScript expression, for values a literal cannot carry (65,537 groups would not fit in argv). */
class Raw {
  constructor(source) {
    this.source = source;
  }
}

function toSource(v) {
  if (v instanceof Raw) return v.source;
  if (v === undefined) return 'undefined';
  if (typeof v === 'number') return Object.is(v, -0) ? '-0' : String(v);
  if (typeof v === 'string') return JSON.stringify(v);
  if (typeof v === 'boolean' || v === null) return String(v);
  if (Array.isArray(v)) return `[${v.map(toSource).join(', ')}]`;
  return `{ ${Object.entries(v).map(([k, x]) => `${JSON.stringify(k)}: ${toSource(x)}`).join(', ')} }`;
}

/** The calls a case's seccomp filter may refuse, kill or trap (seccomp-preload.c's arguments). */
const SECCOMP_DENIALS = [
  { name: 'prctl(PR_CAPBSET_DROP)', call: 'prctl', arg0: 24, arg1: -1 },
  { name: 'prctl(PR_SET_KEEPCAPS)', call: 'prctl', arg0: 8, arg1: -1 },
  { name: 'prctl(PR_SET_SECUREBITS)', call: 'prctl', arg0: 28, arg1: -1 },
  { name: 'prctl(PR_SET_NO_NEW_PRIVS)', call: 'prctl', arg0: 38, arg1: -1 },
  { name: 'prctl(PR_CAP_AMBIENT_RAISE)', call: 'prctl', arg0: 47, arg1: 2 },
  { name: 'prctl(PR_CAP_AMBIENT_CLEAR_ALL)', call: 'prctl', arg0: 47, arg1: 4 },
  { name: 'keyctl(KEYCTL_JOIN_SESSION_KEYRING)', call: 'keyctl', arg0: 1, arg1: -1 },
  { name: 'keyctl(KEYCTL_SETPERM)', call: 'keyctl', arg0: 5, arg1: -1 },
  { name: 'keyctl(KEYCTL_GET_KEYRING_ID)', call: 'keyctl', arg0: 0, arg1: -1 },
  { name: 'setfsuid', call: 'setfsuid', arg0: -1, arg1: -1 },
  { name: 'capset', call: 'capset', arg0: -1, arg1: -1 },
  { name: 'setgroups', call: 'setgroups', arg0: -1, arg1: -1 },
  { name: 'setresgid', call: 'setresgid', arg0: -1, arg1: -1 },
  { name: 'setresuid', call: 'setresuid', arg0: -1, arg1: -1 },
];

let preloadFile;
/** seccomp-preload.c (next to this file) built once per process (cc), into the temporary directory. */
function seccompPreload() {
  if (preloadFile) return preloadFile;
  const source = path.join(__dirname, 'seccomp-preload.c');
  const hash = require('crypto').createHash('sha256').update(fs.readFileSync(source)).digest('hex').slice(0, 16);
  const file = path.join(os.tmpdir(), `privdrop-seccomp-preload-${hash}.so`);
  if (!fs.existsSync(file)) {
    const tmp = `${file}.${process.pid}`;
    const r = require('child_process').spawnSync('cc', ['-shared', '-fPIC', '-O2', '-o', tmp, source, '-lpthread'], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`cc seccomp-preload.c failed: ${r.error ? r.error.message : r.stderr}`);
    fs.renameSync(tmp, file);
  }
  preloadFile = file;
  return file;
}

/** The environment that installs `seccomp` ({ scope, action, denial }) in the case's node process. */
function seccompEnv(seccomp) {
  if (!seccomp) return {};
  const d = seccomp.denial;
  return {
    // After what the environment preloads already (libasan under npm run sanitize must come first).
    LD_PRELOAD: [process.env.LD_PRELOAD, seccompPreload()].filter(Boolean).join(':'),
    PRIVDROP_TEST_SECCOMP: `${seccomp.scope}:${d.call}:${d.arg0}:${d.arg1}:${seccomp.action}`,
    PRIVDROP_TEST_SECCOMP_EXE: fs.realpathSync(process.execPath),
  };
}

async function runCase(spec, { timeoutMs = 20000 } = {}) {
  const source = toSource(spec.options);
  const ids = spec.ids || null;
  const env = { ...process.env, ...seccompEnv(spec.seccomp) };
  if (ids && ids.euid !== undefined) env.PRIVDROP_REALDROP_EUID = String(ids.euid);
  if (ids && ids.egid !== undefined) env.PRIVDROP_REALDROP_EGID = String(ids.egid);
  if (spec.window) env.PRIVDROP_REALDROP_WINDOW = JSON.stringify(spec.window);
  let verified;
  const r = await runChild(process.execPath, [CHILD, source], {
    env,
    wrapper: [...(ids ? ids.argv : []), ...spec.wrapper.argv],
    userns: spec.userns,
    timeoutMs,
    onLine(line, child) {
      let msg;
      try {
        msg = JSON.parse(line);
      } catch {
        return;
      }
      if (msg.outcome === 'dropped') {
        try {
          verified = verifyDropped(child.pid, msg);
        } catch (e) {
          verified = [`reading /proc/${child.pid}: ${e.message}`];
        }
        child.stdin.end('\n');
      }
    },
  });
  const report = lastJson(r.stdout);
  const base = { source, wrapper: spec.wrapper.argv.join(' '), userns: spec.userns && spec.userns.name, ids: ids && ids.name, window: spec.window || undefined,
    seccomp: spec.seccomp ? `${spec.seccomp.denial.name} ${spec.seccomp.action} on ${spec.seccomp.scope === 'thread' ? 'a thread of its own' : 'every thread'}` : undefined };
  if (r.setupError) return { ...base, kind: 'harness', detail: r.setupError };
  if (r.timedOut) return { ...base, kind: 'hang', detail: r.stderr.slice(-400) };
  if (!report) {
    // The wrapper could not set the case up (setpriv --reuid 1000 where 1000 is not mapped): not a case.
    // Nor a filter seccomp-preload could not install (no CAP_SYS_ADMIN in effective).
    if (/^(setpriv|seccomp-preload): /m.test(r.stderr) && !/privdrop/.test(r.stderr)) return { ...base, kind: 'skipped', detail: r.stderr.trim() };
    // Under npm run sanitize, a case the wrapper starts in secure execution (ids that differ at
    // execve) loses the preloaded libasan, which then refuses to start: not a case there.
    if (/ASan runtime does not come first/.test(r.stderr)) return { ...base, kind: 'skipped', detail: 'secure execution ignores the sanitizer\'s LD_PRELOAD' };
    const aborted = r.signal === 'SIGABRT' || r.status === 134 || /privdrop: FATAL/.test(r.stderr);
    return { ...base, kind: aborted ? 'abort' : 'crash', detail: `status ${r.status} signal ${r.signal}: ${r.stderr.slice(-600)}` };
  }
  if (report.outcome === 'setup-failed') return { ...base, kind: 'skipped', detail: report.message };
  // A secure-execution process (real and effective ids differ at execve) ignores LD_PRELOAD: no filter, not this case.
  if (spec.seccomp && !report.seccomp) return { ...base, kind: 'skipped', detail: 'the seccomp filter was not installed (secure execution)' };
  if (report.outcome === 'dropped') {
    if (verified && verified.length === 0 && r.status === 0) return { ...base, kind: 'dropped', result: report.result };
    return { ...base, kind: 'unverified', detail: (verified || ['not verified']).join('; ') };
  }
  if (!report.untouched) return { ...base, kind: 'touched', detail: JSON.stringify({ before: report.before, after: report.after }).slice(0, 2000) };
  if (typeof report.code === 'string' && report.code.startsWith('ERR_PRIVDROP_')) return { ...base, kind: 'coded', code: report.code, message: report.message };
  if (report.name === 'TypeError' || report.name === 'RangeError') return { ...base, kind: 'typeError', message: report.message };
  return { ...base, kind: 'uncoded', detail: `${report.name}: ${report.message}` };
}

module.exports = { runChild, lastJson, readTasks, verifyDropped, runCase, seccompEnv, SECCOMP_DENIALS, toSource, Raw };
