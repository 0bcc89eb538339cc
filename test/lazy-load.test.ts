// require('privdrop') loads only the error class: CapabilitySet, the drop, /proc reading,
// formatting, config reading and worker_threads load when first used (evidence/load-time.js
// measures the time). Each export is still the module's own function, loaded on first read.
import * as fs from 'fs';
import * as path from 'path';
import { isRoot, repoRoot, runNode, runProcess } from './helpers/child';

const dist = path.join(repoRoot, 'dist');

// The package's files and Node's built-in modules that a fresh process has loaded.
const loaded = `const loaded = () => ({
  files: Object.keys(require.cache).filter((f) => f.startsWith(${JSON.stringify(dist + path.sep)})).map((f) => f.slice(${dist.length + 1})).sort(),
  builtins: process.moduleLoadList.filter((m) => /^NativeModule (worker_threads|internal\\/worker)$/.test(m)),
});`;

test("require('privdrop') loads no drop, state, config or CLI module and no worker_threads", () => {
  const r = runNode(`${loaded}; require(${JSON.stringify(dist)}); report(loaded());`);
  expect(r.stderr).toBe('');
  expect(r.json.files).toEqual(['errors/index.js', 'index.js']);
  expect(r.json.builtins).toEqual([]);
});

test('each lazy export loads its own module on first read, and is that module’s function', () => {
  const r = runNode(`${loaded};
    const p = require(${JSON.stringify(dist)});
    const out = {};
    out.config = p.parseSecurityConfig === require(${JSON.stringify(path.join(dist, 'config'))}).parseSecurityConfig;
    out.afterConfig = loaded().files.filter((f) => f.startsWith('config'));
    out.format = p.formatProcessState === require(${JSON.stringify(path.join(dist, 'state', 'format'))}).formatProcessState;
    out.read = p.processState === require(${JSON.stringify(path.join(dist, 'state', 'read'))}).processState;
    out.drop = p.dropPrivileges === require(${JSON.stringify(path.join(dist, 'drop'))}).dropPrivileges
      && p.resolveDropOptions === require(${JSON.stringify(path.join(dist, 'drop'))}).resolveDropOptions;
    out.load = p.loadSecurityConfig === require(${JSON.stringify(path.join(dist, 'config'))}).loadSecurityConfig;
    out.cli = loaded().files.filter((f) => f.startsWith('cli'));
    report(out);`);
  expect(r.stderr).toBe('');
  expect(r.json).toEqual({
    config: true,
    afterConfig: ['config/index.js', 'config/json.js', 'config/keys.js', 'config/source.js', 'config/stanza.js', 'config/trust.js'],
    format: true,
    read: true,
    drop: true,
    load: true,
    cli: [],
  });
});

test("the drop's path loads no Node module of its own: the addon says which thread this is", () => {
  // Node's modules that the drop does not need (worker_threads pulls in some 25: streams, worker
  // messaging; os only names errnos in error messages). Run as any user: the call is refused
  // after the checks (not root, or an unknown option), having gone down the whole path.
  const r = runNode(`
    const p = require(${JSON.stringify(dist)});
    const before = new Set(process.moduleLoadList);
    const codes = [];
    try { p.dropPrivileges({ user: 'nobody', unknownOption: 1 }); } catch (e) { codes.push(e.code); }
    try { p.resolveDropOptions({ user: 'nobody', capabilities: 'cap_net_bind_service+ep' }); codes.push('resolved'); } catch (e) { codes.push(e.code); }
    report({ codes, added: process.moduleLoadList.filter((m) => !before.has(m) && m.startsWith('NativeModule ')) });`);
  expect(r.stderr).toBe('');
  expect(r.json.codes[0]).toBe('ERR_PRIVDROP_INVALID_ARGUMENT');
  expect(r.json.added).toEqual([]);
});

test('evidence/load-time.js times fresh processes and lists the files the require loads', () => {
  const script = path.join(repoRoot, 'evidence', 'load-time.js');
  const r = runProcess(process.execPath, [script, '--runs', '3']);
  expect(r.stderr).toBe('');
  expect(r.status).toBe(0);
  expect(r.stdout).toMatch(/^without the require: \d+\.\d ms wall, \d+\.\d ms CPU/m);
  expect(r.stdout).toMatch(/^this build: require\(\) adds -?\d+\.\d ms wall .* 2 files: index\.js errors\/index\.js$/m);
  expect(runProcess(process.execPath, [script, '--runs', '1']).status).not.toBe(0);
});

test('every file privdrop loads on first use goes through loadPart, and the drop with chroot loads each first (lib/parts.ts)', () => {
  // A first use after a chroot cannot read the package's files: lib/parts.ts must name every part.
  const lib = path.join(repoRoot, 'lib');
  const sources = (dir: string): string[] =>
    fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? sources(path.join(dir, e.name)) : e.name.endsWith('.ts') ? [path.join(dir, e.name)] : []));
  const parts = new Set<string>();
  for (const file of sources(lib)) {
    const text = fs.readFileSync(file, 'utf8');
    for (const m of text.matchAll(/loadPart\(\(\) => require\('([^']+)'\)[^,]*, '([^']+)'\)/g)) {
      // the part named is the file required
      expect(path.relative(lib, path.resolve(path.dirname(file), m[1])).replace(/\/index$/, '')).toBe(m[2].replace(/\/index$/, ''));
      parts.add(m[2].replace(/\/index$/, ''));
    }
  }
  // The drop is the one part parts.ts does not require: it calls loadEveryPart(), so it is loaded (and a require back would be a cycle).
  expect(parts.delete('drop')).toBe(true);
  const preloaded = [...fs.readFileSync(path.join(lib, 'parts.ts'), 'utf8').matchAll(/require\('\.\/([^']+)'\)/g)].map((m) => m[1]);
  expect(parts.size).toBeGreaterThan(5);
  expect(preloaded.filter((p) => parts.has(p)).sort()).toEqual([...parts].sort());
});

test("the library's files import Node's modules with a plain require, not import * (which copies every export on load)", () => {
  const lib = path.join(repoRoot, 'lib');
  const offenders: string[] = [];
  for (const dir of ['', 'addon', 'capabilities', 'cli', 'config', 'drop', 'errors', 'register', 'runtime', 'state']) {
    for (const name of fs.readdirSync(path.join(lib, dir)).filter((n) => n.endsWith('.ts'))) {
      const text = fs.readFileSync(path.join(lib, dir, name), 'utf8');
      if (/^import \* as \w+ from '[^.]/m.test(text)) offenders.push(path.join(dir, name));
    }
  }
  expect(offenders).toEqual([]);
});

// evidence/first-contact.js (npm run bench) times whole fresh processes; here it only has to run and
// print its table, its floor and experiment rows included (the addon's native drop with no privdrop
// JavaScript; the drop's modules as one file, and from a code cache), and the first call's phases.
(isRoot ? test : test.skip)('evidence/first-contact.js prints the fresh-process ratios, with its floor, its --one-file experiment and --phases (root: it drops)', () => {
  const script = path.join(repoRoot, 'evidence', 'first-contact.js');
  const r = runProcess(process.execPath, [script, '--runs', '3', '--one-file', '--phases', '--compile-cache'], { timeoutMs: 150_000 });
  expect(r.stderr).toBe('');
  expect(r.status).toBe(0);
  const ratio = String.raw`\| -?\d+\.\d ms \| \d+\.\d+x \|`;
  expect(r.stdout).toMatch(new RegExp(String.raw`^\| require\('privdrop'\) vs node -e 0 \| .* ${ratio} goal: within 3 ms \|$`, 'm'));
  expect(r.stdout).toMatch(new RegExp(String.raw`^\| require \+ dropPrivileges\(\) vs node -e 0 \| .* ${ratio} goal: 1\.08x \|$`, 'm'));
  expect(r.stdout).toMatch(new RegExp(String.raw`^\| the same, its \d+ modules as one file of \d+ bytes \(experiment\) .* ${ratio} not shipped \|$`, 'm'));
  expect(r.stdout).toMatch(new RegExp(String.raw`^\| the same, that file from a V8 code cache of \d+ bytes \(experiment\) .* ${ratio} not shipped \|$`, 'm'));
  expect(r.stdout).toMatch(new RegExp(String.raw`^\| express start with privdrop vs without \| .* ${ratio} goal: 1\.03x \|$`, 'm'));
  expect(r.stdout).toMatch(new RegExp(String.raw`^\| the floor: the addon and its native drop of the same plan, no privdrop JavaScript, vs node -e 0 \| .* ${ratio} lower bound \|$`, 'm'));
  // Node's compile cache exists from Node 22.1; before, the output says why the row is not there.
  if (typeof (require('module') as { enableCompileCache?: unknown }).enableCompileCache === 'function') {
    expect(r.stdout).toMatch(new RegExp(String.raw`^\| require \+ dropPrivileges\(\) with Node's compile cache \(NODE_COMPILE_CACHE, filled\) vs node -e 0 \| .* ${ratio} experiment \|$`, 'm'));
  } else {
    expect(r.stdout).toMatch(/^first-contact: --compile-cache skipped: node v\S+ has no module\.enableCompileCache/m);
  }
  const step = String.raw` \| \d+\.\d\d \|$`;
  for (const name of [String.raw`require\('privdrop'\)`, "the drop's modules", String.raw`the addon \(libc check, dlopen\)`, String.raw`resolveDropOptions\(\), first`, String.raw`resolveDropOptions\(\), again`, String.raw`dropPlan\(\): JavaScript and native drop`, 'of which the native drop']) {
    expect(r.stdout).toMatch(new RegExp(String.raw`^\| ${name}${step}`, 'm'));
  }
  expect(runProcess(process.execPath, [script, '--runs', '2']).status).not.toBe(0);
}, 180_000);
