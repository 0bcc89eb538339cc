// Every thread ends with the same credentials: the inspector's signal thread, busy Workers,
// Workers spawning Workers during the drop.
import { describeAsRoot } from '../helpers/child';
import { CAP, maskHex, scenario } from '../helpers/drop';

const kept = maskHex(CAP.net_bind_service);

function expectAllThreadsDropped(json: { d: { ok: boolean; result: { threads: number } }; s: Record<string, unknown> }) {
  // One matcher, so that a failure prints the whole report (error, differing threads).
  expect(json).toMatchObject({
    d: { ok: true },
    s: { consistent: true, differences: [], uid: [65534, 65534, 65534, 65534], prm: kept, eff: kept, bnd: kept },
  });
}

describeAsRoot('every thread is dropped', () => {
  test("with --inspect=0 (the inspector's thread blocks all real-time signals but 32 and 33)", () => {
    const r = scenario(
      `
      const names = () => fs.readdirSync('/proc/self/task').map((t) => fs.readFileSync('/proc/self/task/' + t + '/comm', 'utf8').trim());
      const before = names();
      const d = tryDrop({ user: 'nobody', capabilities: 'cap_net_bind_service+ep' });
      report({ d, before, s: summary(), inspector: require('inspector').url() !== undefined });
      process.exit(0);
    `,
      { nodeArgs: ['--inspect=127.0.0.1:0'] },
    );
    expect(r.json.inspector).toBe(true);
    expectAllThreadsDropped(r.json);
    expect(r.json.d.result.threads).toBe(r.json.s.threads);
  });

  test('with 32 Workers busy computing during the drop', () => {
    const r = scenario(`
      const busy = "const { parentPort } = require('worker_threads'); parentPort.postMessage('up'); let x = 0; for (;;) { x += Math.sqrt(x + 1); }";
      const workers = Array.from({ length: 32 }, () => new Worker(busy, { eval: true }));
      await Promise.all(workers.map((w) => new Promise((res) => w.once('message', res))));
      const d = tryDrop({ user: 'nobody', capabilities: 'cap_net_bind_service+ep' });
      const s = summary();
      await Promise.all(workers.map((w) => w.terminate()));
      report({ d, s });
    `);
    expectAllThreadsDropped(r.json);
    expect(r.json.s.threads).toBeGreaterThan(32);
  });

  test('with Workers starting, spawning nested Workers and exiting during the drop', () => {
    const r = scenario(`
      const churn = \`
        const { Worker, parentPort, workerData } = require('worker_threads');
        if (workerData > 0) {
          const child = new Worker(__filename_code, { eval: true, workerData: workerData - 1 });
          child.on('exit', () => {});
        }
        setTimeout(() => process.exit(0), 5 + Math.floor(Math.random() * 20));
      \`;
      const code = 'const __filename_code = ' + JSON.stringify(churn) + ';' + churn;
      let stop = false;
      const spawner = setInterval(() => { if (!stop) for (let i = 0; i < 4; i++) new Worker(code, { eval: true, workerData: 3 }); }, 2);
      await new Promise((r) => setTimeout(r, 60));
      const d = tryDrop({ user: 'nobody', capabilities: 'cap_net_bind_service+ep' });
      const s = summary();
      stop = true;
      clearInterval(spawner);
      report({ d, s });
      process.exit(0);
    `);
    expectAllThreadsDropped(r.json);
  });

  test('with another Worker creating short-lived Workers throughout the drop (threads born during every pass)', () => {
    const r = scenario(`
      const spawner = new Worker(\`
        const { Worker, parentPort } = require('worker_threads');
        parentPort.postMessage('up');
        setInterval(() => { for (let i = 0; i < 2; i++) new Worker('setTimeout(() => {}, Math.random() * 5)', { eval: true }).on('error', () => {}); }, 1);
      \`, { eval: true });
      await new Promise((res) => spawner.once('message', res));
      await new Promise((res) => setTimeout(res, 100));
      const d = tryDrop({ user: 'nobody', capabilities: 'cap_net_bind_service+ep' });
      const s = summary();
      report({ d, s });
      process.exit(0);
    `, { timeoutMs: 60000 });
    expectAllThreadsDropped(r.json);
  });

  test('threads started after the drop inherit it (threadpool growth, new Workers)', () => {
    const r = scenario(`
      const d = tryDrop({ user: 'nobody', capabilities: 'cap_net_bind_service+ep' });
      const crypto = require('crypto');
      await Promise.all(Array.from({ length: 8 }, () => new Promise((res) => crypto.pbkdf2('x', 'y', 20000, 32, 'sha256', res))));
      const w = new Worker("setInterval(() => {}, 1000)", { eval: true });
      await new Promise((res) => w.once('online', res));
      const s = summary();
      await w.terminate();
      report({ d, s });
    `);
    expectAllThreadsDropped(r.json);
  });
});
