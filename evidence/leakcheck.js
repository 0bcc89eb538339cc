#!/usr/bin/env node
// Leak check: runs 100,000 calls of privdrop's parse/format/state mix (every native entry
// point that does not change process state, error paths included) in a node process under
// valgrind --leak-check=full, then fails if any "definitely lost" block was allocated by
// privdrop: a loss record whose stack passes through privdrop.node or libcap (only privdrop
// loads libcap). Node and V8 themselves do not free everything at exit and valgrind reports
// some of that as lost too; those records are counted and printed as a total, not failed on.
// Valgrind errors (invalid reads/writes, uninitialised values) in privdrop frames also fail.
//
//   node evidence/leakcheck.js [--calls N] [--keep-log]
//   node evidence/leakcheck.js --binding /path/x.node   checks another build (e.g. build/sanitize/)
// Exit: 0 clean, 1 leak or error attributed to privdrop, 2 could not run.
'use strict';
const { spawnSync } = require('child_process');
const fs = require('fs');
const os = require('os');
const path = require('path');

const repoRoot = path.resolve(__dirname, '..');

/**
 * The call mix shared with evidence/rss.js: [name, fn] pairs, each fn one call into privdrop.
 * Error paths are included on purpose: a native throw is where a leak would hide.
 */
function callMix() {
  const privdrop = require(path.join(repoRoot, 'dist'));
  const raw = require(path.join(repoRoot, 'dist', 'addon', 'binding')).binding();
  const { CapabilitySet, processState, capabilityNames } = privdrop;
  const texts = ['cap_net_bind_service=ep', 'cap_chown,cap_kill+ep cap_setuid+i', 'all=ep cap_sys_admin-e', '=', '12,13=p'];
  const set = CapabilitySet.parse('cap_net_bind_service,cap_sys_time=ep cap_chown+i');
  const wide = { effective: (1n << 64n) - 1n, permitted: 1n << 63n, inheritable: 0x1ffn };
  const expectThrow = (fn) => {
    try {
      fn();
    } catch {
      return;
    }
    throw new Error('leakcheck: a call that must throw did not');
  };
  let i = 0;
  return [
    ['CapabilitySet.parse', () => CapabilitySet.parse(texts[i++ % texts.length])],
    ['CapabilitySet.parse (invalid)', () => expectThrow(() => CapabilitySet.parse('cap_chown=ep cap_no_such_thing+i'))],
    ['CapabilitySet#toString', () => set.toString()],
    ['CapabilitySet.fromMasks#toString', () => CapabilitySet.fromMasks(wide).toString()],
    ['CapabilitySet.current', () => CapabilitySet.current()],
    ['CapabilitySet.ofProcess', () => CapabilitySet.ofProcess(process.pid)],
    ['CapabilitySet.ofProcess (ESRCH)', () => expectThrow(() => CapabilitySet.ofProcess(2147483646))],
    ['processState', () => processState()],
    ['capabilityNames', () => capabilityNames()],
    ['binding.capName', () => raw.capName(i++ % 64)],
    ['binding.capMaxBits', () => raw.capMaxBits()],
    ['binding.capFromText', () => raw.capFromText('cap_dac_override,cap_fowner=eip')],
    ['binding.capFromText (invalid)', () => expectThrow(() => raw.capFromText('cap_dac_override=x'))],
    ['binding.capFromText (not a string)', () => expectThrow(() => raw.capFromText(42))],
    ['binding.capToText', () => raw.capToText(wide)],
    ['binding.capToText (bad masks)', () => expectThrow(() => raw.capToText({ effective: 1n, permitted: 1, inheritable: 0n }))],
    ['binding.capGetProc', () => raw.capGetProc()],
    ['binding.capGetPid', () => raw.capGetPid(1)],
    ['binding.lookupUser (name)', () => raw.lookupUser('nobody')],
    ['binding.lookupUser (uid)', () => raw.lookupUser(0)],
    ['binding.lookupUser (missing)', () => raw.lookupUser('privdrop-no-such-user')],
    ['binding.lookupGroup (name)', () => raw.lookupGroup('root')],
    ['binding.lookupGroup (gid)', () => raw.lookupGroup(65534)],
    ['binding.lookupGroup (missing)', () => raw.lookupGroup(4000000000)],
    ['binding.groupList', () => raw.groupList('root', 0)],
    ['binding.platform', () => raw.platform()],
    ['binding.getSecurebits', () => raw.getSecurebits()],
    ['binding.gettid', () => raw.gettid()],
  ];
}

/** Runs `calls` calls round-robin over the mix; returns how many of each. */
function runMix(calls, onCall) {
  const mix = callMix();
  const counts = Object.fromEntries(mix.map(([name]) => [name, 0]));
  for (let n = 0; n < calls; n++) {
    const [name, fn] = mix[n % mix.length];
    fn();
    counts[name]++;
    if (onCall) onCall(n);
  }
  return counts;
}

/**
 * Splits a valgrind text log into records (the lines between blank `==pid==` lines) and sorts
 * out the "definitely lost" ones and the errors whose stack names privdrop.
 */
function analyseValgrindLog(text, isOurs = (frame) => /privdrop(_faults)?\.node|libcap\.so/.test(frame)) {
  const records = [];
  let current = [];
  for (const line of text.split('\n')) {
    const m = /^==\d+== ?(.*)$/.exec(line);
    if (!m) continue;
    if (m[1].trim() === '') {
      if (current.length) records.push(current);
      current = [];
    } else {
      current.push(m[1]);
    }
  }
  if (current.length) records.push(current);

  const result = { definitelyLostBytes: 0, definitelyLostBlocks: 0, oursBytes: 0, oursBlocks: 0, ours: [], oursErrors: [] };
  for (const rec of records) {
    const frames = rec.filter((l) => /^\s*(at|by) 0x/.test(l));
    const lost = /^([\d,]+) (?:\([\d,]+ direct, [\d,]+ indirect\) )?bytes in ([\d,]+) blocks are definitely lost/.exec(rec[0]);
    if (lost) {
      const bytes = Number(lost[1].replace(/,/g, ''));
      const blocks = Number(lost[2].replace(/,/g, ''));
      result.definitelyLostBytes += bytes;
      result.definitelyLostBlocks += blocks;
      if (frames.some(isOurs)) {
        result.oursBytes += bytes;
        result.oursBlocks += blocks;
        result.ours.push(rec.join('\n'));
      }
    } else if (frames.length && !/are (possibly lost|still reachable|indirectly lost)/.test(rec[0]) && frames.some(isOurs)) {
      result.oursErrors.push(rec.join('\n'));
    }
  }
  return result;
}

function child(calls) {
  const started = process.hrtime.bigint();
  const counts = runMix(calls);
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  process.stdout.write(JSON.stringify({ calls, ms, counts }) + '\n');
}

function main() {
  const args = process.argv.slice(2);
  const callsAt = args.indexOf('--calls');
  const calls = callsAt >= 0 ? Number(args[callsAt + 1]) : 100000;
  if (!Number.isInteger(calls) || calls <= 0) {
    console.error('leakcheck: --calls must be a positive integer');
    process.exit(2);
  }
  // Another build is loaded explicitly through the test-only entry, never by environment.
  const bindingAt = args.indexOf('--binding');
  if (bindingAt >= 0) require(path.join(repoRoot, 'dist', 'testing')).useBindingFile(args[bindingAt + 1]);
  if (args.includes('--child')) return child(calls);

  const binding = require(path.join(repoRoot, 'dist', 'addon', 'binding')).bindingPath();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'privdrop-leakcheck-'));
  const log = path.join(dir, 'valgrind.log');
  const started = Date.now();
  const r = spawnSync(
    'valgrind',
    [
      '--leak-check=full',
      '--show-leak-kinds=definite',
      '--errors-for-leak-kinds=definite',
      '--num-callers=50',
      `--log-file=${log}`,
      process.execPath,
      __filename,
      '--child',
      '--calls',
      String(calls),
      ...(bindingAt >= 0 ? ['--binding', binding] : []),
    ],
    { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], maxBuffer: 16 * 1024 * 1024 },
  );
  const seconds = (Date.now() - started) / 1000;
  if (r.error) {
    console.error(`leakcheck: cannot run valgrind (${r.error.message}); on Debian: apt-get install valgrind`);
    process.exit(2);
  }
  let report;
  try {
    report = JSON.parse(r.stdout.trim().split('\n').pop());
  } catch {
    console.error(`leakcheck: the workload did not finish (exit ${r.status}); valgrind log: ${log}`);
    process.exit(2);
  }
  const text = fs.readFileSync(log, 'utf8');
  if (!/LEAK SUMMARY|All heap blocks were freed/.test(text)) {
    console.error(`leakcheck: valgrind wrote no leak summary; log: ${log}`);
    process.exit(2);
  }
  const a = analyseValgrindLog(text);
  const summary = /definitely lost: ([\d,]+) bytes in ([\d,]+) blocks/.exec(text);

  console.log(`leakcheck: ${report.calls} calls into ${binding} under valgrind, ${seconds.toFixed(1)} s (workload ${(report.ms / 1000).toFixed(1)} s)`);
  for (const [name, n] of Object.entries(report.counts)) console.log(`  ${String(n).padStart(7)}  ${name}`);
  console.log(`leakcheck: whole process (node + privdrop), valgrind's summary: definitely lost ${summary ? summary[1] : 0} bytes in ${summary ? summary[2] : 0} blocks`);
  console.log(`leakcheck: attributable to privdrop (stack through privdrop.node or libcap): definitely lost ${a.oursBytes} bytes in ${a.oursBlocks} blocks; valgrind errors in privdrop frames: ${a.oursErrors.length}`);
  for (const rec of [...a.ours, ...a.oursErrors]) console.log('\n' + rec);
  const failed = a.oursBytes > 0 || a.oursErrors.length > 0;
  if (failed || args.includes('--keep-log')) console.log(`leakcheck: valgrind log kept at ${log}`);
  else fs.rmSync(dir, { recursive: true, force: true });
  process.exit(failed ? 1 : 0);
}

module.exports = { callMix, runMix, analyseValgrindLog };
if (require.main === module) main();
