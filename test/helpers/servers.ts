// Runs an example server for real, as root, in a child process inside its own network namespace
// (so that port 80 and 443 are its own), and reads what the kernel says about every thread of it
// from /proc/<pid>/task: the jest worker never drops anything itself.
import { ChildProcess, spawn, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import type { StatusFields } from '../../lib/state/read';
import { repoRoot } from './child';
import { CAP } from './drop';
import { threadStatuses } from './proc-status';

export const examplesDir = path.join(repoRoot, 'examples');

export interface Server {
  pid: number;
  child: ChildProcess;
  output(): { stdout: string; stderr: string };
  /** Resolves with the exit status (or the signal's name) once the process has exited. */
  exited: Promise<number | string>;
}

export interface StartOptions {
  env?: NodeJS.ProcessEnv;
  /** Put before `node` on the command line, e.g. ['setpriv', '--bounding-set=-all,+setuid']. */
  wrapper?: string[];
  /** Another node binary (default: this one), and options for it before the file. */
  node?: string;
  nodeArgs?: string[];
  /** Written to stdout once the server serves. */
  ready: RegExp;
  timeoutMs?: number;
}

/**
 * Starts `node file args...` in a new network namespace with lo up. The shell and the wrapper
 * exec, so the pid returned is node's. Rejects with the output if the process exits or the ready
 * line does not appear in time (the process is then killed).
 */
export function startServer(file: string, args: string[], options: StartOptions): Promise<Server> {
  const command = [...(options.wrapper ?? []), options.node ?? process.execPath, ...(options.nodeArgs ?? []), file, ...args];
  const child = spawn('unshare', ['-n', '--', 'sh', '-c', 'ip link set lo up && exec "$@"', 'sh', ...command], {
    cwd: repoRoot,
    env: { ...process.env, ...(options.env ?? {}) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout!.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const exited = new Promise<number | string>((resolve) => child.once('exit', (code, signal) => resolve(code ?? signal ?? -1)));
  const server: Server = { pid: child.pid!, child, output: () => ({ stdout, stderr }), exited };
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`no ready line within ${options.timeoutMs ?? 20000} ms\nstdout: ${stdout}\nstderr: ${stderr}`));
    }, options.timeoutMs ?? 20000);
    const check = () => {
      if (options.ready.test(stdout)) {
        clearTimeout(timer);
        resolve(server);
      }
    };
    child.stdout!.on('data', check);
    void exited.then((status) => {
      clearTimeout(timer);
      reject(new Error(`exited (${status}) before it was ready\nstdout: ${stdout}\nstderr: ${stderr}`));
    });
  });
}

/** SIGTERM, then SIGKILL after a deadline; resolves with the exit status. */
export async function stopServer(server: Server, timeoutMs = 10000): Promise<number | string> {
  if (server.child.exitCode !== null || server.child.signalCode !== null) return server.exited;
  server.child.kill('SIGTERM');
  const timer = setTimeout(() => server.child.kill('SIGKILL'), timeoutMs);
  const status = await server.exited;
  clearTimeout(timer);
  return status;
}

/** Runs to completion (for examples that must refuse to start). */
export function runToExit(file: string, args: string[], options: { env?: NodeJS.ProcessEnv; wrapper?: string[] } = {}) {
  const command = [...(options.wrapper ?? []), process.execPath, file, ...args];
  const r = spawnSync('unshare', ['-n', '--', 'sh', '-c', 'ip link set lo up && exec "$@"', 'sh', ...command], {
    cwd: repoRoot,
    env: { ...process.env, ...(options.env ?? {}) },
    encoding: 'utf8',
    timeout: 30000,
  });
  return { status: r.status, signal: r.signal, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
}

export interface HttpAnswer {
  status: number;
  body: string;
}

/**
 * GET url from inside the server's network namespace (nsenter, as root). `ca` is a PEM file that
 * the client trusts for https.
 */
export function fetchInside(pid: number, url: string, ca?: string): HttpAnswer {
  const code = `
const u = new URL(process.argv[1]);
const mod = require(u.protocol === 'https:' ? 'https' : 'http');
const opts = process.argv[2] ? { ca: require('fs').readFileSync(process.argv[2]) } : {};
mod.get(u, opts, (res) => { let b = ''; res.setEncoding('utf8'); res.on('data', (d) => (b += d));
  res.on('end', () => console.log(JSON.stringify({ status: res.statusCode, body: b }))); })
  .on('error', (e) => { console.log(JSON.stringify({ status: 0, body: e.code + ' ' + e.message })); });`;
  const r = spawnSync('nsenter', [`--net=/proc/${pid}/ns/net`, process.execPath, '-e', code, url, ca ?? ''], {
    encoding: 'utf8',
    timeout: 15000,
  });
  if (r.status !== 0) throw new Error(`client failed (${r.status}): ${r.stderr}`);
  return JSON.parse(r.stdout.trim().split('\n').pop()!) as HttpAnswer;
}

/**
 * What /proc/<pid>/task/<tid>/status says about one thread, as written there (runs of whitespace
 * as one space): the fields processState() reads (only their names come from lib/state).
 */
export type ProcThread = { tid: number; name: string } & Omit<StatusFields, 'Name' | 'Seccomp'>;

/** Every thread of a process, read from /proc by this (root) test process. */
export function procThreads(pid: number): ProcThread[] {
  const threads: ProcThread[] = [];
  for (const { tid, fields } of threadStatuses(pid)) {
    const field = (key: string) => (fields[key] ?? '').replace(/\s+/g, ' ');
    threads.push({
      tid,
      name: field('Name'),
      Uid: field('Uid'),
      Gid: field('Gid'),
      Groups: field('Groups'),
      CapInh: field('CapInh'),
      CapPrm: field('CapPrm'),
      CapEff: field('CapEff'),
      CapBnd: field('CapBnd'),
      CapAmb: field('CapAmb'),
      NoNewPrivs: field('NoNewPrivs'),
    });
  }
  return threads;
}

export type Expected = Partial<Omit<ProcThread, 'tid' | 'name'>>;

/**
 * The fields of `expected` that some thread does not have, as "tid name field: got X" lines
 * (empty when every thread matches): a readable jest failure.
 */
export function threadMismatches(threads: ProcThread[], expected: Expected): string[] {
  const out: string[] = [];
  for (const t of threads) {
    for (const [key, want] of Object.entries(expected)) {
      const got = t[key as keyof ProcThread];
      if (got !== want) out.push(`${t.tid} ${t.name} ${key}: ${got} (want ${want})`);
    }
  }
  return out;
}

/** The child processes of pid (by the ppid field of /proc/<n>/stat). */
export function childrenOf(pid: number): number[] {
  const out: number[] = [];
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === pid) out.push(Number(entry));
    } catch {
      /* gone */
    }
  }
  return out.sort((a, b) => a - b);
}

export type CapName = keyof typeof CAP;

/** Docker's default capability set for a container (moby's oci/caps/defaults.go). */
export const DOCKER_DEFAULT_CAPS: CapName[] = [
  'chown', 'dac_override', 'fsetid', 'fowner', 'mknod', 'net_raw', 'setgid', 'setuid', 'setfcap', 'setpcap',
  'net_bind_service', 'sys_chroot', 'kill', 'audit_write',
];

/** A throwaway self-signed certificate for localhost (test fixture only), made with openssl in dir. */
export function makeTestCertificate(dir: string): { key: string; cert: string } {
  const key = path.join(dir, 'test-only.key');
  const cert = path.join(dir, 'test-only.pem');
  const r = spawnSync(
    'openssl',
    ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1', '-subj', '/CN=localhost',
      '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1', '-keyout', key, '-out', cert],
    { encoding: 'utf8' },
  );
  if (r.status !== 0) throw new Error(`openssl failed: ${r.stderr}`);
  fs.chmodSync(key, 0o600);
  return { key, cert };
}
