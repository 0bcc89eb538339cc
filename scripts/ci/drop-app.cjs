// The application the runtime and bundler tests run (scripts/ci/install-tests.sh, through
// check-drop.js): under Node, Bun or Deno, from node_modules or bundled by esbuild. As root it
// starts a Worker, drops to nobody keeping cap_net_bind_service, binds 127.0.0.1:80, then
// prints one JSON line {"ready":true,...} and serves until a line arrives on stdin, so that
// check-drop.js reads every thread from /proc meanwhile. A failure prints {"ready":false,
// "code":...,"message":...} and exits 1. CommonJS (.cjs), so every runtime reads it the same way.
'use strict';
const net = require('net');
const { Worker, isMainThread } = require('worker_threads');

const runtime = () =>
  typeof globalThis.Deno !== 'undefined' ? `deno ${globalThis.Deno.version.deno}` : process.versions.bun ? `bun ${process.versions.bun}` : `node ${process.version}`;

async function main() {
  const privdrop = require('privdrop');
  const worker = new Worker(__filename);
  await new Promise((resolve, reject) => {
    worker.once('online', resolve);
    worker.once('error', reject);
  });
  const result = privdrop.dropPrivileges({ user: 'nobody', capabilities: ['cap_net_bind_service'] });
  const server = net.createServer((socket) => socket.end('privdrop\n'));
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(80, '127.0.0.1', resolve);
  });
  const state = privdrop.processState();
  console.log(JSON.stringify({ ready: true, runtime: runtime(), pid: process.pid, threads: result.threads, consistent: state.consistent }));
  process.stdin.once('data', () => {
    server.close();
    worker.terminate().then(() => process.exit(0));
  });
}

if (isMainThread) {
  main().catch((e) => {
    console.log(JSON.stringify({ ready: false, runtime: runtime(), code: e && e.code, message: String(e && e.message) }));
    process.exit(1);
  });
} else {
  setInterval(() => {}, 1000);
}
