// setCapabilities() against a model of what it may do, with random requests (fast-check, fixed
// seed), each in a fresh process dropped for real as root: a request within the permitted set
// (effective within the new permitted set) succeeds and every thread, including a Worker started
// afterwards, shows exactly the asked sets; anything else is refused with nothing changed.
import * as fc from 'fast-check';
import { describeAsRoot } from '../helpers/child';
import { scenario } from '../helpers/drop';

// bit numbers: cap_chown 0, cap_kill 5, cap_net_bind_service 10, cap_net_raw 13, cap_sys_admin 21 (never held)
const UNIVERSE = [0, 5, 10, 13, 21];
const HELD = [0, 5, 10, 13];
const KEPT_EFFECTIVE = [0, 10];
const mask = (bits: number[]) => bits.reduce((m, b) => m | (1n << BigInt(b)), 0n);
const hex = (m: bigint) => m.toString(16).padStart(16, '0');

interface Case {
  e: number[];
  p: number[];
  i: number[];
}

// Half of the requests have effective within permitted, so that the permitted rule decides them.
const arbitrary: fc.Arbitrary<Case> = fc.oneof(
  fc.record({ e: fc.subarray(UNIVERSE), p: fc.subarray(UNIVERSE), i: fc.subarray(UNIVERSE) }),
  fc.subarray(UNIVERSE).chain((p) => fc.record({ e: fc.subarray(p), p: fc.constant(p), i: fc.subarray(UNIVERSE) })),
);

/** The model: what setCapabilities() must do with a process holding HELD (+p, KEPT_EFFECTIVE +e, nothing inheritable). */
function expected(c: Case): 'ok' | 'ERR_PRIVDROP_INVALID_CAPABILITIES' | 'ERR_PRIVDROP_CAPABILITY_NOT_HELD' {
  const e = mask(c.e), p = mask(c.p), i = mask(c.i), held = mask(HELD);
  if (e & ~p) return 'ERR_PRIVDROP_INVALID_CAPABILITIES';
  if ((p | i) & ~held) return 'ERR_PRIVDROP_CAPABILITY_NOT_HELD';
  return 'ok';
}

describeAsRoot('setCapabilities() property: random requests against the model, real drops', () => {
  const cases = fc.sample(arbitrary, { seed: 12, numRuns: 24 });
  // Make sure both outcomes are exercised whatever the sampler gives.
  cases.push({ e: [10], p: [10, 13], i: [13] }, { e: [], p: [21], i: [] }, { e: [5], p: [0], i: [] });

  test.each(cases.map((c, n) => [n, c] as const))('case %i: %j', (_n, c) => {
    const want = expected(c);
    const r = scenario(`
      const { CapabilitySet } = privdrop;
      const status = () => fs.readdirSync('/proc/self/task').flatMap((t) => {
        let s;
        try { s = fs.readFileSync('/proc/self/task/' + t + '/status', 'utf8'); } catch (e) { if (e.code === 'ENOENT' || e.code === 'ESRCH') return []; throw e; }
        return ['CapInh', 'CapPrm', 'CapEff', 'CapAmb', 'CapBnd'].map((k) => new RegExp('^' + k + ':\\\\s*(\\\\S+)', 'm').exec(s)[1]).join(' ');
      });
      const w = new Worker("require('worker_threads').parentPort.postMessage(1); setInterval(() => {}, 1 << 30)", { eval: true });
      await new Promise((res) => w.once('message', res));
      await new Promise((res) => fs.readFile(__filename, res));
      const d = tryDrop({ user: 'nobody', supplementaryGroups: 'clear', capabilities: CapabilitySet.fromMasks({ effective: ${mask(KEPT_EFFECTIVE)}n, permitted: ${mask(HELD)}n, inheritable: 0n }) });
      const before = status();
      const set = CapabilitySet.fromMasks({ effective: ${mask(c.e)}n, permitted: ${mask(c.p)}n, inheritable: ${mask(c.i)}n });
      let outcome;
      try { privdrop.setCapabilities(set); outcome = 'ok'; } catch (e) { outcome = e.code; }
      // A Worker started afterwards is born with the new sets, and counted in the check below.
      const late = new Worker("require('worker_threads').parentPort.postMessage(1); setInterval(() => {}, 1 << 30)", { eval: true });
      await new Promise((res) => late.once('message', res));
      const after = status();
      report({ d: d.ok, outcome, before: [...new Set(before)], after: [...new Set(after)], threads: after.length });
      process.exit(0);
    `);
    expect(r.json).toBeDefined();
    expect(r.json.d).toBe(true);
    expect(r.json.outcome).toBe(want);
    const bnd = hex(mask(HELD));
    const beforeLine = `${hex(0n)} ${hex(mask(HELD))} ${hex(mask(KEPT_EFFECTIVE))} ${hex(0n)} ${bnd}`;
    expect(r.json.before).toEqual([beforeLine]);
    if (want === 'ok') {
      expect(r.json.after).toEqual([`${hex(mask(c.i))} ${hex(mask(c.p))} ${hex(mask(c.e))} ${hex(0n)} ${bnd}`]);
    } else {
      expect(r.json.after).toEqual([beforeLine]);
    }
    expect(r.json.threads).toBeGreaterThan(5);
  });
});
