// `privdrop exec` as root, with real processes: the drop, the exec in place, chroot, exit codes.
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { describeAsRoot, repoRoot, runProcess } from '../helpers/child';

const BIN = path.join(repoRoot, 'bin', 'privdrop.js');
const CAPSH = '/usr/sbin/capsh';
const NOBODY = 65534;
const NOGROUP = 65534;
const PATH = `${path.dirname(process.execPath)}:/usr/local/bin:/usr/bin:/bin`;
const fixture = (name: string) => path.join(repoRoot, 'test', 'fixtures', name);

/**
 * Runs `script` in sh with privdrop's command line in $PRIVDROP, so `echo $$; exec $PRIVDROP exec
 * ...` prints the PID that privdrop, and after it COMMAND, will have.
 */
function sh(script: string, env: Record<string, string> = {}) {
  return runProcess('/bin/sh', ['-c', script], { env: { PATH, PRIVDROP: `${process.execPath} ${BIN}`, ...env } });
}

const privdrop = (...args: string[]) => runProcess(process.execPath, [BIN, ...args], { env: { PATH } });

function capshDecode(hex: string): string[] {
  const names = spawnSync(CAPSH, [`--decode=${hex}`], { encoding: 'utf8' }).stdout.trim().split('=')[1] ?? '';
  return names === '' ? [] : names.split(',');
}

/** Fields of status text as "Key" -> value with tabs turned into single spaces. */
function fields(status: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const m of status.matchAll(/^(\w+):[ \t]*(.*)$/gm)) out[m[1]] = m[2].trim().replace(/\s+/g, ' ');
  return out;
}

const CAP_NET_BIND_SERVICE = '0000000000000400';
const ids = (id: number) => `${id} ${id} ${id} ${id}`;

describeAsRoot('privdrop exec, as root', () => {
  let tmp: string;
  let marker: string;
  const markerScript = () => `touch ${marker}`;

  beforeAll(() => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'privdrop-cli-'));
    fs.chmodSync(tmp, 0o755);
  });
  afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));
  beforeEach(() => {
    marker = path.join(tmp, `marker-${Math.random().toString(36).slice(2)}`);
  });

  test('node as nobody keeps cap_net_bind_service on every thread, binds a low port, and has the same PID', () => {
    // A random port below 1024 rather than 80, so parallel runs on this machine do not collide.
    const port = 700 + Math.floor(Math.random() * 300);
    const code = `
      const fs = require('fs');
      const server = require('net').createServer().listen(${port}, '127.0.0.1', () => {
        const threads = {};
        for (const tid of fs.readdirSync('/proc/self/task')) threads[tid] = fs.readFileSync('/proc/self/task/' + tid + '/status', 'utf8');
        process.stdout.write(JSON.stringify({ pid: process.pid, port: server.address().port, self: fs.readFileSync('/proc/self/status', 'utf8'), threads }) + '\\n');
        server.close();
      });`;
    const r = sh('echo $$; exec $PRIVDROP exec --user nobody --caps cap_net_bind_service -- node -e "$CODE"', { CODE: code });
    // A node without --disable-sigusr1 is told about once (test/drop/signal-doors.test.ts).
    expect(r.stderr.replace(/^privdrop exec: warning: node \S+ has no --disable-sigusr1 .*\n/, '')).toBe('');
    expect(r.status).toBe(0);
    const before = Number(r.stdout.split('\n')[0]);
    expect(r.json.pid).toBe(before);
    expect(r.json.port).toBe(port);
    const tids = Object.keys(r.json.threads);
    expect(tids.length).toBeGreaterThan(1);
    for (const status of [r.json.self, ...Object.values(r.json.threads)] as string[]) {
      const f = fields(status);
      expect(f.Uid).toBe(ids(NOBODY));
      expect(f.Gid).toBe(ids(NOGROUP));
      expect(f.CapEff).toBe(CAP_NET_BIND_SERVICE);
      expect(f.CapPrm).toBe(CAP_NET_BIND_SERVICE);
      expect(f.CapInh).toBe(CAP_NET_BIND_SERVICE);
      expect(f.CapAmb).toBe(CAP_NET_BIND_SERVICE);
      expect(f.CapBnd).toBe(CAP_NET_BIND_SERVICE);
      expect(capshDecode(f.CapEff)).toEqual(['cap_net_bind_service']);
    }
  });

  test('sh as nobody: same PID, and the capability reaches what sh runs (ambient)', () => {
    const inner = 'echo $$; cat /proc/$$/status; echo ---; cat /proc/self/status';
    const r = sh('echo $$; exec $PRIVDROP exec --user nobody --caps cap_net_bind_service -- sh -c "$INNER"', { INNER: inner });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const [before, after, ...rest] = r.stdout.split('\n');
    expect(after).toBe(before);
    const [shStatus, catStatus] = rest.join('\n').split('---\n').map(fields);
    expect(shStatus.Name).toBe('sh');
    expect(catStatus.Name).toBe('cat');
    for (const f of [shStatus, catStatus]) {
      expect(f.Uid).toBe(ids(NOBODY));
      expect(f.Groups).toBe(String(NOGROUP)); // initgroups of nobody, nothing of root's
      expect(f.CapEff).toBe(CAP_NET_BIND_SERVICE);
      expect(f.CapAmb).toBe(CAP_NET_BIND_SERVICE);
    }
  });

  test('--no-ambient: COMMAND starts without the capability; --no-new-privs and --groups clear are applied', () => {
    const r = privdrop('exec', '--user', 'nobody', '--groups', 'clear', '--caps', 'cap_net_bind_service', '--no-ambient', '--no-new-privs', '--', 'cat', '/proc/self/status');
    expect(r.status).toBe(0);
    const f = fields(r.stdout);
    expect(f.Uid).toBe(ids(NOBODY));
    expect(f.Groups).toBe('');
    expect(f.CapEff).toBe('0000000000000000');
    expect(f.CapPrm).toBe('0000000000000000');
    expect(f.CapAmb).toBe('0000000000000000');
    expect(f.CapBnd).toBe(CAP_NET_BIND_SERVICE);
    expect(f.NoNewPrivs).toBe('1');
  });

  test("COMMAND's exit status is privdrop's", () => {
    expect(privdrop('exec', '--user', 'nobody', '--', 'sh', '-c', 'exit 7').status).toBe(7);
  });

  describe('--chroot into a minimal root (sh and its libraries)', () => {
    let root: string;
    beforeAll(() => {
      root = path.join(tmp, 'root');
      const copy = (file: string) => {
        const dest = path.join(root, file);
        fs.mkdirSync(path.dirname(dest), { recursive: true });
        fs.copyFileSync(fs.realpathSync(file), dest);
        fs.chmodSync(dest, 0o755);
      };
      copy('/bin/sh');
      const ldd = spawnSync('ldd', ['/bin/sh'], { encoding: 'utf8' }).stdout;
      for (const m of ldd.matchAll(/(\/\S+) \(0x/g)) copy(m[1]);
      fs.mkdirSync(path.join(root, 'tmp'));
      fs.chmodSync(path.join(root, 'tmp'), 0o1777);
      fs.chmodSync(root, 0o755);
    });

    test('COMMAND is found inside the root, runs there as nobody, same PID', () => {
      const inner = 'echo $$; pwd; echo /*; echo written > /tmp/out';
      const r = sh(`echo $$; exec $PRIVDROP exec --user nobody --groups clear --chroot ${root} -- sh -c "$INNER"`, { INNER: inner });
      expect(r.stderr).toBe('');
      expect(r.status).toBe(0);
      const [before, after, pwd, listing] = r.stdout.split('\n');
      expect(after).toBe(before);
      expect(pwd).toBe('/');
      expect(listing.split(' ')).toEqual(fs.readdirSync(root).sort().map((e) => '/' + e));
      const out = path.join(root, 'tmp', 'out');
      expect(fs.readFileSync(out, 'utf8')).toBe('written\n');
      expect(fs.statSync(out).uid).toBe(NOBODY);
    });

    test('a COMMAND that exists outside the root but not in it: 127, nothing runs', () => {
      const r = privdrop('exec', '--user', 'nobody', '--chroot', root, '--', 'touch', marker);
      expect(r.status).toBe(127);
      expect(r.stderr).toBe(`privdrop exec: touch: command not found in PATH inside ${root}\n`);
      expect(fs.existsSync(marker)).toBe(false);
    });
  });

  describe('when anything fails, nothing runs', () => {
    test('a bad option: exit 2', () => {
      const r = privdrop('exec', '--user', 'nobody', '--capabilities', 'cap_chown', '--', 'sh', '-c', markerScript());
      expect(r.status).toBe(2);
      expect(fs.existsSync(marker)).toBe(false);
    });

    test('an unknown user: exit 125 (privdrop failed), one line on stderr', () => {
      const r = privdrop('exec', '--user', 'no-such-user-privdrop', '--', 'sh', '-c', markerScript());
      expect(r.status).toBe(125);
      expect(r.stderr).toBe('privdrop exec: unknown user "no-such-user-privdrop": no such entry in the user database\n');
      expect(fs.existsSync(marker)).toBe(false);
    });

    test('bad capability text: exit 125 naming the clause', () => {
      const r = privdrop('exec', '--user', 'nobody', '--caps', 'cap_chown+ep cap_nope+p', '--', 'sh', '-c', markerScript());
      expect(r.status).toBe(125);
      expect(r.stderr).toMatch(/clause "cap_nope\+p" at offset 13/);
      expect(fs.existsSync(marker)).toBe(false);
    });

    test('a --chroot directory that does not exist: exit 125', () => {
      const r = privdrop('exec', '--user', 'nobody', '--chroot', path.join(tmp, 'no-such-root'), '--', 'sh', '-c', markerScript());
      expect(r.status).toBe(125);
      expect(r.stderr).toBe(`privdrop exec: --chroot ${path.join(tmp, 'no-such-root')}: no such directory\n`);
      expect(fs.existsSync(marker)).toBe(false);
    });

    test('COMMAND not found: exit 127', () => {
      const r = privdrop('exec', '--user', 'nobody', '--', 'privdrop-no-such-command');
      expect(r.status).toBe(127);
      expect(r.stderr).toBe('privdrop exec: privdrop-no-such-command: command not found in PATH\n');
    });

    test('a COMMAND the new user may not execute: exit 126 (found, cannot be executed), checked before the drop', () => {
      const script = path.join(tmp, 'root-only.sh');
      fs.writeFileSync(script, `#!/bin/sh\n${markerScript()}\n`, { mode: 0o744 });
      const r = privdrop('exec', '--user', 'nobody', '--', script);
      expect(r.status).toBe(126);
      expect(r.stderr).toMatch(/is not executable by uid 65534/);
      expect(fs.existsSync(marker)).toBe(false);
    });

    test('a COMMAND that is not an executable file: exit 126, nothing runs', () => {
      const file = path.join(tmp, 'not-executable.sh');
      fs.writeFileSync(file, `#!/bin/sh\n${markerScript()}\n`, { mode: 0o644 });
      const r = privdrop('exec', '--user', 'nobody', '--', file);
      expect(r.status).toBe(126);
      expect(r.stderr).toBe(`privdrop exec: ${file}: ${file} is not an executable file\n`);
      expect(fs.existsSync(marker)).toBe(false);
    });

    test('a COMMAND execve refuses after the drop (no interpreter line, not ELF): exit 126', () => {
      const file = path.join(tmp, 'garbage');
      fs.writeFileSync(file, Buffer.from([0x7f, 0x00, 0x01, 0x02, 0x03]), { mode: 0o755 });
      const r = privdrop('exec', '--user', 'nobody', '--', file);
      expect(r.status).toBe(126);
      expect(r.stderr).toMatch(/ENOEXEC|[Ee]xec format error/);
    });

    test('a config file with an error: exit 125, file:line:column on stderr', () => {
      const conf = path.join(tmp, 'bad.conf');
      fs.writeFileSync(conf, 'Security {\n  user = nobody\n  Privileges = basic\n}\n');
      const r = privdrop('exec', '--config', conf, '--', 'sh', '-c', markerScript());
      expect(r.status).toBe(125);
      expect(r.stderr).toMatch(new RegExp(`^privdrop exec: ${conf}:3:3: "Privileges" is the Solaris form`));
      expect(fs.existsSync(marker)).toBe(false);
    });

    test('--dry-run checks and prints the plan, and runs nothing', () => {
      const r = privdrop('exec', '--dry-run', '--user', 'nobody', '--caps', 'cap_net_bind_service', '--', 'sh', '-c', markerScript());
      expect(r.status).toBe(0);
      expect(r.stdout).toMatch(/^dry run: checked, nothing changed/);
      expect(r.stdout).toMatch(/^ {2}user {10}65534 \(nobody\)$/m);
      expect(r.stdout).toMatch(/^ {2}capabilities {2}cap_net_bind_service=eip$/m);
      expect(r.stdout).toMatch(new RegExp(`^ {2}command {7}/\\S*/sh -c 'touch ${marker}'$`, 'm'));
      expect(fs.existsSync(marker)).toBe(false);
      expect(privdrop('exec', '--dry-run', '--user', 'no-such-user-privdrop', '--', 'true').status).toBe(125);
    });
  });

  describe('--config', () => {
    const flags = ['--user', 'nobody', '--group', 'nogroup', '--groups', 'clear', '--caps', 'cap_net_bind_service+ep', '--no-new-privs'];
    const dryRun = (...args: string[]) => {
      const r = privdrop('exec', '--dry-run', ...args, '--', 'true');
      // Kept root-equivalent capabilities (cap_chown) are warned about: issue 10.
      expect(r.stderr.replace(/^privdrop exec: warning: .*\n/gm, '')).toBe('');
      expect(r.status).toBe(0);
      return r.stdout;
    };

    // With --config the plan also says where each setting came from: the same plan without that.
    const withoutSources = (plan: string) => plan.replace(/^ {2}config .*\n/m, '').replace(/ {2}\[[^\]\n]*\]$/gm, '');

    test('a Security stanza, the same in JSON, and the equivalent flags plan the same drop', () => {
      const byFlags = dryRun(...flags);
      expect(withoutSources(dryRun('--config', fixture('cli-security.conf')))).toBe(byFlags);
      expect(withoutSources(dryRun('--config', fixture('cli-security.json')))).toBe(byFlags);
    });

    test('options on the command line override the file', () => {
      const plan = dryRun('--config', fixture('cli-security.conf'), '--user', 'daemon', '--caps', 'cap_chown', '--groups', 'init', '--no-ambient');
      const conf = fixture('cli-security.conf');
      expect(plan).toMatch(/^ {2}user {10}\d+ \(daemon\) {2}\[--user\]$/m);
      expect(plan).toContain(`  group         65534 (nogroup)  [${conf}:4]\n`); // from the file
      expect(plan).toMatch(/^ {2}capabilities {2}cap_chown=ep {2}\[--caps\]$/m);
      expect(plan).toMatch(/^ {2}ambient {7}\(none\) {2}\[--no-ambient\]$/m);
      expect(plan).toContain(`  no_new_privs  set  [${conf}:7]\n`); // from the file
    });

    test('exec with the stanza applies it', () => {
      const r = privdrop('exec', '--config', fixture('cli-security.conf'), '--', 'cat', '/proc/self/status');
      expect(r.status).toBe(0);
      const f = fields(r.stdout);
      expect(f.Uid).toBe(ids(NOBODY));
      expect(f.Groups).toBe('');
      expect(f.CapAmb).toBe(CAP_NET_BIND_SERVICE);
      expect(f.NoNewPrivs).toBe('1');
    });
  });

  describe('file descriptors', () => {
    const withFd3 = (...args: string[]) => {
      const file = path.join(tmp, `fd3-${Math.random().toString(36).slice(2)}`);
      const fd = fs.openSync(file, 'w');
      try {
        const r = spawnSync(process.execPath, [BIN, 'exec', '--user', 'nobody', ...args], { stdio: ['ignore', 'pipe', 'pipe', fd], encoding: 'utf8' });
        return { status: r.status, stderr: r.stderr, written: fs.readFileSync(file, 'utf8') };
      } finally {
        fs.closeSync(fd);
      }
    };

    test('--keep-fd 3 keeps an inherited descriptor open in COMMAND', () => {
      const r = withFd3('--keep-fd', '3', '--', 'sh', '-c', 'echo kept >&3');
      expect(r.status).toBe(0);
      expect(r.written).toBe('kept\n');
    });

    test('without --keep-fd an inherited descriptor is closed before COMMAND runs', () => {
      const r = withFd3('--', 'sh', '-c', 'echo leaked >&3');
      expect(r.status).not.toBe(0);
      expect(r.written).toBe('');
    });

    test('--keep-fd of a descriptor that is not open: exit 125, nothing runs', () => {
      const r = privdrop('exec', '--user', 'nobody', '--keep-fd', '97', '--', 'sh', '-c', markerScript());
      expect(r.status).toBe(125);
      expect(r.stderr).toBe('privdrop exec: --keep-fd 97: file descriptor 97 is not open\n');
      expect(fs.existsSync(marker)).toBe(false);
    });
  });
});
