#!/usr/bin/env node
// node evidence/window-bench.js [--against DIR] (as root): what a withCapabilities() window costs
// now that it finds the threads born inside it (docs/design.md, "Threads born inside a window").
//   - a window in which no thread is born, beside one capget (CapabilitySet.current()) in the same
//     process: the ratio is the window's price in system-call units;
//   - with --against DIR (another built copy of the package, e.g. a checkout of an earlier commit
//     after `npm run build`): the same in DIR, the two run alternately, and the ratio between them;
//   - a window whose function starts a Worker (its thread is born raised and must be lowered),
//     beside starting a Worker outside a window; the difference against a no-op broadcast over
//     the same threads (what lowering the new thread takes: one broadcast).
// Threads: the main thread, the V8 platform and the threadpool (11 in Node 20), plus BENCH_WORKERS.
'use strict';
const { spawnSync } = require('child_process');
const path = require('path');

const here = path.resolve(__dirname, '..');
const at = process.argv.indexOf('--against');
const against = at > 0 ? path.resolve(process.argv[at + 1]) : undefined;
const workerCounts = (process.env.BENCH_WORKERS || '0,64').split(',').map(Number);
const rounds = Number(process.env.BENCH_ROUNDS || 3);

if (process.getuid() !== 0) {
  console.error('window-bench: needs root (it drops privileges); run: sudo node evidence/window-bench.js');
  process.exit(1);
}

const child = `
const { Worker } = require('worker_threads');
const privdrop = require(process.argv[1] + '/dist/index.js');
const n = Number(process.argv[2]);
const median = (a) => { const s = [...a].sort((x, y) => x - y); return s[Math.floor(s.length / 2)]; };
const perCall = (fn, count) => { const t = process.hrtime.bigint(); for (let i = 0; i < count; i++) fn(); return Number(process.hrtime.bigint() - t) / 1e3 / count; };
const idle = "require('worker_threads').parentPort.postMessage('up'); setInterval(() => {}, 1 << 30)";
const started = (w) => new Promise((r) => w.once('message', r));
(async () => {
  await new Promise((r) => require('fs').readFile('/etc/hostname', r));
  const workers = [];
  for (let i = 0; i < n; i++) workers.push(new Worker(idle, { eval: true }));
  await Promise.all(workers.map(started));
  privdrop.dropPrivileges({ user: 'nobody', capabilities: 'cap_net_bind_service,cap_net_raw+p', supplementaryGroups: 'clear' });
  const caps = ['cap_net_bind_service'];
  privdrop.withCapabilities(caps, () => 0);
  const windowUs = [], capgetUs = [];
  for (let i = 0; i < 5; i++) {
    windowUs.push(perCall(() => privdrop.withCapabilities(caps, () => 0), 10000));
    capgetUs.push(perCall(() => privdrop.CapabilitySet.current(), 10000));
  }
  const ms = (t) => Number(process.hrtime.bigint() - t) / 1e6;
  // Baseline: a Worker started outside a window, then at once a no-op broadcast over the same
  // threads (lowering a thread born in a window is one broadcast, and one that meets a thread
  // still starting waits for it to be scheduled).
  const addon = ['/dist/addon/binding.js', '/dist/binding.js'].map((f) => process.argv[1] + f).find((f) => require('fs').existsSync(f));
  const probe = () => require(addon).binding().probeBroadcast();
  const bornMs = [], plainMs = [];
  for (let i = 0; i < 5; i++) {
    let t = process.hrtime.bigint();
    const w1 = new Worker(idle, { eval: true });
    probe();
    plainMs.push(ms(t));
    await started(w1);
    privdrop.withCapabilities(caps, () => 0); // w1 was born outside a window: this one starts from a fresh tail
    t = process.hrtime.bigint();
    const w2 = privdrop.withCapabilities(caps, () => new Worker(idle, { eval: true }));
    bornMs.push(ms(t));
    await started(w2);
    await Promise.all([w1.terminate(), w2.terminate()]);
  }
  const threads = require('fs').readdirSync('/proc/self/task').length;
  process.stdout.write(JSON.stringify({ threads, windowUs: median(windowUs), capgetUs: median(capgetUs), bornMs: median(bornMs), plainMs: median(plainMs) }) + '\\n');
  process.exit(0);
})();
`;

function run(root, n) {
  const r = spawnSync(process.execPath, ['-e', child, root, String(n)], { encoding: 'utf8', timeout: 300000 });
  if (r.status !== 0) {
    console.error(r.stderr);
    process.exit(1);
  }
  return JSON.parse(r.stdout.trim().split('\n').pop());
}

const median = (a) => { const s = [...a].sort((x, y) => x - y); return s[Math.floor(s.length / 2)]; };
const f = (x, d = 2) => x.toFixed(d);
console.log(
  'threads | window us | capget us | window/capget' +
    (against ? ' | window us (against) | window/capget (against) | window / window (against)' : '') +
    ' | Worker started in a window ms | outside, then a no-op broadcast ms | ratio',
);
for (const n of workerCounts) {
  const mine = [], theirs = [];
  for (let i = 0; i < rounds; i++) {
    mine.push(run(here, n));
    if (against) theirs.push(run(against, n));
  }
  const m = (rows, key) => median(rows.map((r) => r[key]));
  const ratio = (rows) => median(rows.map((r) => r.windowUs / r.capgetUs));
  let line = `${mine[0].threads} | ${f(m(mine, 'windowUs'))} | ${f(m(mine, 'capgetUs'))} | ${f(ratio(mine))}x`;
  if (against) {
    const pair = mine.map((r, i) => r.windowUs / theirs[i].windowUs);
    line += ` | ${f(m(theirs, 'windowUs'))} | ${f(ratio(theirs))}x | ${f(median(pair))}x`;
  }
  line += ` | ${f(m(mine, 'bornMs'))} | ${f(m(mine, 'plainMs'))} | ${f(median(mine.map((r) => r.bornMs / r.plainMs)))}x`;
  console.log(line);
}
