// Independent oracles for CapabilitySet: the kernel (apply a set, read /proc back) and capsh --decode.
import { spawn, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import fc from 'fast-check';
import { CapabilitySet, capabilityNames, CapabilityMasks } from '../../lib/capabilities';
import { describeAsRoot, distEntry, repoRoot, runNode } from '../helpers/child';
import { statusOfFile } from '../helpers/proc-status';

const seed = Number(process.env.FC_SEED ?? 20261126);
const distBinding = path.join(repoRoot, 'dist', 'addon', 'binding.js');
const hex = (m: bigint) => m.toString(16).padStart(16, '0');

function procCaps(statusPath: string): CapabilityMasks {
  const f = statusOfFile(statusPath);
  return { effective: BigInt(`0x${f.CapEff}`), permitted: BigInt(`0x${f.CapPrm}`), inheritable: BigInt(`0x${f.CapInh}`) };
}

// Runs in a worker thread of a child process: applies one parsed set to that thread only and
// reports what the kernel then shows for the thread. Plain JS: it is passed as a string.
const workerSource = `
const { parentPort, workerData } = require('worker_threads');
const fs = require('fs');
const { CapabilitySet } = require(workerData.distEntry);
const raw = require(workerData.distBinding).binding();
const set = CapabilitySet.parse(workerData.text);
let error = null;
try {
  raw.capSetProc(set.masks);
} catch (e) {
  error = { code: e.code, errnoName: e.errnoName };
}
const status = fs.readFileSync('/proc/thread-self/status', 'utf8');
const field = (name) => new RegExp('^' + name + ':\\\\s*([0-9a-f]+)$', 'm').exec(status)[1];
parentPort.postMessage({
  text: workerData.text,
  error,
  kernel: { effective: field('CapEff'), permitted: field('CapPrm'), inheritable: field('CapInh') },
  current: CapabilitySet.current().toString(),
});
`;

interface Applied {
  text: string;
  error: { code: string; errnoName: string } | null;
  kernel: { effective: string; permitted: string; inheritable: string };
  current: string;
}

/** Applies each text on its own fresh thread (capabilities only shrink on a thread) in one child. */
function applyEach(texts: string[]): { results: Applied[]; mainAfter: CapabilityMasks; mainBefore: CapabilityMasks } {
  const r = runNode(`
    const { Worker } = require('worker_threads');
    const texts = ${JSON.stringify(texts)};
    const source = ${JSON.stringify(workerSource)};
    const main = () => privdrop.CapabilitySet.current().masks;
    const mainBefore = main();
    const one = (text) => new Promise((resolve, reject) => {
      const w = new Worker(source, { eval: true, workerData: { text, distEntry: ${JSON.stringify(distEntry)}, distBinding: ${JSON.stringify(distBinding)} } });
      w.once('message', resolve);
      w.once('error', reject);
    });
    (async () => {
      const results = [];
      for (let i = 0; i < texts.length; i += 6) results.push(...await Promise.all(texts.slice(i, i + 6).map(one)));
      report({ results, mainBefore, mainAfter: main() });
    })();
  `);
  if (!r.json) throw new Error(`child failed (status ${r.status}, signal ${r.signal}): ${r.stderr}`);
  const toMasks = (m: Record<string, string>): CapabilityMasks => ({
    effective: BigInt(m.effective),
    permitted: BigInt(m.permitted),
    inheritable: BigInt(m.inheritable),
  });
  return { results: r.json.results, mainBefore: toMasks(r.json.mainBefore), mainAfter: toMasks(r.json.mainAfter) };
}

describeAsRoot('the kernel agrees with CapabilitySet', () => {
  // Root in a container may lack some capabilities (here cap_sys_resource): apply only what is held.
  const held = procCaps('/proc/self/status').permitted;
  const bounding = CapabilitySet.fromMasks({ effective: held, permitted: held, inheritable: held });
  const subsetOfHeld = fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }).map((m) => m & held);
  const randomSets = fc
    .sample(fc.tuple(subsetOfHeld, subsetOfHeld, subsetOfHeld), { seed, numRuns: 42 })
    .map(([p, e, i]) => CapabilitySet.fromMasks({ effective: e & p, permitted: p, inheritable: i }));
  const fixed = [
    '=',
    'cap_net_bind_service=ep',
    'cap_dac_read_search,cap_net_bind_service=ep cap_kill=i',
    'cap_setuid,cap_setgid=p cap_setuid+e',
    '=ep cap_sys_resource-ep',
    'all=p cap_sys_resource-p',
    '10+ep 0=i',
  ]
    .map((t) => CapabilitySet.parse(t))
    .filter((s) => s.isSubsetOf(bounding));
  const sets = [...fixed, ...randomSets];
  let applied: ReturnType<typeof applyEach>;

  beforeAll(() => {
    applied = applyEach(sets.map((s) => s.toString()));
  });

  test('every parsed set, applied to a thread with cap_set_proc, shows the same masks in /proc/thread-self/status', () => {
    expect(applied.results).toHaveLength(sets.length);
    applied.results.forEach((r, n) => {
      const want = sets[n].masks;
      expect({ text: r.text, error: r.error, kernel: r.kernel }).toEqual({
        text: sets[n].toString(),
        error: null,
        kernel: { effective: hex(want.effective), permitted: hex(want.permitted), inheritable: hex(want.inheritable) },
      });
    });
  });

  test('CapabilitySet.current() on that thread reads back the set that was applied', () => {
    applied.results.forEach((r, n) => expect(r.current).toBe(sets[n].toString()));
  });

  test('applying on one thread leaves the main thread alone', () => {
    expect(applied.mainAfter).toEqual(applied.mainBefore);
  });

  test('CapabilitySet.current() in the jest worker matches /proc/thread-self/status', () => {
    expect(CapabilitySet.current().masks).toEqual(procCaps('/proc/thread-self/status'));
  });

  test('a capability the process does not hold cannot be applied: ERR_PRIVDROP_SYSTEM with EPERM', () => {
    const missing = capabilityNames().find((name) => !CapabilitySet.fromMasks({ effective: 0n, permitted: held, inheritable: 0n }).has(name, 'permitted'));
    if (missing === undefined) return; // full root: nothing to be refused
    const [r] = applyEach([`${missing}=p`]).results;
    expect(r.error).toEqual({ code: 'ERR_PRIVDROP_SYSTEM', errnoName: 'EPERM' });
  });

  test('the kernel silently drops capability numbers it does not know (so callers must check capabilityNames())', () => {
    const unknown = capabilityNames().length;
    const [r] = applyEach([`cap_kill,${unknown}=p`]).results;
    expect(r.error).toBeNull();
    expect(r.kernel.permitted).toBe(hex(1n << 5n));
  });

  test('ofProcess() reads another process, matching its /proc/<pid>/status', async () => {
    const want = CapabilitySet.parse('cap_net_bind_service,cap_kill=ep cap_chown=i');
    const child = spawn(
      process.execPath,
      [
        '-e',
        `require(${JSON.stringify(distBinding)}).binding().capSetProc(require(${JSON.stringify(distEntry)}).CapabilitySet.parse(${JSON.stringify(want.toString())}).masks);` +
          `process.stdout.write('ready\\n'); setTimeout(() => {}, 20000);`,
      ],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    try {
      await new Promise<void>((resolve, reject) => {
        child.stdout!.once('data', () => resolve());
        child.once('exit', (code) => reject(new Error(`child exited with ${code}`)));
      });
      const seen = CapabilitySet.ofProcess(child.pid!);
      expect(seen.equals(want)).toBe(true);
      expect(seen.masks).toEqual(procCaps(`/proc/${child.pid}/status`));
    } finally {
      child.kill('SIGKILL');
    }
  });
});

describe('capsh --decode agrees with the name lists', () => {
  const capshPath = ['/usr/sbin/capsh', '/sbin/capsh', '/usr/bin/capsh'].find((p) => fs.existsSync(p));
  const maybe = capshPath ? test : test.skip;

  maybe('for hundreds of random 64-bit masks, capsh names the same capabilities in the same order', () => {
    const masks = [
      0n,
      (1n << 64n) - 1n,
      (1n << BigInt(capabilityNames().length)) - 1n,
      ...fc.sample(fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }), { seed, numRuns: 400 }),
      ...fc.sample(fc.integer({ min: 0, max: 63 }).map((b) => 1n << BigInt(b)), { seed, numRuns: 64 }),
    ];
    const r = spawnSync(capshPath!, masks.map((m) => `--decode=0x${hex(m)}`), { encoding: 'utf8' });
    expect(r.status).toBe(0);
    const lines = r.stdout.trim().split('\n');
    expect(lines).toHaveLength(masks.length);
    lines.forEach((line, n) => {
      const [shown, names] = line.split('=');
      expect(BigInt(shown)).toBe(masks[n]);
      const ours = CapabilitySet.fromMasks({ effective: masks[n], permitted: 0n, inheritable: 0n }).effective;
      expect(names === '' ? [] : names.split(',')).toEqual(ours);
    });
  });

  maybe('capsh and capabilityNames() agree on every single capability', () => {
    const names = capabilityNames();
    const r = spawnSync(capshPath!, names.map((_, bit) => `--decode=${(1n << BigInt(bit)).toString(16)}`), { encoding: 'utf8' });
    expect(r.stdout.trim().split('\n').map((line) => line.split('=')[1])).toEqual(names);
  });
});
