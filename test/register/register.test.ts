// privdrop/register, for real as root: `node --require privdrop/register`, `--import`, and
// NODE_OPTIONS, with the configuration named by PRIVDROP_CONFIG. Each case runs node in a child
// process (from examples/, which depends on this checkout as `privdrop`), and the application's
// first line reports what every thread of it holds, read from /proc by the test's own reader.
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { describeAsRoot, repoRoot, runProcess } from '../helpers/child';
import { CAP, maskHex } from '../helpers/drop';

const examples = path.join(repoRoot, 'examples');
const procStatus = path.join(repoRoot, 'test', 'helpers', 'proc-status.js');
const BIND = maskHex(CAP.net_bind_service);
const ZERO = maskHex();

// The application: its first line reads every thread's status; then a Worker and a child process
// (which inherits NODE_OPTIONS when that is how register was loaded) report their uid.
const APP = `const { threadStatuses } = require(${JSON.stringify(procStatus)});
const first = threadStatuses().map((t) => ({ Uid: t.fields.Uid, Gid: t.fields.Gid, CapPrm: t.fields.CapPrm, CapEff: t.fields.CapEff, CapBnd: t.fields.CapBnd, CapAmb: t.fields.CapAmb, NoNewPrivs: t.fields.NoNewPrivs }));
const { Worker } = require('worker_threads');
const { spawnSync } = require('child_process');
const w = new Worker('require("worker_threads").parentPort.postMessage(process.getuid())', { eval: true });
w.once('message', (workerUid) => {
  const c = spawnSync(process.execPath, ['-e', 'console.log(JSON.stringify({ uid: process.getuid(), eff: require("fs").readFileSync("/proc/self/status", "utf8").match(/CapEff:\\\\s*(\\\\w+)/)[1] }))'], { encoding: 'utf8' });
  console.log(JSON.stringify({ first, workerUid, child: c.stdout.trim() && JSON.parse(c.stdout), childStatus: c.status, childErr: c.stderr }));
});
w.once('error', (e) => console.log(JSON.stringify({ first, workerError: e.code + ': ' + e.message })));
`;

const uidOf = (name: string) => Number(runProcess('id', ['-u', name]).stdout.trim());

describeAsRoot('privdrop/register', () => {
  let dir: string;
  const write = (name: string, text: string, mode = 0o644) => {
    const p = path.join(dir, name);
    fs.writeFileSync(p, text);
    fs.chmodSync(p, mode);
    return p;
  };
  let app: string;
  let conf: string;
  const www = uidOf('www-data');
  const node = (args: string[], env: NodeJS.ProcessEnv = {}, wrapper: string[] = []) => {
    const r = wrapper.length
      ? runProcess(wrapper[0], [...wrapper.slice(1), process.execPath, ...args], { cwd: examples, env: { NODE_DEBUG: '', ...env } })
      : runProcess(process.execPath, args, { cwd: examples, env: { NODE_DEBUG: '', ...env } });
    return r;
  };

  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'privdrop-register-'));
    fs.chmodSync(dir, 0o755);
    app = write('app.js', APP);
    // The seed's file as a whole: other stanzas, and the Solaris line beside the Linux one.
    conf = write(
      'ecelerity.conf',
      `Spool_Base = "/var/spool/ecelerity"
Debug_Flags = [ ]
ESMTP_Listener {
  Listen ":25" {
    Enable = true
  }
}
Security {
  user = www-data
  Capabilities = "cap_net_bind_service+ep"
  Privileges = "basic net_privaddr"
  no_new_privs = yes
}
`,
    );
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  const dropped = (first: Record<string, string>[]) => {
    expect(first.length).toBeGreaterThanOrEqual(5); // main, V8 platform workers, ...
    for (const t of first) {
      expect(t).toEqual({
        Uid: `${www}\t${www}\t${www}\t${www}`, Gid: expect.stringMatching(/^\d+\t\d+\t\d+\t\d+$/), CapPrm: BIND, CapEff: BIND, CapBnd: BIND, CapAmb: ZERO, NoNewPrivs: '1',
      });
    }
  };

  test('--require: the first line of the application already runs as the user on every thread; its Worker continues; nothing is printed', () => {
    const r = node(['--require', 'privdrop/register', app], { PRIVDROP_CONFIG: conf });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    dropped(r.json.first);
    expect(r.json.workerUid).toBe(www); // the Worker loaded register too (execArgv), checked and went on
    expect(r.json.child).toEqual({ uid: www, eff: ZERO }); // no NODE_OPTIONS: a plain child, capability not passed on
  });

  test('--import with an ES module application', () => {
    const mjs = write('app.mjs', `import { createRequire } from 'module';\nconst require = createRequire(import.meta.url);\n${APP}`);
    const r = node(['--import', 'privdrop/register', mjs], { PRIVDROP_CONFIG: conf });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    dropped(r.json.first);
  });

  test('NODE_OPTIONS: the server drops; the child it spawns inherits the options, runs register as www-data, checks and continues', () => {
    const r = node([app], { PRIVDROP_CONFIG: conf, NODE_OPTIONS: '--require privdrop/register' });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    dropped(r.json.first);
    expect(r.json.workerUid).toBe(www);
    expect(r.json.childStatus).toBe(0);
    expect(r.json.child).toEqual({ uid: www, eff: ZERO });
  });

  test("a child that continues has Node's signal doors closed, as the drop closes them: SIGUSR1 from its user starts no inspector", () => {
    const parent = write('signals.js', `const { spawnSync } = require('child_process');
const c = spawnSync(process.execPath, ['-e', "process.kill(process.pid, 'SIGUSR1'); setTimeout(() => console.log(JSON.stringify({ uid: process.getuid(), listeners: process.listenerCount('SIGUSR1') })), 1500)"], { encoding: 'utf8' });
console.log(JSON.stringify({ child: c.stdout.trim(), status: c.status, signal: c.signal, stderr: c.stderr }));
`);
    const r = node([parent], { PRIVDROP_CONFIG: conf, NODE_OPTIONS: '--require privdrop/register' });
    expect(r.stderr).toBe('');
    expect(r.json.stderr).not.toMatch(/Debugger listening/);
    expect(r.json.stderr).toBe('');
    expect(r.json.status).toBe(0);
    expect(JSON.parse(r.json.child)).toEqual({ uid: www, listeners: 1 });
  });

  test('a cluster worker (forked with execArgv) continues as the user', () => {
    const cluster = write('cluster.js', `const cluster = require('cluster');
if (cluster.isPrimary) {
  const w = cluster.fork();
  w.on('message', (m) => { console.log(JSON.stringify({ primary: process.getuid(), worker: m })); w.kill(); });
  w.on('exit', (code) => { if (code) console.log(JSON.stringify({ workerExit: code })); });
} else {
  process.send(process.getuid());
}
`);
    const r = node(['--require', 'privdrop/register', cluster], { PRIVDROP_CONFIG: conf });
    expect(r.stderr).toBe('');
    expect(r.json).toEqual({ primary: www, worker: www });
  });

  test('NODE_DEBUG=privdrop traces each step, and says that the Solaris line is ignored', () => {
    const r = node(['--require', 'privdrop/register', app], { PRIVDROP_CONFIG: conf, NODE_DEBUG: 'privdrop' });
    expect(r.status).toBe(0);
    expect(r.stderr).toMatch(/register: main thread, pid \d+, uid 0, reading PRIVDROP_CONFIG=/);
    expect(r.stderr).toContain(`config: ${conf}:11:3: "Privileges" is the Solaris form: ignored on Linux ("Capabilities" at line 10 applies)`);
    expect(r.stderr).toMatch(/register: root: dropping before the application loads/);
    expect(r.stderr).toMatch(new RegExp(`register: dropped to uid ${www} gid \\d+ keeping cap_net_bind_service=ep on \\d+ threads`));
    expect(r.stderr).toMatch(new RegExp(`register: Worker thread, pid \\d+, uid ${www}`));
    expect(r.stderr).toMatch(/register: already uid \d+ gid \d+ holding nothing beyond cap_net_bind_service=ep: continuing/);
  });

  test('layered files in PRIVDROP_CONFIG (":"), a JSON one among them: the later file overrides the earlier one key by key', () => {
    const override = write('cluster.json', '{ "capabilities": "=", "noNewPrivileges": false }\n');
    const r = node(['--require', 'privdrop/register', app], { PRIVDROP_CONFIG: `${conf}:${override}` });
    expect(r.stderr).toBe('');
    for (const t of r.json.first) expect([t.Uid.split('\t')[0], t.CapPrm, t.CapEff, t.NoNewPrivs]).toEqual([String(www), ZERO, ZERO, '0']);
  });

  // Every refusal: the coded error on stderr, status 125, and the application never ran.
  const refused = (r: ReturnType<typeof node>, code: string, why: RegExp) => {
    expect(r.status).toBe(125);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(new RegExp(`^privdrop/register: ${code}: `));
    expect(r.stderr).toMatch(why);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
  };

  test.each([
    ['PRIVDROP_CONFIG not set', undefined, 'ERR_PRIVDROP_INVALID_CONFIG', /PRIVDROP_CONFIG is not set/],
    ['a missing file', 'missing.conf', 'ERR_PRIVDROP_INVALID_CONFIG', /cannot read config file .*missing\.conf: ENOENT/],
    ['an empty entry in the list', ':x', 'ERR_PRIVDROP_INVALID_CONFIG', /file 1 of 2 is empty/],
  ])('refused: %s', (_name, file, code, why) => {
    const env = file === undefined ? { PRIVDROP_CONFIG: undefined } : { PRIVDROP_CONFIG: file.startsWith(':') ? file : path.join(dir, file) };
    const r = runProcess(process.execPath, ['--require', 'privdrop/register', app], { cwd: examples, env: { NODE_DEBUG: '', ...env } });
    refused(r, code, why);
  });

  test('refused with --import too, before the ES module application runs', () => {
    const mjs = write('never.mjs', 'console.log("APP RAN");\n');
    refused(node(['--import', 'privdrop/register', mjs], { PRIVDROP_CONFIG: write('root.conf', 'Security {\n  user = root\n}\n') }), 'ERR_PRIVDROP_INVALID_CONFIG', /"user" is root/);
  });

  test('refused: a config file others can write (trust-checked as --config is)', () => {
    const open = write('open.conf', fs.readFileSync(conf, 'utf8'), 0o666);
    refused(node(['--require', 'privdrop/register', app], { PRIVDROP_CONFIG: open }), 'ERR_PRIVDROP_UNSAFE_CONFIG', /mode 0666/);
    // Every file of a layered list is checked, the later ones too.
    refused(node(['--require', 'privdrop/register', app], { PRIVDROP_CONFIG: `${conf}:${open}` }), 'ERR_PRIVDROP_UNSAFE_CONFIG', /open\.conf/);
  });

  test.each([
    ['an unknown user', 'Security {\n  user = no-such-user-here\n}\n', 'ERR_PRIVDROP_UNKNOWN_USER', /no-such-user-here/],
    ['user = root, with the reason', 'Security {\n  user = root\n  Capabilities = "cap_net_bind_service+ep"\n}\n', 'ERR_PRIVDROP_INVALID_CONFIG', /:2:10: "user" is root: root owns most files .*capabilities alone do not contain root/],
    ['Privileges without Capabilities', 'Security {\n  user = www-data\n  Privileges = "basic net_privaddr"\n}\n', 'ERR_PRIVDROP_INVALID_CONFIG', /:3:3: "Privileges" is the Solaris form .* no "Capabilities"/],
    ['a syntax error in another stanza', 'Control_Listener {\n  Listen "/tmp/2025 {\n}\nSecurity {\n  user = www-data\n}\n', 'ERR_PRIVDROP_INVALID_CONFIG', /:2:10: unterminated string/],
  ])('refused: %s', (_name, text, code, why) => {
    refused(node(['--require', 'privdrop/register', app], { PRIVDROP_CONFIG: write('bad.conf', text) }), code, why);
  });

  test('a process that is not root and not the configured user: refused, naming what differs', () => {
    const r = node(['--require', 'privdrop/register', app], { PRIVDROP_CONFIG: conf }, ['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups']);
    refused(r, 'ERR_PRIVDROP_STATE_MISMATCH', new RegExp(`runs as uid 65534, not root, so it cannot drop; .* uid is 65534 65534 65534 65534 .*not the configured ${www}`));
  });

  test('the configured user holding more than the configuration (an ambient capability, no no_new_privs): refused', () => {
    const r = node(['--require', 'privdrop/register', app], { PRIVDROP_CONFIG: conf }, [
      'setpriv', '--reuid=www-data', '--regid=www-data', '--init-groups', '--inh-caps=+net_bind_service,+chown', '--ambient-caps=+net_bind_service,+chown',
      '--bounding-set=-all,+net_bind_service,+chown',
    ]);
    refused(r, 'ERR_PRIVDROP_STATE_MISMATCH', /permitted set holds cap_chown beyond the configuration .*ambient set holds cap_chown cap_net_bind_service.*no_new_privs is not set/);
  });

  test('the configured user holding at most the configuration (started as systemd would with User=): continues', () => {
    const r = node(['--require', 'privdrop/register', app], { PRIVDROP_CONFIG: conf }, [
      'setpriv', '--reuid=www-data', '--regid=www-data', '--init-groups', '--no-new-privs', '--inh-caps=-all', '--bounding-set=-all,+net_bind_service',
    ]);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    for (const t of r.json.first) expect([t.Uid.split('\t')[0], t.CapPrm, t.NoNewPrivs]).toEqual([String(www), ZERO, '1']);
  });
});
