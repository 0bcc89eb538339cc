// Threads born inside a withCapabilities() window copy the raised effective set; the window must
// lower it on them before it returns. For real, as root, in child processes; every thread's
// state comes from /proc/self/task/*/status.
import { spawn, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { describeAsRoot, faultsBinding, repoRoot, RunOptions } from '../helpers/child';
import { CAP, maskHex, scenario } from '../helpers/drop';
import { procStatusModule, threadStatuses } from '../helpers/proc-status';

const nbs = maskHex(CAP.net_bind_service);
const none = maskHex();

// Another Node-API addon that makes native threads (test/fixtures/other-addon.c), compiled here.
let otherAddon = '';
beforeAll(() => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'privdrop-other-addon-'));
  otherAddon = path.join(dir, 'other.node');
  // eslint-disable-next-line @typescript-eslint/no-var-requires
  const include = require('node-api-headers').include_dir as string;
  const cc = spawnSync('cc', ['-shared', '-fPIC', '-O2', `-I${include}`, '-o', otherAddon, path.join(repoRoot, 'test', 'fixtures', 'other-addon.c'), '-lpthread'], { encoding: 'utf8' });
  if (cc.status !== 0) throw new Error(`cannot compile test/fixtures/other-addon.c: ${cc.stderr}`);
});

// Every thread's effective set and what processState() says, right after the window returned.
const common = `
const { threadStatuses } = require(${JSON.stringify(procStatusModule)});
const effective = () => threadStatuses().map(({ tid, fields }) => ({ tid, eff: fields.CapEff }));
const raisedThreads = () => effective().filter((t) => (BigInt('0x' + t.eff) & (1n << 10n)) !== 0n).length;
const host = '127.' + (1 + Math.floor(Math.random() * 250)) + '.' + Math.floor(Math.random() * 250) + '.' + (2 + Math.floor(Math.random() * 250));
const afterWindow = (before) => {
  const threads = effective();
  const s = privdrop.processState();
  return { raised: raisedThreads(), effs: [...new Set(threads.map((t) => t.eff))], consistent: s.consistent, differences: s.differences.length, born: threads.length - before };
};
const dropped = () => privdrop.dropPrivileges({ user: 'nobody', capabilities: 'cap_net_bind_service+p', supplementaryGroups: 'clear' });
const threadCount = () => fs.readdirSync('/proc/self/task').length;
`;

function run(body: string, options: RunOptions = {}) {
  const r = scenario(common + body, options);
  if (r.json === undefined) throw new Error(`no report; status ${r.status} signal ${r.signal}\n${r.stderr}`);
  return r.json;
}

describeAsRoot('threads born inside a withCapabilities() window', () => {
  test('the first threadpool call: its four threads do not keep the capability', () => {
    const j = run(`
      dropped();
      const before = threadCount();
      let stat;
      const done = new Promise((res) => { stat = res; });
      privdrop.withCapabilities(['cap_net_bind_service'], () => fs.stat('/', (e) => stat(e ? e.code : 'ok')));
      const now = afterWindow(before);
      report({ now, stat: await done, later: afterWindow(before) });
    `);
    expect(j.now.born).toBeGreaterThanOrEqual(4);
    expect(j.now).toMatchObject({ raised: 0, effs: [none], consistent: true, differences: 0 });
    expect(j.stat).toBe('ok');
    expect(j.later).toMatchObject({ raised: 0, consistent: true });
  });

  test('a Worker: none of its threads keeps the capability, and it cannot bind a privileged port outside a window', () => {
    const j = run(`
      dropped();
      await new Promise((res) => fs.readFile(__filename, res)); // the threadpool exists before the window
      const before = threadCount();
      const code = \`
        const { parentPort, workerData } = require('worker_threads');
        const net = require('net');
        parentPort.once('message', () => {
          const s = net.createServer();
          s.once('error', (e) => parentPort.postMessage(e.code));
          s.listen(80, workerData, () => s.close(() => parentPort.postMessage('bound')));
        });
        parentPort.postMessage('up');
      \`;
      const worker = privdrop.withCapabilities(['cap_net_bind_service'], () => new Worker(code, { eval: true, workerData: host }));
      const now = afterWindow(before);
      await new Promise((res) => worker.once('message', res));
      const running = afterWindow(before);
      worker.postMessage('bind');
      const bind = await new Promise((res) => worker.once('message', res));
      // The main thread still binds, inside a window of its own (listen() opens one).
      const ownBind = await privdrop.listen(net.createServer(), { port: 80, host }).then((s) => new Promise((res) => s.close(() => res('bound'))), (e) => e.code);
      await worker.terminate();
      report({ now, running, bind, ownBind });
    `);
    expect(j.now.born).toBeGreaterThanOrEqual(1);
    expect(j.now).toMatchObject({ raised: 0, effs: [none], consistent: true, differences: 0 });
    expect(j.running).toMatchObject({ raised: 0, consistent: true });
    expect(j.bind).toBe('EACCES');
    expect(j.ownBind).toBe('bound');
  });

  test('a native thread of another addon, and the thread it starts itself', () => {
    const j = run(
      `
      const other = require(${JSON.stringify('OTHER')});
      dropped();
      await new Promise((res) => fs.readFile(__filename, res));
      const before = threadCount();
      privdrop.withCapabilities(['cap_net_bind_service'], () => other.spawn(3));
      const now = afterWindow(before);
      for (let i = 0; i < 100 && other.tids().length < 3; i++) await new Promise((res) => setTimeout(res, 10));
      const tids = other.tids();
      const theirs = effective().filter((t) => tids.includes(t.tid)).map((t) => t.eff);
      const later = afterWindow(before);
      other.stop();
      report({ now, theirs, later });
    `.replace(JSON.stringify('OTHER'), JSON.stringify(otherAddon)),
    );
    expect(j.theirs).toEqual([none, none, none]);
    expect(j.now).toMatchObject({ raised: 0, consistent: true, differences: 0 });
    expect(j.later).toMatchObject({ raised: 0, effs: [none], consistent: true, born: 3 });
  });

  test('a window on a Worker whose function starts a nested Worker: the Worker lowers it on the new thread', () => {
    const j = run(`
      dropped();
      await new Promise((res) => fs.readFile(__filename, res));
      const before = threadCount();
      const code = \`
        const { parentPort, workerData, Worker } = require('worker_threads');
        const privdrop = require(workerData);
        const nested = privdrop.withCapabilities(['cap_net_bind_service'], () => new Worker("require('worker_threads').parentPort.postMessage('up'); setInterval(() => {}, 1 << 30)", { eval: true }));
        nested.once('message', () => parentPort.postMessage('up'));
      \`;
      const worker = new Worker(code, { eval: true, workerData: ${JSON.stringify(path.join(repoRoot, 'dist', 'index.js'))} });
      await new Promise((res) => worker.once('message', res));
      const now = afterWindow(before);
      await worker.terminate();
      report({ now });
    `);
    expect(j.now.born).toBeGreaterThanOrEqual(2);
    expect(j.now).toMatchObject({ raised: 0, effs: [none], consistent: true, differences: 0 });
  });

  test('a Worker terminated inside its window: the threads born in it are lowered as it exits, and setCapabilities() is not held off', () => {
    // Its JavaScript stops inside the function, so the window never returns: the thread closes it
    // as it exits. Before, the four threadpool threads kept the capability effective for good and
    // every later setCapabilities() waited a second for the window and threw.
    const j = run(`
      dropped();
      const before = threadCount();
      const code = \`
        const { parentPort, workerData } = require('worker_threads');
        const privdrop = require(workerData);
        privdrop.withCapabilities(['cap_net_bind_service'], () => {
          require('fs').stat('/', () => {}); // the process's first threadpool call: four threads born in the window
          parentPort.postMessage('in');
          for (;;);
        });
      \`;
      const worker = new Worker(code, { eval: true, workerData: ${JSON.stringify(path.join(repoRoot, 'dist', 'index.js'))} });
      await new Promise((res) => worker.once('message', res));
      const inside = { raised: raisedThreads(), windows: privdrop.processState().windows.length };
      await worker.terminate();
      const after = afterWindow(before);
      let set;
      try { set = privdrop.setCapabilities('cap_net_bind_service+p').threads > 0 ? 'ok' : 'no threads'; } catch (e) { set = e.code; }
      report({ inside, after, windows: privdrop.processState().windows.length, set });
    `);
    expect(j.inside).toEqual({ raised: expect.any(Number), windows: 1 });
    expect(j.inside.raised).toBeGreaterThanOrEqual(5); // the Worker and the threads born in its window
    expect(j.after.born).toBeGreaterThanOrEqual(4);
    expect(j.after).toMatchObject({ raised: 0, effs: [none], consistent: true, differences: 0 });
    expect(j.windows).toBe(0);
    expect(j.set).toBe('ok');
  });

  test('Workers born in a window open windows of their own at once and start Workers inside them: windows on many threads, each lowering its own', () => {
    const j = run(`
      privdrop.dropPrivileges({ user: 'nobody', capabilities: 'cap_net_bind_service,cap_net_raw+p', supplementaryGroups: 'clear' });
      const code = \`
        const p = require(\${JSON.stringify(${JSON.stringify(path.join(repoRoot, 'dist', 'index.js'))})});
        const { parentPort, Worker } = require('worker_threads');
        let n = 0;
        for (let i = 0; i < 500; i++) p.withCapabilities(['cap_net_raw'], () => { n++; if (i % 100 === 0) new Worker('0', { eval: true }); });
        parentPort.postMessage(n);
      \`;
      const counts = [], raised = [];
      for (let round = 0; round < 3; round++) {
        const workers = privdrop.withCapabilities(['cap_net_bind_service'], () => [1, 2, 3].map(() => new Worker(code, { eval: true })));
        raised.push(raisedThreads());
        counts.push(...(await Promise.all(workers.map((w) => new Promise((res) => w.once('message', res))))));
        await Promise.all(workers.map((w) => w.terminate()));
      }
      report({ counts, raised, now: afterWindow(threadCount()) });
    `);
    expect(j.raised).toEqual([0, 0, 0]);
    expect(j.counts).toEqual(Array(9).fill(500));
    expect(j.now).toMatchObject({ raised: 0, effs: [none], consistent: true, differences: 0 });
  });

  test('nested windows: a thread born in the inner one loses what the outer one raised too', () => {
    const j = run(`
      privdrop.dropPrivileges({ user: 'nobody', capabilities: 'cap_net_bind_service,cap_net_raw+p', supplementaryGroups: 'clear' });
      await new Promise((res) => fs.readFile(__filename, res));
      const before = threadCount();
      let inner;
      privdrop.withCapabilities(['cap_net_raw'], () => {
        privdrop.withCapabilities(['cap_net_bind_service'], () => new Worker("setInterval(() => {}, 1 << 30)", { eval: true }));
        inner = effective().filter((t) => t.tid !== process.pid).map((t) => t.eff);
      });
      const now = afterWindow(before);
      report({ inner: [...new Set(inner)], now });
      process.exit(0);
    `);
    expect(j.inner).toEqual([none]); // while the outer window is still open
    expect(j.now).toMatchObject({ raised: 0, effs: [none], consistent: true });
  });

  test('a capability that was effective before the window stays effective on every thread, new ones included', () => {
    const j = run(`
      privdrop.dropPrivileges({ user: 'nobody', capabilities: 'cap_net_bind_service+ep', supplementaryGroups: 'clear' });
      const before = threadCount();
      privdrop.withCapabilities(['cap_net_bind_service'], () => fs.stat('/', () => {}));
      report({ now: afterWindow(before) });
    `);
    expect(j.now.born).toBeGreaterThanOrEqual(4);
    expect(j.now).toMatchObject({ effs: [nbs], consistent: true });
  });
});

describeAsRoot('threads born inside a window, after a drop into a chroot without /proc', () => {
  test('the window still loads, and finds and lowers the new threads (read from outside the process)', async () => {
    const jail = fs.mkdtempSync(path.join(os.tmpdir(), 'privdrop-jail-'));
    fs.chmodSync(jail, 0o755);
    const code = `
      const privdrop = require(${JSON.stringify(path.join(repoRoot, 'dist', 'index.js'))});
      const fs = require('fs');
      privdrop.dropPrivileges({ user: 'nobody', capabilities: 'cap_net_bind_service+p', chroot: ${JSON.stringify(jail)}, supplementaryGroups: 'clear' });
      const idle = "require('worker_threads').parentPort.postMessage('up'); setInterval(() => {}, 1 << 30)";
      const w = privdrop.withCapabilities(['cap_net_bind_service'], () => new (require('worker_threads').Worker)(idle, { eval: true }));
      w.once('message', () => {
        process.stdout.write(JSON.stringify({ proc: fs.existsSync('/proc/self/task') }) + '\\n');
        process.stdin.once('data', () => process.exit(0));
      });
    `;
    const child = spawn(process.execPath, ['-e', code], { stdio: ['pipe', 'pipe', 'pipe'] });
    const closed = new Promise((res) => child.once('close', res));
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    try {
      const line = await new Promise<string>((resolve, reject) => {
        let out = '';
        child.stdout.on('data', (d) => {
          out += d;
          if (out.includes('\n')) resolve(out.split('\n')[0]);
        });
        child.once('exit', (status, signal) => reject(new Error(`exited (${status} ${signal}): ${stderr}`)));
      });
      const threads = threadStatuses(child.pid);
      expect(JSON.parse(line)).toEqual({ proc: false });
      expect(threads.length).toBeGreaterThan(7);
      expect([...new Set(threads.map((t: { fields: Record<string, string> }) => t.fields.CapEff))]).toEqual([none]);
      expect([...new Set(threads.map((t: { fields: Record<string, string> }) => t.fields.CapPrm))]).toEqual([nbs]);
    } finally {
      child.stdin.end('\n');
      await closed;
      fs.rmSync(jail, { recursive: true, force: true });
    }
  });
});

describeAsRoot('threads born inside a window: failures (fault-injection build)', () => {
  test('window-sweep@thread: a new thread that cannot be lowered aborts the process before the window returns', () => {
    const r = scenario(
      common +
        `
      dropped();
      privdrop.withCapabilities(['cap_net_bind_service'], () => fs.stat('/', () => {}));
      report({ returned: true, raised: raisedThreads() });
    `,
      { binding: faultsBinding, env: { PRIVDROP_FAULT: 'window-sweep@thread' } },
    );
    expect(r.signal).toBe('SIGABRT');
    expect(r.json).toBeUndefined();
    expect(r.stderr).toMatch(/privdrop: FATAL: withCapabilities\(\) could not lower the capabilities it had raised on the threads born inside the window.*window-sweep.*cap_net_bind_service/s);
  });

  test('window-tail: when the threads cannot be listed, the window refuses before raising anything', () => {
    const j = run(
      `
      dropped();
      let ran = false;
      let r;
      try { privdrop.withCapabilities(['cap_net_bind_service'], () => { ran = true; }); r = 'no error'; }
      catch (e) { r = { code: e.code, message: e.message }; }
      report({ r, ran, raised: raisedThreads(), windows: privdrop.processState().windows.length });
    `,
      { binding: faultsBinding, env: { PRIVDROP_FAULT: 'window-tail' } },
    );
    expect(j.r.code).toBe('ERR_PRIVDROP_SYSTEM');
    expect(j.r.message).toMatch(/\/proc\/self\/task.*nothing was raised/);
    expect(j).toMatchObject({ ran: false, raised: 0, windows: 0 });
  });
});
