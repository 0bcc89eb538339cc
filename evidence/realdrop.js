#!/usr/bin/env node
'use strict';
// Real drops, at random: fast-check generates valid and invalid dropPrivileges() options and
// the process they run in (root, root without cap_dac_override, root with locked securebits or
// a trimmed bounding set, a non-root user, real/effective/saved ids that differ, a seccomp filter
// refusing, killing or trapping one call of the drop on one thread or on all; outside or inside a
// user namespace whose uid_map,
// gid_map and setgroups this parent writes), and every case runs dropPrivileges() FOR REAL as
// root in its own child process (test/helpers/drop-case.js, drop-child.js); after some drops the
// child starts threads inside a withCapabilities() window. Each case must end one of two ways:
//   dropped   - and every /proc/<pid>/task/*/status, read from here, shows the asked state;
//   rejected  - a coded PrivdropError (or a TypeError/RangeError for a wrong type) with the
//               process exactly as before (threads' credentials, securebits, cwd, root, tty).
// Anything else is counted: aborts (the drop failed after an irreversible step: a check that
// validation missed), hangs, crashes, a touched process, a drop that did not verify.
//
//   node evidence/realdrop.js [--cases N] [--seed S] [--concurrency C] [--verbose]
//
// Needs root, util-linux's unshare and setpriv. test/evidence/realdrop.test.ts runs a fixed seed.
const fs = require('fs');
const os = require('os');
const path = require('path');
const fc = require('fast-check');
// Running one case and checking it from outside is shared with the tests.
const { runCase, Raw, SECCOMP_DENIALS } = require('../test/helpers/drop-case');

const SETPRIV = '/usr/bin/setpriv';

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
  // The child sets effective ids with glibc's broadcast, which a filter on set*id calls would meet
  // first: such a case gets the filter and the ids it started with.
  return fc
    .record({ options, wrapper, userns, ids: idsArbitrary(), window: windowArbitrary(), seccomp: seccompArbitrary() })
    .map((c) => (c.seccomp && c.ids && (c.ids.euid !== undefined || c.ids.egid !== undefined) ? { ...c, ids: null } : c));
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

/**
 * Threads created inside a withCapabilities() window after the drop (issue 16): the child opens a
 * window on what it kept permitted but not effective and starts Workers in it (`nested`: each
 * starts one more); a new thread copies the raised set, and the window must lower it on them.
 * The parent's /proc reading then checks them with every other thread.
 */
function windowArbitrary() {
  return fc.oneof({ weight: 3, arbitrary: fc.constant(null) }, { weight: 1, arbitrary: fc.record({ workers: fc.integer({ min: 1, max: 3 }), nested: fc.boolean() }) });
}

/**
 * A seccomp filter that refuses (EPERM), kills (SECCOMP_RET_KILL_THREAD) or traps one call the drop
 * makes, on a native thread of its own (installed without TSYNC, as another addon or an LD_PRELOAD
 * library could) or on every thread (installed before Node starts any): test/helpers/seccomp-preload.c.
 * Every such process must be a coded error with nothing changed, or drop when the call is one this
 * drop does not make; never an abort.
 */
function seccompArbitrary() {
  const denial = fc.constantFrom(...SECCOMP_DENIALS);
  const filter = fc.oneof(
    fc.record({ scope: fc.constant('thread'), action: fc.constantFrom('errno', 'kill', 'trap'), denial }),
    // On every thread a filter that kills would kill the process in the rehearsal: refusals only.
    fc.record({ scope: fc.constant('process'), action: fc.constant('errno'), denial }),
  );
  return fc.oneof({ weight: 3, arbitrary: fc.constant(null) }, { weight: 1, arbitrary: filter });
}

// ---- one case, and a whole run ------------------------------------------------------------------

/**
 * Runs `cases` generated cases (seeded) `concurrency` at a time. Returns the counts and up to
 * `maxExamples` failing cases. Failing kinds: abort, hang, crash, touched, unverified, uncoded, harness.
 */
async function runRealDrop({ cases = 200, seed = 20261127, concurrency = 2, progress, maxExamples = 10 } = {}) {
  if (process.getuid() !== 0) throw new Error('the real-drop property test needs root');
  const dirs = makeDirs();
  const started = Date.now();
  const counts = { cases: 0, dropped: 0, coded: 0, typeError: 0, abort: 0, hang: 0, crash: 0, touched: 0, unverified: 0, uncoded: 0, harness: 0, skipped: 0, bornInWindow: 0 };
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
        if (out.kind === 'dropped' && spec.window) counts.bornInWindow++;
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
    `real drops (seed ${r.seed}): ${c.cases} cases in ${r.seconds.toFixed(1)} s: ${c.dropped} dropped and verified (${c.bornInWindow} with Workers started in a window after the drop), ` +
      `${c.coded} coded errors, ${c.typeError} type errors (process untouched), ${c.abort} aborts, ${c.hang} hangs, ${c.crash} crashes, ` +
      `${c.touched} touched, ${c.unverified} unverified, ${c.uncoded} uncoded errors, ${c.harness} harness errors; ${c.skipped} skipped (the case could not be set up: a wrapper's ids not mapped in the namespace, a filter not installed)`,
    `  coded errors by code: ${Object.entries(r.codes).sort().map(([k, v]) => `${k} ${v}`).join(', ') || '(none)'}`,
  ];
  for (const e of r.examples) lines.push(`  ${e.kind.toUpperCase()}: ${e.detail}\n    options ${e.source.slice(0, 400)}\n    wrapper ${e.wrapper || '(none)'}; user namespace: ${e.userns || '(none)'}; ids: ${e.ids || '(as started)'}; seccomp: ${e.seccomp || '(none)'}`);
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

module.exports = { fromFuzz, runRealDrop, formatRealDrop, caseArbitrary, idsArbitrary, seccompArbitrary, makeDirs };

if (require.main === module) {
  main(process.argv.slice(2)).then(
    (status) => process.exit(status),
    (e) => {
      process.stderr.write(`realdrop: ${e.stack}\n`);
      process.exit(2);
    },
  );
}
