// setCapabilities() and withCapabilities(), for real as root in child processes; every thread's
// state comes from /proc/self/task/*/status.
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { describeAsRoot, distEntry, faultsBinding, RunOptions } from '../helpers/child';
import { CAP, maskHex, scenario } from '../helpers/drop';
import { procStatusModule } from '../helpers/proc-status';

const nbs = maskHex(CAP.net_bind_service);
const none = maskHex();

// Code shared by the scenarios: every thread's sets, a bind on a privileged port of a private
// loopback address (127.x.y.z, so that parallel test files never share an address), threads.
const common = `
const { threadStatuses } = require(${JSON.stringify(procStatusModule)});
const threadsOf = () => threadStatuses().map(({ tid, fields: f }) =>
  ({ tid, name: f.Name, prm: f.CapPrm, eff: f.CapEff, inh: f.CapInh, amb: f.CapAmb, bnd: f.CapBnd, uid: f.Uid }));
const values = (key) => [...new Set(threadsOf().map((t) => t[key]))].sort();
const host = '127.' + (1 + Math.floor(Math.random() * 250)) + '.' + Math.floor(Math.random() * 250) + '.' + (2 + Math.floor(Math.random() * 250));
const bindNow = (port) => { const s = net.createServer(); s.listen(port); return s; }; // no host: binds synchronously
const bindAsync = (port, h) => new Promise((resolve) => {
  const s = net.createServer();
  s.once('error', (e) => resolve(e.code));
  s.listen(port, h || host, () => s.close(() => resolve('ok')));
});
let baseline = 0;
const withThreads = async () => {
  baseline = fs.readdirSync('/proc/self/task').length;
  const worker = new Worker("require('worker_threads').parentPort.postMessage('up'); setInterval(() => {}, 1 << 30)", { eval: true });
  await new Promise((res) => worker.once('message', res));
  await Promise.all([1, 2, 3, 4].map(() => new Promise((res) => fs.readFile(__filename, res))));
  await new Promise((res) => require('crypto').pbkdf2('x', 'y', 1000, 32, 'sha256', res));
  return worker;
};
const attempt = (fn) => { try { return { ok: true, value: fn() }; } catch (e) { return { ok: false, code: e.code, message: e.message }; } };
`;

function run(body: string, options: RunOptions = {}) {
  const r = scenario(common + body, options);
  if (r.json === undefined) throw new Error(`no report; status ${r.status} signal ${r.signal}\n${r.stderr}`);
  return r.json;
}

describeAsRoot('withCapabilities()', () => {
  test('a permitted-only capability cannot be used outside a window, can inside it, and every thread is back afterwards', () => {
    const j = run(`
      const worker = await withThreads();
      const d = tryDrop({ user: 'nobody', capabilities: 'cap_net_bind_service+p', supplementaryGroups: 'clear' });
      const outside = await bindAsync(80);
      let during, bound;
      const returned = privdrop.withCapabilities(['cap_net_bind_service'], () => {
        const main = threadsOf().find((t) => t.tid === process.pid);
        during = { main: main.eff, others: [...new Set(threadsOf().filter((t) => t.tid !== process.pid).map((t) => t.eff))] };
        bound = bindNow(80);
        return 'value';
      });
      await new Promise((res) => bound.once('listening', res));
      const port = bound.address().port;
      bound.close();
      report({ d, outside, during, returned, port, after: { eff: values('eff'), prm: values('prm') }, added: threadsOf().length - baseline });
      await worker.terminate();
    `);
    expect(j.d.ok).toBe(true);
    expect(j.outside).toBe('EACCES');
    expect(j.during).toEqual({ main: nbs, others: [none] });
    expect(j.returned).toBe('value');
    expect(j.port).toBe(80);
    expect(j.after).toEqual({ eff: [none], prm: [nbs] });
    expect(j.added).toBeGreaterThanOrEqual(5); // the Worker and the four threadpool threads
  });

  test('lowers again when the function throws; nested windows; a capability already effective stays', () => {
    const j = run(`
      tryDrop({ user: 'nobody', capabilities: 'cap_net_bind_service,cap_net_raw+p', supplementaryGroups: 'clear' });
      const eff = () => threadsOf().find((t) => t.tid === process.pid).eff;
      const thrown = attempt(() => privdrop.withCapabilities(['cap_net_bind_service'], () => { throw Object.assign(new Error('boom'), { code: 'MINE' }); }));
      const afterThrow = eff();
      const seen = [];
      privdrop.withCapabilities('cap_net_raw', () => {
        seen.push(eff());
        privdrop.withCapabilities(['cap_net_bind_service', 'cap_net_raw'], () => seen.push(eff()));
        seen.push(eff());
      });
      seen.push(eff());
      privdrop.setCapabilities('cap_net_bind_service+ep cap_net_raw+p');
      privdrop.withCapabilities(['cap_net_bind_service'], () => seen.push(eff()));
      seen.push(eff());
      report({ thrown, afterThrow, seen });
    `);
    const raw = maskHex(CAP.net_raw);
    const both = maskHex(CAP.net_raw, CAP.net_bind_service);
    expect(j.thrown).toMatchObject({ ok: false, code: 'MINE' });
    expect(j.afterThrow).toBe(none);
    expect(j.seen).toEqual([raw, both, raw, none, nbs, nbs]);
  });

  test('refuses what is not permitted, async functions (before running them) and returned promises (window closed)', () => {
    const j = run(`
      tryDrop({ user: 'nobody', capabilities: 'cap_net_bind_service+p', supplementaryGroups: 'clear' });
      let ran = false;
      const notHeld = attempt(() => privdrop.withCapabilities(['cap_net_raw'], () => { ran = true; }));
      const asyncFn = attempt(() => privdrop.withCapabilities(['cap_net_bind_service'], async () => { ran = true; }));
      let insidePromise;
      const promise = attempt(() => privdrop.withCapabilities(['cap_net_bind_service'], () => {
        insidePromise = threadsOf().find((t) => t.tid === process.pid).eff;
        return new Promise(() => {});
      }));
      const badName = attempt(() => privdrop.withCapabilities(['cap_nope'], () => 1));
      const notFn = attempt(() => privdrop.withCapabilities(['cap_net_bind_service'], 42));
      report({ ran, notHeld, asyncFn, promise, insidePromise, badName, notFn, eff: values('eff') });
    `);
    expect(j.ran).toBe(false);
    expect(j.notHeld).toMatchObject({ ok: false, code: 'ERR_PRIVDROP_CAPABILITY_NOT_HELD' });
    expect(j.notHeld.message).toContain('cap_net_raw');
    expect(j.asyncFn).toMatchObject({ ok: false, code: 'ERR_PRIVDROP_INVALID_ARGUMENT' });
    expect(j.asyncFn.message).toMatch(/await/);
    expect(j.promise).toMatchObject({ ok: false, code: 'ERR_PRIVDROP_INVALID_ARGUMENT' });
    expect(j.promise.message).toMatch(/promise/);
    expect(j.insidePromise).toBe(nbs);
    expect(j.badName).toMatchObject({ ok: false, code: 'ERR_PRIVDROP_INVALID_CAPABILITIES' });
    expect(j.notFn.ok).toBe(false);
    expect(j.eff).toEqual([none]);
  });

  test('what a window covers: synchronous calls on the calling thread; not the threadpool, not deferred binds', () => {
    const secret = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'privdrop-window-')), 'secret');
    fs.writeFileSync(secret, 'root only', { mode: 0o600 });
    fs.chmodSync(path.dirname(secret), 0o755);
    let j;
    try {
      j = run(`
      const secret = ${JSON.stringify(secret)};
      const worker = await withThreads();
      tryDrop({ user: 'nobody', capabilities: 'cap_dac_read_search,cap_net_bind_service+p', supplementaryGroups: 'clear' });
      const caps = ['cap_dac_read_search', 'cap_net_bind_service'];
      const outside = attempt(() => fs.readFileSync(secret, 'utf8')).code || 'read';
      const sync = privdrop.withCapabilities(caps, () => fs.readFileSync(secret, 'utf8'));
      let pending;
      privdrop.withCapabilities(caps, () => { pending = readAsync(secret); });
      const async = await pending;
      const dgramCode = await new Promise((res) => {
        const sock = require('dgram').createSocket('udp4');
        sock.once('error', (e) => res(e.code));
        privdrop.withCapabilities(caps, () => sock.bind(80, () => { sock.close(); res('ok'); }));
      });
      report({ outside, sync, async, dgramCode, eff: values('eff') });
      await worker.terminate();
    `);
    } finally {
      fs.rmSync(path.dirname(secret), { recursive: true, force: true });
    }
    expect(j.outside).toBe('EACCES');
    expect(j.sync).toBe('root only');
    expect(j.async).toBe('EACCES'); // fs.readFile runs on a threadpool thread, outside the window
    expect(j.dgramCode).toBe('EACCES'); // dgram looks the address up first, so the bind comes after the window
    expect(j.eff).toEqual([none]);
  });

  test("in a Worker, raises on the Worker's own thread only", () => {
    const j = run(`
      tryDrop({ user: 'nobody', capabilities: 'cap_net_bind_service+p', supplementaryGroups: 'clear' });
      const w = new Worker(\`
        const { parentPort, workerData } = require('worker_threads');
        const privdrop = require(workerData.dist);
        const fs = require('fs');
        const tid = () => Number(fs.readlinkSync('/proc/thread-self').split('/').pop());
        const effOf = (t) => /^CapEff:\\\\s*(\\\\S+)/m.exec(fs.readFileSync('/proc/self/task/' + t + '/status', 'utf8'))[1];
        const r = privdrop.withCapabilities(['cap_net_bind_service'], () => ({ self: effOf(tid()), main: effOf(process.pid) }));
        parentPort.postMessage({ ...r, after: effOf(tid()) });
      \`, { eval: true, workerData: { dist: ${JSON.stringify(distEntry)} } });
      const m = await new Promise((res, rej) => { w.once('message', res); w.once('error', rej); });
      report({ m, eff: values('eff') });
    `);
    expect(j.m).toEqual({ self: nbs, main: none, after: none });
    expect(j.eff).toEqual([none]);
  });
});

describeAsRoot('processState() and windows', () => {
  test('a thread inside a window is named, not reported inconsistent; a thread raised behind our back still is', () => {
    const j = run(`
      tryDrop({ user: 'nobody', capabilities: 'cap_net_bind_service,cap_net_raw+p', supplementaryGroups: 'clear' });
      const mainWindow = privdrop.withCapabilities(['cap_net_bind_service'], () => {
        const s = privdrop.processState();
        return { consistent: s.consistent, windows: s.windows.map((w) => ({ main: w.tid === process.pid, raised: w.raised, depth: w.depth })) };
      });
      const shared = new Int32Array(new SharedArrayBuffer(8));
      const w = new Worker(\`
        const { parentPort, workerData } = require('worker_threads');
        const privdrop = require(workerData.dist);
        const tid = Number(require('fs').readlinkSync('/proc/thread-self').split('/').pop());
        privdrop.withCapabilities(['cap_net_raw'], () => {
          privdrop.withCapabilities(['cap_net_raw'], () => {
            parentPort.postMessage(tid);
            Atomics.wait(workerData.shared, 0, 0, 10000);
          });
        });
        // Now raise it behind privdrop's back (the raw binding: no window).
        const native = require(workerData.binding).binding();
        const c = native.capGetProc();
        native.capSetProc({ ...c, effective: c.permitted });
        parentPort.postMessage('raw');
        Atomics.wait(workerData.shared, 1, 0, 10000);
      \`, { eval: true, workerData: { dist: ${JSON.stringify(distEntry)}, binding: ${JSON.stringify(distEntry.replace(/index\.js$/, 'addon/binding.js'))}, shared } });
      const workerTid = await new Promise((res) => w.once('message', res));
      const s = privdrop.processState();
      const inWorker = { consistent: s.consistent, differences: s.differences, windows: s.windows.map((x) => ({ worker: x.tid === workerTid, raised: x.raised, depth: x.depth })) };
      const formatted = privdrop.formatProcessState(s);
      Atomics.store(shared, 0, 1); Atomics.notify(shared, 0);
      await new Promise((res) => w.once('message', res));
      const raw = privdrop.processState();
      Atomics.store(shared, 1, 1); Atomics.notify(shared, 1);
      report({ mainWindow, inWorker, formatted, raw: { consistent: raw.consistent, fields: raw.differences.map((d) => d.field), windows: raw.windows.length } });
      process.exit(0);
    `);
    expect(j.mainWindow).toEqual({ consistent: true, windows: [{ main: true, raised: ['cap_net_bind_service'], depth: 1 }] });
    expect(j.inWorker).toEqual({ consistent: true, differences: [], windows: [{ worker: true, raised: ['cap_net_raw'], depth: 2 }] });
    expect(j.formatted).toMatch(/windows\s+thread \d+ inside 2 withCapabilities\(\) windows: cap_net_raw/);
    expect(j.raw).toEqual({ consistent: false, fields: ['CapEff'], windows: 0 });
  });
});

describeAsRoot('setCapabilities()', () => {
  test('lowers every thread, Workers and the threadpool included, verified; raising again fails with nothing changed', () => {
    const j = run(`
      const worker = await withThreads();
      const d = tryDrop({ user: 'nobody', capabilities: 'cap_net_bind_service+ep', supplementaryGroups: 'clear' });
      const before = { prm: values('prm'), eff: values('eff'), bnd: values('bnd') };
      const r = privdrop.setCapabilities('=');
      const after = { prm: values('prm'), eff: values('eff'), inh: values('inh'), amb: values('amb'), bnd: values('bnd') };
      const snapshot = JSON.stringify(threadsOf());
      const again = attempt(() => privdrop.setCapabilities('cap_net_bind_service+p'));
      const unchanged = JSON.stringify(threadsOf()) === snapshot;
      const port = await bindAsync(80);
      report({ d, before, r, after, again, unchanged, port, added: threadsOf().length - baseline, threads: threadsOf().length });
      await worker.terminate();
    `);
    expect(j.d.ok).toBe(true);
    expect(j.before).toEqual({ prm: [nbs], eff: [nbs], bnd: [nbs] });
    expect(j.added).toBeGreaterThanOrEqual(5); // the Worker and the four threadpool threads
    expect(j.r).toMatchObject({ capabilities: '=', effective: [], permitted: [], inheritable: [], ambient: [], bounding: ['cap_net_bind_service'] });
    expect(j.r.threads).toBe(j.threads);
    expect(j.after).toEqual({ prm: [none], eff: [none], inh: [none], amb: [none], bnd: [nbs] });
    expect(j.again).toMatchObject({ ok: false, code: 'ERR_PRIVDROP_CAPABILITY_NOT_HELD' });
    expect(j.unchanged).toBe(true);
    expect(j.port).toBe('EACCES');
  });

  test('moves capabilities between effective and permitted on every thread, and lowers the ambient set', () => {
    const j = run(`
      const worker = await withThreads();
      tryDrop({ user: 'nobody', capabilities: 'cap_net_bind_service,cap_net_raw+ep', ambient: true, supplementaryGroups: 'clear' });
      const start = { eff: values('eff'), amb: values('amb') };
      const toP = privdrop.setCapabilities('cap_net_bind_service,cap_net_raw+p');
      const permittedOnly = { prm: values('prm'), eff: values('eff'), inh: values('inh'), amb: values('amb'), port: await bindAsync(80) };
      const back = privdrop.setCapabilities(['cap_net_bind_service']);
      const effectiveAgain = { prm: values('prm'), eff: values('eff'), amb: values('amb'), port: await bindAsync(80) };
      report({ start, toP: toP.capabilities, permittedOnly, back: back.capabilities, effectiveAgain });
      await worker.terminate();
    `);
    const both = maskHex(CAP.net_raw, CAP.net_bind_service);
    expect(j.start).toEqual({ eff: [both], amb: [both] });
    expect(j.toP).toBe('cap_net_bind_service,cap_net_raw=p');
    // inheritable lowered, so the kernel's rule (ambient within permitted and inheritable) empties the ambient set
    expect(j.permittedOnly).toEqual({ prm: [both], eff: [none], inh: [none], amb: [none], port: 'EACCES' });
    expect(j.back).toBe('cap_net_bind_service=ep');
    expect(j.effectiveAgain).toEqual({ prm: [nbs], eff: [nbs], amb: [none], port: 'ok' });
  });

  test('ambient option: lowers the ambient set only; refuses to raise it', () => {
    const j = run(`
      tryDrop({ user: 'nobody', capabilities: 'cap_net_bind_service,cap_net_raw+ep', ambient: true, supplementaryGroups: 'clear' });
      const r = privdrop.setCapabilities('cap_net_bind_service,cap_net_raw+eip', { ambient: ['cap_net_raw'] });
      const lowered = values('amb');
      const raise = attempt(() => privdrop.setCapabilities('cap_net_bind_service,cap_net_raw+eip', { ambient: ['cap_net_bind_service'] }));
      report({ r: r.ambient, lowered, raise, amb: values('amb') });
    `);
    expect(j.r).toEqual(['cap_net_raw']);
    expect(j.lowered).toEqual([maskHex(CAP.net_raw)]);
    expect(j.raise).toMatchObject({ ok: false, code: 'ERR_PRIVDROP_CAPABILITY_NOT_HELD' });
    expect(j.amb).toEqual([maskHex(CAP.net_raw)]);
  });

  test('argument errors and a call inside a window change nothing', () => {
    const j = run(`
      tryDrop({ user: 'nobody', capabilities: 'cap_net_bind_service+p', supplementaryGroups: 'clear' });
      const snapshot = JSON.stringify(threadsOf());
      const results = {
        effOnly: attempt(() => privdrop.setCapabilities('cap_net_bind_service+e')),
        text: attempt(() => privdrop.setCapabilities('cap_net_bind_service+x')),
        type: attempt(() => privdrop.setCapabilities(42)),
        option: attempt(() => privdrop.setCapabilities('=', { bounding: [] })),
        inWindow: attempt(() => privdrop.withCapabilities(['cap_net_bind_service'], () => privdrop.setCapabilities('='))),
      };
      report({ results, unchanged: JSON.stringify(threadsOf()) === snapshot });
    `);
    expect(j.results.effOnly).toMatchObject({ ok: false, code: 'ERR_PRIVDROP_INVALID_CAPABILITIES' });
    expect(j.results.text).toMatchObject({ ok: false, code: 'ERR_PRIVDROP_INVALID_CAPABILITIES' });
    expect(j.results.type.ok).toBe(false);
    expect(j.results.option).toMatchObject({ ok: false, code: 'ERR_PRIVDROP_INVALID_ARGUMENT' });
    expect(j.results.inWindow).toMatchObject({ ok: false, code: 'ERR_PRIVDROP_INVALID_ARGUMENT' });
    expect(j.unchanged).toBe(true);
  });

  test('dropPrivileges() is held off by windows too: refused inside one, its verification never meets a raised Worker', () => {
    const j = run(`
      const inside = privdrop.withCapabilities(['cap_net_bind_service'], () => tryDrop({ user: 'nobody', capabilities: 'cap_net_bind_service+p' }));
      const code = \`
        const { parentPort, workerData } = require('worker_threads');
        const privdrop = require(workerData);
        let windows = 0;
        parentPort.postMessage('up');
        const loop = () => {
          for (let i = 0; i < 200; i++) privdrop.withCapabilities(['cap_net_bind_service'], () => { windows++; });
          if (windows < 20000) setImmediate(loop); else parentPort.postMessage(windows);
        };
        loop();
      \`;
      const workers = [1, 2].map(() => new Worker(code, { eval: true, workerData: ${JSON.stringify(distEntry)} }));
      await Promise.all(workers.map((w) => new Promise((res) => w.once('message', res))));
      const done = Promise.all(workers.map((w) => new Promise((res) => w.once('message', res))));
      await new Promise((res) => setTimeout(res, 20));
      const d = tryDrop({ user: 'nobody', capabilities: 'cap_net_bind_service+p', supplementaryGroups: 'clear' });
      const counts = await done;
      report({ inside, d: d.ok, counts, eff: values('eff'), prm: values('prm') });
    `);
    expect(j.inside).toMatchObject({ ok: false, code: 'ERR_PRIVDROP_INVALID_ARGUMENT' });
    expect(j.d).toBe(true);
    expect(j.counts).toEqual([20000, 20000]);
    expect(j.eff).toEqual([none]);
    expect(j.prm).toEqual([nbs]);
  });

  test('from a Worker: ERR_PRIVDROP_NOT_MAIN_THREAD', () => {
    const j = run(`
      tryDrop({ user: 'nobody', capabilities: 'cap_net_bind_service+ep', supplementaryGroups: 'clear' });
      const w = new Worker(\`
        const { parentPort, workerData } = require('worker_threads');
        try { require(workerData).setCapabilities('='); parentPort.postMessage('no error'); }
        catch (e) { parentPort.postMessage(e.code); }
      \`, { eval: true, workerData: ${JSON.stringify(distEntry)} });
      report({ code: await new Promise((res) => w.once('message', res)), prm: values('prm') });
    `);
    expect(j).toEqual({ code: 'ERR_PRIVDROP_NOT_MAIN_THREAD', prm: [nbs] });
  });

  test('Workers opening windows all the time while the main thread lowers: windows and broadcasts exclude each other', () => {
    const j = run(`
      tryDrop({ user: 'nobody', capabilities: 'cap_net_bind_service,cap_net_raw,cap_chown+p', supplementaryGroups: 'clear' });
      const code = \`
        const { parentPort, workerData } = require('worker_threads');
        const privdrop = require(workerData);
        let windows = 0, refused = 0, other = '';
        parentPort.postMessage('up');
        const loop = () => {
          for (let i = 0; i < 200; i++) {
            try { privdrop.withCapabilities(['cap_net_raw'], () => { windows++; }); }
            catch (e) { if (e.code === 'ERR_PRIVDROP_CAPABILITY_NOT_HELD') refused++; else other = e.code + ' ' + e.message; }
          }
          if (refused > 0 || other) parentPort.postMessage({ windows, refused, other }); else setImmediate(loop);
        };
        loop();
      \`;
      const workers = [1, 2, 3].map(() => new Worker(code, { eval: true, workerData: ${JSON.stringify(distEntry)} }));
      await Promise.all(workers.map((w) => new Promise((res) => w.once('message', res))));
      const done = workers.map((w) => new Promise((res) => w.once('message', res)));
      await new Promise((res) => setTimeout(res, 50));
      const r1 = privdrop.setCapabilities('cap_net_bind_service,cap_net_raw+p');
      await new Promise((res) => setTimeout(res, 20));
      const r2 = privdrop.setCapabilities('cap_net_bind_service+p');
      const results = await Promise.all(done);
      report({ r1: r1.capabilities, r2: r2.capabilities, results, prm: values('prm'), eff: values('eff') });
      process.exit(0);
    `);
    expect(j.r1).toBe('cap_net_bind_service,cap_net_raw=p');
    expect(j.r2).toBe('cap_net_bind_service=p');
    expect(j.prm).toEqual([nbs]);
    expect(j.eff).toEqual([none]);
    for (const r of j.results) {
      expect(r.other).toBe('');
      expect(r.refused).toBeGreaterThan(0);
      expect(r.windows).toBeGreaterThan(0);
    }
  });
});

describeAsRoot('setCapabilities() failures (fault-injection build)', () => {
  const faulty = (fault: string): RunOptions => ({ binding: faultsBinding, env: { PRIVDROP_FAULT: fault } });

  test.each(['setcaps-noop@thread', 'setcaps-trial'])('%s: throws, and no thread changed', (fault) => {
    const j = run(
      `
      const worker = await withThreads();
      tryDrop({ user: 'nobody', capabilities: 'cap_net_bind_service+ep', supplementaryGroups: 'clear' });
      const snapshot = JSON.stringify(threadsOf());
      const r = attempt(() => privdrop.setCapabilities('='));
      report({ r, unchanged: JSON.stringify(threadsOf()) === snapshot, prm: values('prm') });
      await worker.terminate();
    `,
      faulty(fault),
    );
    expect(j.r.ok).toBe(false);
    expect(j.r.code).toBe(fault === 'setcaps-trial' ? 'ERR_PRIVDROP_NOT_PERMITTED' : 'ERR_PRIVDROP_THREAD_UNREACHABLE');
    expect(j.r.message).toContain('nothing was changed');
    expect(j.unchanged).toBe(true);
    expect(j.prm).toEqual([nbs]);
  });

  test.each(['setcaps-capset@thread', 'setcaps-verify'])('%s: after the first change, aborts instead of returning', (fault) => {
    const r = scenario(
      common +
        `
      const worker = await withThreads();
      tryDrop({ user: 'nobody', capabilities: 'cap_net_bind_service+ep', supplementaryGroups: 'clear' });
      privdrop.setCapabilities('=');
      report({ returned: true });
    `,
      faulty(fault),
    );
    expect(r.signal).toBe('SIGABRT');
    expect(r.stdout).not.toContain('returned');
    expect(r.stderr).toContain('privdrop: FATAL: setCapabilities() failed after it had changed a thread');
  });
});
