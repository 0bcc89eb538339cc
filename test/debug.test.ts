// NODE_DEBUG=privdrop (util.debuglog): a line for each step of a drop with its thread count and
// time, for each config file and each capability text parsed; nothing without it.
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { describeAsRoot, runNode } from './helpers/child';

const LINE = /^PRIVDROP \d+: /;
const lines = (stderr: string) => stderr.split('\n').filter((l) => LINE.test(l)).map((l) => l.replace(LINE, ''));

describe('NODE_DEBUG=privdrop without a drop', () => {
  let dir: string;
  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'privdrop-debug-'));
    fs.writeFileSync(path.join(dir, 'app.conf'), 'Security {\n  user = nobody\n  capabilities = "cap_net_bind_service+ep"\n}\n');
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  const code = (file: string) => `
    privdrop.loadSecurityConfig(${JSON.stringify(file)});
    privdrop.CapabilitySet.parse('cap_chown,cap_kill+ep cap_setuid+p');
    const s = privdrop.processState();
    report({ threads: s.threads.length });`;

  test('traces the config file (read, format, keys), the capability text and processState()', () => {
    const file = path.join(dir, 'app.conf');
    const r = runNode(code(file), { env: { NODE_DEBUG: 'privdrop' } });
    expect(lines(r.stderr)).toEqual([
      `config: read ${file} (${fs.statSync(file).size} bytes)`,
      'capabilities: parsed "cap_net_bind_service+ep" as cap_net_bind_service=ep',
      `config: parsed ${file} as a Security stanza: user, capabilities`,
      'capabilities: parsed "cap_chown,cap_kill+ep cap_setuid+p" as cap_chown,cap_kill=ep cap_setuid+p',
      expect.stringMatching(new RegExp(`^processState: ${r.json.threads} threads read from /proc/self/task in \\d+\\.\\d\\d ms, all agree$`)),
    ]);
  });

  test('prints nothing without NODE_DEBUG, or with another module named', () => {
    expect(runNode(code(path.join(dir, 'app.conf'))).stderr).toBe('');
    expect(runNode(code(path.join(dir, 'app.conf')), { env: { NODE_DEBUG: 'net,http' } }).stderr).toBe('');
    expect(lines(runNode(code(path.join(dir, 'app.conf')), { env: { NODE_DEBUG: 'http,privdrop' } }).stderr)).toHaveLength(5);
  });
});

describeAsRoot('NODE_DEBUG=privdrop with a real drop', () => {
  test('each step with the thread count and time the result reports, then what was verified', () => {
    const r = runNode(
      `const { Worker } = require('worker_threads');
      const workers = [0, 1].map(() => new Worker('setInterval(() => {}, 1000)', { eval: true }));
      Promise.all(workers.map((w) => new Promise((ok) => w.once('online', ok)))).then(() => {
        const result = privdrop.dropPrivileges({ user: 'nobody', capabilities: ['cap_net_bind_service'], supplementaryGroups: 'clear' });
        report(result);
        process.exit(0);
      });`,
      { env: { NODE_DEBUG: 'privdrop' } },
    );
    const result = r.json;
    expect(result.threads).toBeGreaterThanOrEqual(3);
    const trace = lines(r.stderr);
    expect(trace[0]).toMatch(new RegExp(`^drop: start, ${result.threads} threads in /proc/self/task$`));
    expect(trace[1]).toMatch(
      /^drop: resolved and checked in \d+\.\d\d ms: uid 65534, gid 65534, groups \[\], keep cap_net_bind_service=ep, bounding set trimmed to them, ambient no, no_new_privs no, lock securebits no, chroot none$/,
    );
    const steps = result.broadcasts.map((b: { name: string; threads: number; ms: number }) => `drop: step ${b.name} ran on ${b.threads} threads in ${b.ms.toFixed(3)} ms`);
    expect(steps.length).toBeGreaterThan(0);
    expect(trace.slice(2, 2 + steps.length)).toEqual(steps);
    const ms = result.ms.toFixed(3).replace('.', '\\.');
    expect(trace[2 + steps.length]).toMatch(
      new RegExp(`^drop: done: ${result.threads} threads verified in /proc/self/task, regaining root proved impossible; native ${ms} ms, whole call \\d+\\.\\d\\d ms$`),
    );
    expect(trace).toHaveLength(3 + steps.length);
  });

  test('a refused drop says so, with the code, and that nothing changed', () => {
    const r = runNode(
      `try { privdrop.dropPrivileges({ user: 'nobody', capabilities: 'cap_kill+e' }); } catch (e) { report({ code: e.code, uid: process.getuid() }); }`,
      { env: { NODE_DEBUG: 'privdrop' } },
    );
    expect(r.json).toEqual({ code: 'ERR_PRIVDROP_INVALID_CAPABILITIES', uid: 0 });
    expect(lines(r.stderr).pop()).toMatch(
      /^drop: refused before any change after \d+\.\d\d ms: ERR_PRIVDROP_INVALID_CAPABILITIES: effective capabilities must also be permitted/,
    );
  });
});
