// Coexistence: privdrop installs a handler for signal 33 (glibc's SIGSETXID) only while one of
// its broadcasts runs, passes other signals on to glibc's, and puts glibc's back after. The process's own signal handlers, glibc's setuid/setgid/setgroups broadcast
// (process.setuid and friends) and an inspector session must all keep working.
import * as path from 'path';
import { describeAsRoot, faultsBinding, repoRoot } from '../helpers/child';
import { CAP, maskHex, scenario } from '../helpers/drop';

const bindingModule = JSON.stringify(path.join(repoRoot, 'dist', 'addon', 'binding'));
const attempt = `const attempt = (fn) => { try { fn(); return 'ok'; } catch (e) { return e.code || e.message; } };`;

describeAsRoot("the process's own signal handlers", () => {
  test('SIGUSR1, SIGUSR2 and SIGINT handlers installed before the drop run after it (with Workers and the threadpool alive)', () => {
    const r = scenario(`
      const got = { SIGUSR1: 0, SIGUSR2: 0, SIGINT: 0 };
      for (const sig of Object.keys(got)) process.on(sig, () => { got[sig]++; });
      const w = new Worker('setInterval(() => {}, 1000)', { eval: true });
      await new Promise((res) => w.once('online', res));
      const fire = async () => {
        for (const sig of Object.keys(got)) process.kill(process.pid, sig);
        await new Promise((res) => setTimeout(res, 100));
        return { ...got };
      };
      const before = await fire();
      const d = tryDrop({ user: 'nobody', capabilities: 'cap_net_bind_service+ep' });
      const after = await fire();
      // A signal from outside the process too: the kernel checks the sender's credentials.
      const outside = require('child_process').spawnSync('kill', ['-USR2', String(process.pid)]);
      await new Promise((res) => setTimeout(res, 100));
      const inspectorStarted = require('inspector').url() !== undefined;
      await w.terminate();
      report({ d, before, after, outside: outside.status, final: got, inspectorStarted, s: summary() });
    `);
    expect(r.json.d.ok).toBe(true);
    expect(r.json.before).toEqual({ SIGUSR1: 1, SIGUSR2: 1, SIGINT: 1 });
    expect(r.json.after).toEqual({ SIGUSR1: 2, SIGUSR2: 2, SIGINT: 2 });
    expect(r.json.outside).toBe(0);
    expect(r.json.final.SIGUSR2).toBe(3);
    // With a handler of its own, SIGUSR1 does not start Node's inspector.
    expect(r.json.inspectorStarted).toBe(false);
    expect(r.json.s.consistent).toBe(true);
  });

  test('handlers installed after the drop work as well', () => {
    const r = scenario(`
      const d = tryDrop({ user: 'nobody' });
      let n = 0;
      process.on('SIGUSR2', () => n++);
      process.on('SIGINT', () => n++);
      process.kill(process.pid, 'SIGUSR2');
      process.kill(process.pid, 'SIGINT');
      await new Promise((res) => setTimeout(res, 100));
      report({ d, n });
    `);
    expect(r.json.d.ok).toBe(true);
    expect(r.json.n).toBe(2);
  });
});

describeAsRoot("glibc's setuid broadcast with privdrop's signal-33 handler installed", () => {
  test('process.setgroups/setgid/setuid still change every thread (Workers and threadpool included)', () => {
    const r = scenario(`
      ${attempt}
      const binding = require(${bindingModule}).binding();
      const ws = Array.from({ length: 4 }, () => new Worker('setInterval(() => {}, 1000)', { eval: true }));
      await Promise.all(ws.map((w) => new Promise((res) => w.once('online', res))));
      await readAsync('/proc/self/status');  // starts the threadpool
      const probe = binding.probeBroadcast();  // privdrop's handler for signal 33, for this broadcast
      const handlerInstalled = probe.threads === summary().threads;
      const setgroups = attempt(() => process.setgroups([4321, 4322]));
      const setgid = attempt(() => process.setgid(4321));
      const s1 = summary();
      const setuid = attempt(() => process.setuid(4321));
      const s2 = summary();
      // privdrop's own broadcast still works after glibc's.
      const probeAfter = binding.probeBroadcast();
      await Promise.all(ws.map((w) => w.terminate()));
      report({ handlerInstalled, setgroups, setgid, setuid, s1, s2, probeAfter: probeAfter.threads, n: s2.threads });
    `);
    expect(r.stderr).toBe('');
    expect(r.json).toMatchObject({ handlerInstalled: true, setgroups: 'ok', setgid: 'ok', setuid: 'ok' });
    expect(r.json.s1).toMatchObject({ consistent: true, gid: [4321, 4321, 4321, 4321], groups: [4321, 4322], uid: [0, 0, 0, 0] });
    expect(r.json.s2).toMatchObject({ consistent: true, uid: [4321, 4321, 4321, 4321], prm: maskHex(), eff: maskHex() });
    expect(r.json.s2.threads).toBeGreaterThan(8);
    expect(r.json.probeAfter).toBe(r.json.n);
  });

  test('a drop after process.setgroups/setgid works, and after the drop they fail with EPERM', () => {
    const r = scenario(`
      ${attempt}
      const w = new Worker('setInterval(() => {}, 1000)', { eval: true });
      await new Promise((res) => w.once('online', res));
      require(${bindingModule}).binding().probeBroadcast();
      const pre = [attempt(() => process.setgroups([4321])), attempt(() => process.setgid(4321))];
      const d = tryDrop({ user: 'nobody', capabilities: 'cap_net_bind_service+ep' });
      const after = {
        setuid0: attempt(() => process.setuid(0)),
        seteuid0: attempt(() => process.seteuid(0)),
        setgid0: attempt(() => process.setgid(0)),
        setegid0: attempt(() => process.setegid(0)),
        setgroups0: attempt(() => process.setgroups([0])),
        initgroups: attempt(() => process.initgroups('root', 0)),
        // Allowed by the kernel: setting the ids to what they already are.
        setuidSame: attempt(() => process.setuid(65534)),
        setgidSame: attempt(() => process.setgid(65534)),
      };
      const s = summary();
      await w.terminate();
      report({ pre, d, after, s });
    `);
    expect(r.stderr).toBe('');
    expect(r.json.pre).toEqual(['ok', 'ok']);
    expect(r.json.d.ok).toBe(true);
    expect(r.json.after).toEqual({
      setuid0: 'EPERM', seteuid0: 'EPERM', setgid0: 'EPERM', setegid0: 'EPERM', setgroups0: 'EPERM', initgroups: 'EPERM',
      setuidSame: 'ok', setgidSame: 'ok',
    });
    expect(r.json.s).toMatchObject({ consistent: true, uid: [65534, 65534, 65534, 65534], gid: [65534, 65534, 65534, 65534], prm: maskHex(CAP.net_bind_service) });
  });
});

describeAsRoot('two copies of privdrop in one process', () => {
  // Two installs of the package (here: the normal addon and the fault-injection build, separate
  // module instances) each take over signal 33 for their broadcasts. A handler that stayed
  // installed and chained to "whatever was there" made A chain to B and B to A: glibc's next
  // setxid signal then recursed until the stack overflowed. Installed only during a broadcast,
  // with the previous disposition restored, there is never a chain between the two.
  test('alternating broadcasts, then glibc setgroups/setgid and a drop, all work on every thread', () => {
    const r = scenario(`
      ${attempt}
      const a = require(${bindingModule}).binding();
      const b = require(${JSON.stringify(faultsBinding)});
      const ws = Array.from({ length: 4 }, () => new Worker('setInterval(() => {}, 1000)', { eval: true }));
      await Promise.all(ws.map((w) => new Promise((res) => w.once('online', res))));
      await readAsync('/proc/self/status');
      const answered = [a.probeBroadcast(), b.probeBroadcast(), a.probeBroadcast(), b.probeBroadcast(), a.probeBroadcast()].map((x) => x.threads);
      const n = summary().threads;
      const setgroups = attempt(() => process.setgroups([4321]));
      const setgid = attempt(() => process.setgid(4321));
      const s1 = summary();
      const d = tryDrop({ user: 'nobody', capabilities: 'cap_net_bind_service+ep' });
      const setuid0 = attempt(() => process.setuid(0));
      const s2 = summary();
      await Promise.all(ws.map((w) => w.terminate()));
      report({ answered, n, setgroups, setgid, s1, d, setuid0, s2 });
    `);
    expect(r.signal).toBeNull();
    expect(r.stderr).toBe('');
    expect(r.json.answered).toEqual([r.json.n, r.json.n, r.json.n, r.json.n, r.json.n]);
    expect(r.json).toMatchObject({ setgroups: 'ok', setgid: 'ok', setuid0: 'EPERM' });
    expect(r.json.s1).toMatchObject({ consistent: true, gid: [4321, 4321, 4321, 4321], groups: [4321] });
    expect(r.json.d.ok).toBe(true);
    expect(r.json.s2).toMatchObject({ consistent: true, uid: [65534, 65534, 65534, 65534], prm: maskHex(CAP.net_bind_service) });
  });
});

describeAsRoot('the inspector', () => {
  test('an in-process inspector Session connected before the drop keeps working after it', () => {
    const r = scenario(`
      const inspector = require('inspector');
      const session = new inspector.Session();
      session.connect();
      const post = (method, params) => new Promise((res) => session.post(method, params, (err, v) => res(err ? 'error: ' + err.message : v)));
      const before = await post('Runtime.evaluate', { expression: '6 * 7' });
      await post('Profiler.enable');
      await post('Profiler.start');
      const d = tryDrop({ user: 'nobody', capabilities: 'cap_net_bind_service+ep' });
      const after = await post('Runtime.evaluate', { expression: 'process.getuid()' });
      const profile = await post('Profiler.stop');
      session.disconnect();
      report({ d, before: before.result, after: after.result, profileNodes: profile.profile ? profile.profile.nodes.length : profile, s: summary() });
    `);
    expect(r.json.d.ok).toBe(true);
    expect(r.json.before).toMatchObject({ type: 'number', value: 42 });
    expect(r.json.after).toMatchObject({ type: 'number', value: 65534 });
    expect(r.json.profileNodes).toBeGreaterThan(0);
    expect(r.json.s.consistent).toBe(true);
  });

  test("with --inspect, the inspector's HTTP endpoint (its own thread) answers after the drop", () => {
    const r = scenario(
      `
      const http = require('http');
      const url = new URL(require('inspector').url());
      const list = () => new Promise((res) => http.get({ host: url.hostname, port: url.port, path: '/json/list' }, (resp) => {
        let body = ''; resp.on('data', (c) => body += c); resp.on('end', () => res(JSON.parse(body).length));
      }).on('error', (e) => res(e.code)));
      const before = await list();
      const d = tryDrop({ user: 'nobody', capabilities: 'cap_net_bind_service+ep' });
      const after = await list();
      report({ d, before, after, s: summary() });
      process.exit(0);
    `,
      { nodeArgs: ['--inspect=127.0.0.1:0'] },
    );
    expect(r.json.d.ok).toBe(true);
    expect(r.json.before).toBe(1);
    expect(r.json.after).toBe(1);
    expect(r.json.s.consistent).toBe(true);
  });
});
