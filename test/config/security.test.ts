// Config files decide root's drop, so they are trusted only as sshd's StrictModes trusts files:
// owned by root (or the user running privdrop), not writable by group or others, in directories
// that are the same all the way up, symlinks included. And one option under two spellings is
// "given twice", not last-one-wins.
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { describeAsRoot, repoRoot, runProcess } from '../helpers/child';
import { ErrorCodes, loadSecurityConfig, parseSecurityConfig, PrivdropError } from '../../lib/index';

const BIN = path.join(repoRoot, 'bin', 'privdrop.js');
const dryRun = (conf: string) => runProcess(process.execPath, [BIN, 'exec', '--dry-run', '--config', conf, '--', '/bin/true']);
const CONF = 'Security {\n  user = nobody\n  capabilities = cap_net_bind_service+ep\n}\n';

function thrown(fn: () => unknown): PrivdropError {
  try {
    fn();
  } catch (e) {
    return e as PrivdropError;
  }
  throw new Error('expected a throw');
}

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
});
