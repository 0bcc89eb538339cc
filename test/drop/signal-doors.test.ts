// The doors Node opens on a signal (SECURITY.md, "Signal doors"). After a drop every process of
// the target user may signal the server; SIGUSR1 would start the inspector (whoever connects runs
// code with the kept capabilities), --report-on-signal and --heapsnapshot-signal would write the
// environment or the whole heap to a file that user reads. The signals come from a separate
// process with the target uid and no capabilities (setpriv, started by the test as root).
import { ChildProcess, spawn } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { describeAsRoot, distEntry, faultsBinding, repoRoot, runNode, runProcess } from '../helpers/child';

const BIN = path.join(repoRoot, 'bin', 'privdrop.js');
const NOBODY = 65534;
const SIGUSR1_BIT = 1n << 9n;

/** kill -SIG pid from a new process with uid and gid 65534, no groups, no capabilities. */
function signalAsNobody(pid: number, signal: string): number | null {
  return runProcess('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', '--inh-caps=-all', '--bounding-set=-all', 'kill', `-${signal}`, String(pid)]).status;
}

// Code every interactive child has: a free port for the inspector (process.debugPort: where
// SIGUSR1 would open it, so parallel runs do not meet on 9229), a pause in which the parent
// sends signals, and what can be seen of the inspector afterwards.
const childPrelude = `
const privdrop = require(${JSON.stringify(distEntry)});
const fs = require('fs'); const net = require('net'); const http = require('http'); const inspector = require('inspector');
const report = (v) => process.stdout.write(JSON.stringify(v) + '\\n');
const lines = require('readline').createInterface({ input: process.stdin });
const waiting = [];
lines.on('line', () => { const w = waiting.shift(); if (w) w(); });
/** Asks the parent to send these signals to this process, and returns once they were sent. */
const signalMe = (signals) => new Promise((resolve) => { waiting.push(resolve); report({ signal: signals, pid: process.pid }); });
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const freePort = () => new Promise((r) => { const s = net.createServer().listen(0, '127.0.0.1', () => { const p = s.address().port; s.close(() => r(p)); }); });
const sigBits = () => { const s = fs.readFileSync('/proc/self/status', 'utf8'); const f = (k) => BigInt('0x' + s.match(new RegExp(k + ':\\\\s*(\\\\w+)'))[1]); return { ign: f('SigIgn').toString(), cgt: f('SigCgt').toString() }; };
const uid = () => fs.readFileSync('/proc/self/status', 'utf8').match(/Uid:\\s*(\\d+)/)[1];
/** Waits up to ms for the inspector to listen; then asks its HTTP endpoint, as a debugger would. */
const inspectorState = async (port, ms = 1500) => {
  let url;
  for (let t = 0; t < ms && !url; t += 50) { await sleep(50); url = inspector.url(); }
  const http_ = await new Promise((r) => http.get('http://127.0.0.1:' + port + '/json/version', (res) => { res.resume(); r(res.statusCode); }).on('error', (e) => r(e.code)));
  return { url: url || null, http: http_ };
};
`;

interface Interactive {
  status: number | null;
  stderr: string;
  json: any; // eslint-disable-line @typescript-eslint/no-explicit-any
  sent: Array<number | null>;
}

/** Runs `command`; each {signal: [...], pid} line it prints is answered by sending those signals as nobody, then a newline. */
function interactive(file: string, args: string[], options: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): Promise<Interactive> {
  return new Promise((resolve, reject) => {
    const child: ChildProcess = spawn(file, args, { cwd: options.cwd ?? repoRoot, env: { ...process.env, ...options.env }, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    const sent: Array<number | null> = [];
    const timer = setTimeout(() => child.kill('SIGKILL'), 60000);
    child.stderr!.on('data', (d) => (stderr += d));
    child.stdout!.on('data', (d) => {
      stdout += d;
      let nl: number;
      while ((nl = stdout.indexOf('\n')) >= 0) {
        const line = stdout.slice(0, nl);
        stdout = stdout.slice(nl + 1);
        let msg: any; // eslint-disable-line @typescript-eslint/no-explicit-any
        try {
          msg = JSON.parse(line);
        } catch {
          continue;
        }
        if (msg && Array.isArray(msg.signal)) {
          for (const s of msg.signal) sent.push(signalAsNobody(msg.pid, s));
          child.stdin!.write('\n');
        } else {
          last = msg;
        }
      }
    });
    let last: unknown;
    child.on('error', reject);
    child.on('close', (status) => {
      clearTimeout(timer);
      resolve({ status, stderr, json: last, sent });
    });
  });
}

function nodeChild(body: string, nodeArgs: string[] = [], options: { cwd?: string; env?: NodeJS.ProcessEnv; node?: string } = {}): Promise<Interactive> {
  const code = `${childPrelude}\n(async () => {\n${body}\n})().then(() => process.exit(0), (e) => { console.error(e); process.exit(99); });`;
  return interactive(options.node ?? process.execPath, [...nodeArgs, '-e', code], options);
}

/** The official build of a Node major from the install tests' cache (scripts/node-dist.js fetches it once); null if it cannot be had. */
function nodeMajor(major: string): string | null {
  if (process.versions.node.split('.')[0] === major) return process.execPath;
  try {
    // eslint-disable-next-line @typescript-eslint/no-var-requires
    return (require('../../scripts/node-dist.js') as { nodeBinary: (arch: string, major: string) => string }).nodeBinary(process.arch, major);
  } catch {
    return null;
  }
}

const bit = (mask: string, b: bigint) => (BigInt(mask) & b) !== 0n;

describeAsRoot('SIGUSR1 and the inspector after a drop', () => {
  test('another process of the target user sends SIGUSR1: the inspector does not open (it did before this fix)', async () => {
    const r = await nodeChild(`
      const port = await freePort(); process.debugPort = port;
      const before = sigBits();
      const result = privdrop.dropPrivileges({ user: 'nobody', capabilities: 'cap_net_bind_service+ep' });
      await signalMe(['USR1']);
      report({ uid: uid(), before, after: sigBits(), closed: result.closedSignalDoors, warnings: result.warnings, ...(await inspectorState(port)) });`);
    expect(r.status).toBe(0);
    expect(r.sent).toEqual([0]); // the kernel let the signal through: same uid
    expect(r.json.uid).toBe(String(NOBODY));
    expect(bit(r.json.before.cgt, SIGUSR1_BIT)).toBe(true); // Node's handler was there
    expect(r.json.url).toBeNull();
    expect(r.json.http).toBe('ECONNREFUSED');
    expect(r.stderr).toBe(''); // no "Debugger listening on ..."
    expect(bit(r.json.after.ign, SIGUSR1_BIT)).toBe(true);
    expect(r.json.closed).toEqual([{ signal: 'SIGUSR1', door: 'inspector' }]);
    expect(r.json.warnings).toEqual([]);
  });

  test.each(['18', '20', '22', '24'])('the same on Node %s', async (major) => {
    const node = nodeMajor(major);
    if (!node) return void console.warn(`skipped: no Node ${major} binary could be had`); // visible, as describeAsRoot's skips are
    const r = await nodeChild(`
      const port = await freePort(); process.debugPort = port;
      const result = privdrop.dropPrivileges({ user: 'nobody', capabilities: 'cap_net_bind_service+ep' });
      await signalMe(['USR1']);
      report({ version: process.version, uid: uid(), closed: result.closedSignalDoors, ...(await inspectorState(port)) });`, [], { node });
    expect(r.status).toBe(0);
    expect(r.json.version).toMatch(new RegExp(`^v${major}\\.`));
    expect(r.sent).toEqual([0]);
    expect(r.json.uid).toBe(String(NOBODY));
    expect(r.json.url).toBeNull();
    expect(r.json.http).toBe('ECONNREFUSED');
    expect(r.json.closed).toEqual([{ signal: 'SIGUSR1', door: 'inspector' }]);
  });

  test('keepDebugSignals: true keeps the door (the same signal opens it), with a PRIVDROP_SHARED_USER warning for nobody', async () => {
    const r = await nodeChild(`
      const port = await freePort(); process.debugPort = port;
      const emitted = []; process.on('warning', (w) => emitted.push(w.code));
      const result = privdrop.dropPrivileges({ user: 'nobody', capabilities: 'cap_net_bind_service+ep', keepDebugSignals: true });
      await signalMe(['USR1']);
      report({ uid: uid(), closed: result.closedSignalDoors, warnings: result.warnings.map((w) => w.code), emitted, port, ...(await inspectorState(port)) });`);
    expect(r.status).toBe(0);
    expect(r.sent).toEqual([0]);
    expect(r.json.url).toMatch(new RegExp(`^ws://127\\.0\\.0\\.1:${r.json.port}/`));
    expect(r.json.http).toBe(200);
    expect(r.json.closed).toEqual([]);
    expect(r.json.warnings).toEqual(['PRIVDROP_SHARED_USER']);
    expect(r.json.emitted).toEqual(['PRIVDROP_SHARED_USER']);
    expect(r.stderr).toMatch(/PRIVDROP_SHARED_USER.*shared by many processes.*user of its own/);
  });

  test('--inspect at start-up keeps working after the drop', async () => {
    const r = await nodeChild(`
      const url = inspector.url(); const port = Number(new URL(url).port);
      const result = privdrop.dropPrivileges({ user: 'nobody', capabilities: 'cap_net_bind_service+ep' });
      await signalMe(['USR1']);
      report({ uid: uid(), before: url, closed: result.closedSignalDoors, ...(await inspectorState(port, 50)) });`, ['--inspect=127.0.0.1:0']);
    expect(r.status).toBe(0);
    expect(r.json.uid).toBe(String(NOBODY));
    expect(r.json.url).toBe(r.json.before);
    expect(r.json.http).toBe(200);
  });

  test("process.on('SIGUSR1') listeners get the signal, before or after the drop; removing the last leaves SIGUSR1 at its default, not the inspector", async () => {
    const r = await nodeChild(`
      const port = await freePort(); process.debugPort = port;
      let early = 0; const onEarly = () => early++;
      process.on('SIGUSR1', onEarly);
      const result = privdrop.dropPrivileges({ user: 'nobody', capabilities: 'cap_net_bind_service+ep' });
      await signalMe(['USR1']); await sleep(200);
      process.removeListener('SIGUSR1', onEarly);
      const removed = sigBits();
      let late = 0; process.on('SIGUSR1', () => late++);
      await signalMe(['USR1']); await sleep(200);
      report({ early, late, closed: result.closedSignalDoors, removed, ...(await inspectorState(port)) });`);
    expect(r.status).toBe(0);
    expect(r.sent).toEqual([0, 0]);
    expect(r.json.early).toBe(1);
    expect(r.json.late).toBe(1);
    expect(r.json.closed).toEqual([]); // an app listener had already replaced Node's handler
    expect(bit(r.json.removed.cgt, SIGUSR1_BIT) || bit(r.json.removed.ign, SIGUSR1_BIT)).toBe(false); // SIG_DFL
    expect(r.json.url).toBeNull();
    expect(r.json.http).toBe('ECONNREFUSED');
  });
});

describeAsRoot('--report-on-signal and --heapsnapshot-signal after a drop', () => {
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'privdrop-signals-'));
    fs.chmodSync(dir, 0o777); // the dropped process may write there: only the closed door keeps it from doing so
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  const files = () => fs.readdirSync(dir);
  const body = (keep: boolean) => `
    const result = privdrop.dropPrivileges({ user: 'nobody', capabilities: 'cap_net_bind_service+ep', keepDebugSignals: ${keep} });
    await signalMe(['USR2']);
    for (let t = 0; t < 3000 && fs.readdirSync('.').length === 0; t += 100) await sleep(100);
    report({ uid: uid(), closed: result.closedSignalDoors, files: fs.readdirSync('.'), listeners: process.listeners('SIGUSR2').map((f) => f.name) });`;

  test.each([
    ['--report-on-signal', ['--report-on-signal'], 'report', /^report\..*\.json$/],
    ['--heapsnapshot-signal=SIGUSR2', ['--heapsnapshot-signal=SIGUSR2'], 'heap-snapshot', /\.heapsnapshot$/],
  ])('%s: SIGUSR2 from nobody writes nothing and the process lives on; with keepDebugSignals the file is written', async (_flag, args, door, file) => {
    const closed = await nodeChild(body(false), [...args, `--report-directory=${dir}`], { cwd: dir });
    expect(closed.stderr).toBe('');
    expect(closed.status).toBe(0);
    expect(closed.sent).toEqual([0]);
    expect(closed.json.uid).toBe(String(NOBODY));
    expect(closed.json.closed).toEqual([{ signal: 'SIGUSR1', door: 'inspector' }, { signal: 'SIGUSR2', door }]);
    expect(closed.json.files).toEqual([]);
    expect(closed.json.listeners).toEqual(['privdropClosedSignalDoor']);
    expect(files()).toEqual([]);

    const kept = await nodeChild(body(true), [...args, `--report-directory=${dir}`], { cwd: dir });
    expect(kept.status).toBe(0);
    expect(kept.json.files).toHaveLength(1);
    expect(kept.json.files[0]).toMatch(file);
    expect(fs.statSync(path.join(dir, kept.json.files[0])).uid).toBe(NOBODY); // readable by every process of nobody
  });

  test('--heapsnapshot-signal whose listener privdrop cannot find: ERR_PRIVDROP_OPEN_SIGNAL_DOOR, nothing changed', () => {
    const r = runNode(
      `
      for (const f of process.listeners('SIGUSR2')) process.removeListener('SIGUSR2', f);
      process.on('SIGUSR2', () => require('v8').writeHeapSnapshot()); // as a Node that named it otherwise would
      let error;
      try { privdrop.dropPrivileges({ user: 'nobody' }); } catch (e) { error = { code: e.code, step: e.step, message: e.message }; }
      const s = require('fs').readFileSync('/proc/self/status', 'utf8');
      report({ error, uid: s.match(/Uid:\\s*(\\d+)/)[1], cgt: BigInt('0x' + s.match(/SigCgt:\\s*(\\w+)/)[1]).toString() });`,
      { nodeArgs: ['--heapsnapshot-signal=SIGUSR2'] },
    );
    expect(r.status).toBe(0);
    expect(r.json.error.code).toBe('ERR_PRIVDROP_OPEN_SIGNAL_DOOR');
    expect(r.json.error.step).toBe('validate');
    expect(r.json.error.message).toMatch(/--heapsnapshot-signal.*keepDebugSignals/);
    expect(r.json.uid).toBe('0');
    expect(bit(r.json.cgt, SIGUSR1_BIT)).toBe(true);
  });

  test('a drop that throws before its first irreversible step leaves every door as it was', () => {
    const r = runNode(
      `
      let error;
      try { privdrop.dropPrivileges({ user: 'nobody' }); } catch (e) { error = e.code; }
      const s = require('fs').readFileSync('/proc/self/status', 'utf8');
      report({ error, reportOnSignal: process.report.reportOnSignal, listeners: process.listeners('SIGUSR2').map((f) => f.name),
        cgt: BigInt('0x' + s.match(/SigCgt:\\s*(\\w+)/)[1]).toString(), ign: BigInt('0x' + s.match(/SigIgn:\\s*(\\w+)/)[1]).toString() });`,
      { nodeArgs: ['--report-on-signal', '--heapsnapshot-signal=SIGUSR2'], binding: faultsBinding, env: { PRIVDROP_FAULT: 'create-keyring' } },
    );
    expect(r.status).toBe(0);
    expect(r.json.error).toMatch(/^ERR_PRIVDROP_/);
    expect(r.json.reportOnSignal).toBe(true);
    expect(r.json.listeners.sort()).toEqual(['doWriteHeapSnapshot', 'signalHandler']);
    expect(bit(r.json.cgt, SIGUSR1_BIT)).toBe(true);
    expect(bit(r.json.ign, SIGUSR1_BIT)).toBe(false);
  });
});

/** A Node binary with --disable-sigusr1 (22.14+), from the install tests' cache; null if it cannot be had. */
function nodeWithSwitch(): string | null {
  return process.allowedNodeEnvironmentFlags.has('--disable-sigusr1') ? process.execPath : nodeMajor('22');
}

describeAsRoot('privdrop exec of a node program', () => {
  const execBody = `
    const port = await freePort(); process.debugPort = port;
    await signalMe(['USR1']);
    report({ uid: uid(), execArgv: process.execArgv, bits: sigBits(), ...(await inspectorState(port)) });`;
  const execChild = (node: string, extra: string[]) =>
    interactive(node, [BIN, 'exec', '--user', 'nobody', '--caps', 'cap_net_bind_service', ...extra, '--', node, '-e', `${childPrelude}\n(async () => {\n${execBody}\n})().then(() => process.exit(0), (e) => { console.error(e); process.exit(99); });`]);

  const node22 = nodeWithSwitch();
  (node22 ? test : test.skip)(`a node that has --disable-sigusr1 gets it: SIGUSR1 from nobody opens nothing (${node22 ?? 'no such node here'})`, async () => {
    const r = await execChild(node22 as string, []);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.sent).toEqual([0]);
    expect(r.json.uid).toBe(String(NOBODY));
    expect(r.json.execArgv).toEqual(['--disable-sigusr1', '-e', expect.any(String)]);
    expect(bit(r.json.bits.cgt, SIGUSR1_BIT) || bit(r.json.bits.ign, SIGUSR1_BIT)).toBe(false);
    expect(r.json.url).toBeNull();
    expect(r.json.http).toBe('ECONNREFUSED');

    const kept = await execChild(node22 as string, ['--keep-debug-signals']);
    expect(kept.json.execArgv).toEqual(['-e', expect.any(String)]);
    expect(kept.json.url).toMatch(/^ws:/);
    expect(kept.json.http).toBe(200);
  });

  (process.allowedNodeEnvironmentFlags.has('--disable-sigusr1') ? test.skip : test)(`a node without --disable-sigusr1 (${process.version}) is run as asked, with a warning saying the door is open`, () => {
    const r = runProcess(process.execPath, [BIN, 'exec', '--user', 'nobody', '--', process.execPath, '-e', 'console.log(JSON.stringify(process.execArgv))']);
    expect(r.status).toBe(0);
    expect(r.json).toEqual(['-e', expect.any(String)]);
    expect(r.stderr).toMatch(new RegExp(`^privdrop exec: warning: node ${process.version} has no --disable-sigusr1 .*SIGUSR1.*dropPrivileges\\(\\) in the program.*\\n$`));
    const quiet = runProcess(process.execPath, [BIN, 'exec', '--user', 'nobody', '--keep-debug-signals', '--', process.execPath, '-e', '0']);
    expect(quiet.status).toBe(0);
    expect(quiet.stderr).toMatch(/^privdrop exec: warning: user nobody \(uid 65534\) is shared by many processes[^\n]*\n$/);
  });

  test('COMMAND that is not node starts with SIGUSR1 at its default, not ignored', () => {
    const r = runProcess(process.execPath, [BIN, 'exec', '--user', 'nobody', '--', 'sh', '-c', 'grep -E "^Sig(Ign|Cgt)" /proc/self/status']);
    expect(r.status).toBe(0);
    const ign = BigInt('0x' + /SigIgn:\s*(\w+)/.exec(r.stdout)![1]);
    expect(ign & SIGUSR1_BIT).toBe(0n);
  });

  test('--dry-run and the config key keep_debug_signals', () => {
    const dry = runProcess(process.execPath, [BIN, 'exec', '--dry-run', '--user', 'nobody', '--', '/bin/true']);
    expect(dry.stdout).toMatch(/debug signals +closed in privdrop\n/);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'privdrop-signals-conf-'));
    try {
      const conf = path.join(dir, 'security.conf');
      fs.writeFileSync(conf, 'Security {\n  user = nobody\n  keep_debug_signals = true\n}\n', { mode: 0o644 });
      const kept = runProcess(process.execPath, [BIN, 'exec', '--dry-run', '--config', conf, '--', '/bin/true']);
      expect(kept.status).toBe(0);
      expect(kept.stdout).toMatch(/debug signals +kept  \[.*security.conf:3\]\n/);
      expect(kept.stderr).toMatch(/warning: user nobody \(uid 65534\) is shared by many processes/);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
