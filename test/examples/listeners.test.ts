// examples/listeners: listeners opened and closed on privileged ports while the server runs, from
// its admin endpoint, with cap_net_bind_service permitted only and raised for each bind. Run for
// real as root in a child process in its own network namespace; every thread is read from /proc
// by this test between the requests.
import { spawnSync } from 'child_process';
import * as path from 'path';
import { describeAsRoot } from '../helpers/child';
import { examplesDir, procThreads, startServer, stopServer, threadMismatches } from '../helpers/servers';
import { CAP, maskHex } from '../helpers/drop';

const ZERO = maskHex();
const BIND = maskHex(CAP.net_bind_service);
const www = spawnSync('id', ['-u', 'www-data'], { encoding: 'utf8' }).stdout.trim();

/** Between binds: www-data, cap_net_bind_service permitted but in effect on no thread. */
const idle = { Uid: `${www} ${www} ${www} ${www}`, CapPrm: BIND, CapEff: ZERO, CapBnd: BIND, CapAmb: ZERO, CapInh: ZERO, NoNewPrivs: '1' };

/**
 * Runs `steps` (requests to the admin endpoint and TCP connections) inside the server's network
 * namespace and returns each answer: [method, path] for HTTP, ['connect', port] for a connection.
 */
function inside(pid: number, steps: [string, string | number][]): unknown[] {
  const code = `
const http = require('http'); const net = require('net');
const steps = JSON.parse(process.argv[1]);
const request = ([method, p]) => new Promise((resolve) => http.request({ host: '127.0.0.1', port: 8025, method, path: p, agent: false }, (res) => {
  let b = ''; res.setEncoding('utf8'); res.on('data', (d) => (b += d)); res.on('end', () => resolve({ status: res.statusCode, body: JSON.parse(b) }));
}).on('error', (e) => resolve({ error: e.code })).end());
const connect = (port) => new Promise((resolve) => { const s = net.connect(port, '127.0.0.1'); let b = '';
  s.setEncoding('utf8'); s.on('data', (d) => (b += d)); s.on('end', () => resolve(b)); s.on('error', (e) => resolve(e.code)); });
(async () => { const out = []; for (const s of steps) out.push(s[0] === 'connect' ? await connect(s[1]) : await request(s)); console.log(JSON.stringify(out)); })();`;
  const r = spawnSync('nsenter', [`--net=/proc/${pid}/ns/net`, process.execPath, '-e', code, JSON.stringify(steps)], { encoding: 'utf8', timeout: 20000 });
  if (r.status !== 0) throw new Error(`client failed (${r.status}): ${r.stderr}`);
  return JSON.parse(r.stdout.trim().split('\n').pop()!);
}

describeAsRoot('examples/listeners', () => {
  test('opens and closes listeners on ports 25 and 587 at run time, each bind with the capability raised for it alone; in effect on no thread in between', async () => {
    const server = await startServer(path.join(examplesDir, 'listeners', 'server.js'), [], { ready: /admin endpoint on 127\.0\.0\.1:8025 as www-data/ });
    try {
      expect(threadMismatches(procThreads(server.pid), idle)).toEqual([]);
      expect(inside(server.pid, [['connect', 25], ['POST', '/listeners/25'], ['connect', 25], ['GET', '/listeners']])).toEqual([
        'ECONNREFUSED',
        { status: 201, body: { opened: 25 } },
        `220 port 25 served by uid ${www}\r\n`,
        { status: 200, body: { ports: [25] } },
      ]);
      // Bound, and the capability is back to permitted only on every thread.
      expect(threadMismatches(procThreads(server.pid), idle)).toEqual([]);
      expect(inside(server.pid, [['POST', '/listeners/587'], ['POST', '/listeners/25'], ['DELETE', '/listeners/25'], ['connect', 25], ['connect', 587], ['POST', '/listeners/25'], ['connect', 25]])).toEqual([
        { status: 201, body: { opened: 587 } },
        { status: 409, body: { error: 'port 25 is already open' } },
        { status: 200, body: { closed: 25 } },
        'ECONNREFUSED',
        `220 port 587 served by uid ${www}\r\n`,
        { status: 201, body: { opened: 25 } }, // opened again, as the same dropped user
        `220 port 25 served by uid ${www}\r\n`,
      ]);
      const threads = procThreads(server.pid);
      expect(threads.length).toBeGreaterThanOrEqual(5);
      expect(threadMismatches(threads, idle)).toEqual([]);
      // The server's own view agrees: no window open, every thread alike.
      const [state] = inside(server.pid, [['GET', '/state']]) as { body: { consistent: boolean; windows: unknown[] } }[];
      expect(state.body.consistent).toBe(true);
      expect(state.body.windows).toEqual([]);
    } finally {
      expect(await stopServer(server)).toBe(0);
    }
    expect(server.output().stderr).toBe('');
  });
});
