#!/usr/bin/env node
// node evidence/runtime-bench.js (as root): what least privilege after start-up costs.
//   - a withCapabilities() window (raise + lower on the calling thread), beside one capget
//     system call (CapabilitySet.current()) in the same process;
//   - listen() of a fresh server, beside Node's own server.listen() of the same kind of server;
//   - setCapabilities() over N threads, beside a no-op broadcast over the same threads.
// No speed goal was set for these; the ratios are for the record (docs/evidence.md).
'use strict';
const { spawnSync } = require('child_process');
const path = require('path');

const entry = path.resolve(__dirname, '..', 'dist', 'index.js');
const addon = path.resolve(__dirname, '..', 'dist', 'addon', 'binding.js');
const workerCounts = (process.env.BENCH_WORKERS || '0,64').split(',').map(Number);

if (process.getuid() !== 0) {
  console.error('runtime-bench: needs root (it drops privileges); run: sudo node evidence/runtime-bench.js');
  process.exit(1);
}

const child = `
const { Worker } = require('worker_threads');
const net = require('net');
const privdrop = require(${JSON.stringify(entry)});
const native = require(${JSON.stringify(addon)}).binding();
const n = Number(process.argv[1]);
const median = (a) => { const s = [...a].sort((x, y) => x - y); return s[Math.floor(s.length / 2)]; };
const perCall = (fn, count) => { const t = process.hrtime.bigint(); for (let i = 0; i < count; i++) fn(); return Number(process.hrtime.bigint() - t) / 1e3 / count; };
(async () => {
  await new Promise((r) => require('fs').readFile('/etc/hostname', r));
  const workers = [];
  for (let i = 0; i < n; i++) workers.push(new Worker("setInterval(() => {}, 1 << 30)", { eval: true }));
  await Promise.all(workers.map((w) => new Promise((r) => w.once('online', r))));
  privdrop.dropPrivileges({ user: 'nobody', capabilities: 'cap_net_bind_service,cap_net_raw+p', supplementaryGroups: 'clear' });
  const caps = ['cap_net_bind_service'];
  const windowUs = median([1, 2, 3, 4, 5].map(() => perCall(() => privdrop.withCapabilities(caps, () => 0), 20000)));
  const capgetUs = median([1, 2, 3, 4, 5].map(() => perCall(() => privdrop.CapabilitySet.current(), 20000)));
  const time = async (fn) => { const t = process.hrtime.bigint(); const s = await fn(); const us = Number(process.hrtime.bigint() - t) / 1e3; await new Promise((r) => s.close(r)); return us; };
  const ours = [], node = [];
  for (let i = 0; i < 50; i++) {
    ours.push(await time(() => privdrop.listen(net.createServer(), { port: 0, host: '127.0.0.1' })));
    node.push(await time(() => new Promise((res) => { const s = net.createServer(); s.listen(0, '127.0.0.1', () => res(s)); })));
  }
  const noop = [];
  for (let i = 0; i < 25; i++) noop.push(native.probeBroadcast().ms);
  const set = privdrop.setCapabilities('cap_net_bind_service+p');
  const threads = require('fs').readdirSync('/proc/self/task').length;
  process.stdout.write(JSON.stringify({ threads, windowUs, capgetUs, listenUs: median(ours), nodeListenUs: median(node), setMs: set.ms, setBroadcastMs: set.broadcasts[1].ms, noopMs: median(noop) }) + '\\n');
  process.exit(0);
})();
`;

const rows = [];
for (const n of workerCounts) {
  const r = spawnSync(process.execPath, ['-e', child, String(n)], { encoding: 'utf8', timeout: 120000 });
  if (r.status !== 0) {
    console.error(r.stderr);
    process.exit(1);
  }
  rows.push(JSON.parse(r.stdout.trim().split('\n').pop()));
}
const f = (x, d = 1) => x.toFixed(d);
console.log('threads | window us | capget us | ratio | listen() us | server.listen us | ratio | setCapabilities ms | its broadcast ms | no-op broadcast ms | ratio');
for (const r of rows) {
  console.log(
    `${r.threads} | ${f(r.windowUs, 2)} | ${f(r.capgetUs, 2)} | ${f(r.windowUs / r.capgetUs)}x | ${f(r.listenUs, 0)} | ${f(r.nodeListenUs, 0)} | ${f(r.listenUs / r.nodeListenUs)}x | ` +
      `${f(r.setMs, 2)} | ${f(r.setBroadcastMs, 2)} | ${f(r.noopMs, 2)} | ${f(r.setBroadcastMs / r.noopMs)}x`,
  );
}
