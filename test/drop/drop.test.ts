// dropPrivileges() for real: every scenario drops in a fresh child process as root.
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { describeAsRoot, distEntry } from '../helpers/child';
import { CAP, maskHex, scenario } from '../helpers/drop';

let secretDir: string;
let secret: string;

beforeAll(() => {
  secretDir = fs.mkdtempSync(path.join(os.tmpdir(), 'privdrop-secret-'));
  fs.chmodSync(secretDir, 0o755);
  secret = path.join(secretDir, 'root-only.txt');
  fs.writeFileSync(secret, 'top secret\n', { mode: 0o600 });
  fs.chmodSync(secret, 0o600);
});

afterAll(() => fs.rmSync(secretDir, { recursive: true, force: true }));

describeAsRoot('dropPrivileges() keeps exactly the named capabilities', () => {
  test('listen(80) after the drop works when cap_net_bind_service is kept', () => {
    const r = scenario(`
      const d = tryDrop({ user: 'nobody', group: 'nogroup', capabilities: 'cap_net_bind_service+ep' });
      report({ d, port80: await listen(80), s: summary() });
    `);
    expect(r.json.d.ok).toBe(true);
    expect(r.json.port80).toBe('ok');
    expect(r.json.s.uid).toEqual([65534, 65534, 65534, 65534]);
    expect(r.json.s.eff).toBe(maskHex(CAP.net_bind_service));
    expect(r.json.d.result.capabilities).toBe('cap_net_bind_service=ep');
  });

  test('listen(80) after the drop fails with EACCES when nothing is kept', () => {
    const r = scenario(`
      const d = tryDrop({ user: 'nobody' });
      report({ d, port80: await listen(80), s: summary() });
    `);
    expect(r.json.d.ok).toBe(true);
    expect(r.json.port80).toBe('EACCES');
    expect(r.json.s.prm).toBe(maskHex());
  });

  /** Reads the root-only file from the threadpool, a Worker started before the drop and one started after. */
  function readsAfterDrop(capabilities: string) {
    return scenario(`
      const file = ${JSON.stringify(secret)};
      await readAsync('/etc/hostname'); // the threadpool exists before the drop
      const early = new Worker("const { parentPort } = require('worker_threads'); parentPort.on('message', (f) => require('fs').readFile(f, 'utf8', (e, d) => parentPort.postMessage(e ? e.code : d.trim())));", { eval: true });
      await new Promise((r) => setTimeout(r, 50));
      const d = tryDrop({ user: 'nobody', capabilities: ${JSON.stringify(capabilities)} });
      const pool = await readAsync(file);
      const before = await new Promise((res) => { early.once('message', res); early.postMessage(file); });
      const after = await inWorker("const { parentPort, workerData } = require('worker_threads'); require('fs').readFile(workerData, 'utf8', (e, d) => parentPort.postMessage(e ? e.code : d.trim()));", file);
      early.terminate();
      report({ d, pool, before, after, s: summary() });
    `);
  }

  test('the threadpool, a Worker started before and one started after all read a root-only file with cap_dac_read_search', () => {
    const r = readsAfterDrop('cap_dac_read_search+ep');
    expect(r.json).toMatchObject({ d: { ok: true }, pool: 'top secret', before: 'top secret', after: 'top secret', s: { consistent: true } });
  });

  test('without cap_dac_read_search the same three reads get EACCES', () => {
    const r = readsAfterDrop('cap_net_bind_service+ep');
    expect(r.json).toMatchObject({ d: { ok: true }, pool: 'EACCES', before: 'EACCES', after: 'EACCES' });
  });

  test('the bounding set holds only the kept capabilities by default, and is left alone with boundingSet: unchanged', () => {
    const r = scenario(`
      const bndBefore = summary().bnd;
      const d = tryDrop({ user: 'nobody', capabilities: ['cap_net_bind_service', 'cap_net_raw'] });
      report({ d, bndBefore, s: summary() });
    `);
    expect(r.json.d.ok).toBe(true);
    expect(r.json.s.bnd).toBe(maskHex(CAP.net_bind_service, CAP.net_raw));
    expect(r.json.s.eff).toBe(maskHex(CAP.net_bind_service, CAP.net_raw));

    const u = scenario(`
      const bndBefore = summary().bnd;
      const d = tryDrop({ user: 'nobody', capabilities: 'cap_net_bind_service+ep', boundingSet: 'unchanged' });
      report({ d, bndBefore, s: summary() });
    `);
    expect(u.json.d.ok).toBe(true);
    expect(u.json.s.bnd).toBe(u.json.bndBefore);
    expect(u.json.s.prm).toBe(maskHex(CAP.net_bind_service));
  });

  test('children get no capabilities by default, and the kept ones with ambient: true', () => {
    const grepCaps = `require('child_process').execFileSync('grep', ['^Cap', '/proc/self/status'], { encoding: 'utf8' })`;
    const plain = scenario(`
      const d = tryDrop({ user: 'nobody', capabilities: 'cap_net_bind_service+ep' });
      report({ d, child: ${grepCaps} });
    `);
    expect(plain.json.d.ok).toBe(true);
    expect(plain.json.child).toMatch(/CapEff:\s+0000000000000000/);
    expect(plain.json.child).toMatch(/CapPrm:\s+0000000000000000/);

    const amb = scenario(`
      const d = tryDrop({ user: 'nobody', capabilities: 'cap_net_bind_service+ep', ambient: true });
      report({ d, child: ${grepCaps}, s: summary() });
    `);
    expect(amb.json.d.ok).toBe(true);
    const bit = maskHex(CAP.net_bind_service);
    expect(amb.json.child).toMatch(new RegExp(`CapEff:\\s+${bit}`));
    expect(amb.json.child).toMatch(new RegExp(`CapAmb:\\s+${bit}`));
    expect(amb.json.s.amb).toBe(bit);
    expect(amb.json.d.result.capabilities).toBe('cap_net_bind_service=eip');
  });

  test('the result reports the identity, the verified thread count and the broadcasts', () => {
    const r = scenario(`
      const d = tryDrop({ user: 'nobody', group: 'nogroup', supplementaryGroups: 'clear', capabilities: 'cap_net_bind_service+ep' });
      report({ d, s: summary() });
    `);
    const result = r.json.d.result;
    expect(result).toMatchObject({ uid: 65534, gid: 65534, groups: [], capabilities: 'cap_net_bind_service=ep', regainRootChecked: true });
    expect(result.threads).toBe(r.json.s.threads);
    expect(result.threads).toBeGreaterThan(1);
    expect(result.broadcasts.map((b: { name: string }) => b.name)).toEqual(['rehearse', 'transition']);
    for (const b of result.broadcasts) expect(b.threads).toBe(result.threads);
  });
});

describeAsRoot('chroot', () => {
  test('the process is confined to the directory, with its cwd at its root, and every thread still verified', () => {
    const jail = fs.mkdtempSync(path.join(os.tmpdir(), 'privdrop-jail-'));
    fs.chmodSync(jail, 0o755);
    fs.writeFileSync(path.join(jail, 'inside.txt'), 'inside\n', { mode: 0o644 });
    try {
      const r = scenario(`
        const d = tryDrop({ user: 'nobody', capabilities: 'cap_net_bind_service+ep', chroot: ${JSON.stringify(jail)} });
        const read = (f) => { try { return fs.readFileSync(f, 'utf8').trim(); } catch (e) { return e.code; } };
        report({ d, cwd: process.cwd(), inside: read('/inside.txt'), hostPasswd: read('/etc/passwd'), port80: await listen(80) });
      `);
      expect(r.json).toMatchObject({ d: { ok: true }, cwd: '/', inside: 'inside', hostPasswd: 'ENOENT', port80: 'ok' });
      expect(r.json.d.result.threads).toBeGreaterThan(1);
    } finally {
      fs.rmSync(jail, { recursive: true, force: true });
    }
  });

  test('inside the chroot the library still works: the modules it loads on first use were resolved before', () => {
    const jail = fs.mkdtempSync(path.join(os.tmpdir(), 'privdrop-jail-'));
    fs.chmodSync(jail, 0o755);
    try {
      // No capabilities asked: the drop itself parses no capability text, so parse() is a first use here.
      const r = scenario(`
        const d = tryDrop({ user: 'nobody', chroot: ${JSON.stringify(jail)} });
        const attempt = (f) => { try { return f(); } catch (e) { return e.code || e.message; } };
        report({
          d: d.ok,
          parsed: attempt(() => privdrop.CapabilitySet.parse('cap_net_raw+p').toString()),
          misspelled: attempt(() => privdrop.CapabilitySet.parse('cap_net_rwa+p')),
          errnoName: attempt(() => new privdrop.PrivdropError('ERR_PRIVDROP_SYSTEM', 'x', { errno: 1 }).errnoName),
        });
      `);
      expect(r.stderr).toBe('');
      expect(r.json).toEqual({ d: true, parsed: 'cap_net_raw=p', misspelled: 'ERR_PRIVDROP_INVALID_CAPABILITIES', errnoName: 'EPERM' });
    } finally {
      fs.rmSync(jail, { recursive: true, force: true });
    }
  });
});

describeAsRoot('chroot: what loads on first use', () => {
  let jail: string;
  beforeEach(() => {
    jail = fs.mkdtempSync(path.join(os.tmpdir(), 'privdrop-jail-'));
    fs.chmodSync(jail, 0o755);
  });
  afterEach(() => fs.rmSync(jail, { recursive: true, force: true }));

  test('after the drop with chroot, every export loads on the main thread (none used before)', () => {
    // Only the drop is used before: each export below is a first use inside the jail. A call may
    // fail for what the jail lacks (no /proc), but with privdrop's coded error, never Node's
    // MODULE_NOT_FOUND for one of privdrop's own files.
    const r = scenario(`
      const d = tryDrop({ user: 'nobody', chroot: ${JSON.stringify(jail)} });
      const attempt = (f) => { try { const v = f(); return v === undefined ? 'ok' : typeof v; } catch (e) { return e.code || e.message; } };
      report({
        d: d.ok,
        processState: attempt(() => privdrop.processState),
        formatProcessState: attempt(() => privdrop.formatProcessState),
        processStateFromJSON: attempt(() => privdrop.processStateFromJSON),
        parseSecurityConfig: attempt(() => privdrop.parseSecurityConfig('{ "user": "nobody" }').user),
        setCapabilities: attempt(() => privdrop.setCapabilities),
        listen: attempt(() => privdrop.listen),
        misspelled: attempt(() => privdrop.CapabilitySet.parse('cap_net_rwa+p')),
        unknownOption: attempt(() => privdrop.resolveDropOptions({ user: 'nobody', usr: 1 })),
        errnoName: attempt(() => new privdrop.PrivdropError('ERR_PRIVDROP_SYSTEM', 'x', { errno: 1 }).errnoName),
      });
    `);
    expect(r.stderr).toBe('');
    expect(r.json).toEqual({
      d: true,
      processState: 'function',
      formatProcessState: 'function',
      processStateFromJSON: 'function',
      parseSecurityConfig: 'string',
      setCapabilities: 'function',
      listen: 'function',
      misspelled: 'ERR_PRIVDROP_INVALID_CAPABILITIES',
      unknownOption: 'ERR_PRIVDROP_INVALID_ARGUMENT',
      errnoName: 'string',
    });
  });

  test('Workers that loaded privdrop before the drop: the addon loads inside the jail, a file never loaded is a coded error with the remedy', () => {
    // Worker "state" read processState before the drop (its files, the addon's loader among them, are
    // loaded; the addon is not): inside the jail its first CapabilitySet.parse() loads the addon by
    // the path the process loaded it from. Worker "bare" only required privdrop (the error class):
    // CapabilitySet's own file is out of reach.
    const r = scenario(`
      const start = (before) => new Promise((resolve) => {
        const w = new Worker(\`
          const { parentPort } = require('worker_threads');
          const privdrop = require(${JSON.stringify(distEntry)});
          const attempt = (f) => { try { return f(); } catch (e) { return { code: e.code, step: e.step, message: e.message }; } };
          \${before};
          parentPort.postMessage('ready');
          parentPort.once('message', () => parentPort.postMessage({
            parsed: attempt(() => privdrop.CapabilitySet.parse('cap_net_raw+p').toString()),
            errnoName: attempt(() => new privdrop.PrivdropError('ERR_PRIVDROP_SYSTEM', 'x', { errno: 1 }).errnoName),
          }));
        \`, { eval: true });
        w.once('message', () => resolve(w));
      });
      const ask = (w) => new Promise((resolve) => { w.once('message', resolve); w.postMessage('go'); });
      const state = await start('typeof privdrop.processState');
      const bare = await start('0');
      const d = tryDrop({ user: 'nobody', chroot: ${JSON.stringify(jail)} });
      report({ d: d.ok, state: await ask(state), bare: await ask(bare) });
      state.terminate();
      bare.terminate();
    `);
    expect(r.stderr).toBe('');
    expect(r.json.d).toBe(true);
    expect(r.json.state).toEqual({ parsed: 'cap_net_raw=p', errnoName: 'EPERM' });
    expect(r.json.bare.errnoName).toBe('EPERM');
    expect(r.json.bare.parsed).toMatchObject({ code: 'ERR_PRIVDROP_BINDING_NOT_FOUND', step: 'load' });
    expect(r.json.bare.parsed.message).toMatch(/capabilities\/index\.js: .*root directory changed \(dropPrivileges\(\) with chroot\).*Worker started before a drop with chroot must use what it needs/);
  });
});

describeAsRoot('user, group and supplementary groups', () => {
  test('user and group by number', () => {
    const r = scenario(`report({ d: tryDrop({ user: 65534, group: 65534, supplementaryGroups: 'clear' }), s: summary() });`);
    expect(r.json.d.ok).toBe(true);
    expect(r.json.s.uid).toEqual([65534, 65534, 65534, 65534]);
    expect(r.json.s.gid).toEqual([65534, 65534, 65534, 65534]);
    expect(r.json.s.groups).toEqual([]);
  });

  test('a uid with no passwd entry works with an explicit group', () => {
    const r = scenario(`report({ d: tryDrop({ user: 54321, group: 54322, supplementaryGroups: 'clear' }), s: summary() });`);
    expect(r.json.d.ok).toBe(true);
    expect(r.json.s.uid).toEqual([54321, 54321, 54321, 54321]);
    expect(r.json.s.gid).toEqual([54322, 54322, 54322, 54322]);
  });

  test("'init' gives the user's groups from the group database, 'clear' none, a list exactly that list", () => {
    const r = scenario(`
      const init = require('child_process').execFileSync('id', ['-G', 'nobody'], { encoding: 'utf8' }).trim().split(/\\s+/).map(Number).sort((a, b) => a - b);
      report({ d: tryDrop({ user: 'nobody', supplementaryGroups: 'init' }), init, s: summary() });
    `);
    expect(r.json.d.ok).toBe(true);
    expect(r.json.s.groups).toEqual(r.json.init);

    const list = scenario(`report({ d: tryDrop({ user: 'nobody', supplementaryGroups: ['adm', 100, 'nogroup'] }), s: summary() });`);
    expect(list.json.d.ok).toBe(true);
    expect(list.json.s.groups).toEqual([4, 100, 65534]);
    expect(list.json.d.result.groups).toEqual([4, 100, 65534]);
  });

  test("root's group 0 never leaks into the dropped process", () => {
    const r = scenario(`report({ d: tryDrop({ user: 'nobody' }), s: summary() });`);
    expect(r.json.d.ok).toBe(true);
    expect(r.json.s.groups).not.toContain(0);
    expect(r.json.s.gid).not.toContain(0);
  });
});

describeAsRoot('regaining privilege after the drop fails', () => {
  test('process.setuid(0), process.setgroups([0]) and raising a capability that was not kept all fail', () => {
    const r = scenario(`
      const d = tryDrop({ user: 'nobody', capabilities: 'cap_net_bind_service+ep' });
      const attempt = (fn) => { try { fn(); return 'succeeded'; } catch (e) { return e.code || e.message; } };
      const setuid = attempt(() => process.setuid(0));
      const setgroups = attempt(() => process.setgroups([0]));
      const binding = require(${JSON.stringify(require.resolve('../../dist/addon/binding'))}).binding();
      const raise = attempt(() => binding.capSetProc({ effective: (1n << 10n) | (1n << 2n), permitted: (1n << 10n) | (1n << 2n), inheritable: 0n }));
      report({ d, setuid, setgroups, raise, s: summary() });
    `);
    expect(r.json.d.ok).toBe(true);
    expect(r.json.setuid).toBe('EPERM');
    expect(r.json.setgroups).toBe('EPERM');
    expect(r.json.raise).toBe('ERR_PRIVDROP_SYSTEM');
    expect(r.json.s.uid).toEqual([65534, 65534, 65534, 65534]);
  });

  test('with noNewPrivileges a setuid-root program runs without becoming root', () => {
    const r = scenario(`
      const d = tryDrop({ user: 'nobody', noNewPrivileges: true });
      // /usr/bin/su is setuid root; without no_new_privs it would start as euid 0.
      const out = require('child_process').spawnSync('/usr/bin/su', ['-c', 'true', 'root'], { encoding: 'utf8', input: '' });
      const st = fs.statSync('/usr/bin/su');
      report({ d, suid: (st.mode & 0o4000) !== 0, owner: st.uid, status: out.status, stderr: out.stderr, s: summary() });
    `);
    expect(r.json.d.ok).toBe(true);
    expect(r.json.suid).toBe(true);
    expect(r.json.owner).toBe(0);
    expect(r.json.s.noNewPrivs).toBe(true);
    expect(r.json.status).not.toBe(0);
  });

  test('lockSecurebits sets and locks noroot and no_setuid_fixup on the dropped process', () => {
    const r = scenario(`report({ d: tryDrop({ user: 'nobody', capabilities: 'cap_net_bind_service+ep', lockSecurebits: true }), port80: await listen(80), s: summary() });`);
    expect(r.json.d.ok).toBe(true);
    expect(r.json.port80).toBe('ok');
    expect(r.json.s.securebits).toEqual(
      expect.arrayContaining(['noroot', 'noroot_locked', 'no_setuid_fixup', 'no_setuid_fixup_locked', 'keep_caps_locked']),
    );
    expect(r.json.s.securebits).not.toContain('keep_caps');
    expect(r.json.s.prm).toBe(maskHex(CAP.net_bind_service));
  });
});

describeAsRoot('calling again, or from a process that already is the target', () => {
  test('a second identical call succeeds and changes nothing', () => {
    const r = scenario(`
      const first = tryDrop({ user: 'nobody', capabilities: 'cap_net_bind_service+ep' });
      const s1 = summary();
      const second = tryDrop({ user: 'nobody', capabilities: 'cap_net_bind_service+ep' });
      report({ first, second, s1, s2: summary() });
    `);
    expect(r.json.first.ok).toBe(true);
    expect(r.json.second.ok).toBe(true);
    expect(r.json.s2).toEqual(r.json.s1);
  });

  test('a second call that keeps less trims permitted, effective and ambient; the bounding set needs cap_setpcap', () => {
    const r = scenario(`
      const first = tryDrop({ user: 'nobody', capabilities: 'cap_net_bind_service,cap_net_raw+ep' });
      const s1 = summary();
      const strict = tryDrop({ user: 'nobody', capabilities: 'cap_net_bind_service+ep' });
      const s2 = summary();
      const trimmed = tryDrop({ user: 'nobody', capabilities: 'cap_net_bind_service+ep', boundingSet: 'unchanged' });
      report({ first, strict, trimmed, s1, s2, s: summary() });
    `);
    expect(r.json.first.ok).toBe(true);
    // Trimming cap_net_raw from the bounding set needs cap_setpcap, which is gone: refused, nothing changed.
    expect(r.json.strict).toMatchObject({ ok: false, code: 'ERR_PRIVDROP_NOT_PERMITTED' });
    expect(r.json.strict.message).toContain('cap_setpcap');
    expect(r.json.s2).toEqual(r.json.s1);
    expect(r.json.trimmed.ok).toBe(true);
    expect(r.json.s.prm).toBe(maskHex(CAP.net_bind_service));
    expect(r.json.s.eff).toBe(maskHex(CAP.net_bind_service));
    expect(r.json.s.bnd).toBe(maskHex(CAP.net_bind_service, CAP.net_raw));
  });

  test('a second call that asks for more than the process holds fails with a coded error and changes nothing', () => {
    const r = scenario(`
      const first = tryDrop({ user: 'nobody', capabilities: 'cap_net_bind_service+ep' });
      const s1 = summary();
      const second = tryDrop({ user: 'nobody', capabilities: 'cap_net_bind_service,cap_net_raw+ep' });
      report({ first, second, s1, s2: summary() });
    `);
    expect(r.json.second).toMatchObject({ ok: false, code: 'ERR_PRIVDROP_CAPABILITY_NOT_HELD' });
    expect(r.json.second.message).toContain('cap_net_raw');
    expect(r.json.s2).toEqual(r.json.s1);
  });

  test('a process started as the target user with ambient capabilities (as systemd starts it) succeeds', () => {
    // setpriv plays systemd's part: User=nobody, AmbientCapabilities=CAP_NET_BIND_SERVICE, CapabilityBoundingSet=CAP_NET_BIND_SERVICE.
    const r = scenario(
      `report({ before: summary(), d: tryDrop({ user: 'nobody', group: 'nogroup', supplementaryGroups: 'clear', capabilities: 'cap_net_bind_service+ep' }), port80: await listen(80), s: summary() });`,
      {
        wrapper: [
          'setpriv', '--reuid=65534', '--regid=65534', '--clear-groups', '--inh-caps=+net_bind_service',
          '--ambient-caps=+net_bind_service', '--bounding-set=-all,+net_bind_service',
        ],
      },
    );
    expect(r.stderr).toBe('');
    expect(r.json.before.uid).toEqual([65534, 65534, 65534, 65534]);
    expect(r.json.d.ok).toBe(true);
    expect(r.json.port80).toBe('ok');
    expect(r.json.s.amb).toBe(maskHex());
    expect(r.json.s.inh).toBe(maskHex());
  });
});
