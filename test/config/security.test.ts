// Config files decide root's drop, so they are trusted only as sshd's StrictModes trusts files:
// owned by root (or the user running privdrop), not writable by group or others, in directories
// that are the same all the way up, symlinks included. And one option under two spellings is
// "given twice", not last-one-wins.
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { spawnSync } from 'child_process';
import { describeAsRoot, repoRoot, runProcess, thrown as thrownAny } from '../helpers/child';
import { ErrorCodes, loadSecurityConfig, parseSecurityConfig, PrivdropError } from '../../lib/index';

const thrown = (fn: () => unknown) => thrownAny<PrivdropError>(fn);

const BIN = path.join(repoRoot, 'bin', 'privdrop.js');
const dryRun = (conf: string, cwd?: string) => runProcess(process.execPath, [BIN, 'exec', '--dry-run', '--config', conf, '--', '/bin/true'], { cwd });
// loadSecurityConfig(argv[1]) in a child, run by bash (for pipes and <(...)) and killed after
// 10 s (a read that blocks must not hang jest): prints the error's code and message.
const LOAD = `try { require(${JSON.stringify(path.join(repoRoot, 'dist', 'index.js'))}).loadSecurityConfig(process.argv[1]); console.log('read') } catch (e) { console.log(e.code + ' ' + e.message) }`;
const loadInChild = (shell: string, conf: string) =>
  spawnSync('bash', ['-c', shell.replace('LOAD', '"$0" -e "$1"'), process.execPath, LOAD, conf], { encoding: 'utf8', timeout: 10000, killSignal: 'SIGKILL' });
const CONF = 'Security {\n  user = nobody\n  capabilities = cap_net_bind_service+ep\n}\n';

describe('one option under two spellings', () => {
  test('supplemental_groups and supplementary_groups in one stanza: given twice', () => {
    const e = thrown(() => parseSecurityConfig('Security {\n  user = nobody\n  supplemental_groups = adm\n  supplementary_groups = nogroup\n}\n', 'two.conf'));
    expect(e).toBeInstanceOf(PrivdropError);
    expect(e.code).toBe(ErrorCodes.INVALID_CONFIG);
    expect(e.message).toMatch(/two\.conf:4:3: .*supplementary_groups.*given twice.*supplemental_groups.*line 3/);
    expect(e.line).toBe(4);
  });
});

describeAsRoot('config files others could write are refused', () => {
  let base: string;
  beforeAll(() => {
    base = fs.mkdtempSync(path.join(os.tmpdir(), 'privdrop-trust-'));
    fs.chmodSync(base, 0o755);
  });
  afterAll(() => fs.rmSync(base, { recursive: true, force: true }));

  const file = (rel: string, mode: number, uid = 0) => {
    const p = path.join(base, rel);
    fs.mkdirSync(path.dirname(p), { recursive: true });
    fs.writeFileSync(p, CONF);
    fs.chownSync(p, uid, uid);
    fs.chmodSync(p, mode);
    return p;
  };
  const dir = (rel: string, mode: number, uid = 0) => {
    const p = path.join(base, rel);
    fs.mkdirSync(p, { recursive: true });
    fs.chownSync(p, uid, uid);
    fs.chmodSync(p, mode);
    return p;
  };

  test('control: root-owned 0644 in root-owned 0755 directories is read', () => {
    const p = file('good/privdrop.conf', 0o644);
    expect(dryRun(p).status).toBe(0);
    expect(loadSecurityConfig(p).user).toBe('nobody');
  });

  test('owned by the service user: refused, naming the file, its owner and mode', () => {
    const p = file('owned/privdrop.conf', 0o644, 65534);
    const r = dryRun(p);
    expect(r.status).toBe(125); // privdrop failed, nothing ran
    expect(r.stderr).toContain(p);
    expect(r.stderr).toMatch(/owner 65534 \(nobody\)/);
    expect(r.stderr).toMatch(/mode 0644/);
    const e = thrown(() => loadSecurityConfig(p));
    expect(e.code).toBe('ERR_PRIVDROP_UNSAFE_CONFIG');
    expect(e.path).toBe(p);
  });

  test('writable by group or others: refused', () => {
    for (const mode of [0o664, 0o646, 0o666]) {
      const p = file(`mode-${mode.toString(8)}/privdrop.conf`, mode);
      const r = dryRun(p);
      expect(r.status).toBe(125); // privdrop failed, nothing ran
      expect(r.stderr).toMatch(new RegExp(`mode 0${mode.toString(8)}`));
      expect(thrown(() => loadSecurityConfig(p)).code).toBe('ERR_PRIVDROP_UNSAFE_CONFIG');
    }
  });

  test('in a directory others can write (no sticky bit), or one owned by the service user: refused, naming the directory', () => {
    dir('open', 0o777);
    const p = file('open/privdrop.conf', 0o644);
    const r = dryRun(p);
    expect(r.status).toBe(125); // privdrop failed, nothing ran
    expect(r.stderr).toContain(path.join(base, 'open'));
    expect(r.stderr).toMatch(/mode 0777/);
    dir('svc', 0o755, 65534);
    const q = file('svc/privdrop.conf', 0o644);
    expect(thrown(() => loadSecurityConfig(q)).message).toMatch(/owner 65534/);
  });

  test('reached through a symlink into such a directory: refused', () => {
    dir('svc2', 0o755, 65534);
    const target = file('svc2/real.conf', 0o644);
    const link = path.join(base, 'good-link.conf');
    fs.symlinkSync(target, link);
    const r = dryRun(link);
    expect(r.status).toBe(125); // privdrop failed, nothing ran
    expect(r.stderr).toMatch(/owner 65534/);
    // A symlink whose target is safe is followed.
    const safe = file('good2/privdrop.conf', 0o644);
    const link2 = path.join(base, 'safe-link.conf');
    fs.symlinkSync(safe, link2);
    expect(dryRun(link2).status).toBe(0);
  });

  test('named through /proc (/proc/self/root/<path>, /proc/thread-self/root/<path>, /proc/self/cwd/<name>, /dev/stdin): the walk covers where the file really is', () => {
    // A root-owned file in a directory the service user owns: refused by its real path, and by every other name.
    const svc = dir('svc-proc', 0o755, 65534);
    const p = file('svc-proc/privdrop.conf', 0o644);
    for (const name of [`/proc/self/root${p}`, `/proc/thread-self/root${p}`]) {
      const r = dryRun(name);
      expect(r.status).toBe(125); // privdrop failed, nothing ran
      expect(r.stderr).toContain(`directory ${svc} (owner 65534 (nobody), mode 0755)`);
      const e = thrown(() => loadSecurityConfig(name));
      expect(e.code).toBe('ERR_PRIVDROP_UNSAFE_CONFIG');
      expect(e.path).toBe(name);
    }
    const r = dryRun('/proc/self/cwd/privdrop.conf', svc);
    expect(r.status).toBe(125);
    expect(r.stderr).toMatch(/^privdrop exec: config file \/proc\/self\/cwd\/privdrop\.conf: directory .*svc-proc \(owner 65534/);
    const viaStdin = spawnSync(process.execPath, [BIN, 'exec', '--dry-run', '--config', '/dev/stdin', '--', '/bin/true'], { stdio: [fs.openSync(p, 'r'), 'pipe', 'pipe'], encoding: 'utf8', timeout: 30000 });
    expect(viaStdin.status).toBe(125);
    expect(viaStdin.stderr).toContain(`directory ${svc} (owner 65534`);
    // Control: the same names of a file in trusted directories are read.
    const good = file('good-proc/privdrop.conf', 0o644);
    expect(dryRun(`/proc/self/root${good}`).status).toBe(0);
    expect(dryRun('/proc/self/cwd/privdrop.conf', path.dirname(good)).status).toBe(0);
    expect(loadSecurityConfig(`/proc/thread-self/root${good}`).user).toBe('nobody');
  });

  test('a FIFO, a pipe, a device or a directory: refused at once with a coded error, nothing opened that blocks', () => {
    const fifo = path.join(base, 'config.fifo');
    expect(spawnSync('mkfifo', ['-m', '0644', fifo]).status).toBe(0);
    const r = runProcess(process.execPath, [BIN, 'exec', '--dry-run', '--config', fifo, '--', '/bin/true'], { timeoutMs: 10000 });
    expect(r.signal).toBe(null); // not killed at the deadline: it did not hang in open()
    expect(r.status).toBe(125);
    expect(r.stderr).toContain(`config file ${fifo} is a pipe or FIFO, not a regular file`);
    const lib = loadInChild('LOAD "$2"', fifo);
    expect(lib.signal).toBe(null);
    expect(lib.stdout).toMatch(/^ERR_PRIVDROP_INVALID_CONFIG config file .*config\.fifo is a pipe or FIFO.* Write the settings to a regular file owned by root\n$/);
    // Anonymous pipes (--config /dev/stdin, <(...)): refused with their reason, even with good text in them.
    const good = file('good-pipe/privdrop.conf', 0o644);
    for (const [shell, name] of [['cat "$2" | LOAD /dev/stdin', '/dev/stdin'], ['LOAD <(cat "$2")', '/dev/fd/']]) {
      const piped = loadInChild(shell, good);
      expect(piped.signal).toBe(null);
      expect(piped.stdout).toContain(`ERR_PRIVDROP_INVALID_CONFIG config file ${name}`);
      expect(piped.stdout).toMatch(/ is a pipe or FIFO, not a regular file \(--config \/dev\/stdin, <\(\.\.\.\) and named pipes are not read/);
    }
    for (const [name, kind] of [['/dev/null', 'a character device'], ['/dev/zero', 'a character device'], [base, 'a directory']]) {
      const e = thrown(() => loadSecurityConfig(name));
      expect(e.code).toBe('ERR_PRIVDROP_INVALID_CONFIG');
      expect(e.message).toBe(`config file ${name} is ${kind}, not a regular file; not read. Write the settings to a regular file owned by root`);
    }
  });
});
