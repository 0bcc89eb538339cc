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
// replaced by tripwires (reaching one is a failure, unless a target expects it for valid input and
// checks the arguments it got), and processState() compared before and after.
// test/evidence/fuzz.test.ts runs the same targets with a fixed seed and a CI-sized count.
//
// This file is the runner; the parts are in evidence/fuzz/: generators.js (inputs), oracle.js (what
// is allowed, and the guards), targets/ (one file per area), run.js (running them).

const { runAll, runTarget } = require('./fuzz/run');
const { TARGETS } = require('./fuzz/targets');
const { materialize, FuzzSentinel, hostile } = require('./fuzz/generators');
const { classify, stateSnapshot, prototypeSnapshot, installTripwires } = require('./fuzz/oracle');

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

async function main(argv) {
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
    else if (a === '--real-drops') next(); // evidence/realdrop.js reads it (after the in-process targets)
    else if (a === '-h' || a === '--help') {
      process.stdout.write('Usage: node evidence/fuzz.js [--cases N] [--seed S] [--target NAME]... [--hang-seconds T] [--real-drops N]\n');
      return 0;
    } else throw new Error(`unknown argument ${a}`);
  }
  if (!Number.isInteger(opts.cases) || opts.cases < 1 || !Number.isInteger(opts.seed)) throw new Error('--cases and --seed take integers');

  const watchdog = startWatchdog(opts.hangSeconds, opts.seed);
  const t0 = Date.now();
  let lastPrint = 0;
  process.stdout.write(`privdrop fuzz: ${opts.cases} cases, seed ${opts.seed}, hang limit ${opts.hangSeconds} s per case, uid ${process.getuid()}\n`);
  const summary = await runAll({
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
  let settled = false;
  // A case whose promise never settles leaves nothing to keep the event loop alive: say so.
  process.on('exit', () => {
    if (!settled) {
      process.stderr.write('fuzz: HANG: a case never settled (the event loop ran empty)\n');
      process.exitCode = 2;
    }
  });
  main(process.argv.slice(2)).then(
    (code) => {
      settled = true;
      process.exitCode = code;
      // Then real drops, as root, each in its own child process (evidence/realdrop.js).
      if (code !== 2) return require('./realdrop').fromFuzz(process.argv.slice(2)).then((status) => (process.exitCode ||= status));
      return undefined;
    },
    (e) => {
      settled = true;
      process.stderr.write(`fuzz: ${e && e.stack}\n`);
      process.exitCode = 2;
    },
  );
}
