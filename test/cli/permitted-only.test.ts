// privdrop exec --permitted-only: COMMAND starts with the capability permitted, not effective,
// and raises it itself. The kernel passes it that way only through the program file's
// inheritable set, so these tests mark a copy of node with setcap (never the real binary).
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { describeAsRoot, distEntry, repoRoot, runProcess } from '../helpers/child';
import { CAP, maskHex } from '../helpers/drop';

const cli = path.join(repoRoot, 'bin', 'privdrop.js');
const nbs = maskHex(CAP.net_bind_service);
const none = maskHex();

// The program: reports its sets, then tries :80 plainly, through listen() and in a window.
const program = `
const fs = require('fs');
const net = require('net');
const privdrop = require(${JSON.stringify(distEntry)});
const status = (k) => new RegExp('^' + k + ':\\\\s*(\\\\S+)', 'm').exec(fs.readFileSync('/proc/self/status', 'utf8'))[1];
const host = '127.' + (1 + Math.floor(Math.random() * 250)) + '.' + Math.floor(Math.random() * 250) + '.' + (2 + Math.floor(Math.random() * 250));
const sets = { uid: status('Uid'), prm: status('CapPrm'), eff: status('CapEff'), inh: status('CapInh'), amb: status('CapAmb') };
const plain = () => new Promise((res) => { const s = net.createServer(); s.once('error', (e) => res(e.code)); s.listen(80, host, () => s.close(() => res('ok'))); });
(async () => {
  const before = await plain();
  const viaListen = await privdrop.listen(net.createServer(), { port: 80, host }).then((s) => { s.close(); return 'ok'; }, (e) => e.code);
  const window = privdrop.withCapabilities(['cap_net_bind_service'], () => status('CapEff'));
  process.stdout.write(JSON.stringify({ sets, before, viaListen, window, after: status('CapEff') }) + '\\n');
})();
`;

describeAsRoot('privdrop exec --permitted-only', () => {
  let dir: string;
  let node: string;
  let script: string;
  const setcap = (caps: string) => {
    const r = spawnSync('setcap', caps ? [caps, node] : ['-r', node], { encoding: 'utf8' });
    if (r.status !== 0 && caps) throw new Error(`setcap ${caps} failed: ${r.stderr}`);
  };

  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'privdrop-permitted-only-'));
    fs.chmodSync(dir, 0o755);
    node = path.join(dir, 'node');
    fs.copyFileSync(process.execPath, node);
    fs.chmodSync(node, 0o755);
    script = path.join(dir, 'program.js');
    fs.writeFileSync(script, program, { mode: 0o644 });
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  test('COMMAND marked with setcap NAME+i starts with it permitted only, and raises it itself', () => {
    setcap('cap_net_bind_service+i');
    const r = runProcess(process.execPath, [cli, 'exec', '--user', 'nobody', '--groups', 'clear', '--permitted-only', 'cap_net_bind_service', '--', node, script]);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.json).toEqual({
      sets: { uid: '65534', prm: nbs, eff: none, inh: nbs, amb: none },
      before: 'EACCES',
      viaListen: 'ok',
      window: nbs,
      after: none,
    });
  });

  test('#!/usr/bin/env node scripts: the interpreter found in PATH is what is checked', () => {
    setcap('cap_net_bind_service+i');
    const exe = path.join(dir, 'program');
    fs.writeFileSync(exe, `#!/usr/bin/env node\n${program}`, { mode: 0o755 });
    const env = { PATH: `${dir}:/usr/bin:/bin` };
    const ok = runProcess(process.execPath, [cli, 'exec', '--user', 'nobody', '--groups', 'clear', '--permitted-only', 'cap_net_bind_service', '--', exe], { env });
    expect(ok.stderr).toBe('');
    expect(ok.json).toMatchObject({ sets: { prm: nbs, eff: none }, before: 'EACCES', viaListen: 'ok' });
    const dry = runProcess(process.execPath, [cli, 'exec', '--user', 'nobody', '--permitted-only', 'cap_net_bind_service', '--dry-run', '--', exe], { env });
    expect(dry.status).toBe(0);
    expect(dry.stdout).toContain(`permitted     cap_net_bind_service only, not effective: COMMAND raises it (through ${node}'s inheritable set)`);
  });

  test.each([
    ['no file capabilities', '', /has no file capabilities.*setcap cap_net_bind_service\+i /],
    ['the file effective bit', 'cap_net_bind_service+ei', /effective bit set/],
    ['another capability only', 'cap_net_raw+i', /lack cap_net_bind_service/],
  ])('refuses before anything changes: %s (exit 125, privdrop failed, nothing ran)', (_name, caps, message) => {
    setcap(caps);
    const marker = path.join(dir, 'ran');
    fs.rmSync(marker, { force: true });
    const r = runProcess(process.execPath, [
      cli, 'exec', '--user', 'nobody', '--permitted-only', 'cap_net_bind_service', '--', node, '-e', `require('fs').writeFileSync(${JSON.stringify(marker)}, 'x')`,
    ]);
    expect(r.status).toBe(125);
    expect(r.stderr).toMatch(message);
    expect(fs.existsSync(marker)).toBe(false);
  });

  test('usage errors: with --ambient, or with capability text instead of names (exit 2)', () => {
    const both = runProcess(process.execPath, [cli, 'exec', '--user', 'nobody', '--ambient', '--permitted-only', 'cap_net_bind_service', '--', 'true']);
    expect(both.status).toBe(2);
    expect(both.stderr).toMatch(/--permitted-only and --ambient contradict/);
    const text = runProcess(process.execPath, [cli, 'exec', '--user', 'nobody', '--permitted-only', 'cap_net_bind_service+p', '--', 'true']);
    expect(text.status).toBe(2);
  });
});
