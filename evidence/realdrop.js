#!/usr/bin/env node
'use strict';
// Real drops, at random: fast-check generates valid and invalid dropPrivileges() options and
// the process they run in (root, root without cap_dac_override, root with locked securebits or
// a trimmed bounding set, a non-root user, real/effective/saved ids that differ; outside or inside a user namespace whose uid_map,
// gid_map and setgroups this parent writes), and every case runs dropPrivileges() FOR REAL as
// root in its own child process (realdrop-child.js). Each case must end one of two ways:
//   dropped   - and every /proc/<pid>/task/*/status, read from here, shows the asked state;
//   rejected  - a coded PrivdropError (or a TypeError/RangeError for a wrong type) with the
//               process exactly as before (threads' credentials, securebits, cwd, root, tty).
// Anything else is counted: aborts (the drop failed after an irreversible step: a check that
// validation missed), hangs, crashes, a touched process, a drop that did not verify.
//
//   node evidence/realdrop.js [--cases N] [--seed S] [--concurrency C] [--verbose]
//
// Needs root, util-linux's unshare and setpriv. test/realdrop.test.ts runs a fixed seed.
const { spawn } = require('child_process');
const fs = require('fs');
const os = require('os');
const path = require('path');
const fc = require('fast-check');

const CHILD = path.join(__dirname, 'realdrop-child.js');
const SETPRIV = '/usr/bin/setpriv';
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

function readTasks(pid) {
  const out = [];
  for (const tid of fs.readdirSync(`/proc/${pid}/task`)) {
    let text;
    try {
      text = fs.readFileSync(`/proc/${pid}/task/${tid}/status`, 'utf8');
    } catch {
      continue; // exited since the listing
    }
    const f = {};
    for (const m of text.matchAll(/^(\w+):[ \t]*(.*)$/gm)) if (FIELDS.includes(m[1])) f[m[1]] = m[2].trim().replace(/\s+/g, ' ');
    out.push({ tid, ...f });
  }
  return out;
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
  return problems;
}

// ---- the environment every case may use ------------------------------------------------------

/** Chroot candidates with odd modes and owners, made once per run under a 0755 root-owned directory. */
function makeDirs() {
  const base = fs.mkdtempSync(path.join(os.tmpdir(), 'privdrop-realdrop-'));
  fs.chmodSync(base, 0o755);
  const dir = (name, mode, uid = 0) => {
    const p = path.join(base, name);
    fs.mkdirSync(p, { recursive: true });
    fs.chownSync(p, uid, uid === 0 ? 0 : 65534);
    fs.chmodSync(p, mode);
    return p;
  };
  const paths = {
    ok: dir('ok', 0o755),
    nobody0700: dir('nobody-0700', 0o700, 65534),
    root0000: dir('root-0000', 0o000),
    root0711: dir('root-0711', 0o711),
    root0700: dir('root-0700', 0o700),
    sticky: dir('sticky-1777', 0o1777),
  };
  const parent = dir('parent-nobody-0700', 0o755, 65534);
  paths.innerOfNobody = dir('parent-nobody-0700/inner', 0o755);
  fs.chmodSync(parent, 0o700);
  paths.file = path.join(base, 'a-file');
  fs.writeFileSync(paths.file, 'not a directory\n');
  paths.link = path.join(base, 'link-to-ok');
  fs.symlinkSync(paths.ok, paths.link);
  paths.dangling = path.join(base, 'dangling');
  fs.symlinkSync(path.join(base, 'missing-target'), paths.dangling);
  paths.missing = path.join(base, 'missing');
  return { base, paths };
}

// ---- the generated cases ---------------------------------------------------------------------

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

function ngroupsMax() {
  try {
    return Number(fs.readFileSync('/proc/sys/kernel/ngroups_max', 'utf8'));
  } catch {
    return 65536;
  }
}

const CAP_NAMES = [
  'cap_net_bind_service', 'cap_net_raw', 'cap_chown', 'cap_dac_override', 'cap_dac_read_search', 'cap_setuid', 'cap_setgid',
  'cap_setpcap', 'cap_sys_admin', 'cap_sys_chroot', 'cap_kill', 'cap_sys_ptrace', 'cap_audit_write', 'cap_checkpoint_restore',
];

function caseArbitrary(dirs) {
  const NG = ngroupsMax();
  const p = dirs.paths;
  // Mostly valid options (ids near the limits, odd directories, every flag), so that most cases
  // reach the native drop; then, one case in four, one option replaced by an invalid value.
  const validId = fc.oneof(
    { weight: 6, arbitrary: fc.constantFrom(1, 2, 33, 100, 1000, 65534, 65535, 65536) },
    { weight: 2, arbitrary: fc.constantFrom(2 ** 31 - 1, 2 ** 31, 2 ** 32 - 2) },
    { weight: 1, arbitrary: fc.integer({ min: 1, max: 2 ** 32 - 2 }) },
  );
  const valid = {
    user: fc.oneof({ weight: 4, arbitrary: fc.constantFrom('nobody', 'daemon', 'bin', 'www-data', '65534') }, { weight: 1, arbitrary: validId }),
    group: fc.oneof(fc.constantFrom('nogroup', 'daemon', 'adm', 'shadow', 'root', '65534', 0), validId),
    supplementaryGroups: fc.oneof(
      { weight: 4, arbitrary: fc.constantFrom('init', 'clear') },
      { weight: 4, arbitrary: fc.array(fc.oneof(validId, fc.constantFrom(0, 'adm', 'nogroup')), { maxLength: 6 }) },
      { weight: 1, arbitrary: fc.constantFrom(new Raw(`Array.from({ length: 300 }, (_, i) => i * 7 + 1)`), new Raw(`Array.from({ length: ${NG + 1} }, (_, i) => i + 1)`), new Raw(`Array.from({ length: ${NG} }, (_, i) => i + 1)`)) },
    ),
    capabilities: fc.oneof(
      fc.subarray(CAP_NAMES, { maxLength: 3 }),
      fc.constantFrom('cap_net_bind_service+ep', 'cap_net_raw+p', 'cap_setuid+ep', 'cap_sys_admin,cap_net_admin+eip', '=', 'all=ep', 'all=p',
        'cap_net_bind_service+i', 'cap_dac_read_search+ep cap_kill+p', 'cap_net_bind_service=eip', '40+ep'),
    ),
    chroot: fc.constantFrom(p.ok, p.nobody0700, p.root0000, p.root0711, p.root0700, p.sticky, p.innerOfNobody, p.link, '/'),
    boundingSet: fc.constantFrom('retained', 'unchanged'),
    ambient: fc.boolean(),
    noNewPrivileges: fc.boolean(),
    lockSecurebits: fc.boolean(),
    keepTerminal: fc.boolean(),
    keepDebugSignals: fc.boolean(),
  };
  const invalid = {
    user: fc.constantFrom('root', 0, -1, 1.5, Number.NaN, 2 ** 32 - 1, 2 ** 32, '', 'a b', 'x:y', 'n\0ul', 'no-such-user-pd', null, true),
    group: fc.constantFrom('no-such-group-pd', -1, 2 ** 32 - 1, '', [], false),
    supplementaryGroups: fc.constantFrom('bogus', ['no-such-group-pd'], [-1], [2 ** 32 - 1], 'x'),
    capabilities: fc.constantFrom('garbage', 'cap_chown+e', '63+ep', 'cap_nosuch+ep', 42, [7], null),
    chroot: fc.constantFrom(p.file, p.dangling, p.missing, 'relative/dir', '', 7),
    boundingSet: fc.constantFrom('bogus', true),
    ambient: fc.constantFrom('yes', 1),
    noNewPrivileges: fc.constantFrom('yes', 1),
    lockSecurebits: fc.constantFrom('yes', 0),
    keepTerminal: fc.constantFrom('no', null),
    keepDebugSignals: fc.constantFrom('yes', 0),
  };
  const keys = Object.keys(valid);
  const base = fc.record(valid, { requiredKeys: ['user'] });
  const options = fc
    .tuple(base, fc.oneof({ weight: 3, arbitrary: fc.constant(null) }, { weight: 1, arbitrary: fc.constantFrom(...keys).chain((k) => invalid[k].map((v) => [k, v])) }))
    .map(([o, bad]) => (bad ? { ...o, [bad[0]]: bad[1] } : o));
  const wrapper = fc.constantFrom(
    ...[
      [],
      [],
      [],
      [SETPRIV, '--bounding-set', '-dac_override,-dac_read_search', '--'],
      [SETPRIV, '--securebits', '+keep_caps_locked', '--'],
      [SETPRIV, '--bounding-set', '-setpcap', '--'],
      [SETPRIV, '--bounding-set', '-setuid,-setgid', '--'],
      [SETPRIV, '--reuid', '1000', '--regid', '1000', '--clear-groups', '--'],
    ].map((w) => ({ argv: w })),
  );
  const userns = fc.constantFrom(
    null,
    null,
    null,
    { name: 'all ids mapped', uidMap: '0 0 4294967295', gidMap: '0 0 4294967295', setgroups: 'allow' },
    { name: 'only root mapped, setgroups denied', uidMap: '0 0 1', gidMap: '0 0 1', setgroups: 'deny' },
    { name: 'uids 0-65535, gid 0 only', uidMap: '0 0 65536', gidMap: '0 0 1', setgroups: 'allow' },
    { name: 'gids 0-999 only', uidMap: '0 0 65536', gidMap: '0 0 1000', setgroups: 'allow' },
    { name: 'all mapped, setgroups denied', uidMap: '0 0 4294967295', gidMap: '0 0 4294967295', setgroups: 'deny' },
  );
  return fc.record({ options, wrapper, userns, ids: idsArbitrary() });
}

/**
 * Process states whose real, effective and saved ids differ (issue 16): a setuid-root wrapper
 * (real uid 1000, effective and saved 0), `setpriv --ruid`, `--euid` (permitted kept, effective
 * emptied), and effective ids changed in the child after the execve (which makes saved = effective).
 * Each of these holds what a drop needs: every one must drop, or be a coded error.
 */
function idsArbitrary() {
  const setpriv = (...a) => [SETPRIV, ...a, '--'];
  return fc.constantFrom(
    null,
    null,
    null,
    null,
    { name: 'real uid 1000', argv: setpriv('--ruid', '1000') },
    { name: 'real uid 65534, real gid 65534', argv: setpriv('--ruid', '65534', '--rgid', '65534', '--keep-groups') },
    { name: 'effective uid 1000 (saved 1000, real 0)', argv: setpriv('--euid', '1000') },
    { name: 'effective uid and gid 1000', argv: setpriv('--euid', '1000', '--egid', '1000', '--keep-groups') },
    { name: 'real 1000, effective 2000, saved 0', argv: setpriv('--ruid', '1000'), euid: 2000 },
    { name: 'real 0, effective 65534, saved 0', argv: [], euid: 65534, egid: 65534 },
    { name: 'real 0, effective 0, saved 1000', argv: setpriv('--euid', '1000'), euid: 0 },
    { name: 'real gid 1000, effective gid 3000, saved gid 0', argv: setpriv('--rgid', '1000', '--keep-groups'), egid: 3000 },
  );
}

// ---- one case, and a whole run ------------------------------------------------------------------

async function runCase(spec, { timeoutMs = 20000 } = {}) {
  const source = toSource(spec.options);
  const ids = spec.ids || null;
  const env = { ...process.env };
  if (ids && ids.euid !== undefined) env.PRIVDROP_REALDROP_EUID = String(ids.euid);
  if (ids && ids.egid !== undefined) env.PRIVDROP_REALDROP_EGID = String(ids.egid);
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
  const base = { source, wrapper: spec.wrapper.argv.join(' '), userns: spec.userns && spec.userns.name, ids: ids && ids.name };
  if (r.setupError) return { ...base, kind: 'harness', detail: r.setupError };
  if (r.timedOut) return { ...base, kind: 'hang', detail: r.stderr.slice(-400) };
  if (!report) {
    // The wrapper could not set the case up (setpriv --reuid 1000 where 1000 is not mapped): not a case.
    if (/^setpriv: /.test(r.stderr) && !/privdrop/.test(r.stderr)) return { ...base, kind: 'skipped', detail: r.stderr.trim() };
    const aborted = r.signal === 'SIGABRT' || r.status === 134 || /privdrop: FATAL/.test(r.stderr);
    return { ...base, kind: aborted ? 'abort' : 'crash', detail: `status ${r.status} signal ${r.signal}: ${r.stderr.slice(-600)}` };
  }
  if (report.outcome === 'setup-failed') return { ...base, kind: 'skipped', detail: report.message };
  if (report.outcome === 'dropped') {
    if (verified && verified.length === 0 && r.status === 0) return { ...base, kind: 'dropped', result: report.result };
    return { ...base, kind: 'unverified', detail: (verified || ['not verified']).join('; ') };
  }
  if (!report.untouched) return { ...base, kind: 'touched', detail: JSON.stringify({ before: report.before, after: report.after }).slice(0, 2000) };
  if (typeof report.code === 'string' && report.code.startsWith('ERR_PRIVDROP_')) return { ...base, kind: 'coded', code: report.code, message: report.message };
  if (report.name === 'TypeError' || report.name === 'RangeError') return { ...base, kind: 'typeError', message: report.message };
  return { ...base, kind: 'uncoded', detail: `${report.name}: ${report.message}` };
}

/**
 * Runs `cases` generated cases (seeded) `concurrency` at a time. Returns the counts and up to
 * `maxExamples` failing cases. Failing kinds: abort, hang, crash, touched, unverified, uncoded, harness.
 */
async function runRealDrop({ cases = 200, seed = 20261127, concurrency = 2, progress, maxExamples = 10 } = {}) {
  if (process.getuid() !== 0) throw new Error('the real-drop property test needs root');
  const dirs = makeDirs();
  const started = Date.now();
  const counts = { cases: 0, dropped: 0, coded: 0, typeError: 0, abort: 0, hang: 0, crash: 0, touched: 0, unverified: 0, uncoded: 0, harness: 0, skipped: 0 };
  const codes = {};
  const examples = [];
  try {
    const specs = fc.sample(caseArbitrary(dirs), { numRuns: cases, seed });
    let next = 0;
    const workers = Array.from({ length: Math.max(1, concurrency) }, async () => {
      while (next < specs.length) {
        const spec = specs[next++];
        const out = await runCase(spec);
        counts.cases++;
        counts[out.kind]++;
        if (out.kind === 'coded') codes[out.code] = (codes[out.code] || 0) + 1;
        if (!['dropped', 'coded', 'typeError', 'skipped'].includes(out.kind) && examples.length < maxExamples) examples.push(out);
        if (progress) progress(counts, out);
      }
    });
    await Promise.all(workers);
  } finally {
    fs.rmSync(dirs.base, { recursive: true, force: true });
  }
  const failures = counts.abort + counts.hang + counts.crash + counts.touched + counts.unverified + counts.uncoded + counts.harness;
  return { seed, counts, codes, failures, examples, seconds: (Date.now() - started) / 1000 };
}

function formatRealDrop(r) {
  const c = r.counts;
  const lines = [
    `real drops (seed ${r.seed}): ${c.cases} cases in ${r.seconds.toFixed(1)} s: ${c.dropped} dropped and verified, ` +
      `${c.coded} coded errors, ${c.typeError} type errors (process untouched), ${c.abort} aborts, ${c.hang} hangs, ${c.crash} crashes, ` +
      `${c.touched} touched, ${c.unverified} unverified, ${c.uncoded} uncoded errors, ${c.harness} harness errors; ${c.skipped} skipped (the wrapper could not start in that namespace)`,
    `  coded errors by code: ${Object.entries(r.codes).sort().map(([k, v]) => `${k} ${v}`).join(', ') || '(none)'}`,
  ];
  for (const e of r.examples) lines.push(`  ${e.kind.toUpperCase()}: ${e.detail}\n    options ${e.source.slice(0, 400)}\n    wrapper ${e.wrapper || '(none)'}; user namespace: ${e.userns || '(none)'}; ids: ${e.ids || '(as started)'}`);
  return lines.join('\n') + '\n';
}

async function main(argv) {
  const opts = { cases: 200, seed: 20261127, concurrency: 2, verbose: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--cases') opts.cases = Number(argv[++i]);
    else if (a === '--seed') opts.seed = Number(argv[++i]);
    else if (a === '--concurrency') opts.concurrency = Number(argv[++i]);
    else if (a === '--verbose') opts.verbose = true;
    else {
      process.stderr.write(`usage: node evidence/realdrop.js [--cases N] [--seed S] [--concurrency C] [--verbose]\n`);
      return 2;
    }
  }
  const r = await runRealDrop({
    ...opts,
    progress: opts.verbose ? (c, out) => process.stderr.write(`${c.cases} ${out.kind} ${out.code || ''} ${out.source.slice(0, 160)}\n`) : undefined,
  });
  process.stdout.write(formatRealDrop(r));
  return r.failures === 0 ? 0 : 1;
}

/**
 * `npm run fuzz` (evidence/fuzz.js) ends with this: --real-drops N cases (default 200; 0 skips),
 * with fuzz's --seed. Prints the counts; resolves to an exit status (1 if any case failed).
 */
async function fromFuzz(argv) {
  const value = (name) => {
    const i = argv.indexOf(name);
    return i >= 0 && i + 1 < argv.length ? Number(argv[i + 1]) : undefined;
  };
  const cases = value('--real-drops') ?? 200;
  const seed = value('--seed') ?? 20261127;
  if (cases === 0) return 0;
  if (process.getuid() !== 0) {
    process.stdout.write(`real drops: skipped (they need root; this is uid ${process.getuid()})\n`);
    return 0;
  }
  process.stdout.write(`\nreal drops: ${cases} cases, seed ${seed}, each a real drop in its own child process\n`);
  const r = await runRealDrop({ cases, seed });
  process.stdout.write(formatRealDrop(r));
  return r.failures === 0 ? 0 : 1;
}

module.exports = { fromFuzz, runChild, lastJson, readTasks, verifyDropped, runCase, runRealDrop, formatRealDrop, caseArbitrary, idsArbitrary, makeDirs, toSource, Raw };

if (require.main === module) {
  main(process.argv.slice(2)).then(
    (status) => process.exit(status),
    (e) => {
      process.stderr.write(`realdrop: ${e.stack}\n`);
      process.exit(2);
    },
  );
}
