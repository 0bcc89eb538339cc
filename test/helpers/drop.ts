// Helpers for privilege-drop scenarios. Each scenario runs in its own fresh node process as
// root; the child drops, exercises what it kept, and reports JSON back.
import { ChildResult, RunOptions, runNode } from './child';

/** Code available inside every scenario child: summary() of processState(), a 0600 root-only file, helpers. */
export const prelude = `
const fs = require('fs');
const net = require('net');
const { Worker } = require('worker_threads');
const summary = () => {
  const s = privdrop.processState();
  const t = s.threads.find((x) => x.tid === s.pid) || s.threads[0];
  const hex = (m) => m.mask.toString(16).padStart(16, '0');
  const c = t.capabilities;
  return {
    consistent: s.consistent, differences: s.differences, threads: s.threads.length,
    uid: [t.uid.real, t.uid.effective, t.uid.saved, t.uid.fs], gid: [t.gid.real, t.gid.effective, t.gid.saved, t.gid.fs],
    groups: t.groups, inh: hex(c.inheritable), prm: hex(c.permitted), eff: hex(c.effective), bnd: hex(c.bounding), amb: hex(c.ambient),
    noNewPrivs: t.noNewPrivs, securebits: s.securebits.flags,
  };
};
const tryDrop = (options) => {
  try { return { ok: true, result: privdrop.dropPrivileges(options) }; }
  catch (e) { return { ok: false, name: e.name, code: e.code, message: e.message, errno: e.errno, syscall: e.syscall, step: e.step }; }
};
const listen = (port) => new Promise((resolve) => {
  const srv = net.createServer();
  srv.once('error', (e) => resolve(e.code));
  srv.listen(port, '127.0.0.1', () => srv.close(() => resolve('ok')));
});
const readAsync = (file) => new Promise((resolve) => fs.readFile(file, 'utf8', (e, d) => resolve(e ? e.code : d.trim())));
const inWorker = (code, data) => new Promise((resolve) => {
  const w = new Worker(code, { eval: true, workerData: data });
  w.once('message', resolve); w.once('error', (e) => resolve('worker error: ' + e.message));
});
`;

/** Runs a scenario: prelude + body in an async function; body must call report(). */
export function scenario(body: string, options: RunOptions = {}): ChildResult {
  return runNode(`${prelude}\n(async () => {\n${body}\n})().catch((e) => { console.error(e); process.exit(99); });`, options);
}

/** Bit masks as /proc prints them. */
export function maskHex(...caps: number[]): string {
  let m = 0n;
  for (const c of caps) m |= 1n << BigInt(c);
  return m.toString(16).padStart(16, '0');
}

export const CAP = {
  dac_read_search: 2,
  setgid: 6,
  setuid: 7,
  setpcap: 8,
  net_bind_service: 10,
  net_raw: 13,
  sys_chroot: 18,
} as const;
