// The privdrop command line, run as a real process from dist/ (built by `npm test`'s pretest).
import { ChildProcess, spawn, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { describeAsRoot, repoRoot, runProcess } from '../helpers/child';
import { statusOfFile } from '../helpers/proc-status';

const BIN = path.join(repoRoot, 'bin', 'privdrop.js');
const CAPSH = '/usr/sbin/capsh';
const PYTHON = '/usr/bin/python3';
const version = (JSON.parse(fs.readFileSync(path.join(repoRoot, 'package.json'), 'utf8')) as { version: string }).version;

const privdrop = (...args: string[]) => runProcess(process.execPath, [BIN, ...args]);
/** Runs privdrop and parses its whole stdout as JSON (--json output is pretty-printed). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
const privdropJson = (...args: string[]): any => {
  const r = privdrop(...args);
  expect({ status: r.status, stderr: r.stderr }).toEqual({ status: 0, stderr: '' });
  return JSON.parse(r.stdout);
};

/** capsh's own reading of a mask: the names it decodes, in its order (capability number). */
function capshDecode(mask: string): string[] {
  const r = spawnSync(CAPSH, [`--decode=${mask}`], { encoding: 'utf8' });
  expect(r.status).toBe(0);
  const names = r.stdout.trim().split('=')[1] ?? '';
  return names === '' ? [] : names.split(',');
}

/** The Name/Uid/Gid/Groups/Cap* lines of a status file. */

const noStackTrace = (stderr: string) => expect(stderr).not.toMatch(/^\s+at /m);

describe('privdrop --help, --version and usage errors', () => {
  test('--version prints the package version', () => {
    const r = privdrop('--version');
    expect(r.status).toBe(0);
    expect(r.stdout).toBe(`privdrop ${version}\n`);
  });

  test.each([[['--help']], [['exec', '--help']], [['show', '--help']], [['parse', '--help']], [['help', 'exec']], [['exec', '-h']]])(
    '%j prints help with the exit statuses and exits 0',
    (args) => {
      const r = privdrop(...args);
      expect(r.status).toBe(0);
      expect(r.stdout).toMatch(/^Usage: privdrop/);
      expect(r.stdout).toMatch(/Exit status/);
      expect(r.stderr).toBe('');
    },
  );

  test('no command: usage on stderr, exit 2', () => {
    const r = privdrop();
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/^Usage: privdrop/);
  });

  test.each([
    [['frobnicate'], /^privdrop: unknown command "frobnicate"\nTry 'privdrop --help'\.\n$/],
    [['exec', '--user'], /^privdrop exec: option --user needs a value\n/],
    [['exec', '--bogus', '--', 'true'], /^privdrop exec: unknown option --bogus\nTry 'privdrop exec --help'\.\n$/],
    [['exec', '--user', 'nobody'], /^privdrop exec: no COMMAND given/],
    [['exec', '--caps', 'cap_chown', '--', 'true'], /^privdrop exec: no user given/],
    [['exec', '--user', 'nobody', '--bounding-set', 'cleared', '--', 'true'], /--bounding-set must be retained or unchanged/],
    [['exec', '--user', 'nobody', '--ambient', '--no-ambient', '--', 'true'], /contradict/],
    [['exec', '--user', 'nobody', '--keep-fd', 'three', '--', 'true'], /--keep-fd needs a file descriptor number/],
    [['exec', '--user', 'a', '--user', 'b', '--', 'true'], /--user given twice/],
    [['show', 'self'], /^privdrop show: PID must be a positive number/],
    [['show', '1', '2'], /at most one PID/],
    [['parse'], /^privdrop parse: no capability TEXT given/],
    [['parse', '--jsn', 'cap_chown+e'], /unknown option --jsn/],
  ])('%j is a usage error: exit 2, one message, no stack trace', (args, message) => {
    const r = privdrop(...args);
    expect(r.status).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(message);
    noStackTrace(r.stderr);
  });
});

describe('privdrop parse, checked against capsh --decode', () => {
  const texts = [
    'cap_net_bind_service+ep',
    'cap_net_bind_service=ep',
    'cap_chown,cap_kill+ep cap_setuid+p cap_net_raw+i',
    '=',
    'all=p cap_sys_admin-p',
    'CAP_NET_BIND_SERVICE=eip',
    '=ep cap_chown-e',
  ];
  test.each(texts)('%s: masks decode to the names it lists, and its canonical text reads back the same', (text) => {
    const json = privdropJson('parse', '--json', text) as Record<string, { mask: string; names: string[] }> & { text: string };
    for (const flag of ['effective', 'permitted', 'inheritable']) {
      expect(json[flag].mask).toMatch(/^0x[0-9a-f]{16}$/);
      expect(json[flag].names).toEqual(capshDecode(json[flag].mask));
    }
    const again = privdropJson('parse', '--json', json.text) as typeof json;
    expect(again).toEqual(json);
  });

  test('the text form has aligned rows with the same masks', () => {
    const r = privdrop('parse', 'cap_chown,cap_net_bind_service+ep', 'cap_kill+p');
    expect(r.status).toBe(0);
    expect(r.stdout).toBe(
      [
        'text         cap_chown,cap_net_bind_service=ep cap_kill+p',
        'effective    0x0000000000000401  cap_chown cap_net_bind_service',
        'permitted    0x0000000000000421  cap_chown cap_kill cap_net_bind_service',
        'inheritable  0x0000000000000000  (none)',
        '',
      ].join('\n'),
    );
    expect(capshDecode('0x0000000000000421')).toEqual(['cap_chown', 'cap_kill', 'cap_net_bind_service']);
  });

  test.each([
    ['cap_chown+ep cap_nope+p', /clause "cap_nope\+p" at offset 13: unknown capability "cap_nope"/],
    ['cap_chown+EP', /clause "cap_chown\+EP" at offset 0: flags are the lower-case letters e, i, p/],
    ['cap_chown', /clause "cap_chown" at offset 0/],
  ])('bad text %j: exit 1, the clause and its offset on stderr', (text, why) => {
    const r = privdrop('parse', text);
    expect(r.status).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/^privdrop parse: invalid capability text: /);
    expect(r.stderr).toMatch(why);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
  });
});

describe('privdrop show, checked against /proc and capsh --decode', () => {
  let sleeper: ChildProcess;
  beforeAll(() => {
    sleeper = spawn('sleep', ['30'], { stdio: 'ignore' });
  });
  afterAll(() => {
    sleeper.kill();
  });

  test('show PID --json reports what /proc/PID/status says, with capsh-decoded names', () => {
    const pid = sleeper.pid as number;
    const s = privdropJson('show', String(pid), '--json');
    const proc = statusOfFile(`/proc/${pid}/status`);
    expect(s.pid).toBe(pid);
    expect(s.command).toBe('sleep');
    expect(`${s.uid.real}\t${s.uid.effective}\t${s.uid.saved}\t${s.uid.fs}`.split('\t')).toEqual(proc.Uid.split(/\s+/));
    expect(`${s.gid.real}\t${s.gid.effective}\t${s.gid.saved}\t${s.gid.fs}`.split('\t')).toEqual(proc.Gid.split(/\s+/));
    expect(s.groups.map((g: { id: number }) => String(g.id))).toEqual(proc.Groups ? proc.Groups.split(/\s+/) : []);
    const procKey = { inheritable: 'CapInh', permitted: 'CapPrm', effective: 'CapEff', bounding: 'CapBnd', ambient: 'CapAmb' } as const;
    for (const [set, key] of Object.entries(procKey)) {
      expect(s.capabilities[set].mask).toBe('0x' + proc[key]);
      expect(s.capabilities[set].names).toEqual(capshDecode(proc[key]));
    }
    expect(s.noNewPrivs).toBe(proc.NoNewPrivs === '1');
    expect(s.securebits).toBeNull(); // not in /proc for another process
    expect(s.consistent).toBe(true);
    expect(s.threads).toHaveLength(1);
  });

  test('show without PID reports the privdrop process itself, with its securebits', () => {
    const r = { json: privdropJson('show', '--json') };
    const self = statusOfFile('/proc/self/status'); // the same credentials: privdrop inherited them from jest
    expect(r.json.uid.real).toBe(process.getuid?.());
    expect(r.json.capabilities.bounding.mask).toBe('0x' + self.CapBnd);
    expect(r.json.capabilities.permitted.mask).toBe('0x' + self.CapPrm);
    expect(r.json.securebits).toEqual({ value: expect.any(Number), flags: expect.any(Array) });
    expect(r.json.threads.length).toBeGreaterThan(1); // node's own threads, all read
    expect(r.json.consistent).toBe(true);
  });

  test('the text form: aligned labels, masks and names', () => {
    const pid = sleeper.pid as number;
    const r = privdrop('show', String(pid));
    expect(r.status).toBe(0);
    const proc = statusOfFile(`/proc/${pid}/status`);
    const lines = r.stdout.split('\n');
    expect(lines[0]).toBe(`process       ${pid} (sleep), 1 thread`);
    expect(r.stdout).toMatch(new RegExp(`^effective     0x${proc.CapEff} `, 'm'));
    expect(r.stdout).toMatch(new RegExp(`^ambient       0x${proc.CapAmb} `, 'm'));
    expect(r.stdout).toMatch(/^securebits    unknown/m);
    expect(r.stdout).toMatch(/^threads       one thread$/m);
  });

  test('a PID that does not exist: exit 1, one line on stderr', () => {
    const r = privdrop('show', '2147483646');
    expect(r.status).toBe(1);
    expect(r.stderr).toBe('privdrop show: no process with PID 2147483646\n');
  });
});

describeAsRoot('privdrop show, threads that disagree', () => {
  const run = fs.existsSync(PYTHON) ? test : test.skip;
  run('a process with one thread switched alone gets a per-thread table (text) and differences (JSON)', async () => {
    // A raw setresuid(2) changes only the calling thread (glibc's wrapper would change them all).
    const child = spawn(PYTHON, [
      '-c',
      `import ctypes, threading, time, sys
libc = ctypes.CDLL(None, use_errno=True)
def alone():
    libc.syscall(117, -1, 65534, -1)
    print(threading.get_native_id(), flush=True)
    time.sleep(20)
threading.Thread(target=alone, daemon=True).start()
time.sleep(20)`,
    ]);
    try {
      const tid = await new Promise<number>((resolve, reject) => {
        child.stdout.once('data', (d: Buffer) => resolve(Number(d.toString().trim())));
        child.once('exit', () => reject(new Error('python exited early')));
      });
      const pid = child.pid as number;
      const json = privdropJson('show', String(pid), '--json');
      expect(json.consistent).toBe(false);
      const fields = json.differences.map((d: { field: string }) => d.field);
      expect(fields).toEqual(expect.arrayContaining(['Uid', 'CapEff']));
      const uid = json.differences.find((d: { field: string }) => d.field === 'Uid');
      expect(uid.values).toEqual({ '0 0 0 0': [pid], '0 65534 0 65534': [tid] });
      expect(statusOfFile(`/proc/${pid}/task/${tid}/status`).Uid.split(/\s+/)).toEqual(['0', '65534', '0', '65534']);

      const text = privdrop('show', String(pid)).stdout;
      expect(text).toMatch(/^threads       DISAGREE on Uid, .*CapEff/m);
      expect(text).toMatch(new RegExp(`^  tid +name +Uid +`, 'm'));
      expect(text).toMatch(new RegExp(`^  ${tid} +\\S+ +0 65534 0 65534 `, 'm'));
      expect(text).toMatch(new RegExp(`^  ${pid} +\\S+ +0 0 0 0 `, 'm'));
    } finally {
      child.kill('SIGKILL');
    }
  });
});
