import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { binding } from '../../lib/addon/binding';
import { formatProcessState } from '../../lib/state/format';
import {
  capabilityDecoder,
  compareThreads,
  decodeSecurebits,
  parseStatus,
  processState,
  ProcessState,
  readThreads,
  SECUREBIT_NAMES,
  ThreadState,
} from '../../lib/state/read';
import { describeAsRoot, repoRoot, runNode, runProcess } from '../helpers/child';

const bindingModule = JSON.stringify(path.join(repoRoot, 'dist', 'addon', 'binding.js'));
const CAPSH = '/usr/sbin/capsh';

// Child-process prelude: a Worker that stays alive and a started libuv threadpool, so the
// process has more than the start-up threads when `ready` runs.
const withExtraThreads = (body: string) => `
  const { Worker } = require('worker_threads');
  const worker = new Worker('setInterval(() => {}, 1000)', { eval: true });
  worker.once('online', () => {
    require('crypto').pbkdf2('secret', 'salt', 1, 32, 'sha256', (err) => {
      if (err) throw err;
      ${body}
      process.exit(0);
    });
  });
`;

/** Parses `grep -H` output of status files into tid -> field -> value (tabs kept). */
function grepByTid(stdout: string): Map<number, Record<string, string>> {
  const byTid = new Map<number, Record<string, string>>();
  for (const line of stdout.trim().split('\n')) {
    const m = /^\/proc\/\d+\/task\/(\d+)\/status:(\w+):\t(.*)$/.exec(line);
    if (!m) throw new Error(`unexpected grep line: ${line}`);
    const tid = Number(m[1]);
    const fields = byTid.get(tid) ?? {};
    fields[m[2]] = m[3];
    byTid.set(tid, fields);
  }
  return byTid;
}

const decimalToHex = (decimal: string) => BigInt(decimal).toString(16).padStart(16, '0');

describe('processState() against /proc as another program reads it', () => {
  let state: ProcessState & { threads: any[] }; // eslint-disable-line @typescript-eslint/no-explicit-any
  let grep: Map<number, Record<string, string>>;
  let pid: number;

  beforeAll(() => {
    const r = runNode(
      withExtraThreads(`
        const state = privdrop.processState();
        const grep = require('child_process').spawnSync('sh', ['-c', 'grep -H -E "^(Cap|Uid|Gid)" /proc/' + process.pid + '/task/*/status'], { encoding: 'utf8' });
        report({ state, grep: grep.stdout, pid: process.pid });
      `),
    );
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    state = r.json.state;
    grep = grepByTid(r.json.grep);
    pid = r.json.pid;
  });

  test('sees more than the start-up threads when a Worker and the threadpool run', () => {
    expect(state.threads.length).toBeGreaterThan(5);
  });

  test('lists the same thread ids as /proc/PID/task', () => {
    expect(state.threads.map((t) => t.tid)).toEqual([...grep.keys()].sort((a, b) => a - b));
    expect(state.pid).toBe(pid);
    expect(state.tid).toBe(pid);
  });

  test('has every thread capability mask that grep reads', () => {
    for (const t of state.threads) {
      const g = grep.get(t.tid)!;
      const c = t.capabilities;
      expect({
        CapInh: decimalToHex(c.inheritable.mask),
        CapPrm: decimalToHex(c.permitted.mask),
        CapEff: decimalToHex(c.effective.mask),
        CapBnd: decimalToHex(c.bounding.mask),
        CapAmb: decimalToHex(c.ambient.mask),
      }).toEqual({ CapInh: g.CapInh, CapPrm: g.CapPrm, CapEff: g.CapEff, CapBnd: g.CapBnd, CapAmb: g.CapAmb });
    }
  });

  test('has every thread uid and gid line that grep reads', () => {
    for (const t of state.threads) {
      const g = grep.get(t.tid)!;
      const ids = (s: { real: number; effective: number; saved: number; fs: number }) => [s.real, s.effective, s.saved, s.fs].join('\t');
      expect({ Uid: ids(t.uid), Gid: ids(t.gid) }).toEqual({ Uid: g.Uid, Gid: g.Gid });
    }
  });

  test('is consistent when nothing changed one thread alone', () => {
    expect(state.consistent).toBe(true);
    expect(state.differences).toEqual([]);
  });
});

describe('processState() in this process', () => {
  test('reports the calling thread and its securebits', () => {
    const state = processState();
    expect(state.pid).toBe(process.pid);
    expect(state.tid).toBe(binding().gettid());
    expect(state.securebits.value).toBe(binding().getSecurebits());
    expect(state.threads.some((t) => t.tid === state.tid)).toBe(true);
  });

  test('lists threads by ascending tid, each with a name', () => {
    const tids = processState().threads.map((t) => t.tid);
    expect(tids).toEqual([...tids].sort((a, b) => a - b));
    for (const t of processState().threads) expect(t.name.length).toBeGreaterThan(0);
  });

  test('names match the masks', () => {
    const decode = capabilityDecoder();
    for (const t of processState().threads) {
      for (const set of Object.values(t.capabilities)) {
        expect(set.names).toEqual(decode(set.mask.toString(16)).names);
        expect(set.names.length).toBe(set.mask.toString(2).replace(/0/g, '').length);
      }
    }
  });
});

test('processState() works from a Worker and reports the Worker thread as the caller', () => {
  const r = runNode(`
    const { Worker } = require('worker_threads');
    const w = new Worker(
      'const { parentPort } = require("worker_threads");' +
      'const s = require(' + JSON.stringify(${JSON.stringify(path.join(repoRoot, 'dist', 'index.js'))}) + ').processState();' +
      'parentPort.postMessage({ tid: s.tid, tids: s.threads.map((t) => t.tid), consistent: s.consistent });',
      { eval: true });
    w.once('message', (m) => { report({ ...m, pid: process.pid }); process.exit(0); });
  `);
  expect(r.stderr).toBe('');
  const { tid, tids, consistent, pid } = r.json;
  expect(tid).not.toBe(pid);
  expect(tids).toContain(tid);
  expect(tids).toContain(pid);
  expect(consistent).toBe(true);
});

describe('threads that are gone', () => {
  let dir: string;
  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'privdrop-state-'));
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  test('a thread listed but gone before its status is read is left out', () => {
    const status = fs.readFileSync('/proc/self/status', 'utf8');
    fs.mkdirSync(path.join(dir, '100'));
    fs.writeFileSync(path.join(dir, '100', 'status'), status);
    fs.mkdirSync(path.join(dir, '101')); // listed, but no status file any more: ENOENT
    expect(readThreads(dir).map((t) => t.tid)).toEqual([100]);
  });

  test('processState() never throws while Workers start and exit around it', () => {
    const r = runNode(`
      const { Worker } = require('worker_threads');
      let calls = 0, started = 0, stop = false;
      const spawn = () => { if (stop) return; started++; new Worker('0', { eval: true }).once('exit', spawn); };
      for (let i = 0; i < 4; i++) spawn();
      // At least a second, and until Workers have exited and been replaced a few times (a loaded
      // machine starts them slowly), within 30 s.
      const end = Date.now() + 1000, deadline = Date.now() + 30000;
      const tick = () => {
        for (let i = 0; i < 20; i++) { privdrop.processState(); calls++; }
        if ((Date.now() < end || started < 12) && Date.now() < deadline) setImmediate(tick); else { stop = true; report({ calls, started }); process.exit(0); }
      };
      tick();
    `);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.json.calls).toBeGreaterThan(20);
    expect(r.json.started).toBeGreaterThan(4);
  });
});

describeAsRoot('processState() as root', () => {
  test('a thread whose effective set alone changed makes the state inconsistent, naming CapEff and that tid', () => {
    const r = runNode(
      withExtraThreads(`
        const native = require(${bindingModule}).binding();
        const m = native.capGetProc();
        native.capSetProc({ ...m, effective: m.effective & ~(1n << 10n) }); // cap_net_bind_service, main thread only
        const state = privdrop.processState();
        report({ state, pid: process.pid, text: require(${JSON.stringify(path.join(repoRoot, 'dist', 'state', 'format.js'))}).formatProcessState(state) });
      `),
    );
    expect(r.stderr).toBe('');
    const { state, pid, text } = r.json;
    expect(state.consistent).toBe(false);
    expect(state.differences.map((d: { field: string }) => d.field)).toEqual(['CapEff']);
    const groups = Object.values(state.differences[0].values) as number[][];
    expect(groups).toContainEqual([pid]);
    const others = groups.filter((g) => !g.includes(pid)).flat();
    expect(others.sort((a, b) => a - b)).toEqual(state.threads.map((t: ThreadState) => t.tid).filter((t: number) => t !== pid));
    const main = state.threads.find((t: ThreadState) => t.tid === pid);
    expect(main.capabilities.effective.names).not.toContain('cap_net_bind_service');
    expect(main.capabilities.permitted.names).toContain('cap_net_bind_service');
    expect(text).toMatch(/DISAGREE on CapEff/);
    expect(text).toMatch(new RegExp(`^  ${pid} `, 'm'));
  });

  test('right after a drop to nobody, every thread is read and agrees', () => {
    const r = runNode(
      withExtraThreads(`
        privdrop.dropPrivileges({ user: 'nobody', capabilities: ['cap_net_bind_service'], noNewPrivileges: true });
        report(privdrop.processState());
      `),
    );
    expect(r.stderr).toBe('');
    const state = r.json;
    expect(state.threads.length).toBeGreaterThan(5);
    expect(state.consistent).toBe(true);
    for (const t of state.threads as ThreadState[]) {
      expect(t.uid.effective).toBe(65534);
      expect(t.capabilities.permitted.names).toEqual(['cap_net_bind_service']);
      expect(t.noNewPrivs).toBe(true);
    }
  });

  test('securebits set by capsh --secbits are decoded by name and match capsh --print', () => {
    // noroot, noroot_locked, no_setuid_fixup, no_cap_ambient_raise: 0x47 (keep_caps would not survive exec).
    const code = `
      const state = require(${JSON.stringify(path.join(repoRoot, 'dist', 'index.js'))}).processState();
      const print = require('child_process').spawnSync(${JSON.stringify(CAPSH)}, ['--print'], { encoding: 'utf8' }).stdout;
      console.log(JSON.stringify({ securebits: state.securebits, print }));
    `;
    const r = runProcess(CAPSH, ['--secbits=0x47', `--shell=${process.execPath}`, '--', '-e', code]);
    expect(r.stderr).toBe('');
    expect(r.json.securebits).toEqual({ value: 0x47, flags: ['noroot', 'noroot_locked', 'no_setuid_fixup', 'no_cap_ambient_raise'] });
    expect(r.json.print).toMatch(/^Securebits: \d+\/0x47\//m);
  });
});

describe('capability names', () => {
  const capshDecode = (hex: string) => {
    const r = spawnSync(CAPSH, [`--decode=0x${hex}`], { encoding: 'utf8' });
    return r.stdout.trim().split('=')[1].split(',').filter(Boolean);
  };

  test("every mask this process's threads hold decodes to the names capsh --decode gives", () => {
    const masks = new Set<string>();
    for (const t of processState().threads) for (const set of Object.values(t.capabilities)) masks.add(set.mask.toString(16));
    for (const hex of masks) expect(capshDecode(hex)).toEqual(capabilityDecoder()(hex).names);
  });

  test.each(['0', '1', '400', '3000000000', '10000000000', '20000000000', '8000000000000401', 'ffffffffffffffff', 'a5a5a5a5a5a5a5a5'])(
    'mask %s decodes to the names capsh --decode gives, numbers past libcap\'s table',
    (hex) => {
      const decoded = capabilityDecoder()(hex);
      expect(decoded.mask).toBe(BigInt('0x' + hex));
      expect(decoded.names).toEqual(capshDecode(hex));
    },
  );

  test('each thread gets its own names array', () => {
    const [a, b] = processState().threads;
    expect(a.capabilities.bounding.names).not.toBe(b.capabilities.bounding.names);
  });
});

describe('securebits decoding', () => {
  test.each(SECUREBIT_NAMES.map((name, bit) => [name, bit] as const))('%s is bit %i', (name, bit) => {
    expect(decodeSecurebits(1 << bit)).toEqual({ value: 1 << bit, flags: [name] });
  });

  test('no bits: no flags', () => {
    expect(decodeSecurebits(0)).toEqual({ value: 0, flags: [] });
  });

  test('bits with no name appear as their number', () => {
    expect(decodeSecurebits(0x1010).flags).toEqual(['keep_caps', '12']);
  });
});

describe('parseStatus()', () => {
  const status = (over: Record<string, string | null> = {}) => {
    const fields: Record<string, string | null> = {
      Name: 'node',
      Umask: '0022',
      Uid: '1000\t0\t0\t0',
      Gid: '1000\t1000\t1000\t1000',
      Groups: '4 24 27 ',
      CapInh: '0000000000000000',
      CapPrm: '0000000000000400',
      CapEff: '0000000000000400',
      CapBnd: '000001ffffffffff',
      CapAmb: '0000000000000000',
      NoNewPrivs: '1',
      Seccomp: '2',
      Seccomp_filters: '1',
      ...over,
    };
    return Object.entries(fields)
      .filter(([, v]) => v !== null)
      .map(([k, v]) => `${k}:\t${v}\n`)
      .join('');
  };

  test('reads the lines processState() needs', () => {
    expect(parseStatus(status())).toEqual({
      Name: 'node',
      Uid: '1000\t0\t0\t0',
      Gid: '1000\t1000\t1000\t1000',
      Groups: '4 24 27',
      CapInh: '0000000000000000',
      CapPrm: '0000000000000400',
      CapEff: '0000000000000400',
      CapBnd: '000001ffffffffff',
      CapAmb: '0000000000000000',
      NoNewPrivs: '1',
      Seccomp: '2',
    });
  });

  test('unescapes the newline and backslash the kernel escapes in thread names', () => {
    expect(parseStatus(status({ Name: ' a\\nb\\\\c ' })).Name).toBe(' a\nb\\c ');
  });

  test('an old kernel without CapAmb, NoNewPrivs and Seccomp lines reads as none of them', () => {
    const f = parseStatus(status({ CapAmb: null, NoNewPrivs: null, Seccomp: null, Seccomp_filters: null }));
    expect([f.CapAmb, f.NoNewPrivs, f.Seccomp]).toEqual(['0000000000000000', '0', '0']);
  });

  test('a status without a Uid line is a coded system error', () => {
    expect(() => parseStatus(status({ Uid: null }))).toThrow(expect.objectContaining({ code: 'ERR_PRIVDROP_SYSTEM' }));
  });

  test('an empty Groups line is no groups', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'privdrop-state-'));
    try {
      fs.mkdirSync(path.join(dir, '7'));
      fs.writeFileSync(path.join(dir, '7', 'status'), status({ Groups: '' }));
      const [t] = readThreads(dir);
      expect(t.groups).toEqual([]);
      expect(t.uid).toEqual({ real: 1000, effective: 0, saved: 0, fs: 0 });
      expect(t.capabilities.effective.names).toEqual(['cap_net_bind_service']);
      expect(t.noNewPrivs).toBe(true);
      expect(t.seccomp).toBe(2);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('formatProcessState()', () => {
  test('shows identity, groups, every capability set, securebits and no_new_privs', () => {
    const text = formatProcessState(processState());
    for (const label of ['uid', 'gid', 'groups', 'permitted', 'effective', 'inheritable', 'ambient', 'bounding', 'securebits', 'no_new_privs']) {
      expect(text).toMatch(new RegExp(`^${label} +\\S`, 'm'));
    }
    expect(text).toMatch(/^threads +all \d+ agree$/m);
  });

  test('is the same text as privdrop show: the process row, then each set as its mask and names', () => {
    const state = processState();
    const self = state.threads.find((t) => t.tid === state.tid) as ThreadState;
    const main = state.threads.find((t) => t.tid === state.pid) as ThreadState;
    const text = formatProcessState(state);
    expect(text.split('\n')[0]).toBe(`process       ${state.pid} (${main.name}), ${state.threads.length} threads`);
    for (const set of ['permitted', 'effective', 'inheritable', 'ambient', 'bounding'] as const) {
      const hex = self.capabilities[set].mask.toString(16).padStart(16, '0');
      expect(text).toMatch(new RegExp(`^${set.padEnd(14)}0x${hex} `, 'm'));
    }
  });

  test('adds a per-thread table of the differing fields when threads disagree', () => {
    const state = processState();
    const [first, ...rest] = state.threads;
    const changed: ThreadState = { ...first, uid: { ...first.uid, effective: 4242 } };
    const threads = [changed, ...rest];
    const text = formatProcessState({ ...state, threads, differences: compareThreads(threads), consistent: false });
    expect(text).toMatch(/DISAGREE on Uid/);
    expect(text).toMatch(/^  tid +name +Uid$/m);
    expect(text).toMatch(new RegExp(`^  ${first.tid} .* 4242 `, 'm'));
  });
});
