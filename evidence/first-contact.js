#!/usr/bin/env node
// What privdrop adds to a fresh process, measured side by side (issue 20): each pair of scripts
// runs in alternating fresh processes in one loop, so machine load hits both; medians of the wall
// time of the whole process (spawn to exit) are compared.
//
//   require:         node -e "require('privdrop')"               vs  node -e 0
//   require + drop:  require privdrop, dropPrivileges(+ep)        vs  node -e 0
//   express start:   drop (+p), load express, listen() on a low port, close
//                    vs the same server without privdrop (as root, app.listen on the port)
//
//   floor:           the addon loaded by its path and its native drop of the same plan, with no
//                    privdrop JavaScript at all, vs node -e 0: what the JavaScript layer could at
//                    best come down to
//
//   node evidence/first-contact.js [--runs N] [--one-file] [--phases] [--compile-cache]
//                                  (as root; part of npm run bench)
//
// --phases prints where the first call's time goes inside the process (performance.now() between
// the steps, medians of --runs fresh processes), each step run first and then once more in the
// same process: what the same work costs once everything is loaded and compiled.
//
// --compile-cache adds a row for Node's own compile cache (module.enableCompileCache, Node 22.1 and
// later; skipped on older Node): the require-and-drop script with NODE_COMPILE_CACHE set to a
// root-owned directory that a process which resolved the same options (without dropping) filled.
//
// --one-file adds an experiment that is not shipped: the same require-and-drop script against a
// copy of the drop's path written as one file (every module the drop loads, each in its own
// function, its require() resolved inside the file), to measure what loading those modules one
// by one costs against loading the same code at once; and that file again compiled from a V8 code
// cache (vm.Script cachedData, made by a process that dropped with the same options first, so
// every function the drop runs is in it), to measure what compiling it costs. Caches written at run time by root are a risk privdrop does not
// take (docs/design.md, Loading): this measures, it does not propose.
'use strict';
const { spawnSync } = require('child_process');
const fs = require('fs');
const os = require('os');
const path = require('path');

const root = path.resolve(__dirname, '..');
const entry = path.join(root, 'dist', 'index.js');
const express = path.join(root, 'examples', 'node_modules', 'express');

function parse(argv) {
  const out = { runs: 21, oneFile: false, phases: false, compileCache: false };
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--runs') out.runs = Number(argv[++i]);
    else if (argv[i] === '--one-file') out.oneFile = true;
    else if (argv[i] === '--phases') out.phases = true;
    else if (argv[i] === '--compile-cache') out.compileCache = true;
    else throw new Error(`unknown argument ${argv[i]}`);
  }
  if (!Number.isInteger(out.runs) || out.runs < 3) throw new Error('--runs needs an integer of at least 3');
  return out;
}

const median = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];

function timeOnce(args, env = {}) {
  const t0 = process.hrtime.bigint();
  const r = spawnSync(process.execPath, args, { encoding: 'utf8', env: { ...process.env, NODE_OPTIONS: '', ...env } });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  if (r.status !== 0) throw new Error(`${args.join(' ')} exited ${r.status}: ${r.stderr}`);
  return ms;
}

/** Alternates a and b for `runs` rounds (a first on even rounds, b first on odd), after one warm-up each. */
function pair(a, b, runs, envA = {}) {
  timeOnce(a, envA);
  timeOnce(b);
  const ta = [];
  const tb = [];
  for (let i = 0; i < runs; i++) {
    if (i % 2 === 0) { ta.push(timeOnce(a, envA)); tb.push(timeOnce(b)); } else { tb.push(timeOnce(b)); ta.push(timeOnce(a, envA)); }
  }
  return { a: median(ta), b: median(tb) };
}

function scripts(dir) {
  const port = 600 + Math.floor(Math.random() * 90);
  const files = {
    drop: `const { dropPrivileges } = require(${JSON.stringify(entry)});
dropPrivileges({ user: 'nobody', capabilities: 'cap_net_bind_service+ep' });
`,
    expressPrivdrop: `const { dropPrivileges, listen } = require(${JSON.stringify(entry)});
dropPrivileges({ user: 'nobody', capabilities: 'cap_net_bind_service+p' });
const app = require(${JSON.stringify(express)})();
app.get('/', (req, res) => res.send('hello'));
listen(app, { port: ${port}, host: '127.0.0.1' }).then((server) => server.close());
`,
    expressPlain: `const app = require(${JSON.stringify(express)})();
app.get('/', (req, res) => res.send('hello'));
const server = app.listen(${port}, '127.0.0.1', () => server.close());
`,
  };
  const out = {};
  for (const [name, text] of Object.entries(files)) {
    out[name] = path.join(dir, `${name}.js`);
    fs.writeFileSync(out[name], text);
  }
  return out;
}

/**
 * The experiment of --one-file: the package's files that reading dropPrivileges loads, in one
 * file. Each module runs in a function with Node's wrapper arguments, its own __filename and
 * __dirname (so the addon is found where it is), and a require() that answers from the file
 * first. Returns the file's path.
 */
function oneFile(dir) {
  const list = spawnSync(process.execPath, ['-e', `require(${JSON.stringify(entry)}).dropPrivileges;
    console.log(JSON.stringify(Object.keys(require.cache).filter((f) => f.startsWith(${JSON.stringify(path.dirname(entry) + path.sep)}))))`], { encoding: 'utf8' });
  if (list.status !== 0) throw new Error(`listing the drop's modules failed: ${list.stderr}`);
  const files = JSON.parse(list.stdout);
  let out = `'use strict';
const Module = require('module');
const path = require('path');
const defined = Object.create(null);
const loaded = Object.create(null);
function load(file) {
  if (loaded[file]) return loaded[file].exports;
  const module = { exports: {}, filename: file };
  loaded[file] = module;
  const outside = Module.createRequire(file);
  const req = (id) => {
    if (id.startsWith('.')) {
      const base = path.resolve(path.dirname(file), id);
      for (const f of [base, base + '.js', path.join(base, 'index.js')]) if (defined[f]) return load(f);
    }
    return outside(id);
  };
  req.cache = outside.cache;
  defined[file](module.exports, req, module, file, path.dirname(file));
  return module.exports;
}
`;
  for (const f of files) {
    out += `defined[${JSON.stringify(f)}] = function (exports, require, module, __filename, __dirname) {\n${fs.readFileSync(f, 'utf8')}\n};\n`;
  }
  out += `module.exports = load(${JSON.stringify(entry)});\n`;
  const file = path.join(dir, 'one-file.js');
  fs.writeFileSync(file, out);
  return { file, count: files.length, bytes: Buffer.byteLength(out) };
}

/** The one file run from a V8 code cache: a script that loads it with vm.Script's cachedData, and the cache. */
function codeCached(dir, file) {
  const cacheFile = path.join(dir, 'one-file.cache');
  const loader = (then) => `const fs = require('fs'), vm = require('vm'), Module = require('module');
const file = ${JSON.stringify(file)};
const cachedData = fs.existsSync(${JSON.stringify(cacheFile)}) ? fs.readFileSync(${JSON.stringify(cacheFile)}) : undefined;
const script = new vm.Script(Module.wrap(fs.readFileSync(file, 'utf8')), { filename: file, cachedData });
const m = { exports: {} };
script.runInThisContext().call(m.exports, m.exports, require, m, file, ${JSON.stringify(dir)});
if (cachedData && script.cachedDataRejected) throw new Error('the code cache was rejected');
${then}
`;
  const make = path.join(dir, 'make-cache.js');
  // The cache is made after a real drop, so every function the drop runs is in it: the file is
  // opened while still root, written after.
  fs.writeFileSync(make, loader(`const fd = fs.openSync(${JSON.stringify(cacheFile)}, 'w');
m.exports.dropPrivileges(${dropOptions});
fs.writeSync(fd, script.createCachedData());
fs.closeSync(fd);`));
  const made = spawnSync(process.execPath, [make], { encoding: 'utf8' });
  if (made.status !== 0) throw new Error(`making the code cache failed: ${made.stderr}`);
  const script = path.join(dir, 'drop-code-cache.js');
  fs.writeFileSync(script, loader(`m.exports.dropPrivileges({ user: 'nobody', capabilities: 'cap_net_bind_service+ep' });`));
  return { script, bytes: fs.statSync(cacheFile).size };
}

const dropOptions = "{ user: 'nobody', capabilities: 'cap_net_bind_service+ep' }";

/**
 * The floor: a script that loads the addon by the path privdrop loads it from and hands its native
 * drop the plan privdrop makes of the same options (made here, in another process), with no
 * privdrop JavaScript in the timed process. Returns the script's path.
 */
function floorScript(dir) {
  const made = spawnSync(process.execPath, ['-e', `
    const drop = require(${JSON.stringify(path.join(root, 'dist', 'drop', 'index.js'))});
    const { nativePlan } = require(${JSON.stringify(path.join(root, 'dist', 'drop', 'options.js'))});
    const { bindingPath } = require(${JSON.stringify(path.join(root, 'dist', 'addon', 'binding.js'))});
    const plan = { ...nativePlan(drop.resolveDropOptions(${dropOptions})), closeDebugSignal: true };
    const c = plan.capabilities;
    plan.capabilities = { effective: String(c.effective), permitted: String(c.permitted), inheritable: String(c.inheritable) };
    console.log(JSON.stringify({ file: bindingPath(), plan }));`], { encoding: 'utf8' });
  if (made.status !== 0) throw new Error(`making the floor's plan failed: ${made.stderr}`);
  const { file, plan } = JSON.parse(made.stdout);
  const script = path.join(dir, 'floor.js');
  floorScript.binary = file;
  fs.writeFileSync(script, `const module_ = { exports: {} };
process.dlopen(module_, ${JSON.stringify(file)});
const native = module_.exports;
native.setErrorFactory((code, message) => new Error(code + ': ' + message));
const plan = JSON.parse(${JSON.stringify(JSON.stringify(plan))});
for (const set of ['effective', 'permitted', 'inheritable']) plan.capabilities[set] = BigInt(plan.capabilities[set]);
const user = native.lookupUser('nobody');
if (user.uid !== plan.uid) throw new Error('nobody moved');
native.drop(plan);
`);
  return script;
}

/** --phases: the first call's steps timed inside fresh processes, each run once more after. */
function phases(dir, runs) {
  const dist = (f) => JSON.stringify(path.join(root, 'dist', f));
  const script = `const t = [performance.now()]; const mark = () => t.push(performance.now());
const privdrop = require(${dist('index.js')}); mark();
const drop = require(${dist('drop/index.js')}); mark();
const { binding } = require(${dist('addon/binding.js')}); binding(); mark();
const options = ${dropOptions};
const plan = drop.resolveDropOptions(options); mark();
drop.resolveDropOptions(options); mark();
const r = drop.dropPlan(plan); mark();
process.stdout.write(JSON.stringify({ t, native: r.ms }));`;
  const names = ["require('privdrop')", "the drop's modules", 'the addon (libc check, dlopen)', 'resolveDropOptions(), first', 'resolveDropOptions(), again', 'dropPlan(): JavaScript and native drop'];
  const file = path.join(dir, 'phases.js');
  fs.writeFileSync(file, script);
  const rows = names.map(() => []);
  const native = [];
  for (let i = 0; i < runs; i++) {
    const r = spawnSync(process.execPath, [file], { encoding: 'utf8', env: { ...process.env, NODE_OPTIONS: '' } });
    if (r.status !== 0) throw new Error(`phases failed: ${r.stderr}`);
    const { t, native: ms } = JSON.parse(r.stdout);
    for (let k = 0; k < names.length; k++) rows[k].push(t[k + 1] - t[k]);
    native.push(ms);
  }
  console.log(`First call, inside the process: medians of ${runs} fresh processes, node ${process.version}`);
  console.log('| step | ms |');
  console.log('|---|---|');
  for (let k = 0; k < names.length; k++) console.log(`| ${names[k]} | ${median(rows[k]).toFixed(2)} |`);
  console.log(`| of which the native drop | ${median(native).toFixed(2)} |`);
}

/** --compile-cache: NODE_COMPILE_CACHE in a root-owned directory, filled by a run that resolved the same options. */
function compileCacheRow(dir, dropScript, runs) {
  if (typeof require('module').enableCompileCache !== 'function') return null;
  const cache = fs.mkdtempSync(path.join(dir, 'compile-cache-'));
  fs.chmodSync(cache, 0o700);
  const env = { NODE_COMPILE_CACHE: cache };
  const fill = spawnSync(process.execPath, ['-e', `require(${JSON.stringify(entry)}).resolveDropOptions(${dropOptions})`], { encoding: 'utf8', env: { ...process.env, NODE_OPTIONS: '', ...env } });
  if (fill.status !== 0) throw new Error(`filling the compile cache failed: ${fill.stderr}`);
  return pair([dropScript], ['-e', '0'], runs, env);
}

function main() {
  const { runs, oneFile: withOneFile, phases: withPhases, compileCache } = parse(process.argv.slice(2));
  if (process.getuid() !== 0) {
    console.error('first-contact: needs root (it drops privileges and binds a low port)');
    process.exit(1);
  }
  if (!fs.existsSync(entry)) throw new Error(`no ${entry}: run npm run build:ts first`);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'privdrop-first-contact-'));
  try {
    const s = scripts(dir);
    const empty = ['-e', '0'];
    const rows = [
      ['require(\'privdrop\') vs node -e 0', pair(['-e', `require(${JSON.stringify(entry)})`], empty, runs), 'goal: within 3 ms'],
      ['require + dropPrivileges() vs node -e 0', pair([s.drop], empty, runs), 'goal: 1.08x'],
      ['the floor: the addon and its native drop of the same plan, no privdrop JavaScript, vs node -e 0', pair([floorScript(dir)], empty, runs), 'lower bound'],
    ];
    if (compileCache) {
      const cached = compileCacheRow(dir, s.drop, runs);
      if (cached) rows.push(["require + dropPrivileges() with Node's compile cache (NODE_COMPILE_CACHE, filled) vs node -e 0", cached, 'experiment']);
      else console.log(`first-contact: --compile-cache skipped: node ${process.version} has no module.enableCompileCache (Node 22.1 and later)`);
    }
    if (withOneFile) {
      const one = oneFile(dir);
      const script = path.join(dir, 'drop-one-file.js');
      fs.writeFileSync(script, fs.readFileSync(s.drop, 'utf8').replace(JSON.stringify(entry), JSON.stringify(one.file)));
      rows.push([`the same, its ${one.count} modules as one file of ${one.bytes} bytes (experiment) vs node -e 0`, pair([script], empty, runs), 'not shipped']);
      const cached = codeCached(dir, one.file);
      rows.push([`the same, that file from a V8 code cache of ${cached.bytes} bytes (experiment) vs node -e 0`, pair([cached.script], empty, runs), 'not shipped']);
    }
    if (fs.existsSync(express)) {
      rows.push(['express start with privdrop vs without', pair([s.expressPrivdrop], [s.expressPlain], runs), 'goal: 1.03x']);
    } else {
      console.log(`first-contact: express start skipped: ${express} is missing (npm ci --prefix examples)`);
    }
    console.log(`First contact: medians of ${runs} alternating fresh processes each, node ${process.version}, load average ${os.loadavg()[0].toFixed(1)}, addon ${path.relative(root, floorScript.binary)}`);
    console.log('| what | with privdrop | baseline | difference | ratio | |');
    console.log('|---|---|---|---|---|---|');
    for (const [what, { a, b }, goal] of rows) {
      console.log(`| ${what} | ${a.toFixed(1)} ms | ${b.toFixed(1)} ms | ${(a - b).toFixed(1)} ms | ${(a / b).toFixed(3)}x | ${goal} |`);
    }
    if (withPhases) phases(dir, runs);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

main();
