// Every refusal is a coded error that leaves the process exactly as it was.
import { describeAsRoot, runNode } from '../helpers/child';
import { scenario } from '../helpers/drop';

/** Drops with `options` (a JS expression), reporting the error and the state before and after. */
function refused(options: string, setup = '') {
  return scenario(`
    ${setup}
    const before = summary();
    const d = tryDrop(${options});
    report({ d, before, after: summary() });
  `);
}

describeAsRoot('refusals leave the process exactly as it was', () => {
  const cases: Array<[string, string, string, RegExp | null]> = [
    ['an unknown user', "{ user: 'no-such-user-privdrop' }", 'ERR_PRIVDROP_UNKNOWN_USER', /no-such-user-privdrop/],
    ['an unknown group', "{ user: 'nobody', group: 'no-such-group-privdrop' }", 'ERR_PRIVDROP_UNKNOWN_GROUP', /no-such-group-privdrop/],
    ['an unknown supplementary group', "{ user: 'nobody', supplementaryGroups: ['adm', 'no-such-group-privdrop'] }", 'ERR_PRIVDROP_UNKNOWN_GROUP', null],
    ['invalid capability text', "{ user: 'nobody', capabilities: 'cap_net_bind_service+ep cap_bogus+e' }", 'ERR_PRIVDROP_INVALID_CAPABILITIES', /cap_bogus/],
    ['effective without permitted', "{ user: 'nobody', capabilities: 'cap_net_bind_service+e' }", 'ERR_PRIVDROP_INVALID_CAPABILITIES', /permitted/],
    ['a capability the process does not hold', "{ user: 'nobody', capabilities: 'cap_sys_resource+ep' }", 'ERR_PRIVDROP_CAPABILITY_NOT_HELD', /cap_sys_resource/],
    ['a missing chroot directory', "{ user: 'nobody', chroot: '/nonexistent/privdrop-jail' }", 'ERR_PRIVDROP_INVALID_CHROOT', /nonexistent/],
    ['a relative chroot directory', "{ user: 'nobody', chroot: 'jail' }", 'ERR_PRIVDROP_INVALID_CHROOT', null],
    ['root as the target user', "{ user: 'root' }", 'ERR_PRIVDROP_INVALID_ARGUMENT', /uid 0/],
    ['a misspelt option', "{ user: 'nobody', capabilites: 'cap_net_bind_service+ep' }", 'ERR_PRIVDROP_INVALID_ARGUMENT', /capabilites/],
    ['a uid with no passwd entry and no group', '{ user: 54321 }', 'ERR_PRIVDROP_INVALID_ARGUMENT', /group/],
    ["'init' groups for a uid with no passwd entry", "{ user: 54321, group: 54321, supplementaryGroups: 'init' }", 'ERR_PRIVDROP_INVALID_ARGUMENT', /init/],
    ['an unknown boundingSet mode', "{ user: 'nobody', boundingSet: 'all' }", 'ERR_PRIVDROP_INVALID_ARGUMENT', null],
  ];

  test.each(cases)('%s', (_what, options, code, message) => {
    const r = refused(options);
    expect(r.json.d).toMatchObject({ ok: false, name: 'PrivdropError', code });
    if (message) expect(r.json.d.message).toMatch(message);
    expect(r.json.after).toEqual(r.json.before);
  });

  test('effective uid 1000 and saved uid 0 without cap_setgid permitted: refused at validate, naming what is missing and the remedy, not a seccomp filter', () => {
    // setpriv --bounding-set -setgid: node starts as root without cap_setgid; seteuid(1000) then empties the effective set.
    const r = scenario(
      `process.seteuid(1000);
       const before = summary();
       const d = tryDrop({ user: 'nobody' });
       report({ d, before, after: summary() });`,
      { wrapper: ['/usr/bin/setpriv', '--bounding-set', '-setgid', '--'] },
    );
    expect(r.json.d).toMatchObject({ ok: false, name: 'PrivdropError', code: 'ERR_PRIVDROP_NOT_PERMITTED', step: 'validate' });
    expect(r.json.d.message).toContain('cap_setgid to change the gid and supplementary groups (not in its permitted set, effective uid 1000, saved uid 0)');
    expect(r.json.d.message).toContain('Start it as root with its full capability sets, or with these capabilities in its permitted set');
    expect(r.json.d.message).not.toMatch(/seccomp|security module/);
    expect(r.json.after).toEqual(r.json.before);
  });

  test('inconsistent threads before the drop are refused, not built upon', () => {
    const r = refused(
      "{ user: 'nobody' }",
      `const b = require(${JSON.stringify(require.resolve('../../dist/addon/binding'))}).binding();
       const cur = b.capGetProc();
       b.capSetProc({ ...cur, effective: cur.effective & ~(1n << 10n) }); // main thread only`,
    );
    expect(r.json.d).toMatchObject({ ok: false, code: 'ERR_PRIVDROP_INCONSISTENT_THREADS', step: 'validate' });
    expect(r.json.d.message).toContain('CapEff');
    expect(r.json.after).toEqual(r.json.before);
  });

  test('a Worker that changed its own thread is found in validate (every thread read from /proc) and named', () => {
    const bindingPath = JSON.stringify(require.resolve('../../dist/addon/binding'));
    const r = scenario(`
      const worker = new Worker(\`
        const { parentPort } = require('worker_threads');
        const b = require(\${JSON.stringify(${bindingPath})}).binding();
        const cur = b.capGetProc();
        b.capSetProc({ ...cur, inheritable: cur.inheritable | (1n << 10n) }); // this thread only
        parentPort.postMessage(b.gettid());
        setInterval(() => {}, 1000);
      \`, { eval: true });
      const tid = await new Promise((res) => worker.once('message', res));
      const d = tryDrop({ user: 'nobody' });
      const s = summary();
      await worker.terminate();
      report({ d, tid, uid: s.uid });
    `);
    expect(r.json.d).toMatchObject({ ok: false, code: 'ERR_PRIVDROP_INCONSISTENT_THREADS', step: 'validate' });
    expect(r.json.d.message).toContain('CapInh');
    expect(r.json.d.message).toContain(`thread ${r.json.tid}`);
    expect(r.json.uid).toEqual([0, 0, 0, 0]);
  });

  test('a process without cap_setuid is refused before anything changes', () => {
    const r = scenario(
      `const before = summary(); const d = tryDrop({ user: 'nobody' }); report({ d, before, after: summary() });`,
      // Root that exec's with cap_setuid out of the bounding set starts without it in permitted.
      { wrapper: ['setpriv', '--bounding-set=-setuid'] },
    );
    expect(r.json.d).toMatchObject({ ok: false, code: 'ERR_PRIVDROP_NOT_PERMITTED' });
    expect(r.json.d.message).toContain('cap_setuid');
    expect(r.json.after).toEqual(r.json.before);
  });
});

describe('arguments of the wrong type are TypeErrors, before anything else', () => {
  const cases: Array<[string, string]> = [
    ['no options', 'undefined'],
    ['a string instead of options', "'nobody'"],
    ['a user that is an object', '{ user: {} }'],
    ['a boolean ambient given as a string', "{ user: 'nobody', ambient: 'yes' }"],
    ['capabilities as a number', "{ user: 'nobody', capabilities: 10 }"],
    ['supplementaryGroups as a string other than init/clear', "{ user: 'nobody', supplementaryGroups: 'adm' }"],
  ];
  test.each(cases)('%s', (_what, options) => {
    const r = runNode(`
      try { privdrop.dropPrivileges(${options}); report({ ok: true }); }
      catch (e) { report({ ok: false, name: e.name, code: e.code, typeError: e instanceof TypeError }); }
    `);
    expect(r.json).toMatchObject({ ok: false, typeError: true });
  });

  test('a negative or fractional uid is a RangeError', () => {
    const r = runNode(`
      const out = [];
      for (const user of [-1, 1.5, 2 ** 32]) {
        try { privdrop.dropPrivileges({ user }); out.push('ok'); } catch (e) { out.push(e.name); }
      }
      report(out);
    `);
    expect(r.json).toEqual(['RangeError', 'RangeError', 'RangeError']);
  });
});

describe('dropPrivileges() from a Worker', () => {
  test('throws ERR_PRIVDROP_NOT_MAIN_THREAD', () => {
    const r = runNode(`
      const { Worker } = require('worker_threads');
      const w = new Worker(\`
        const { parentPort } = require('worker_threads');
        const privdrop = require(${JSON.stringify(require.resolve('../../dist/index.js'))});
        try { privdrop.dropPrivileges({ user: 'nobody' }); parentPort.postMessage('dropped'); }
        catch (e) { parentPort.postMessage(e.code); }
      \`, { eval: true });
      w.once('message', (m) => { report({ m, uid: process.getuid() }); w.terminate(); });
    `);
    expect(r.json.m).toBe('ERR_PRIVDROP_NOT_MAIN_THREAD');
  });
});

describe('option values that are not even strings', () => {
  test('a boundingSet of the wrong type is a TypeError, and a null-prototype value does not crash the message', () => {
    const r = runNode(`
      const out = [];
      for (const boundingSet of [1, {}, Object.create(null), ['retained']]) {
        try { privdrop.resolveDropOptions({ user: 'nobody', boundingSet }); out.push('ok'); } catch (e) { out.push(e.name); }
      }
      try { privdrop.resolveDropOptions({ user: Object.create(null) }); } catch (e) { out.push(e.name); }
      report(out);
    `);
    expect(r.json).toEqual(['TypeError', 'TypeError', 'TypeError', 'TypeError', 'TypeError']);
  });

  test('parseSecurityConfig() with a text or path that is not a string is a TypeError', () => {
    const r = runNode(`
      const out = [];
      for (const [text, path] of [[1, 'x'], [null, 'x'], ['user = a', 5]]) {
        try { privdrop.parseSecurityConfig(text, path); out.push('ok'); } catch (e) { out.push(e.name); }
      }
      report(out);
    `);
    expect(r.json).toEqual(['TypeError', 'TypeError', 'TypeError']);
  });
});

describe("the binding's own checks of the plan", () => {
  test('come before anything changes and carry step validate', () => {
    const r = runNode(`
      const b = require(${JSON.stringify(require.resolve('../../dist/addon/binding'))}).binding();
      const out = [];
      for (const plan of [{}, { uid: 1, gid: 1, groups: [], capabilities: {} }, { uid: 1, gid: 1, groups: [], boundingSet: 'all' }]) {
        try { b.drop(plan); out.push('dropped'); } catch (e) { out.push({ code: e.code, step: e.step }); }
      }
      report(out);
    `);
    expect(r.json).toEqual([
      { code: 'ERR_PRIVDROP_INVALID_ARGUMENT', step: 'validate' },
      { code: 'ERR_PRIVDROP_INVALID_ARGUMENT', step: 'validate' },
      { code: 'ERR_PRIVDROP_INVALID_ARGUMENT', step: 'validate' },
    ]);
  });
});
