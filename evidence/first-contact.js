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
//   node evidence/first-contact.js [--runs N] [--one-file]   (as root; part of npm run bench)
//
// --one-file adds an experiment that is not shipped: the same require-and-drop script against a
// copy of the drop's path written as one file (every module the drop loads, each in its own
// function, its require() resolved inside the file), to measure what loading those modules one
// by one costs against loading the same code at once; and that file again compiled from a V8 code
// cache (vm.Script cachedData, made by a process that resolved the same options first), to
// measure what compiling it costs. Caches written at run time by root are a risk privdrop does not
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
  const out = { runs: 21, oneFile: false };
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--runs') out.runs = Number(argv[++i]);
    else if (argv[i] === '--one-file') out.oneFile = true;
    else throw new Error(`unknown argument ${argv[i]}`);
  }
  if (!Number.isInteger(out.runs) || out.runs < 3) throw new Error('--runs needs an integer of at least 3');
  return out;
}

const median = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];

function timeOnce(args) {
  const t0 = process.hrtime.bigint();
  const r = spawnSync(process.execPath, args, { encoding: 'utf8', env: { ...process.env, NODE_OPTIONS: '' } });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  if (r.status !== 0) throw new Error(`${args.join(' ')} exited ${r.status}: ${r.stderr}`);
  return ms;
}

/** Alternates a and b for `runs` rounds (a first on even rounds, b first on odd), after one warm-up each. */
function pair(a, b, runs) {
  timeOnce(a);
  timeOnce(b);
  const ta = [];
  const tb = [];
  for (let i = 0; i < runs; i++) {
    if (i % 2 === 0) { ta.push(timeOnce(a)); tb.push(timeOnce(b)); } else { tb.push(timeOnce(b)); ta.push(timeOnce(a)); }
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
  fs.writeFileSync(make, loader(`m.exports.resolveDropOptions({ user: 'nobody', capabilities: 'cap_net_bind_service+ep' });
fs.writeFileSync(${JSON.stringify(cacheFile)}, script.createCachedData());`));
  const made = spawnSync(process.execPath, [make], { encoding: 'utf8' });
  if (made.status !== 0) throw new Error(`making the code cache failed: ${made.stderr}`);
  const script = path.join(dir, 'drop-code-cache.js');
  fs.writeFileSync(script, loader(`m.exports.dropPrivileges({ user: 'nobody', capabilities: 'cap_net_bind_service+ep' });`));
  return { script, bytes: fs.statSync(cacheFile).size };
}

function main() {
  const { runs, oneFile: withOneFile } = parse(process.argv.slice(2));
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
    ];
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
    console.log(`First contact: medians of ${runs} alternating fresh processes each, node ${process.version}, load average ${os.loadavg()[0].toFixed(1)}`);
    console.log('| what | with privdrop | baseline | difference | ratio | |');
    console.log('|---|---|---|---|---|---|');
    for (const [what, { a, b }, goal] of rows) {
      console.log(`| ${what} | ${a.toFixed(1)} ms | ${b.toFixed(1)} ms | ${(a - b).toFixed(1)} ms | ${(a / b).toFixed(3)}x | ${goal} |`);
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

main();
