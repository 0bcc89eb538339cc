#!/usr/bin/env node
// Smoke test of an INSTALLED privdrop (resolved from the current directory), run as root by
// scripts/ci/install-tests.sh in each install it makes: the packed tarball with and without
// install scripts, from source, in a minimal Debian root without a compiler, and under
// qemu-user for arm64.
//   node smoke.js drop    a real drop to nobody keeping cap_net_bind_service, then listen on
//                         port 80 (in a private network namespace); a Worker agrees
//   node smoke.js arm64   loading, parsing, processState; a drop fails closed with a coded
//                         error, nothing changed (under qemu-user the emulator's own threads
//                         never answer privdrop's signal)
// Prints one JSON line; exits 0 only when every check held.
'use strict';
const net = require('net');
const { Worker } = require('worker_threads');

const privdrop = require(require.resolve('privdrop', { paths: [process.cwd()] }));
const failures = [];
const check = (name, ok, detail) => {
  if (!ok) failures.push(`${name}: ${JSON.stringify(detail)}`);
};
const uids = () => {
  const s = privdrop.processState();
  const t = s.threads.find((x) => x.tid === s.pid);
  return { uid: t.uid, consistent: s.consistent, threads: s.threads.length, effective: t.capabilities.effective.mask.toString(16) };
};
const listen = (port) =>
  new Promise((resolve) => {
    const srv = net.createServer();
    srv.once('error', (e) => resolve(e.code));
    srv.listen(port, '127.0.0.1', () => srv.close(() => resolve('ok')));
  });

async function drop() {
  const parsed = String(privdrop.CapabilitySet.parse('cap_net_bind_service=ep'));
  check('parse', parsed === 'cap_net_bind_service=ep', parsed);
  const worker = new Worker('setInterval(() => {}, 1000)', { eval: true });
  await new Promise((r) => worker.once('online', r));
  const result = privdrop.dropPrivileges({ user: 'nobody', capabilities: ['cap_net_bind_service'] });
  const after = uids();
  check('uid', after.uid.real === 65534 && after.uid.effective === 65534 && after.uid.saved === 65534, after.uid);
  check('every thread', after.consistent && after.threads === result.threads, { after, result: result.threads });
  const port80 = await listen(80);
  check('listen on 80', port80 === 'ok', port80);
  await worker.terminate();
  return { parsed, threads: result.threads, uid: after.uid.effective, capabilities: after.effective, port80 };
}

async function arm64() {
  check('arch', process.arch === 'arm64', process.arch);
  const parsed = String(privdrop.CapabilitySet.parse('cap_net_bind_service,cap_chown=ep'));
  check('parse', parsed === 'cap_chown,cap_net_bind_service=ep', parsed);
  const before = uids();
  check('processState', before.threads > 0 && before.uid.effective === 0, before);
  let error = null;
  try {
    privdrop.dropPrivileges({ user: 'nobody' });
  } catch (e) {
    error = { code: e.code, message: e.message };
  }
  check('drop fails closed', error && error.code === 'ERR_PRIVDROP_THREAD_UNREACHABLE', error);
  const after = uids();
  check('nothing changed', JSON.stringify(after.uid) === JSON.stringify(before.uid) && after.effective === before.effective, { before, after });
  return { parsed, threads: before.threads, error };
}

const modes = { drop, arm64 };
const mode = process.argv[2];
if (!modes[mode]) {
  console.error('usage: node smoke.js drop|arm64');
  process.exit(2);
}
modes[mode]()
  .then((report) => {
    console.log(JSON.stringify({ mode, node: process.version, arch: process.arch, ok: failures.length === 0, failures, ...report }));
    process.exit(failures.length ? 1 : 0);
  })
  .catch((e) => {
    console.log(JSON.stringify({ mode, ok: false, failures: [...failures, String(e && e.stack)] }));
    process.exit(1);
  });
