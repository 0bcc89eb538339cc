// The server examples (examples/express, examples/fastify, examples/cluster), run for real as
// root, each in a child process in its own network namespace so that it binds the real port 80 or
// 443. Every thread of every process is then read from /proc by this test, not by the server.
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { describeAsRoot } from '../helpers/child';
import {
  childrenOf, examplesDir, fetchInside, makeTestCertificate, procThreads, startServer, stopServer, threadMismatches,
} from '../helpers/servers';
import { CAP, maskHex } from '../helpers/drop';

const ZERO = maskHex();
const BIND = maskHex(CAP.net_bind_service);

/** uid, gid and the supplementary groups initgroups() gives a user, from id(1). */
function account(user: string): { uid: string; gid: string; groups: string } {
  const id = (flag: string) => spawnSync('id', [flag, user], { encoding: 'utf8' }).stdout.trim();
  const groups = id('-G').split(/\s+/).map(Number).sort((a, b) => a - b).join(' ');
  return { uid: id('-u'), gid: id('-g'), groups };
}

const www = account('www-data');
/**
 * What every thread of the express and fastify servers must show once they serve: www-data, no
 * capability in any set (cap_net_bind_service was permitted only, raised for the bind by listen(),
 * then shed with setCapabilities('=')), the bounding set trimmed to it, no_new_privs.
 */
const served = {
  Uid: `${www.uid} ${www.uid} ${www.uid} ${www.uid}`,
  Gid: `${www.gid} ${www.gid} ${www.gid} ${www.gid}`,
  Groups: www.groups,
  CapInh: ZERO,
  CapPrm: ZERO,
  CapEff: ZERO,
  CapBnd: BIND,
  CapAmb: ZERO,
  NoNewPrivs: '1',
};
/** The cluster primary keeps cap_net_bind_service in effect: it binds for workers that may start later. */
const dropped = { ...served, CapPrm: BIND, CapEff: BIND };

describeAsRoot('examples/express', () => {
  test('drops to www-data keeping cap_net_bind_service permitted only, binds port 80 with listen(), sheds it: serves with no capability on any thread', async () => {
    const server = await startServer(path.join(examplesDir, 'express', 'server.js'), [], { ready: /listening on port 80 as www-data .*then shed it: = on \d+ threads/ });
    try {
      const threads = procThreads(server.pid);
      expect(threads.length).toBeGreaterThanOrEqual(5); // main, V8 platform workers, libuv threadpool...
      expect(threadMismatches(threads, served)).toEqual([]);
      const hello = fetchInside(server.pid, 'http://127.0.0.1:80/');
      expect(hello).toEqual({ status: 200, body: `hello from uid ${www.uid} (www-data), pid ${server.pid}\n` });
      const state = fetchInside(server.pid, 'http://127.0.0.1/state');
      expect(state.status).toBe(200);
      const json = JSON.parse(state.body);
      expect(json.pid).toBe(server.pid);
      expect(json.consistent).toBe(true);
      expect(json.threads[0].capabilities.permitted).toEqual({ names: [], mask: '0x0000000000000000' });
      expect(json.threads[0].capabilities.bounding).toEqual({ names: ['cap_net_bind_service'], mask: '0x0000000000000400' });
      // the threadpool ran a request's work by now: read again, it still agrees
      expect(threadMismatches(procThreads(server.pid), served)).toEqual([]);
    } finally {
      expect(await stopServer(server)).toBe(0);
    }
    expect(server.output().stderr).toBe('');
  });
});

describeAsRoot('examples/fastify', () => {
  let dir: string;
  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'privdrop-tls-'));
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  test('reads a root-only TLS key as root, drops on every thread, binds 443 with listen(), sheds the capability, serves HTTPS', async () => {
    const { key, cert } = makeTestCertificate(dir); // throwaway, made for this test
    expect(fs.statSync(key).mode & 0o777).toBe(0o600);
    const server = await startServer(path.join(examplesDir, 'fastify', 'server.js'), [], {
      env: { TLS_KEY: key, TLS_CERT: cert },
      ready: /listening on port 443 \(HTTPS\) as www-data .*then shed it: = on \d+ threads/,
    });
    try {
      const threads = procThreads(server.pid);
      expect(threads.length).toBeGreaterThanOrEqual(5);
      expect(threadMismatches(threads, served)).toEqual([]);
      const hello = fetchInside(server.pid, 'https://127.0.0.1:443/', cert);
      expect(hello).toEqual({ status: 200, body: `hello over TLS from uid ${www.uid} (www-data), pid ${server.pid}\n` });
      const state = JSON.parse(fetchInside(server.pid, 'https://127.0.0.1/state', cert).body);
      expect(state.consistent).toBe(true);
      expect(state.threads.length).toBeGreaterThanOrEqual(5);
      expect(state.threads[0].capabilities.bounding.mask).toBe('0x0000000000000400');
      expect(threadMismatches(procThreads(server.pid), served)).toEqual([]);
    } finally {
      expect(await stopServer(server)).toBe(0);
    }
    expect(server.output().stderr).toBe('');
  });

  test('refuses to start, as root and having changed nothing, when the key cannot be read', async () => {
    const server = startServer(path.join(examplesDir, 'fastify', 'server.js'), [], {
      env: { TLS_KEY: path.join(dir, 'missing.key'), TLS_CERT: path.join(dir, 'missing.pem') },
      ready: /listening/,
    });
    await expect(server).rejects.toThrow(/exited \(1\) before it was ready[\s\S]*cannot read the TLS key or certificate/);
  });
});

describeAsRoot('examples/cluster', () => {
  test('the primary drops and binds port 80; the workers it forks serve with no capability at all', async () => {
    const server = await startServer(path.join(examplesDir, 'cluster', 'server.js'), [], {
      env: { WORKERS: '2' },
      ready: /workers \d+, \d+ listening on port 80/,
    });
    try {
      const announced = /workers (\d+), (\d+)/.exec(server.output().stdout)!.slice(1).map(Number).sort((a, b) => a - b);
      const workers = childrenOf(server.pid);
      expect(workers).toEqual(announced);

      // The primary: every thread dropped, cap_net_bind_service kept (it binds the port for the workers).
      const primary = procThreads(server.pid);
      expect(primary.length).toBeGreaterThanOrEqual(5);
      expect(threadMismatches(primary, dropped)).toEqual([]);

      // Each worker: same user, never root, no capability in any set, the bounding set inherited.
      for (const pid of workers) {
        const threads = procThreads(pid);
        expect(threads.length).toBeGreaterThanOrEqual(5);
        expect(threadMismatches(threads, served)).toEqual([]);
      }

      // Round-robin: the answers come from both workers.
      const answeredBy = new Set<number>();
      for (let i = 0; i < 6; i++) {
        const r = fetchInside(server.pid, 'http://127.0.0.1:80/');
        expect(r.status).toBe(200);
        const m = /^hello from worker (\d+), uid (\d+)\n$/.exec(r.body)!;
        expect(m[2]).toBe(www.uid);
        answeredBy.add(Number(m[1]));
      }
      expect([...answeredBy].sort((a, b) => a - b)).toEqual(workers);
    } finally {
      expect(await stopServer(server)).toBe(0);
    }
    expect(server.output().stderr).toBe('');
  });
});
