// Root's terminal: a program started after a drop from an interactive root shell must not be
// able to push keystrokes into that shell with ioctl(TIOCSTI). The shell runs under a real
// pseudo-terminal (python3's pty module), as an administrator's login shell would.
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { describeAsRoot, distEntry, repoRoot, runProcess } from '../helpers/child';

const BIN = path.join(repoRoot, 'bin', 'privdrop.js');
const PYTHON = '/usr/bin/python3';
const SHELL_DRIVER = path.join(repoRoot, 'test', 'fixtures', 'root-shell.py');
const TIOCSTI = path.join(repoRoot, 'test', 'fixtures', 'tiocsti.py');
const NODE = process.execPath;
const q = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

function legacyTiocsti(): boolean {
  try {
    return fs.readFileSync('/proc/sys/dev/tty/legacy_tiocsti', 'utf8').trim() === '1';
  } catch {
    return true; // kernels before 6.2 have no switch: TIOCSTI is always allowed
  }
}

/** Types `command` into an interactive root bash under a pty; returns the transcript. */
function rootShell(command: string): string {
  const r = runProcess(PYTHON, [SHELL_DRIVER, command], { timeoutMs: 90000 });
  if (r.status !== 0 || !r.json) throw new Error(`root shell driver failed: ${r.status} ${r.stderr}`);
  return r.json.transcript as string;
}

const maybe = legacyTiocsti() ? describeAsRoot : describe.skip;

maybe('root terminal: TIOCSTI from a dropped program started in a root shell', () => {
  let tmp: string;
  let marker: string;
  beforeAll(() => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'privdrop-tty-'));
    fs.chmodSync(tmp, 0o755);
  });
  afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));
  beforeEach(() => {
    marker = path.join(tmp, `injected-${Math.random().toString(36).slice(2)}`);
  });

  test('control: a program run by root itself can inject (the attack works on this kernel)', () => {
    const t = rootShell(`${PYTHON} ${TIOCSTI} ${q(`touch ${marker}`)}`);
    expect(t).toContain('tiocsti ok');
    expect(fs.existsSync(marker)).toBe(true);
  });

  test('privdrop exec: the dropped program cannot inject into the root shell, and can still use the terminal', () => {
    const t = rootShell(`${NODE} ${BIN} exec --user nobody -- ${PYTHON} ${TIOCSTI} ${q(`touch ${marker}`)}`);
    expect(t).toMatch(/tiocsti E(PERM|IO)/);
    expect(t).toContain('COMMAND-DONE-0'); // it ran, and its output reached the terminal
    expect(fs.existsSync(marker)).toBe(false);
  });

  test('dropPrivileges(): a program spawned after the drop cannot inject into the root shell', () => {
    const script = path.join(tmp, 'drop-then-spawn.js');
    fs.writeFileSync(
      script,
      `const privdrop = require(${JSON.stringify(distEntry)});
       privdrop.dropPrivileges({ user: 'nobody' });
       const r = require('child_process').spawnSync(${JSON.stringify(PYTHON)}, [${JSON.stringify(TIOCSTI)}, process.argv[2]], { stdio: 'inherit' });
       process.exit(r.status);`,
    );
    const t = rootShell(`${NODE} ${script} ${q(`touch ${marker}`)}`);
    expect(t).toMatch(/tiocsti E(PERM|IO)/);
    expect(t).toContain('COMMAND-DONE-0');
    expect(fs.existsSync(marker)).toBe(false);
  });

  test('dropPrivileges(): the dropped process itself cannot inject either', () => {
    const script = path.join(tmp, 'drop-then-ioctl.js');
    // No ioctl in Node: the same process execs the attack program after the drop (same PID).
    fs.writeFileSync(
      script,
      `const privdrop = require(${JSON.stringify(distEntry)});
       privdrop.dropPrivileges({ user: 'nobody' });
       require('child_process').execFileSync(${JSON.stringify(PYTHON)}, ['-c', 'import os,sys; os.execv(sys.argv[1], sys.argv[1:])', ${JSON.stringify(PYTHON)}, ${JSON.stringify(TIOCSTI)}, process.argv[2]], { stdio: 'inherit' });`,
    );
    const t = rootShell(`${NODE} ${script} ${q(`touch ${marker}`)}`);
    expect(t).toMatch(/tiocsti E(PERM|IO)/);
    expect(fs.existsSync(marker)).toBe(false);
  });

  test('a session leader on the terminal gives it up too, and survives the hangup the kernel sends its foreground group', () => {
    const script = path.join(tmp, 'leader.js');
    fs.writeFileSync(
      script,
      `const privdrop = require(${JSON.stringify(distEntry)});
       const leader = require('fs').readFileSync('/proc/self/stat', 'utf8').split(') ')[1].split(' ');
       const r0 = privdrop.dropPrivileges({ user: 'nobody' });
       require('child_process').spawnSync(${JSON.stringify(PYTHON)}, [${JSON.stringify(TIOCSTI)}, 'echo injected'], { stdio: 'inherit' });
       setTimeout(() => console.log('survived sid=' + leader[3] + ' pid=' + process.pid + ' terminal=' + r0.terminal), 200);`,
    );
    // pty.fork: the child is a session leader with the pty as its controlling terminal.
    const py = `import os, pty, sys
pid, fd = pty.fork()
if pid == 0:
    os.execv(sys.argv[1], sys.argv[1:])
out = b''
while True:
    try:
        d = os.read(fd, 4096)
    except OSError:
        break
    if not d:
        break
    out += d
os.waitpid(pid, 0)
sys.stdout.write(out.decode('utf-8', 'replace'))`;
    const r = runProcess(PYTHON, ['-c', py, NODE, script], { timeoutMs: 30000 });
    expect(r.stdout).toMatch(/tiocsti E(PERM|IO)/);
    const m = /survived sid=(\d+) pid=(\d+) terminal=(\w+)/.exec(r.stdout);
    expect(m).not.toBeNull();
    expect(m?.[1]).toBe(m?.[2]); // it was the session leader
    expect(m?.[3]).toBe('released');
  });

  test('keepTerminal: true (and exec --keep-terminal) keep the controlling terminal, as documented', () => {
    const t = rootShell(`${NODE} ${BIN} exec --user nobody --keep-terminal -- ${PYTHON} ${TIOCSTI} ${q(`touch ${marker}`)}`);
    expect(t).toContain('tiocsti ok');
    fs.rmSync(marker, { force: true });
  });
});
