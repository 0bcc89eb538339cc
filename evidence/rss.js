#!/usr/bin/env node
// Resident memory over 1,000,000 calls of the leak check's call mix (evidence/leakcheck.js),
// sampled with process.memoryUsage().rss after a forced GC, next to a baseline loop of the
// same length that makes no privdrop calls (the same loop, the same closures, an empty body).
// V8's heap settles during the first calls, so growth is measured from the end of a warm-up
// (the first 10% of calls) to the end. The run fails when the privdrop loop grows by more than
// the baseline loop's growth plus BOUND_MIB: a leak of 32 bytes (malloc's smallest chunk) in a
// single entry point of the 28-call mix, over 900,000 calls, is ~1 MiB; in every call, ~27 MiB.
//
// V8's young generation grows by itself under a high allocation rate (processState() reads and
// splits /proc text): measured here, heapTotal went from 6 to 41 MiB over 600,000 calls with
// heapUsed flat at ~4 MiB, and RSS followed. That is V8 sizing its semi-spaces, not a leak, so
// the run pins them with --max-semi-space-size=1; RSS then measures what is left: native memory,
// old space and code.
//
//   node evidence/rss.js [--calls N]     (re-execs itself with --expose-gc --max-semi-space-size=1)
// Exit: 0 flat, 1 grew past the bound.
'use strict';
const { spawnSync } = require('child_process');
const { runMix, callMix } = require('./leakcheck');

const BOUND_MIB = 4;
const SAMPLES = 100;
const WARMUP = 0.1;

const NODE_FLAGS = ['--expose-gc', '--max-semi-space-size=1'];
if (!NODE_FLAGS.every((flag) => process.execArgv.includes(flag))) {
  const r = spawnSync(process.execPath, [...NODE_FLAGS, __filename, ...process.argv.slice(2)], { stdio: 'inherit' });
  process.exit(r.status === null ? 1 : r.status);
}

const args = process.argv.slice(2);
const callsAt = args.indexOf('--calls');
const calls = callsAt >= 0 ? Number(args[callsAt + 1]) : 1000000;
if (!Number.isInteger(calls) || calls < SAMPLES) {
  console.error(`rss: --calls must be an integer of at least ${SAMPLES}`);
  process.exit(2);
}
const every = Math.floor(calls / SAMPLES);
const MiB = 1024 * 1024;

function rssNow() {
  global.gc();
  return process.memoryUsage().rss;
}

/** Runs `loop(onCall)` and returns its RSS samples: one before, then one every `every` calls. */
function measure(loop) {
  const samples = [rssNow()];
  const started = process.hrtime.bigint();
  loop((n) => {
    if ((n + 1) % every === 0) samples.push(rssNow());
  });
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  return { samples, seconds };
}

function describe(name, { samples, seconds }) {
  const warm = samples[Math.round(SAMPLES * WARMUP)];
  const first = samples[0];
  const last = samples[samples.length - 1];
  const max = Math.max(...samples);
  const growth = last - warm;
  const f = (b) => `${(b / MiB).toFixed(1)} MiB`;
  console.log(
    `rss: ${name.padEnd(8)} ${calls} calls in ${seconds.toFixed(1)} s: first ${f(first)}, after warm-up ${f(warm)}, ` +
      `last ${f(last)}, max ${f(max)}; growth after warm-up ${f(growth)} (last/warm ${(last / warm).toFixed(3)})`,
  );
  return { first, warm, last, max, growth };
}

// The baseline walks the same mix array but never calls into privdrop.
const mixLength = callMix().length;
const baseline = describe('baseline', measure((onCall) => {
  const noop = Array.from({ length: mixLength }, () => () => undefined);
  for (let n = 0; n < calls; n++) {
    noop[n % mixLength]();
    onCall(n);
  }
}));
const privdrop = describe('privdrop', measure((onCall) => runMix(calls, onCall)));

const allowed = Math.max(baseline.growth, 0) + BOUND_MIB * MiB;
const ok = privdrop.growth <= allowed;
const heap = process.memoryUsage();
console.log(`rss: V8 heap at the end: heapTotal ${(heap.heapTotal / MiB).toFixed(1)} MiB, heapUsed ${(heap.heapUsed / MiB).toFixed(1)} MiB (${NODE_FLAGS.join(' ')})`);
console.log(
  `rss: privdrop growth after warm-up ${(privdrop.growth / MiB).toFixed(1)} MiB, baseline ${(baseline.growth / MiB).toFixed(1)} MiB, ` +
    `bound: baseline + ${BOUND_MIB} MiB = ${(allowed / MiB).toFixed(1)} MiB: ${ok ? 'flat' : 'GREW'}`,
);
process.exit(ok ? 0 : 1);
