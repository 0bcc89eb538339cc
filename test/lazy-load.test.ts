// require('privdrop') loads only the error class and CapabilitySet: the drop, /proc reading,
// formatting, config reading and worker_threads load when first used (evidence/load-time.js
// measures the time). Each export is still the module's own function, loaded on first read.
import * as path from 'path';
import { repoRoot, runNode, runProcess } from './helpers/child';

const dist = path.join(repoRoot, 'dist');

// The package's files and Node's built-in modules that a fresh process has loaded.
const loaded = `const loaded = () => ({
  files: Object.keys(require.cache).filter((f) => f.startsWith(${JSON.stringify(dist + path.sep)})).map((f) => f.slice(${dist.length + 1})).sort(),
  builtins: process.moduleLoadList.filter((m) => /^NativeModule (worker_threads|internal\\/worker)$/.test(m)),
});`;

test("require('privdrop') loads no drop, state, config or CLI module and no worker_threads", () => {
  const r = runNode(`${loaded}; require(${JSON.stringify(dist)}); report(loaded());`);
  expect(r.stderr).toBe('');
  expect(r.json.files).toEqual(['capabilities/index.js', 'errors/index.js', 'index.js']);
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

test('dropPrivileges() loads worker_threads when called (to refuse a Worker), not before', () => {
  const r = runNode(`${loaded};
    const p = require(${JSON.stringify(dist)});
    const before = loaded().builtins.length;
    try { p.dropPrivileges({ user: 'nobody', unknownOption: 1 }); } catch (e) { var code = e.code; }
    report({ before, after: loaded().builtins.length > 0, code });`);
  expect(r.json).toEqual({ before: 0, after: true, code: 'ERR_PRIVDROP_INVALID_ARGUMENT' });
});

test('evidence/load-time.js times fresh processes and lists the files the require loads', () => {
  const script = path.join(repoRoot, 'evidence', 'load-time.js');
  const r = runProcess(process.execPath, [script, '--runs', '3']);
  expect(r.stderr).toBe('');
  expect(r.status).toBe(0);
  expect(r.stdout).toMatch(/^without the require: \d+\.\d ms wall, \d+\.\d ms CPU/m);
  expect(r.stdout).toMatch(/^this build: require\(\) adds -?\d+\.\d ms wall .* 3 files: index\.js capabilities\/index\.js errors\/index\.js$/m);
  expect(runProcess(process.execPath, [script, '--runs', '1']).status).not.toBe(0);
});
