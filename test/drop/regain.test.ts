// Regaining privilege: after each documented configuration of the drop, every way back we
// could think of. Nothing may gain a capability or an id that was not kept, except what the
// kernel grants to an exec'd setuid-root or file-capability program, which is measured here
// and documented in SECURITY.md (noNewPrivileges: true closes it).
//
// REGAIN_TABLE=<file> writes the measured table as Markdown (what SECURITY.md shows).
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { describeAsRoot, isRoot, repoRoot } from '../helpers/child';
import { CAP, maskHex, scenario } from '../helpers/drop';

const bindingModule = JSON.stringify(path.join(repoRoot, 'dist', 'addon', 'binding'));
const kept = maskHex(CAP.net_bind_service);
const none = maskHex();

const CONFIGS: Array<[string, Record<string, unknown>]> = [
  ['default', {}],
  ['ambient: true', { ambient: true }],
  ['noNewPrivileges: true', { noNewPrivileges: true }],
  ['lockSecurebits: true', { lockSecurebits: true }],
  ["boundingSet: 'unchanged'", { boundingSet: 'unchanged' }],
];

// The attempts, run in the dropped process (or in a program it execs). Each gives a short
// result: 'EPERM', 'EACCES', 'ok', or what an exec'd program held.
const ATTEMPTS = `
  const cp = require('child_process');
  const binding = require(${bindingModule}).binding();
  const attempt = (fn) => { try { const v = fn(); return v === undefined ? 'ok' : v; } catch (e) { return e.errnoName || e.code || e.message; } };
  const py = (code) => {
    const r = cp.spawnSync('/usr/bin/python3', ['-c', 'import ctypes, os, errno\\n' + code], { encoding: 'utf8' });
    return (r.stdout.trim() || r.stderr.trim().split('\\n').pop() || 'status ' + r.status);
  };
  const status = (text) => {
    const f = (k) => ((text.match(new RegExp('^' + k + ':\\\\s*(.*)$', 'm')) || [])[1] || '?').trim();
    return { uid: f('Uid').split(/\\s+/).map(Number), prm: f('CapPrm'), eff: f('CapEff'), amb: f('CapAmb') };
  };
  const run = (file, args) => {
    const r = cp.spawnSync(file, args, { encoding: 'utf8' });
    if (r.error) return { error: r.error.code };
    return { status: r.status, stdout: r.stdout, stderr: r.stderr.trim().split('\\n')[0] };
  };
  const execProbe = (file) => {
    const st = run(file, ['/proc/self/status']);
    if (st.error || st.status !== 0) return { exec: st.error || st.stderr || 'status ' + st.status };
    const secret = run(file, [paths.secret]);
    return { exec: 'ok', ...status(st.stdout), secret: secret.status === 0 ? 'read' : (/denied/.test(secret.stderr) ? 'EACCES' : secret.stderr) };
  };
  const NET_RAW = 1n << 13n;
  const masks = binding.capGetProc();
  const a = {};
  a.setuid0 = attempt(() => process.setuid(0));
  a.seteuid0 = attempt(() => process.seteuid(0));
  a.setgid0 = attempt(() => process.setgid(0));
  a.setgroups0 = attempt(() => process.setgroups([0]));
  a.setresuid0 = py('try:\\n os.setresuid(0, 0, 0); print("ok")\\nexcept OSError as e:\\n print(errno.errorcode[e.errno])');
  a.setresuidSaved = py('try:\\n os.setresuid(-1, -1, 0); print("ok")\\nexcept OSError as e:\\n print(errno.errorcode[e.errno])');
  a.capsetPermitted = attempt(() => binding.capSetProc({ ...masks, permitted: masks.permitted | NET_RAW, effective: masks.effective | NET_RAW }));
  a.capsetEffective = attempt(() => binding.capSetProc({ ...masks, effective: masks.effective | NET_RAW }));
  a.capsetInheritable = attempt(() => binding.capSetProc({ ...masks, inheritable: masks.inheritable | NET_RAW }));
  a.capsetAll = attempt(() => binding.capSetProc({ effective: (1n << 41n) - 1n, permitted: (1n << 41n) - 1n, inheritable: (1n << 41n) - 1n }));
  // PR_CAP_AMBIENT = 47, PR_CAP_AMBIENT_RAISE = 2, CAP_NET_RAW = 13
  a.ambientRaise = py('libc = ctypes.CDLL(None, use_errno=True)\\nr = libc.prctl(47, 2, 13, 0, 0)\\nprint("ok" if r == 0 else errno.errorcode[ctypes.get_errno()])');
  a.capshAddamb = run('/usr/sbin/capsh', ['--addamb=cap_net_raw', '--', '-c', 'true']).status === 0 ? 'ok' : 'failed';
  // PR_SET_KEEPCAPS = 8, PR_SET_SECUREBITS = 28 (clear everything)
  a.securebitsClear = py('libc = ctypes.CDLL(None, use_errno=True)\\nr = libc.prctl(28, 0, 0, 0, 0)\\nprint("ok" if r == 0 else errno.errorcode[ctypes.get_errno()])');
  a.setuidExec = execProbe(paths.suid);
  a.fcapExec = execProbe(paths.fcap);
  a.killRoot = attempt(() => process.kill(rootChild.pid, 'SIGTERM'));
  a.signal0Root = attempt(() => process.kill(rootChild.pid, 0));
  a.procMemRoot = attempt(() => fs.closeSync(fs.openSync('/proc/' + rootChild.pid + '/mem', 'r')));
  a.procEnvironRoot = attempt(() => fs.readFileSync('/proc/' + rootChild.pid + '/environ'));
  // PTRACE_ATTACH = 16
  a.ptraceRoot = py('libc = ctypes.CDLL(None, use_errno=True)\\nr = libc.ptrace(16, ' + rootChild.pid + ', 0, 0)\\nprint("ok" if r == 0 else errno.errorcode[ctypes.get_errno()])');
  // TIOCSTI = 0x5412: push a keystroke into the terminal the process was started from (a root
  // shell's, here a pty whose session leader stands in for the shell: test/fixtures/with-tty.py).
  a.tiocsti = (() => { const r = cp.spawnSync('/usr/bin/python3', ['-c', 'import errno, fcntl, termios\\ntry:\\n fcntl.ioctl(0, termios.TIOCSTI, b" "); print("ok")\\nexcept OSError as e:\\n print(errno.errorcode[e.errno])'], { encoding: 'utf8', stdio: [0, 'pipe', 'pipe'] }); return r.stdout.trim() || r.stderr.trim(); })();
  a.keyring = (() => { const r = run('/usr/bin/keyctl', ['print', keyId]); return r.status === 0 ? (r.stdout.trim() === 's3cret' ? 'ok' : r.stdout.trim()) : /denied/.test(r.stderr) ? 'EACCES' : r.stderr || 'status ' + r.status; })();
  a.ctty = (() => { try { fs.closeSync(fs.openSync('/dev/tty', 'r')); return 'ok'; } catch (e) { return e.code; } })();
  const gdb = run('/usr/bin/gdb', ['-batch', '-nx', '-p', String(rootChild.pid), '-ex', 'info registers rip']);
  a.gdbRoot = /Operation not permitted/.test((gdb.stdout || '') + (gdb.stderr || '')) ? 'EPERM' : (gdb.error || 'status ' + gdb.status + ' ' + String(gdb.stdout).split('\\n').filter((l) => /rip|ptrace/.test(l)).join(' '));
`;

interface ExecResult { exec: string; uid?: number[]; prm?: string; eff?: string; amb?: string; secret?: string }

let dir = '';
const paths = { suid: '', fcap: '', secret: '' };

function setup(): void {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'privdrop-regain-'));
  fs.chmodSync(dir, 0o755);
  paths.suid = path.join(dir, 'suid-cat');
  paths.fcap = path.join(dir, 'fcap-cat');
  paths.secret = path.join(dir, 'secret');
  fs.copyFileSync('/bin/cat', paths.suid);
  fs.chownSync(paths.suid, 0, 0);
  fs.chmodSync(paths.suid, 0o4755);
  fs.copyFileSync('/bin/cat', paths.fcap);
  fs.chmodSync(paths.fcap, 0o755);
  const sc = spawnSync('setcap', ['cap_net_raw,cap_dac_read_search+ep', paths.fcap], { encoding: 'utf8' });
  if (sc.status !== 0) throw new Error(`setcap failed: ${sc.stderr}`);
  fs.writeFileSync(paths.secret, 'root only\n', { mode: 0o600 });
}

const rows = new Map<string, Record<string, unknown>>();

function dropAndAttempt(options: Record<string, unknown>) {
  const r = scenario(`
    const paths = ${JSON.stringify(paths)};
    // A root process that exists before the drop (a child of this one).
    const rootChild = require('child_process').spawn('sleep', ['60'], { stdio: 'ignore' });
    // A key in root's session keyring that only a possessor may read (the run starts in a new one).
    const keyId = require('child_process').execFileSync('/usr/bin/keyctl', ['add', 'user', 'regain-secret', 's3cret', '@s']).toString().trim();
    require('child_process').execFileSync('/usr/bin/keyctl', ['setperm', keyId, '0x3f010000']);
    await new Promise((res) => setTimeout(res, 50));
    const d = tryDrop(${JSON.stringify({ user: 'nobody', capabilities: 'cap_net_bind_service+ep', ...options })});
    if (!d.ok) { report({ d }); rootChild.kill(); return; }
    ${ATTEMPTS}
    // SIGUSR1 from another process of the same user (a capability-less child): Node's handler
    // would start the inspector, on a free port here rather than 9229 (SECURITY.md, "Signal doors").
    process.debugPort = await new Promise((res) => { const srv = net.createServer().listen(0, '127.0.0.1', () => { const p = srv.address().port; srv.close(() => res(p)); }); });
    const killed = cp.spawnSync('kill', ['-USR1', String(process.pid)]).status;
    for (let t = 0; t < 1500 && !require('inspector').url(); t += 50) await new Promise((res) => setTimeout(res, 50));
    a.inspectorSignal = killed !== 0 ? 'kill: status ' + killed : require('inspector').url() ? 'ok' : 'no inspector';
    const s = summary();
    // Last, as it changes the sets read above: cap_net_bind_service made permitted-only, a Worker
    // started inside a window, and its bind on :80 once the window has closed.
    a.windowWorker = await (async () => {
      privdrop.setCapabilities('cap_net_bind_service+p');
      const host = '127.' + (1 + Math.floor(Math.random() * 250)) + '.' + Math.floor(Math.random() * 250) + '.' + (2 + Math.floor(Math.random() * 250));
      const code = "const { parentPort, workerData } = require('worker_threads'); const s = require('net').createServer(); s.once('error', (e) => parentPort.postMessage(e.code)); s.listen(80, workerData, () => s.close(() => parentPort.postMessage('ok')));";
      const w = privdrop.withCapabilities(['cap_net_bind_service'], () => new Worker(code, { eval: true, workerData: host }));
      const bound = await new Promise((res) => w.once('message', res));
      await w.terminate();
      return bound;
    })();
    const rootAlive = (() => { try { return fs.readFileSync('/proc/' + rootChild.pid + '/status', 'utf8').match(/^Uid:\\s*(\\d+)/m)[1] === '0'; } catch { return false; } })();
    report({ d, a, s, rootAlive });
    process.exit(0);
  `, { timeoutMs: 60000, wrapper: ['/usr/bin/python3', path.join(repoRoot, 'test', 'fixtures', 'with-tty.py')] });
  return r;
}

function describeExec(e: ExecResult): string {
  if (e.exec !== 'ok') return `exec fails: ${e.exec}`;
  const caps = e.eff === none && e.prm === none ? 'no capabilities' : e.prm === kept && e.eff === kept ? 'cap_net_bind_service only' : `CapPrm ${e.prm}`;
  return `euid ${e.uid?.[1]}, ${caps}, root-only file: ${e.secret === 'read' ? '**read**' : e.secret}`;
}

function markdownTable(): string {
  const names = CONFIGS.map(([n]) => n);
  const line = (cells: string[]) => `| ${cells.join(' | ')} |`;
  const label: Record<string, string> = {
    setuid0: 'process.setuid(0)', seteuid0: 'process.seteuid(0)', setgid0: 'process.setgid(0)', setgroups0: 'process.setgroups([0])',
    setresuid0: 'setresuid(0, 0, 0) (python3 os.setresuid)', setresuidSaved: 'setresuid(-1, -1, 0)',
    capsetPermitted: 'capset: add cap_net_raw to permitted+effective', capsetEffective: 'capset: add cap_net_raw to effective',
    capsetInheritable: 'capset: add cap_net_raw to inheritable', capsetAll: 'capset: every capability',
    ambientRaise: 'prctl(PR_CAP_AMBIENT_RAISE, cap_net_raw)', capshAddamb: 'capsh --addamb=cap_net_raw',
    securebitsClear: 'prctl(PR_SET_SECUREBITS, 0)',
    setuidExec: 'exec a setuid-root program (copy of cat, 4755 root)', fcapExec: 'exec a file-capability program (cat with cap_net_raw,cap_dac_read_search+ep)',
    killRoot: 'kill(SIGTERM) a root process started before the drop', signal0Root: 'kill(pid, 0) of that process',
    procMemRoot: 'open /proc/<root pid>/mem', procEnvironRoot: 'read /proc/<root pid>/environ',
    ptraceRoot: 'ptrace(PTRACE_ATTACH) that process', gdbRoot: 'gdb -p <root pid>',
    keyring: "keyctl print: a possessor-only key in root's session keyring",
    tiocsti: "ioctl(TIOCSTI) into the root shell's terminal it was started from", ctty: 'open /dev/tty (that terminal, as controlling terminal)',
    inspectorSignal: "SIGUSR1 from another process of the user (Node's inspector)",
    windowWorker: 'bind :80 from a Worker started inside a withCapabilities() window, after it closed (cap_net_bind_service made permitted-only first)',
  };
  const out = [line(['attempt', ...names]), line(['---', ...names.map(() => '---')])];
  for (const key of Object.keys(label)) {
    const cells = names.map((n) => {
      const v = (rows.get(n) as Record<string, unknown>)?.[key];
      if (v === undefined) return '?';
      if (typeof v === 'object') return describeExec(v as ExecResult);
      if (v === 'failed') return 'fails';
      return v === 'ok' ? '**succeeds**' : String(v);
    });
    out.push(line([label[key], ...cells]));
  }
  return out.join('\n') + '\n';
}

describeAsRoot('after a drop, no way back gains anything that was not kept', () => {
  beforeAll(() => {
    if (isRoot) setup();
  });
  afterAll(() => {
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
    if (process.env.REGAIN_TABLE && rows.size === CONFIGS.length) fs.writeFileSync(process.env.REGAIN_TABLE, markdownTable());
  });

  test.each(CONFIGS)('%s', (name, options) => {
    const r = dropAndAttempt(options);
    expect(r.stderr).toBe('');
    expect(r.json.d).toMatchObject({ ok: true });
    const { a, s } = r.json;
    rows.set(name, a);
    const withAmbient = name === 'ambient: true';
    const bounding = name === "boundingSet: 'unchanged'" ? s.bnd : kept;
    // The process itself: exactly what was kept.
    expect(s).toMatchObject({ consistent: true, uid: [65534, 65534, 65534, 65534], prm: kept, eff: kept, amb: withAmbient ? kept : none, bnd: bounding });

    // Ids: every change to 0 is refused.
    expect({ setuid0: a.setuid0, seteuid0: a.seteuid0, setgid0: a.setgid0, setgroups0: a.setgroups0, setresuid0: a.setresuid0, setresuidSaved: a.setresuidSaved })
      .toEqual({ setuid0: 'EPERM', seteuid0: 'EPERM', setgid0: 'EPERM', setgroups0: 'EPERM', setresuid0: 'EPERM', setresuidSaved: 'EPERM' });
    // Capabilities: no capset adds one, no ambient raise of a dropped one, securebits stay.
    expect([a.capsetPermitted, a.capsetEffective, a.capsetInheritable, a.capsetAll]).toEqual(Array(4).fill('EPERM'));
    expect(a.ambientRaise).toBe('EPERM');
    expect(a.capshAddamb).toBe('failed');
    expect(a.securebitsClear).toBe('EPERM');
    // A root process that was started before the drop is out of reach.
    expect({ kill: a.killRoot, signal0: a.signal0Root, mem: a.procMemRoot, environ: a.procEnvironRoot, ptrace: a.ptraceRoot, gdb: a.gdbRoot })
      .toEqual({ kill: 'EPERM', signal0: 'EPERM', mem: 'EACCES', environ: 'EACCES', ptrace: 'EPERM', gdb: 'EPERM' });
    expect(r.json.rootAlive).toBe(true);
    // Root's terminal: given up by the drop, so nothing can be pushed into it (issue 10).
    expect({ tiocsti: a.tiocsti, ctty: a.ctty }).toEqual({ tiocsti: 'EPERM', ctty: 'ENXIO' });
    // Root's session keyring: left behind, every thread is in a new one (issue 10).
    expect(a.keyring).toBe('EACCES');
    // Node's signal-opened inspector: SIGUSR1 from the same user no longer starts it (issue 16).
    expect(a.inspectorSignal).toBe('no inspector');
    // A thread born inside a window does not keep what the window raised (issue 16).
    expect(a.windowWorker).toBe('EACCES');

    // exec of setuid-root and file-capability programs: what the kernel grants, as measured.
    const suid: ExecResult = a.setuidExec;
    const fcap: ExecResult = a.fcapExec;
    switch (name) {
      case 'noNewPrivileges: true':
        // no_new_privs: the setuid bit is ignored; the file-capability program is refused
        // (its capabilities would be cut away, and the kernel will not run it without them).
        expect(suid).toMatchObject({ exec: 'ok', uid: [65534, 65534, 65534, 65534], prm: none, eff: none, secret: 'EACCES' });
        expect(fcap).toEqual({ exec: 'EPERM' });
        break;
      case 'lockSecurebits: true':
        // SECBIT_NOROOT: euid 0 from the setuid bit, but no capabilities come with it.
        expect(suid).toMatchObject({ exec: 'ok', uid: [65534, 0, 0, 0], prm: none, eff: none, secret: 'read' });
        expect(fcap).toEqual({ exec: 'EPERM' });
        break;
      case "boundingSet: 'unchanged'":
        // The full bounding set is still there: a setuid-root program is fully root again,
        // a file-capability program gets its capabilities.
        expect(suid).toMatchObject({ exec: 'ok', uid: [65534, 0, 0, 0], prm: s.bnd, eff: s.bnd, secret: 'read' });
        expect(fcap).toMatchObject({ exec: 'ok', uid: [65534, 65534, 65534, 65534], prm: maskHex(2, 13), eff: maskHex(2, 13), secret: 'read' });
        break;
      default:
        // Bounding set trimmed to the kept capability: euid 0, but capabilities only within it;
        // a file-capability program whose capabilities are not all in the bounding set is refused.
        expect(suid).toMatchObject({ exec: 'ok', uid: [65534, 0, 0, 0], prm: kept, eff: kept, secret: 'read' });
        expect(fcap).toEqual({ exec: 'EPERM' });
    }
  });
});
