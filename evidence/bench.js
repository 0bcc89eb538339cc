#!/usr/bin/env node
// npm run bench (as root): what a drop costs against what the kernel costs, per thread count.
//
// Baseline: ONE glibc setxid broadcast over the same threads in the same process,
// process.setgroups(process.getgroups()) (median of 25). Every other figure is printed in ms and
// as a ratio against that baseline, so the ratios hold on a slower or busier machine too.
//
// Two kinds of fresh process per row, each measuring its own baseline first:
//  - "steps": the native drop called directly, reporting its steps: rehearsal (every thread
//    makes the harmless form of each call), transition (one signal per thread, the whole
//    sequence), verify (every /proc/self/task/*/status read and compared) and the native total;
//  - "first call": require('privdrop') and then the first dropPrivileges() call, timed whole
//    (addon load, option resolution, NSS, the drop), as an application sees it.
// Threads: 11 = main, 4 V8 platform workers, the inspector's signal thread, 4 threadpool threads,
// (one more on some versions); 75 and 267 add 64 and 256 idle Workers; 1031 uses a threadpool of
// 1024 threads (UV_THREADPOOL_SIZE), cheaper than 1020 Workers.
//
// Goals (issue 9): native total <= 8x and whole first call <= 12x at 75 and 267 threads;
// require('privdrop') <= 3 ms; per-thread cost flat from 11 to 1031 threads.
// Then evidence/first-contact.js (issue 20): the fresh-process ratios, with their goals.
// On a shared machine, `chrt -f 50 npm run bench` keeps other processes from preempting the measured
// threads (the glibc baseline gets cheaper too, so the ratios come out higher than at normal priority).
'use strict';
const { spawnSync } = require('child_process');
const path = require('path');

const root = path.resolve(__dirname, '..');
const entry = path.join(root, 'dist', 'index.js');
const bindingFile = path.join(root, 'dist', 'addon', 'binding.js');
const dropFile = path.join(root, 'dist', 'drop', 'index.js');
const rows = (process.env.BENCH_ROWS || '11:0:4,75:64:4,267:256:4,1031:0:1024')
  .split(',')
  .map((r) => r.split(':').map(Number))
  .map(([threads, workers, pool]) => ({ threads, workers, pool }));
const runs = Number(process.env.BENCH_RUNS || 7); // fresh processes per kind and row
const samples = 25;

if (process.getuid() !== 0) {
  console.error('bench: needs root (it drops privileges and times setgroups); run: sudo npm run bench');
  process.exit(1);
}

// Shared start of every child: the threads, then the glibc baseline.
const setup = `
const { Worker } = require('worker_threads');
const fs = require('fs');
const median = (a) => { const s = [...a].sort((x, y) => x - y); return s[Math.floor(s.length / 2)]; };
const ms = (t0) => Number(process.hrtime.bigint() - t0) / 1e6;
async function start(workers) {
  await new Promise((r) => fs.readFile('/etc/hostname', r)); // starts the whole threadpool
  const ws = [];
  for (let i = 0; i < workers; i++) ws.push(new Worker('setInterval(() => {}, 1 << 30)', { eval: true }));
  await Promise.all(ws.map((w) => new Promise((r) => w.once('online', r))));
  await new Promise((r) => setTimeout(r, 50 + workers));
  const glibc = [];
  const groups = process.getgroups();
  for (let i = 0; i < ${samples}; i++) { const t0 = process.hrtime.bigint(); process.setgroups(groups); glibc.push(ms(t0)); }
  return { glibc: median(glibc), threads: fs.readdirSync('/proc/self/task').length };
}
const options = { user: 'nobody', capabilities: 'cap_net_bind_service+ep' };
`;

const stepsChild = `${setup}
(async () => {
  const base = await start(Number(process.argv[1]));
  const { binding } = require(${JSON.stringify(bindingFile)});
  const { resolveDropOptions } = require(${JSON.stringify(dropFile)});
  const plan = resolveDropOptions(options);
  const raw = binding().drop({
    uid: plan.uid, gid: plan.gid, groups: plan.groups, capabilities: plan.capabilities.masks,
    boundingSet: 'retained', ambient: false, noNewPrivileges: false, lockSecurebits: false, chroot: '',
  });
  const step = Object.fromEntries(raw.steps.map((s) => [s.name, s.ms]));
  process.stdout.write(JSON.stringify({ ...base, verified: raw.threads, rehearse: step.rehearse, transition: step.transition,
    verify: step.verify, native: raw.ms }) + '\\n');
  process.exit(0);
})();
`;

const firstCallChild = `${setup}
(async () => {
  const base = await start(Number(process.argv[1]));
  let t0 = process.hrtime.bigint();
  const privdrop = require(${JSON.stringify(entry)});
  const requireMs = ms(t0);
  t0 = process.hrtime.bigint();
  const d = privdrop.dropPrivileges(options);
  const first = ms(t0);
  process.stdout.write(JSON.stringify({ ...base, verified: d.threads, first, require: requireMs }) + '\\n');
  process.exit(0);
})();
`;

const median = (a) => {
  const s = [...a].sort((x, y) => x - y);
  return s[Math.floor(s.length / 2)];
};

function run(code, row, extraEnv = {}) {
  const out = [];
  for (let i = 0; i < runs; i++) {
    const r = spawnSync(process.execPath, ['-e', code, String(row.workers)], {
      encoding: 'utf8',
      timeout: 300000,
      env: { ...process.env, UV_THREADPOOL_SIZE: String(row.pool), ...extraEnv },
    });
    const line = (r.stdout || '').trim().split('\n').pop();
    if (r.status !== 0 || !line) {
      console.error(`bench: child for ${row.threads} threads failed (status ${r.status}, signal ${r.signal}):\n${r.stderr}`);
      process.exit(1);
    }
    const j = JSON.parse(line);
    if (j.verified !== j.threads) {
      console.error(`bench: ${j.verified} threads verified but ${j.threads} counted before the drop`);
      process.exit(1);
    }
    out.push(j);
  }
  return out;
}

console.log(
  `privdrop bench: medians of ${runs} fresh processes per kind and row; ratios against one glibc setxid broadcast ` +
    `(process.setgroups(process.getgroups()), median of ${samples}) measured in the same process`,
);
console.log(
  'threads | glibc ms | rehearsal ms   ratio | transition ms  ratio | verify ms     ratio | native total   ratio | us/thread | ' +
    'glibc ms | whole first call ratio | require ms',
);
const goals = [];
for (const row of rows) {
  const s = run(stepsChild, row);
  const f = run(firstCallChild, row);
  // Ratios are taken per process against that process's own baseline, then the median.
  const ratio = (list, key) => median(list.map((x) => x[key] / x.glibc));
  const m = (list, key) => median(list.map((x) => x[key]));
  const glibcS = m(s, 'glibc');
  const glibcF = m(f, 'glibc');
  const threads = m(s, 'threads');
  const r = {
    rehearse: ratio(s, 'rehearse'),
    transition: ratio(s, 'transition'),
    verify: ratio(s, 'verify'),
    native: ratio(s, 'native'),
    first: ratio(f, 'first'),
  };
  const show = (key, list) => `${m(list, key).toFixed(3).padStart(8)} ${(r[key].toFixed(1) + 'x').padStart(7)}`;
  console.log(
    `${String(threads).padStart(7)} | ${glibcS.toFixed(3).padStart(8)} | ${show('rehearse', s)}     | ${show('transition', s)}     | ` +
      `${show('verify', s)}     | ${show('native', s)}     | ${((m(s, 'native') * 1000) / threads).toFixed(1).padStart(9)} | ` +
      `${glibcF.toFixed(3).padStart(8)} | ${show('first', f)}      | ${m(f, 'require').toFixed(2).padStart(10)}`,
  );
  if (row.threads === 75 || row.threads === 267) {
    goals.push([`native total <= 8x at ${threads} threads`, r.native <= 8, `${r.native.toFixed(1)}x`]);
    goals.push([`whole first call <= 12x at ${threads} threads`, r.first <= 12, `${r.first.toFixed(1)}x`]);
  }
  goals.push([`require('privdrop') <= 3 ms (${threads} threads)`, m(f, 'require') <= 3, `${m(f, 'require').toFixed(2)} ms`]);
}
for (const [what, met, value] of goals) console.log(`${met ? 'met   ' : 'MISSED'} ${what}: ${value}`);

// Issue 20: what privdrop adds to a fresh process (require; require and drop; the express example's
// start), side by side with node -e 0 or the same server without privdrop, in alternating fresh
// processes, with the floor (the native drop and no privdrop JavaScript) and the first call's phases
// inside the process. BENCH_FIRST_CONTACT_RUNS=0 leaves it out.
const contactRuns = process.env.BENCH_FIRST_CONTACT_RUNS ?? '21';
if (contactRuns !== '0') {
  console.log('');
  const contact = spawnSync(process.execPath, [path.join(__dirname, 'first-contact.js'), '--runs', contactRuns, '--phases'], { stdio: 'inherit' });
  if (contact.status !== 0) process.exitCode = 1;
}
