// examples/zero-code: an Express server with no privdrop code, started unmodified with
// `node --require privdrop/register` (and through NODE_OPTIONS) and examples/zero-code/security.conf,
// for real as root in its own network namespace; every thread is read from /proc by this test.
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { describeAsRoot } from '../helpers/child';
import { examplesDir, fetchInside, procThreads, startServer, stopServer, threadMismatches } from '../helpers/servers';
import { CAP, maskHex } from '../helpers/drop';

const BIND = maskHex(CAP.net_bind_service);
const ZERO = maskHex();
const www = spawnSync('id', ['-u', 'www-data'], { encoding: 'utf8' }).stdout.trim();
const dir = path.join(examplesDir, 'zero-code');
const conf = path.join(dir, 'security.conf');
const server = path.join(dir, 'server.js');
const dropped = { Uid: `${www} ${www} ${www} ${www}`, CapPrm: BIND, CapEff: BIND, CapBnd: BIND, CapAmb: ZERO, CapInh: ZERO, NoNewPrivs: '1' };

describeAsRoot('examples/zero-code: an unmodified Express server under privdrop/register', () => {
  test('the server has no privdrop code', () => {
    expect(fs.readFileSync(server, 'utf8')).not.toMatch(/require\(['"]privdrop/);
  });

  test.each([
    ['node --require privdrop/register server.js', { args: ['--require', 'privdrop/register', server], env: {} }],
    ['NODE_OPTIONS=--require privdrop/register', { args: [server], env: { NODE_OPTIONS: '--require privdrop/register' } }],
  ])('%s: serves port 80 as www-data on every thread, keeping only cap_net_bind_service', async (_name, how) => {
    const [file, ...args] = how.args;
    const s = await startServer(file, args, { env: { PRIVDROP_CONFIG: conf, ...how.env }, ready: new RegExp(`listening on port 80 as uid ${www}`) });
    try {
      const threads = procThreads(s.pid);
      expect(threads.length).toBeGreaterThanOrEqual(5);
      expect(threadMismatches(threads, dropped)).toEqual([]);
      expect(fetchInside(s.pid, 'http://127.0.0.1:80/')).toEqual({ status: 200, body: `hello from uid ${www}, pid ${s.pid}\n` });
      expect(threadMismatches(procThreads(s.pid), dropped)).toEqual([]);
    } finally {
      expect(await stopServer(s)).toBe(0);
    }
    expect(s.output().stderr).toBe('');
  });

  // The systemd unit and the pod in docs/zero-code.md: root limited to a bounding set, no_new_privs.
  const doc = fs.readFileSync(path.join(examplesDir, '..', 'docs', 'zero-code.md'), 'utf8');
  const block = (lang: string) => new RegExp('```' + lang + '\\n([\\s\\S]*?)```').exec(doc)![1];
  const unit = block('ini');
  const pod = block('yaml');
  test.each([
    ['the systemd unit', /CapabilityBoundingSet=(.*)/.exec(unit)![1].split(/\s+/), /NoNewPrivileges=yes/.test(unit), /ExecStart=\/usr\/bin\/node --require privdrop\/register \S+examples\/zero-code\/server\.js/.test(unit)],
    ['the Kubernetes pod', /add: \[(.*)\]/.exec(pod)![1].split(/,\s*/), /allowPrivilegeEscalation: false/.test(pod), /command: \["node", "--require", "privdrop\/register", "examples\/zero-code\/server\.js"\]/.test(pod)],
  ])('docs/zero-code.md, %s: started as root with only its capabilities and no_new_privs, the server drops and serves', async (_name, caps, noNewPrivs, command) => {
    expect(command).toBe(true);
    expect(noNewPrivs).toBe(true);
    const names = caps.map((c) => c.toLowerCase().replace(/^cap_/, ''));
    expect(names.sort()).toEqual(['net_bind_service', 'setgid', 'setpcap', 'setuid']);
    const wrapper = ['setpriv', '--inh-caps=-all', `--bounding-set=-all,${names.map((n) => `+${n}`).join(',')}`, '--no-new-privs'];
    const s = await startServer('--require', ['privdrop/register', server], { wrapper, env: { PRIVDROP_CONFIG: conf }, ready: new RegExp(`listening on port 80 as uid ${www}`) });
    try {
      expect(threadMismatches(procThreads(s.pid), dropped)).toEqual([]);
      expect(fetchInside(s.pid, 'http://127.0.0.1:80/').status).toBe(200);
    } finally {
      expect(await stopServer(s)).toBe(0);
    }
    expect(s.output().stderr).toBe('');
  });

  test('examples/express/server.js, unmodified, under --require privdrop/register: dropped before its first line; its own dropPrivileges() then changes nothing; it binds with listen() and sheds the capability', async () => {
    const s = await startServer('--require', ['privdrop/register', path.join(examplesDir, 'express', 'server.js')], {
      env: { PRIVDROP_CONFIG: path.join(dir, 'express.conf') },
      ready: /listening on port 80 as www-data .*then shed it: = on \d+ threads/,
    });
    try {
      const threads = procThreads(s.pid);
      expect(threads.length).toBeGreaterThanOrEqual(5);
      expect(threadMismatches(threads, { ...dropped, CapPrm: ZERO, CapEff: ZERO })).toEqual([]);
      expect(fetchInside(s.pid, 'http://127.0.0.1:80/')).toEqual({ status: 200, body: `hello from uid ${www} (www-data), pid ${s.pid}\n` });
    } finally {
      expect(await stopServer(s)).toBe(0);
    }
    expect(s.output().stderr).toBe('');
  });

  test('without PRIVDROP_CONFIG it never serves: the coded error, exit 125, as root having changed nothing', async () => {
    const s = startServer('--require', ['privdrop/register', server], { env: { PRIVDROP_CONFIG: '' }, ready: /listening/ });
    await expect(s).rejects.toThrow(/exited \(125\) before it was ready\nstdout: \nstderr: privdrop\/register: ERR_PRIVDROP_INVALID_CONFIG: PRIVDROP_CONFIG is not set/);
  });
});
