// listen(): net, http, https, http2, express and fastify servers on privileged ports, bound with
// cap_net_bind_service raised for the bind only. Real drops as root, in child processes.
// Run with the other port tests in a private network namespace:
//   unshare -n sh -c 'ip link set lo up && npx jest test/runtime/listen.test.ts'
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { describeAsRoot, repoRoot } from '../helpers/child';
import { CAP, maskHex, scenario } from '../helpers/drop';
import { procStatusModule } from '../helpers/proc-status';
import { makeTestCertificate } from '../helpers/servers';

const nbs = maskHex(CAP.net_bind_service);
const none = maskHex();
const modules = path.join(repoRoot, 'examples', 'node_modules');

const common = `
const http = require('http');
const { threadStatuses } = require(${JSON.stringify(procStatusModule)});
// The values of one status field (its first word) over every live thread.
const values = (key) => [...new Set(threadStatuses().map((t) => t.fields[key].split(/\\s+/)[0]))].sort();
// A loopback address of its own (127.x.y.z): parallel tests never bind the same address and port.
const host = '127.' + (1 + Math.floor(Math.random() * 250)) + '.' + Math.floor(Math.random() * 250) + '.' + (2 + Math.floor(Math.random() * 250));
const get = (url, options = {}) => new Promise((resolve) => {
  const mod = url.startsWith('https:') ? require('https') : http;
  mod.get(url, options, (res) => { let body = ''; res.on('data', (c) => (body += c)); res.on('end', () => resolve(res.statusCode + ' ' + body)); })
    .on('error', (e) => resolve(e.code));
});
const settle = (p) => p.then((s) => ({ ok: true, address: s.address() }), (e) => ({ ok: false, code: e.code, name: e.name, message: e.message, syscall: e.syscall, address: e.address, port: e.port }));
const drop = (caps) => tryDrop({ user: 'nobody', capabilities: caps, supplementaryGroups: 'clear' });
const modules = ${JSON.stringify(modules)};
`;

function run(body: string) {
  const r = scenario(common + body, { timeoutMs: 60000 });
  if (r.json === undefined) throw new Error(`no report; status ${r.status} signal ${r.signal}\n${r.stderr}`);
  return r.json;
}

describeAsRoot('listen()', () => {
  test("Node's own listen(port, host) inside a window misses it: the lookup defers the bind (why listen() exists)", () => {
    const j = run(`
      drop('cap_net_bind_service+p');
      const s = net.createServer();
      const code = await new Promise((res) => {
        s.once('error', (e) => res(e.code));
        privdrop.withCapabilities(['cap_net_bind_service'], () => s.listen(80, host, () => res('ok')));
      });
      report({ code, eff: values('CapEff') });
      process.exit(0);
    `);
    expect(j).toEqual({ code: 'EACCES', eff: [none] });
  });

  test("docs/api.md's table: express app.listen(port) inside a window works, fastify.listen() inside one does not", () => {
    const j = run(`
      const express = require(modules + '/express');
      const Fastify = require(modules + '/fastify');
      drop('cap_net_bind_service+p');
      const app = express();
      app.get('/', (q, r) => r.send('express'));
      const port = 900 + Math.floor(Math.random() * 100);
      const server = privdrop.withCapabilities(['cap_net_bind_service'], () => app.listen(port));
      const expressResult = await new Promise((res) => { server.once('error', (e) => res(e.code)); server.once('listening', () => res('ok')); });
      server.close();
      const f = Fastify();
      let pending;
      privdrop.withCapabilities(['cap_net_bind_service'], () => { pending = f.listen({ port: 80, host }); });
      const fastifyResult = await pending.then(() => 'ok', (e) => e.code);
      report({ expressResult, fastifyResult, eff: values('CapEff') });
      process.exit(0);
    `);
    expect(j).toEqual({ expressResult: 'ok', fastifyResult: 'EACCES', eff: [none] });
  });

  test('net and http servers on :80, a host name resolved before the window, every thread effective-free afterwards', () => {
    const j = run(`
      const d = drop('cap_net_bind_service+p');
      const plain = net.createServer((c) => c.end('net'));
      const a = await settle(privdrop.listen(plain, { port: 80, host }));
      const web = http.createServer((q, r) => r.end('http'));
      const b = await settle(privdrop.listen(web, { port: 80, host: 'localhost' }));
      const body = await get('http://localhost:80/');
      const after = { eff: values('CapEff'), prm: values('CapPrm') };
      const direct = await new Promise((res) => { const s = net.createServer(); s.once('error', (e) => res(e.code)); s.listen(80, host, () => res('ok')); });
      report({ d: d.ok, a, b, body, after, direct });
      process.exit(0);
    `);
    expect(j.d).toBe(true);
    expect(j.a).toMatchObject({ ok: true, address: { port: 80, family: 'IPv4' } });
    expect(j.b).toMatchObject({ ok: true, address: { port: 80 } });
    expect(['127.0.0.1', '::1']).toContain(j.b.address.address);
    expect(j.body).toBe('200 http');
    expect(j.after).toEqual({ eff: [none], prm: [nbs] });
    expect(j.direct).toBe('EACCES'); // outside the window: the kernel checks the port's privilege before its use
  });

  test('https on :443 and http2 on :80', () => {
    const tls = makeTestCertificate(fs.mkdtempSync(path.join(os.tmpdir(), 'privdrop-tls-')));
    const j = run(`
      const tlsOptions = { key: fs.readFileSync(${JSON.stringify(tls.key)}), cert: fs.readFileSync(${JSON.stringify(tls.cert)}) };
      drop('cap_net_bind_service+p');
      const secure = require('https').createServer(tlsOptions, (q, r) => r.end('https'));
      const a = await settle(privdrop.listen(secure, { port: 443, host }));
      const body = await get('https://' + host + ':443/', { rejectUnauthorized: false });
      const http2 = require('http2');
      const h2 = http2.createServer();
      h2.on('stream', (stream) => { stream.respond({ ':status': 200 }); stream.end('h2'); });
      const b = await settle(privdrop.listen(h2, { port: 80, host }));
      const h2body = await new Promise((resolve) => {
        const client = http2.connect('http://' + host + ':80');
        client.on('error', (e) => resolve(e.code));
        const req = client.request({ ':path': '/' });
        let data = '';
        req.on('data', (c) => (data += c));
        req.on('end', () => { client.close(); resolve(data); });
      });
      const h2s = http2.createSecureServer(tlsOptions);
      const c = await settle(privdrop.listen(h2s, { port: 443, host: '127.0.0.1' === host ? '127.0.0.2' : host.replace(/\\.\\d+$/, '.1') }));
      report({ a, body, b, h2body, c, eff: values('CapEff') });
      process.exit(0);
    `);
    fs.rmSync(path.dirname(tls.key), { recursive: true, force: true });
    expect(j.a).toMatchObject({ ok: true, address: { port: 443 } });
    expect(j.body).toBe('200 https');
    expect(j.b).toMatchObject({ ok: true, address: { port: 80 } });
    expect(j.h2body).toBe('h2');
    expect(j.c).toMatchObject({ ok: true, address: { port: 443 } });
    expect(j.eff).toEqual([none]);
  });

  test('express: the app (listen() resolves with the server app.listen returns) and http.createServer(app), on :80 and :443', () => {
    const j = run(`
      const express = require(modules + '/express');
      drop('cap_net_bind_service+p');
      const app = express();
      app.get('/', (q, r) => r.send('express'));
      const server = await privdrop.listen(app, { port: 80, host });
      const isServer = server instanceof http.Server && server.listening;
      const body = await get('http://' + host + ':80/');
      const b = await settle(privdrop.listen(http.createServer(app), { port: 443, host }));
      const body443 = await get('http://' + host + ':443/');
      report({ isServer, body, b, body443, eff: values('CapEff') });
      process.exit(0);
    `);
    expect(j.isServer).toBe(true);
    expect(j.body).toBe('200 express');
    expect(j.b).toMatchObject({ ok: true, address: { port: 443 } });
    expect(j.body443).toBe('200 express');
    expect(j.eff).toEqual([none]);
  });

  test('fastify: the instance (listen() awaits ready()) and fastify.server after ready(), on :443 and :80', () => {
    const j = run(`
      const Fastify = require(modules + '/fastify');
      drop('cap_net_bind_service+p');
      const f1 = Fastify();
      f1.get('/', async () => 'fastify one');
      const a = await settle(privdrop.listen(f1, { port: 443, host }));
      const body = await get('http://' + host + ':443/');
      const f2 = Fastify();
      f2.get('/', async () => 'fastify two');
      await f2.ready();
      const b = await settle(privdrop.listen(f2.server, { port: 80, host }));
      const body2 = await get('http://' + host + ':80/');
      report({ a, body, b, body2, eff: values('CapEff') });
      process.exit(0);
    `);
    expect(j.a).toMatchObject({ ok: true, address: { port: 443 } });
    expect(j.body).toBe('200 fastify one');
    expect(j.b).toMatchObject({ ok: true, address: { port: 80 } });
    expect(j.body2).toBe('200 fastify two');
    expect(j.eff).toEqual([none]);
  });

  test('without a host: every address, as Node does', () => {
    const j = run(`
      drop('cap_net_bind_service+p');
      const port = 900 + Math.floor(Math.random() * 100);
      const s = await privdrop.listen(http.createServer((q, r) => r.end('any')), { port });
      report({ address: s.address(), body: await get('http://127.0.0.1:' + port + '/'), port });
      process.exit(0);
    `);
    expect(j.address).toMatchObject({ address: '::', family: 'IPv6', port: j.port });
    expect(j.body).toBe('200 any');
  });

  test("rejects with the server's error: EACCES without the capability, EADDRINUSE, and refuses what it cannot do", () => {
    const j = run(`
      drop('=');
      const s = net.createServer();
      const denied = await settle(privdrop.listen(s, { port: 80, host }));
      const listening = s.listening;
      const high = await privdrop.listen(net.createServer(), { port: 0, host });
      const inUse = await settle(privdrop.listen(net.createServer(), { port: high.address().port, host }));
      const again = await settle(privdrop.listen(high, { port: 0, host }));
      const notHeld = await settle(privdrop.listen(net.createServer(), { port: 80, host, capabilities: ['cap_net_bind_service'] }));
      const badPort = await settle(privdrop.listen(net.createServer(), { port: 70000 }));
      const badOption = await settle(privdrop.listen(net.createServer(), { port: 80, hots: 'x' }));
      const notServer = await settle(privdrop.listen({}, { port: 80 }));
      const w = new Worker(\`
        const { parentPort, workerData } = require('worker_threads');
        require(workerData).listen(require('net').createServer(), { port: 0 }).then(() => parentPort.postMessage('ok'), (e) => parentPort.postMessage(e.code));
      \`, { eval: true, workerData: ${JSON.stringify(path.join(repoRoot, 'dist', 'index.js'))} });
      const worker = await new Promise((res) => w.once('message', res));
      report({ denied, listening, inUse, again, notHeld, badPort, badOption, notServer, worker });
      process.exit(0);
    `);
    expect(j.denied).toMatchObject({ ok: false, code: 'EACCES', syscall: 'listen', port: 80 });
    expect(j.denied.message).toMatch(/^listen EACCES: permission denied 127\.\d+\.\d+\.\d+:80$/);
    expect(j.listening).toBe(false);
    expect(j.inUse).toMatchObject({ ok: false, code: 'EADDRINUSE', syscall: 'listen' });
    expect(j.again).toMatchObject({ ok: false, code: 'ERR_PRIVDROP_INVALID_ARGUMENT' });
    expect(j.notHeld).toMatchObject({ ok: false, code: 'ERR_PRIVDROP_CAPABILITY_NOT_HELD' });
    expect(j.badPort).toMatchObject({ ok: false, name: 'RangeError' });
    expect(j.badOption).toMatchObject({ ok: false, code: 'ERR_PRIVDROP_INVALID_ARGUMENT' });
    expect(j.notServer).toMatchObject({ ok: false, name: 'TypeError' });
    expect(j.worker).toBe('ERR_PRIVDROP_NOT_MAIN_THREAD');
  });

  test('in a cluster worker the primary binds: listen() passes the request on (works when the primary may bind)', () => {
    const j = run(`
      const cluster = require('cluster');
      cluster.setupPrimary({ exec: ${JSON.stringify(path.join(repoRoot, 'test', 'fixtures', 'cluster-worker.js'))}, args: [host, 'listen'], execArgv: [] });
      // The primary stays root here; each worker drops everything and binds :80 through the primary.
      const workers = [cluster.fork(), cluster.fork()];
      const answers = await Promise.all(workers.map((w) => new Promise((res) => w.once('message', res))));
      const bodies = await Promise.all([1, 2, 3, 4].map(() => get('http://' + host + ':80/')));
      workers.forEach((w) => w.kill());
      report({ answers, served: bodies.every((b) => b.startsWith('200 worker')) });
      process.exit(0);
    `);
    for (const a of j.answers) expect(a).toMatchObject({ dropped: true, listened: true, port: 80, prm: none });
    expect(j.served).toBe(true);
  });

  test('in a cluster worker, a window around server.listen({ port, exclusive: true }) binds in the worker itself', () => {
    const j = run(`
      const cluster = require('cluster');
      const port = 900 + Math.floor(Math.random() * 100); // no host: every address, so not 80 (other tests use 127.0.0.1:80)
      cluster.setupPrimary({ exec: ${JSON.stringify(path.join(repoRoot, 'test', 'fixtures', 'cluster-worker.js'))}, args: [host, 'window', String(port)], execArgv: [] });
      const w = cluster.fork();
      const answer = await new Promise((res) => w.once('message', res));
      const body = await get('http://127.0.0.1:' + port + '/');
      w.kill();
      report({ answer, body });
      process.exit(0);
    `);
    expect(j.answer).toMatchObject({ dropped: true, listened: true, prm: nbs, eff: none });
    expect(j.answer.port).toBeLessThan(1024);
    expect(j.body).toMatch(/^200 worker \d+$/);
  });
});
