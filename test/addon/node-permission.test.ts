// privdrop under Node's permission model (--permission; --experimental-permission in Node 20), on
// each Node that has it: without --allow-addons and --allow-fs-read=/proc it refuses with
// ERR_PRIVDROP_RUNTIME_PERMISSION naming the missing flags and changes nothing; with them it drops
// on every thread; the express example runs under the command docs/deployment.md gives.
// The Node binaries come from scripts/node-dist.js's cache; a Node that is not cached is skipped
// and says so. scripts/ci/install-tests.sh fetches them and runs this file with
// PRIVDROP_REQUIRE_NODE_BINARIES=1, under which a missing one fails instead.
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { distEntry, isRoot, repoRoot } from '../helpers/child';
import { CAP, maskHex } from '../helpers/drop';
import { examplesDir, fetchInside, procThreads, startServer, stopServer, threadMismatches } from '../helpers/servers';

// eslint-disable-next-line @typescript-eslint/no-var-requires
const nodeDist = require('../../scripts/node-dist.js') as { versions: Record<string, string>; cacheDir: string };

/** The node binary of a major version: this one if it matches, else the cached registry build. */
function nodeBinary(major: number): string | null {
  if (Number(process.versions.node.split('.')[0]) === major) return process.execPath;
  const bin = path.join(nodeDist.cacheDir, `node-linux-${process.arch}-${nodeDist.versions[major]}`, 'package', 'bin', 'node');
  return fs.existsSync(bin) ? bin : null;
}

const required = process.env.PRIVDROP_REQUIRE_NODE_BINARIES === '1';
const docs = fs.readFileSync(path.join(repoRoot, 'docs', 'deployment.md'), 'utf8');

let dir = '';
beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'privdrop-permission-'));
  fs.chmodSync(dir, 0o755);
  fs.writeFileSync(
    path.join(dir, 'drop.js'),
    `const privdrop = require(${JSON.stringify(distEntry)});
const ids = () => ({ uid: process.getuid(), gid: process.getgid(), groups: process.getgroups() });
const before = ids();
const out = { before };
try {
  privdrop.dropPrivileges({ user: 'nobody', capabilities: 'cap_net_bind_service+p' });
  const s = privdrop.processState();
  out.state = { consistent: s.consistent, threads: s.threads.length, uid: s.threads[0].uid };
} catch (e) {
  out.error = { code: e.code, name: e.name, message: e.message };
}
out.after = ids();
console.log(JSON.stringify(out));
`,
  );
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

/** The flag that turns the permission model on in this Node. */
const modelFlag = (major: number) => (major === 20 ? '--experimental-permission' : '--permission');

function run(node: string, args: string[]) {
  const r = spawnSync(node, [...args, path.join(dir, 'drop.js')], { encoding: 'utf8', timeout: 30000 });
  const line = r.stdout.trim().split('\n').pop() ?? '';
  return { status: r.status, stderr: r.stderr, json: line.startsWith('{') ? JSON.parse(line) : null };
}

describe.each([20, 22, 24])('Node %i', (major) => {
  const node = nodeBinary(major);
  const why = `Node ${major} (${nodeDist.versions[major]}) is not in ${nodeDist.cacheDir}: \`node scripts/node-dist.js x64 ${major}\` fetches it (CI's install tests do)`;
  if (!node && required) {
    test(`Node ${major} is available`, () => {
      throw new Error(why);
    });
    return;
  }
  const maybe = node ? test : (name: string) => test.skip(`${name} [skipped: ${why}]`, () => undefined);
  const maybeRoot = !isRoot ? (name: string) => test.skip(`${name} [skipped: needs root, running as uid ${process.getuid?.()}]`, () => undefined) : maybe;
  // dir is made in beforeAll: read it when a test runs, not when the tests are collected.
  const readOwn = () => [`--allow-fs-read=${repoRoot}/`, `--allow-fs-read=${dir}/`];

  maybe('without --allow-addons and --allow-fs-read=/proc: ERR_PRIVDROP_RUNTIME_PERMISSION names both, nothing changed', () => {
    const r = run(node!, [modelFlag(major), ...readOwn()]);
    expect(r.json).not.toBeNull();
    expect(r.json.error).toEqual({
      code: 'ERR_PRIVDROP_RUNTIME_PERMISSION',
      name: 'PrivdropError',
      message: expect.stringMatching(/^Node's permission model refuses what privdrop needs: run node with --allow-addons --allow-fs-read=\/proc \(/),
    });
    expect(r.json.after).toEqual(r.json.before);
    if (major === 24) expect(docs).toContain(`${r.json.error.code}: ${r.json.error.message}\n`); // the text docs/deployment.md shows
  });

  maybe('with --allow-addons only: names --allow-fs-read=/proc, nothing changed', () => {
    const r = run(node!, [modelFlag(major), ...readOwn(), '--allow-addons']);
    expect(r.json.error.code).toBe('ERR_PRIVDROP_RUNTIME_PERMISSION');
    expect(r.json.error.message).toMatch(/run node with --allow-fs-read=\/proc \(--allow-fs-read=\/proc reads every thread's state\)/);
    expect(r.json.after).toEqual(r.json.before);
  });

  maybeRoot('with --allow-addons --allow-fs-read=/proc: drops on every thread', () => {
    const r = run(node!, [modelFlag(major), ...readOwn(), '--allow-addons', '--allow-fs-read=/proc']);
    expect(r.json.error).toBeUndefined();
    expect(r.json.before.uid).toBe(0);
    expect(r.json.after.uid).toBe(65534);
    expect(r.json.state).toMatchObject({ consistent: true, uid: { real: 65534, effective: 65534, saved: 65534, fs: 65534 } });
    expect(r.json.state.threads).toBeGreaterThanOrEqual(5);
    expect(r.stderr).toMatch(/--allow-addons must be used with extreme caution/); // Node's own warning, quoted in the docs
  });

  maybe('without the permission model the same script drops (or, not root, refuses for want of privileges), never this error', () => {
    const r = run(node!, []);
    expect(r.json.error?.code).not.toBe('ERR_PRIVDROP_RUNTIME_PERMISSION');
  });

  if (major >= 22) {
    maybeRoot('the express example under the command in docs/deployment.md: serves on port 80 as www-data, every thread dropped', async () => {
      const m = /^node (--permission --allow-addons --allow-fs-read=\/proc --allow-fs-read=(\S+)) (\S+server\.js)$/m.exec(docs);
      expect(m).not.toBeNull();
      const flags = m![1].split(' ').map((f) => f.replace(m![2], `${repoRoot}/`));
      expect(m![3]).toBe('/opt/privdrop-example/examples/express/server.js');
      const www = spawnSync('id', ['-u', 'www-data'], { encoding: 'utf8' }).stdout.trim();
      const s = await startServer(path.join(examplesDir, 'express', 'server.js'), [], {
        wrapper: [],
        node: node!,
        nodeArgs: flags,
        ready: /listening on port 80 as www-data/,
      });
      try {
        const threads = procThreads(s.pid);
        expect(threadMismatches(threads, { Uid: `${www} ${www} ${www} ${www}`, CapEff: maskHex(), CapPrm: maskHex(), CapBnd: maskHex(CAP.net_bind_service) })).toEqual([]);
        expect(fetchInside(s.pid, 'http://127.0.0.1/').status).toBe(200);
      } finally {
        expect(await stopServer(s)).toBe(0);
      }
    });
  }
});
