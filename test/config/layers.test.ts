// Layered configuration files, as a Momentum cluster's ecelerity-cluster.conf overrides
// ecelerity.conf: loadSecurityConfig([base, override]), `privdrop exec --config A --config B`
// (--dry-run says where each setting came from), every file trust-checked.
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { describeAsRoot, repoRoot, runProcess, thrown as thrownAny } from '../helpers/child';
import { ErrorCodes, loadSecurityConfig, PrivdropError } from '../../lib/index';

const thrown = (fn: () => unknown) => thrownAny<PrivdropError>(fn);

const BIN = path.join(repoRoot, 'bin', 'privdrop.js');
const BASE = `# ecelerity.conf
Spool_Base = "/var/spool/ecelerity"
ESMTP_Listener {
  Listen ":25" { Enable = true }
}
Security {
  user = www-data
  group = www-data
  Capabilities = "cap_net_bind_service+ep"
  Privileges = "basic net_privaddr"
  no_new_privs = yes
}
`;
const CLUSTER = `# ecelerity-cluster.conf
Cluster { Mbus_Port = 4802 }
Security {
  user = nobody
  # Linux
  Capabilities = "cap_net_admin+ep cap_net_bind_service+ep cap_net_raw+ep cap_sys_resource+ep"
  # Solaris
  Privileges = "basic net_privaddr net_bindmlp sys_resource sys_net_config net_rawaccess"
}
`;

let dir: string;
const write = (name: string, text: string, mode = 0o644) => {
  const p = path.join(dir, name);
  fs.writeFileSync(p, text);
  fs.chmodSync(p, mode);
  return p;
};
beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'privdrop-layers-'));
  fs.chmodSync(dir, 0o755);
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('loadSecurityConfig([base, override])', () => {
  test("the later file's Security keys override the earlier one's, key by key; the others stay", () => {
    const base = write('ecelerity.conf', BASE);
    const cluster = write('ecelerity-cluster.conf', CLUSTER);
    expect(loadSecurityConfig([base, cluster])).toEqual({
      user: 'nobody',
      group: 'www-data',
      capabilities: 'cap_net_admin+ep cap_net_bind_service+ep cap_net_raw+ep cap_sys_resource+ep',
      noNewPrivileges: true,
    });
    expect(loadSecurityConfig([cluster, base])).toEqual({ user: 'www-data', group: 'www-data', capabilities: 'cap_net_bind_service+ep', noNewPrivileges: true });
    expect(loadSecurityConfig([base])).toEqual(loadSecurityConfig(base));
  });

  test('JSON and stanza files layer alike; the user may come from any one of them', () => {
    const caps = write('caps.json', '{ "capabilities": ["cap_net_bind_service"], "ambient": true }');
    const user = write('user.conf', 'Security {\n  user = nobody\n}\n');
    expect(loadSecurityConfig([caps, user])).toEqual({ capabilities: ['cap_net_bind_service'], ambient: true, user: 'nobody' });
    const e = thrown(() => loadSecurityConfig([caps, caps]));
    expect(e.code).toBe(ErrorCodes.INVALID_CONFIG);
    expect(e.message).toMatch(/caps\.json, .*caps\.json: no user given/);
  });

  test('an error in any file names that file and its line; an empty list or a non-string is a TypeError', () => {
    const base = write('ecelerity.conf', BASE);
    const bad = write('bad.conf', 'Security {\n  user = nobody\n  colour = blue\n}\n');
    const e = thrown(() => loadSecurityConfig([base, bad]));
    expect(e).toMatchObject({ code: ErrorCodes.INVALID_CONFIG, path: bad, line: 3, column: 3 });
    expect(() => loadSecurityConfig([])).toThrow(TypeError);
    expect(() => loadSecurityConfig([base, 7 as unknown as string])).toThrow(TypeError);
  });
});

describeAsRoot('layered files: every one is trust-checked', () => {
  test('a later file others can write is refused, though the first is fine', () => {
    const base = write('ecelerity.conf', BASE);
    const open = write('open.conf', CLUSTER, 0o666);
    const e = thrown(() => loadSecurityConfig([base, open]));
    expect(e.code).toBe(ErrorCodes.UNSAFE_CONFIG);
    expect(e.path).toBe(open);
    const r = runProcess(process.execPath, [BIN, 'exec', '--dry-run', '--config', base, '--config', open, '--', '/bin/true']);
    expect(r.status).toBe(125);
    expect(r.stderr).toMatch(/open\.conf \(owner 0 \(root\), mode 0666\)/);
  });
});

describe('privdrop exec --config A --config B', () => {
  test('--dry-run says which file (and line) each setting came from, which came from the command line, and that the Solaris line is ignored', () => {
    const base = write('ecelerity.conf', BASE);
    const cluster = write('ecelerity-cluster.conf', CLUSTER);
    const r = runProcess(process.execPath, [BIN, 'exec', '--dry-run', '--config', base, '--config', cluster, '--no-ambient', '--', '/bin/true']);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const row = (name: string) => new RegExp(`^ {2}${name.padEnd(14)}(.*)$`, 'm').exec(r.stdout)?.[1];
    expect(row('config')).toBe(`${base}, ${cluster} (later files override earlier ones key by key)`);
    expect(row('user')).toBe(`65534 (nobody)  [${cluster}:4]`);
    expect(row('group')).toMatch(new RegExp(`^\\d+ \\(www-data\\)  \\[${base}:8\\]$`));
    expect(row('capabilities')).toBe(`cap_net_bind_service,cap_net_admin,cap_net_raw,cap_sys_resource=ep  [${cluster}:6]`);
    expect(row('ambient')).toBe('(none)  [--no-ambient]');
    expect(row('no_new_privs')).toBe(`set  [${base}:11]`);
    expect(row('chroot')).toBe('(none)  [default]');
    const notes = r.stdout.split('\n').filter((l) => l.startsWith('  note'));
    expect(notes).toEqual([
      `  note          ${base}:10:3: "Privileges" is the Solaris form: ignored on Linux ("Capabilities" at line 9 applies)`,
      `  note          ${cluster}:8:3: "Privileges" is the Solaris form: ignored on Linux ("Capabilities" at line 6 applies)`,
    ]);
  });

  test('command-line options override both files', () => {
    const base = write('ecelerity.conf', BASE);
    const cluster = write('ecelerity-cluster.conf', CLUSTER);
    const r = runProcess(process.execPath, [BIN, 'exec', '--dry-run', '--config', base, '--config', cluster, '--user', 'www-data', '--caps', 'cap_net_bind_service', '--', '/bin/true']);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^ {2}user {10}\d+ \(www-data\) {2}\[--user\]$/m);
    expect(r.stdout).toMatch(/^ {2}capabilities {2}cap_net_bind_service=eip {2}\[--caps\]$/m);
  });

  test('without --config the plan shows no sources (as before)', () => {
    const r = runProcess(process.execPath, [BIN, 'exec', '--dry-run', '--user', 'nobody', '--', '/bin/true']);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^ {2}user {10}65534 \(nobody\)$/m);
    expect(r.stdout).not.toMatch(/^ {2}config/m);
  });
});
