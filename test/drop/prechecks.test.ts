// Inputs that pass validation and then fail at an irreversible step (so the process aborts):
// each must be a coded error with the process untouched, in dropPrivileges(),
// resolveDropOptions() and `privdrop exec --dry-run`. Every drop runs for real, as root, in a
// child process (helpers/drop-case.js: runCase reads the child's threads from outside).
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { describeAsRoot, distEntry, repoRoot } from '../helpers/child';

// eslint-disable-next-line @typescript-eslint/no-var-requires
const dropCase = require('../helpers/drop-case.js');

const BIN = path.join(repoRoot, 'bin', 'privdrop.js');
const NODE = process.execPath;
const SETPRIV = '/usr/bin/setpriv';
const NO_DAC = [SETPRIV, '--bounding-set', '-dac_override,-dac_read_search', '--'];
const NGROUPS_MAX = Number(fs.readFileSync('/proc/sys/kernel/ngroups_max', 'utf8'));

interface Outcome {
  kind: string;
  code?: string;
  message?: string;
  detail?: string;
}

type Userns = { uidMap: string; gidMap: string; setgroups: 'allow' | 'deny' } | null;

/** dropPrivileges(options) for real in a child; options is JavaScript source. */
function drop(options: string, { wrapper = [] as string[], userns = null as Userns } = {}): Promise<Outcome> {
  return dropCase.runCase({ options: new dropCase.Raw(options), wrapper: { argv: wrapper }, userns });
}

/** resolveDropOptions(options) in a child: the error code, or 'resolved'. */
async function resolve(options: string, { wrapper = [] as string[], userns = null as Userns } = {}): Promise<string> {
  const code = `const p = require(${JSON.stringify(distEntry)});
    try { p.resolveDropOptions(${options}); console.log(JSON.stringify({ r: 'resolved' })); }
    catch (e) { console.log(JSON.stringify({ r: e.code || e.name, m: e.message })); }`;
  const r = await dropCase.runChild(NODE, ['-e', code], { wrapper, userns });
  return dropCase.lastJson(r.stdout)?.r ?? `no answer: ${r.status} ${r.signal} ${r.stderr}`;
}

/** `privdrop exec --dry-run ARGS -- /bin/true`: exit status and stderr. */
async function dryRun(args: string[], { wrapper = [] as string[], userns = null as Userns } = {}) {
  const r = await dropCase.runChild(NODE, [BIN, 'exec', '--dry-run', ...args, '--', '/bin/true'], { wrapper, userns });
  return { status: r.status as number, stderr: r.stderr as string, stdout: r.stdout as string };
}

const range = (n: number) => `Array.from({ length: ${n} }, (_, i) => i + 1)`;

describeAsRoot('pre-checks: more supplementary groups than ngroups_max', () => {
  test(`${NGROUPS_MAX + 1} groups: a coded error, nothing changed`, async () => {
    const out = await drop(`{ user: 'nobody', supplementaryGroups: ${range(NGROUPS_MAX + 1)} }`);
    expect(out).toMatchObject({ kind: 'coded', code: 'ERR_PRIVDROP_INVALID_ARGUMENT' });
    expect(out.message).toMatch(/ngroups_max/);
    expect(await resolve(`{ user: 'nobody', supplementaryGroups: ${range(NGROUPS_MAX + 1)} }`)).toBe('ERR_PRIVDROP_INVALID_ARGUMENT');
  }, 120000);

  test('--dry-run refuses it too (exit 127)', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'privdrop-ngroups-'));
    const conf = path.join(dir, 'many.json');
    fs.writeFileSync(conf, JSON.stringify({ user: 'nobody', supplementaryGroups: Array.from({ length: NGROUPS_MAX + 1 }, (_, i) => i + 1) }));
    try {
      const r = await dryRun(['--config', conf]);
      expect(r.status).toBe(125); // privdrop failed, nothing ran
      expect(r.stderr).toMatch(/ngroups_max/);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }, 120000);
});

describeAsRoot('pre-checks: inheritable capabilities with nothing kept in permitted (found by the real-drop property test)', () => {
  test("'cap_net_bind_service+i' with boundingSet 'unchanged': a coded error, not an abort at the final capset", async () => {
    const out = await drop(`{ user: 'nobody', capabilities: 'cap_net_bind_service+i', boundingSet: 'unchanged' }`);
    expect(out).toMatchObject({ kind: 'coded', code: 'ERR_PRIVDROP_INVALID_CAPABILITIES' });
    expect(await resolve(`{ user: 'nobody', capabilities: 'cap_net_bind_service+i', boundingSet: 'unchanged' }`)).toBe('ERR_PRIVDROP_INVALID_CAPABILITIES');
    // With lockSecurebits (no_setuid_fixup) permitted survives the uid change, and it works.
    expect((await drop(`{ user: 'nobody', capabilities: 'cap_net_bind_service+i', boundingSet: 'unchanged', lockSecurebits: true }`)).kind).toBe('dropped');
  });
});

describeAsRoot('pre-checks: user namespaces (uid_map, gid_map, setgroups written by the parent)', () => {
  const ALL = '0 0 4294967295';
  test('control: with every id mapped the drop works inside the namespace', async () => {
    const out = await drop(`{ user: 'nobody', supplementaryGroups: ['adm'] }`, { userns: { uidMap: ALL, gidMap: ALL, setgroups: 'allow' } });
    expect(out.kind).toBe('dropped');
  });

  test('the target uid is not mapped: coded error', async () => {
    const userns: Userns = { uidMap: '0 0 1000', gidMap: ALL, setgroups: 'allow' };
    const out = await drop(`{ user: 'nobody' }`, { userns });
    expect(out).toMatchObject({ kind: 'coded', code: 'ERR_PRIVDROP_INVALID_ARGUMENT' });
    expect(out.message).toMatch(/uid_map/);
    expect(await resolve(`{ user: 'nobody' }`, { userns })).toBe('ERR_PRIVDROP_INVALID_ARGUMENT');
    const r = await dryRun(['--user', 'nobody'], { userns });
    expect(r.status).toBe(125); // privdrop failed, nothing ran
    expect(r.stderr).toMatch(/uid_map/);
  });

  test('the target gid, or a supplementary group, is not mapped: coded error', async () => {
    const userns: Userns = { uidMap: ALL, gidMap: '0 0 1000', setgroups: 'allow' };
    const primary = await drop(`{ user: 'nobody' }`, { userns });
    expect(primary).toMatchObject({ kind: 'coded', code: 'ERR_PRIVDROP_INVALID_ARGUMENT' });
    expect(primary.message).toMatch(/gid_map/);
    const extra = await drop(`{ user: 'nobody', group: 100, supplementaryGroups: [4, 65534] }`, { userns });
    expect(extra).toMatchObject({ kind: 'coded', code: 'ERR_PRIVDROP_INVALID_ARGUMENT' });
    expect(extra.message).toMatch(/65534.*gid_map/);
    expect(await resolve(`{ user: 'nobody', group: 100, supplementaryGroups: [4, 65534] }`, { userns })).toBe('ERR_PRIVDROP_INVALID_ARGUMENT');
  });

  test('setgroups is denied in the namespace: coded error when the groups would change', async () => {
    const userns: Userns = { uidMap: ALL, gidMap: ALL, setgroups: 'deny' };
    const out = await drop(`{ user: 'nobody', supplementaryGroups: ['adm'] }`, { userns });
    expect(out).toMatchObject({ kind: 'coded', code: 'ERR_PRIVDROP_NOT_PERMITTED' });
    expect(out.message).toMatch(/setgroups/);
    expect(await resolve(`{ user: 'nobody', supplementaryGroups: ['adm'] }`, { userns })).toBe('ERR_PRIVDROP_NOT_PERMITTED');
    // The groups a process has there (none) can be kept: then nothing calls setgroups.
    expect((await drop(`{ user: 'nobody', supplementaryGroups: 'clear' }`, { userns })).kind).toBe('dropped');
  });
});

describeAsRoot('pre-checks: the chroot directory', () => {
  let base: string;
  beforeAll(() => {
    base = fs.mkdtempSync(path.join(os.tmpdir(), 'privdrop-chroot-'));
    fs.chmodSync(base, 0o755);
  });
  afterAll(() => fs.rmSync(base, { recursive: true, force: true }));

  const dir = (name: string, mode: number, uid: number) => {
    const p = path.join(base, name);
    fs.mkdirSync(p);
    fs.chownSync(p, uid, uid);
    fs.chmodSync(p, mode);
    return p;
  };

  test('not searchable by root without cap_dac_override: coded error, nothing changed', async () => {
    const jail = dir('nobody-0700', 0o700, 65534);
    const out = await drop(`{ user: 'nobody', chroot: ${JSON.stringify(jail)} }`, { wrapper: NO_DAC });
    expect(out).toMatchObject({ kind: 'coded', code: 'ERR_PRIVDROP_INVALID_CHROOT' });
    expect(await resolve(`{ user: 'nobody', chroot: ${JSON.stringify(jail)} }`, { wrapper: NO_DAC })).toBe('ERR_PRIVDROP_INVALID_CHROOT');
    const r = await dryRun(['--user', 'nobody', '--chroot', jail], { wrapper: NO_DAC });
    expect(r.status).toBe(125); // privdrop failed, nothing ran
    expect(r.stderr).toMatch(/search/);
    // Root with cap_dac_override can search it: the same drop works.
    expect((await drop(`{ user: 'nobody', chroot: ${JSON.stringify(jail)} }`)).kind).toBe('dropped');
  });

  test('not searchable by the target user: coded error before anything changes (not an EACCES after the drop)', async () => {
    const jail = dir('root-0700', 0o700, 0);
    const out = await drop(`{ user: 'nobody', chroot: ${JSON.stringify(jail)} }`);
    expect(out).toMatchObject({ kind: 'coded', code: 'ERR_PRIVDROP_INVALID_CHROOT' });
    expect(out.message).toMatch(/uid 65534/);
    // Keeping cap_dac_read_search makes it usable.
    expect((await drop(`{ user: 'nobody', chroot: ${JSON.stringify(jail)}, capabilities: 'cap_dac_read_search+ep' }`)).kind).toBe('dropped');
  });

  test('a rename between the check and chroot() does not move the jail: chroot goes through the checked descriptor', () => {
    const jail = dir('jail', 0o755, 0);
    const other = dir('other', 0o755, 0);
    fs.writeFileSync(path.join(jail, 'marker'), 'checked');
    fs.writeFileSync(path.join(other, 'marker'), 'elsewhere');
    // gdb stops the process at the chroot system call and swaps the directories there.
    const script = path.join(base, 'swap.gdb');
    fs.writeFileSync(
      script,
      [
        'set pagination off',
        'set confirm off',
        'handle SIG33 nostop noprint pass',
        'handle SIGUSR1 nostop noprint pass',
        'handle SIGPIPE nostop noprint pass',
        'catch syscall chroot',
        'run',
        `shell mv ${jail} ${jail}.checked && mv ${other} ${jail}`,
        'continue',
        'continue',
      ].join('\n') + '\n',
    );
    const code = `const p = require(${JSON.stringify(distEntry)}); p.dropPrivileges({ user: 'nobody', chroot: ${JSON.stringify(jail)} });
      console.log('MARKER=' + require('fs').readFileSync('/marker', 'utf8'));`;
    // Under npm run sanitize, libasan is preloaded: give it to node only (gdb with it preloaded
    // does not finish, see evidence/sanitize.sh).
    const preload = process.env.LD_PRELOAD;
    if (preload) fs.writeFileSync(script, `set environment LD_PRELOAD ${preload}\n` + fs.readFileSync(script, 'utf8'));
    const r = spawnSync('gdb', ['-q', '-batch', '-x', script, '--args', NODE, '-e', code], {
      encoding: 'utf8',
      timeout: 60000,
      env: { ...process.env, LD_PRELOAD: '' },
    });
    expect(r.stdout).toMatch(/Catchpoint 1 \(call to syscall chroot\)/);
    expect(r.stdout).toContain('MARKER=checked');
  });
});
