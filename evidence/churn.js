#!/usr/bin/env node
// Thread churn: many privilege drops, each in a fresh node process started as root, while
// Workers start and exit around the drop and the libuv threadpool is busy. Every child
// reports processState().consistent and the drop result; this parent enforces a deadline per
// run and counts the outcomes.
//
//   node evidence/churn.js [--runs N] [--jobs J] [--deadline MS] [--setup-deadline MS] [--mode M] [--sigpending N] [--gdb] [--json]
//   (--deadline: for the drop, from when the child starts it; --setup-deadline: for the child's
//   start and its Workers, before the drop)
//   (--gdb: on a missed deadline, also print the main thread's native stack)
//
// Modes, taken in turn (run i uses modes[i % 3]):
//   random   Workers spawned every millisecond, each exiting on a random 0-3 ms timer (some
//            at once, some after spawning a nested Worker), while the drop happens.
//   exit-mid Up to 24 Workers parked on Atomics.wait; the main thread wakes them all and calls
//            dropPrivileges() at once; each Worker spins a random 0-1500 us and exits, so
//            threads vanish while the broadcasts are in flight. The child counts the thread
//            ids that were alive just before the call and gone just after it.
//   mixed    both of the above.
// Every mode keeps the threadpool busy (pbkdf2, fs reads) through the drop. Odd runs start
// node with --inspect=127.0.0.1:0 (the inspector's signal thread blocks real-time signals).
// --sigpending N runs every child under `prlimit --sigpending=N`, so that signals to threads
// fail with EAGAIN and the broadcast has to retry them.
//
// Outcomes: ok (dropped, every thread consistent), failed-closed (a coded PrivdropError and
// the credentials unchanged), inconsistent (threads disagree after the call), hang (killed at
// the deadline after it reached the drop; the state of every thread is printed), crash (killed
// by a signal, e.g. privdrop's own abort), unexpected (anything else), setup-timeout (killed at
// the setup deadline before the drop started: a harness problem, counted apart). Exits 1 if any run
// was not ok or failed-closed.
'use strict';
const { spawn } = require('child_process');
const path = require('path');

const repoRoot = path.resolve(__dirname, '..');

// ---------------------------------------------------------------------------------------
// The child: one drop.
// ---------------------------------------------------------------------------------------
async function child(mode, seed) {
  const fs = require('fs');
  const crypto = require('crypto');
  const { Worker } = require('worker_threads');
  const privdrop = require(path.join(repoRoot, 'dist', 'index.js'));
  let rnd = seed >>> 0 || 1;
  const random = () => {
    rnd ^= rnd << 13; rnd >>>= 0; rnd ^= rnd >>> 17; rnd ^= rnd << 5; rnd >>>= 0;
    return rnd / 4294967296;
  };
  const tids = () => fs.readdirSync('/proc/self/task');
  const creds = () => {
    const s = privdrop.processState();
    const t = s.threads.find((x) => x.tid === s.pid) || s.threads[0];
    const c = t.capabilities;
    return JSON.stringify([t.uid, t.gid, t.groups, c.permitted.mask, c.effective.mask, c.bounding.mask, c.ambient.mask,
      c.inheritable.mask, t.noNewPrivs, s.securebits.value], (k, v) => (typeof v === 'bigint' ? v.toString() : v));
  };

  // The threadpool: four threads kept busy through the drop.
  let stop = false;
  const poolJobs = { done: 0 };
  const pbkdf2 = () => { if (!stop) crypto.pbkdf2('x', 'y', 3000 + Math.floor(random() * 3000), 32, 'sha256', () => { poolJobs.done++; pbkdf2(); }); };
  const reader = () => { if (!stop) fs.readFile('/proc/self/status', () => { poolJobs.done++; reader(); }); };
  for (let i = 0; i < 6; i++) pbkdf2();
  for (let i = 0; i < 2; i++) reader();

  // random: a stream of short-lived Workers.
  const shortLived = `
    const { Worker, workerData } = require('worker_threads');
    if (workerData.nested) new Worker('setTimeout(() => process.exit(0), ' + workerData.nestedMs + ')', { eval: true }).on('error', () => {});
    if (workerData.ms < 0) process.exit(0);
    setTimeout(() => process.exit(0), workerData.ms);`;
  let live = 0;
  let spawner = null;
  if (mode === 'random' || mode === 'mixed') {
    spawner = setInterval(() => {
      for (let i = 0; i < 2 && live < 24 && !stop; i++) {
        const w = new Worker(shortLived, {
          eval: true,
          workerData: { ms: Math.floor(random() * 4) - 1, nested: random() < 0.3, nestedMs: Math.floor(random() * 3) },
        });
        live++;
        w.on('exit', () => live--);
        w.on('error', () => {});
      }
    }, 1);
  }

  // exit-mid: Workers parked until the drop starts, then gone within about 1.5 ms.
  const gate = new Int32Array(new SharedArrayBuffer(8));
  const parked = [];
  if (mode === 'exit-mid' || mode === 'mixed') {
    const code = `
      const { workerData, parentPort } = require('worker_threads');
      const gate = workerData.gate;
      Atomics.add(gate, 1, 1);
      parentPort.postMessage('parked');
      Atomics.wait(gate, 0, 0);
      const until = process.hrtime.bigint() + BigInt(workerData.spinUs) * 1000n;
      while (process.hrtime.bigint() < until) {}
      process.exit(0);`;
    const n = mode === 'mixed' ? 12 : 24;
    for (let i = 0; i < n; i++) {
      const w = new Worker(code, { eval: true, workerData: { gate, spinUs: Math.floor(random() * 1500) } });
      parked.push(new Promise((res) => { w.once('message', res); w.once('error', res); w.once('exit', res); }));
    }
  }
  await Promise.all(parked);
  await new Promise((res) => setTimeout(res, 20 + Math.floor(random() * 40)));

  const before = creds();
  const tidsBefore = tids();
  fs.writeSync(1, 'phase: dropping\n');
  if (parked.length) { Atomics.store(gate, 0, 1); Atomics.notify(gate, 0); }
  let drop;
  const t0 = process.hrtime.bigint();
  try {
    drop = { ok: true, result: privdrop.dropPrivileges({ user: 'nobody', capabilities: 'cap_net_bind_service+ep' }) };
  } catch (e) {
    drop = { ok: false, name: e.name, code: e.code, errno: e.errno, step: e.step, message: String(e.message).slice(0, 300) };
  }
  const callMs = Number(process.hrtime.bigint() - t0) / 1e6;
  const tidsAfter = new Set(tids());
  const state = privdrop.processState();
  const after = creds();
  stop = true;
  if (spawner) clearInterval(spawner);
  const vanished = tidsBefore.filter((t) => !tidsAfter.has(t)).length;
  const main = state.threads.find((x) => x.tid === state.pid) || state.threads[0];
  process.stdout.write(JSON.stringify({
    mode, drop, callMs, vanished, threadsBefore: tidsBefore.length, threadsAfter: tidsAfter.size,
    consistent: state.consistent, differences: state.differences.slice(0, 3).map((d) => d.field || d),
    uid: main.uid.real, unchanged: before === after, poolJobs: poolJobs.done,
  }) + '\n');
  process.exit(0);
}

// ---------------------------------------------------------------------------------------
// The parent: N children, J at a time, each with a deadline.
// ---------------------------------------------------------------------------------------
function parseArgs(argv) {
  const o = { runs: 1000, jobs: 2, deadline: 10000, setupDeadline: 60000, sigpending: 0, json: false, verbose: false, gdb: false, modes: null };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const num = () => {
      const v = Number(argv[++i]);
      if (!Number.isInteger(v) || v < 0) { console.error(`churn: ${a} needs a whole number`); process.exit(2); }
      return v;
    };
    if (a === '--runs') o.runs = num();
    else if (a === '--jobs') o.jobs = Math.max(1, num());
    else if (a === '--deadline') o.deadline = num();
    else if (a === '--setup-deadline') o.setupDeadline = num();
    else if (a === '--sigpending') o.sigpending = num();
    else if (a === '--json') o.json = true;
    else if (a === '--verbose') o.verbose = true;
    else if (a === '--gdb') o.gdb = true;
    else if (a === '--mode') { const m = argv[++i]; if (!MODES.includes(m)) { console.error(`churn: --mode is one of ${MODES.join(', ')}`); process.exit(2); } o.modes = [m]; }
    else if (a === '--help' || a === '-h') {
      console.log('usage: node evidence/churn.js [--runs N (1000)] [--jobs J (2)] [--deadline MS (10000)] [--setup-deadline MS (60000)] [--mode random|exit-mid|mixed] [--sigpending N] [--gdb] [--json] [--verbose]');
      process.exit(0);
    } else { console.error(`churn: unknown argument ${a}`); process.exit(2); }
  }
  return o;
}

const MODES = ['random', 'exit-mid', 'mixed'];

function runOne(i, o) {
  const modes = o.modes || MODES;
  const mode = modes[i % modes.length];
  const inspect = i % 2 === 1;
  const nodeArgs = [...(inspect ? ['--inspect=127.0.0.1:0'] : []), __filename, '--child', mode, String((i + 1) * 2654435761 >>> 0)];
  const [file, args] = o.sigpending > 0
    ? ['prlimit', [`--sigpending=${o.sigpending}`, process.execPath, ...nodeArgs]]
    : [process.execPath, nodeArgs];
  return new Promise((resolve) => {
    const cp = spawn(file, args, { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'], env: process.env });
    let stdout = '';
    let stderr = '';
    let hung = false;
    cp.stdout.on('data', (d) => { stdout += d; });
    cp.stderr.on('data', (d) => { if (stderr.length < 8192) stderr += d; });
    let where = '';
    const kill = () => {
      hung = true;
      where = threadsOf(cp.pid);
      if (o.gdb) where += ' | main thread: ' + mainStack(cp.pid);
      cp.kill('SIGKILL');
    };
    // Starting two dozen Workers can take long on a loaded machine and says nothing about
    // privdrop: the setup has its own budget, and --deadline counts from the start of the drop.
    let timer = setTimeout(kill, o.setupDeadline);
    let dropping = false;
    cp.stdout.on('data', () => {
      if (dropping || !/phase: dropping/.test(stdout)) return;
      dropping = true;
      clearTimeout(timer);
      timer = setTimeout(kill, o.deadline);
    });
    cp.on('close', (status, signal) => {
      clearTimeout(timer);
      let json = null;
      for (const line of stdout.trim().split('\n').reverse()) {
        try { json = JSON.parse(line); break; } catch { /* not JSON */ }
      }
      const phase = /phase: dropping/.test(stdout) ? (json ? 'reported' : 'in-drop') : 'setup';
      resolve({ i, mode, inspect, status, signal, hung, json, stderr, phase, where });
    });
  });
}

// For a run that missed its deadline: every thread of the node process (the child of
// prlimit, if any), its state, kernel wait channel and system call.
function threadsOf(pid) {
  const fs = require('fs');
  const read = (f) => { try { return fs.readFileSync(f, 'utf8').trim(); } catch { return '?'; } };
  const nodePid = pid;
  let tasks = [];
  try { tasks = fs.readdirSync(`/proc/${nodePid}/task`); } catch { return 'gone'; }
  return tasks.map((t) => {
    const d = `/proc/${nodePid}/task/${t}`;
    const stat = read(`${d}/stat`);
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    return `${t}:${read(`${d}/comm`)}:${state}:${read(`${d}/wchan`)}:${read(`${d}/syscall`).split(' ')[0]}`;
  }).join(' ');
}

// The main thread's native stack, from gdb (--gdb): slow, so only on a missed deadline.
function mainStack(pid) {
  const r = require('child_process').spawnSync('gdb', ['-batch', '-nx', '-p', String(pid), '-ex', 'bt 25'], { encoding: 'utf8', timeout: 30000 });
  return (r.stdout || '').split('\n').filter((l) => /^#\d/.test(l)).map((l) => l.replace(/^#(\d+)\s+(0x[0-9a-f]+ in )?/, '#$1 ').replace(/\(.*$/, '')).join(' < ') || 'gdb: ' + (r.error ? r.error.code : r.stderr.trim().split('\n').pop());
}

function classify(r) {
  if (r.hung) return r.phase === 'setup' ? 'setup-timeout' : 'hang';
  if (r.signal) return 'crash';
  const j = r.json;
  if (!j || r.status !== 0) return 'unexpected';
  if (!j.consistent) return 'inconsistent';
  if (j.drop.ok) return j.uid === 65534 ? 'ok' : 'unexpected';
  if (typeof j.drop.code === 'string' && j.drop.code.startsWith('ERR_PRIVDROP_') && j.unchanged) return 'failed-closed';
  return 'unexpected';
}

async function parent(o) {
  const t0 = Date.now();
  const counts = { runs: 0, ok: 0, 'failed-closed': 0, inconsistent: 0, hang: 0, crash: 0, unexpected: 0, 'setup-timeout': 0 };
  const seen = { inspect: 0, vanishedRuns: 0, vanishedThreads: 0, exitMidRuns: 0, exitMidVanished: 0, broadcastCountsDiffer: 0, maxThreads: 0 };
  const failCodes = {};
  const problems = [];
  const callMs = [];
  let next = 0;
  const worker = async () => {
    while (next < o.runs) {
      const r = await runOne(next++, o);
      const kind = classify(r);
      counts.runs++;
      counts[kind]++;
      if (r.inspect) seen.inspect++;
      const j = r.json;
      if (j) {
        seen.maxThreads = Math.max(seen.maxThreads, j.threadsBefore);
        if (j.vanished > 0) { seen.vanishedRuns++; seen.vanishedThreads += j.vanished; }
        if (j.mode !== 'random') { seen.exitMidRuns++; if (j.vanished > 0) seen.exitMidVanished++; }
        if (j.drop.ok) {
          callMs.push(j.callMs);
          const b = j.drop.result.broadcasts.map((x) => x.threads);
          if (new Set([...b, j.drop.result.threads]).size > 1) seen.broadcastCountsDiffer++;
        } else {
          failCodes[j.drop.code] = (failCodes[j.drop.code] || 0) + 1;
        }
      }
      if (kind !== 'ok' && kind !== 'failed-closed') {
        problems.push({ run: r.i, kind, mode: r.mode, inspect: r.inspect, status: r.status, signal: r.signal, phase: r.phase, where: r.where,
          stderr: r.stderr.split('\n').filter(Boolean).slice(0, 3).join(' | '), json: j });
      }
      if (o.verbose) console.error(`run ${r.i} ${r.mode}${r.inspect ? ' --inspect' : ''}: ${kind}${j ? ` (vanished ${j.vanished})` : ''}`);
    }
  };
  await Promise.all(Array.from({ length: o.jobs }, worker));
  const seconds = (Date.now() - t0) / 1000;
  callMs.sort((a, b) => a - b);
  const pct = (p) => (callMs.length ? callMs[Math.min(callMs.length - 1, Math.floor(callMs.length * p))] : 0);
  const summary = { ...counts, seconds, ...seen, failCodes, sigpending: o.sigpending || undefined,
    callMsMedian: pct(0.5), callMsP99: pct(0.99), callMsMax: callMs[callMs.length - 1] || 0, problems: problems.slice(0, 20) };
  for (const p of problems.slice(0, 10)) console.error(`churn: run ${p.run} (${p.mode}${p.inspect ? ', --inspect' : ''}): ${p.kind} (phase ${p.phase}): status ${p.status} signal ${p.signal} ${p.stderr}${p.where ? ` threads: ${p.where}` : ''}`);
  if (o.json) console.log(JSON.stringify(summary));
  console.log(
    `churn: runs=${counts.runs} ok=${counts.ok} failed-closed=${counts['failed-closed']} inconsistent=${counts.inconsistent} ` +
      `hangs=${counts.hang} crashes=${counts.crash} unexpected=${counts.unexpected} setup-timeouts=${counts['setup-timeout']} | inspect=${seen.inspect} ` +
      `thread-vanished-during-drop=${seen.vanishedRuns} runs (${seen.vanishedThreads} threads; exit-mid/mixed ${seen.exitMidVanished}/${seen.exitMidRuns}) ` +
      `broadcast-thread-counts-differ=${seen.broadcastCountsDiffer} max-threads=${seen.maxThreads} ` +
      `drop-ms median=${summary.callMsMedian.toFixed(2)} p99=${summary.callMsP99.toFixed(2)} max=${summary.callMsMax.toFixed(2)} ` +
      `${Object.keys(failCodes).length ? `fail-codes=${JSON.stringify(failCodes)} ` : ''}${o.sigpending ? `sigpending=${o.sigpending} ` : ''}time=${seconds.toFixed(1)}s`,
  );
  // A run that timed out before it reached the drop (Workers that never started under load)
  // is reported apart: it says nothing about privdrop, but it is still a failed run.
  return counts.inconsistent + counts.hang + counts.crash + counts.unexpected + counts['setup-timeout'] === 0 ? 0 : 1;
}

if (process.argv[2] === '--child') {
  child(process.argv[3], Number(process.argv[4])).catch((e) => { console.error(e); process.exit(99); });
} else {
  if (typeof process.getuid === 'function' && process.getuid() !== 0) {
    console.error('churn: must run as root (each child drops from root to nobody)');
    process.exit(2);
  }
  parent(parseArgs(process.argv.slice(2))).then((code) => process.exit(code));
}
