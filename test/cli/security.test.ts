// The CLI: `show` must not write a process's escape sequences to root's terminal; `exec` drops
// exactly the plan it checked (names resolved once); `exec --reset-env` as setpriv does.
import { spawn } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { describeAsRoot, repoRoot, runNode, runProcess } from '../helpers/child';

const BIN = path.join(repoRoot, 'bin', 'privdrop.js');
const PYTHON = '/usr/bin/python3';
const dist = path.join(repoRoot, 'dist');
// issue 8 moves the CLI into dist/cli/; either layout works here.
const cliModule = fs.existsSync(path.join(dist, 'cli', 'index.js')) ? path.join(dist, 'cli', 'index.js') : path.join(dist, 'cli.js');

describe('privdrop show escapes control characters', () => {
  test('a process and thread names made of escape sequences come out escaped', async () => {
    // The main thread names itself ESC ] 0 ; ... BEL; a second thread names itself ESC [ 2 J
    // and sets no_new_privs on itself only, so the threads disagree and the table shows names.
    const py = `
import ctypes, threading, time, sys
open('/proc/self/comm', 'w').write('\\x1b]0;owned\\x07x')
def t():
    open('/proc/self/task/%d/comm' % threading.get_native_id(), 'w').write('\\x1b[2Jy\\x9b')
    ctypes.CDLL(None).prctl(38, 1, 0, 0, 0)
    time.sleep(30)
threading.Thread(target=t, daemon=True).start()
time.sleep(0.3)
print('ready', flush=True)
time.sleep(30)`;
    const child = spawn(PYTHON, ['-c', py], { stdio: ['ignore', 'pipe', 'inherit'] });
    await new Promise((resolve) => child.stdout.once('data', resolve));
    try {
      const r = runProcess(process.execPath, [BIN, 'show', String(child.pid)]);
      expect(r.status).toBe(0);
      expect(r.stdout).toMatch(/DISAGREE/);
      // eslint-disable-next-line no-control-regex
      expect(r.stdout).not.toMatch(/[\x00-\x08\x0b-\x1f\x7f\x80-\x9f]/);
      expect(r.stdout).toContain('\\x1b]0;owned\\x07x');
      expect(r.stdout).toContain('\\x1b[2Jy');
      const j = runProcess(process.execPath, [BIN, 'show', String(child.pid), '--json']);
      // eslint-disable-next-line no-control-regex
      expect(j.stdout).not.toMatch(/[\x00-\x08\x0b-\x1f\x7f\x80-\x9f]/);
      const shown = JSON.parse(j.stdout);
      expect(shown.command).toBe('\x1b]0;owned\x07x');
      expect(shown.threads.map((t: { name: string }) => t.name)).toContain('\x1b[2Jy\x9b');
    } finally {
      child.kill();
    }
  });
});

describeAsRoot('privdrop exec: one resolution, and --reset-env', () => {
  test('the plan that was checked is the plan that is dropped (names resolved once)', () => {
    // NSS answers differently the second time it is asked (an /etc/passwd edit, an LDAP change).
    const code = `
      const b = require(${JSON.stringify(path.join(dist, 'addon', 'binding.js'))}).binding();
      const orig = b.lookupUser.bind(b);
      let calls = 0;
      b.lookupUser = (u) => u === 'flipper' ? { name: 'flipper', uid: calls++ === 0 ? 1 : 2, gid: 1, dir: '/', shell: '/bin/sh' } : orig(u);
      require(${JSON.stringify(cliModule)}).run(['exec', '--user', 'flipper', '--groups', 'clear', '--', '/usr/bin/id', '-u']);`;
    const r = runNode(code);
    expect(r.stdout.trim()).toBe('1');
  });

  test('--reset-env: HOME, USER, LOGNAME, SHELL of the user, a sane PATH, TERM; nothing else', () => {
    const r = runProcess(process.execPath, [BIN, 'exec', '--user', 'nobody', '--reset-env', '--', '/usr/bin/env'], {
      env: { SECRET_TOKEN: 'xyz', PYTHONPATH: '/tmp/evil', TERM: 'xterm', HOME: '/root', PATH: `/tmp/evil-bin:${process.env.PATH}` },
    });
    expect(r.status).toBe(0);
    const env = Object.fromEntries(r.stdout.trim().split('\n').map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]));
    expect(env).toEqual({
      HOME: '/nonexistent',
      USER: 'nobody',
      LOGNAME: 'nobody',
      SHELL: '/usr/sbin/nologin',
      PATH: '/usr/local/bin:/usr/bin:/bin',
      TERM: 'xterm',
    });
  });

  test('without --reset-env the environment passes through unchanged (as before)', () => {
    const r = runProcess(process.execPath, [BIN, 'exec', '--user', 'nobody', '--', '/usr/bin/env'], { env: { SECRET_TOKEN: 'xyz' } });
    expect(r.stdout).toContain('SECRET_TOKEN=xyz');
  });
});
