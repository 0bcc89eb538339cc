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
//   node evidence/first-contact.js [--runs N]        (as root; part of npm run bench)
'use strict';
const { spawnSync } = require('child_process');
const fs = require('fs');
const os = require('os');
const path = require('path');

const root = path.resolve(__dirname, '..');
const entry = path.join(root, 'dist', 'index.js');
const express = path.join(root, 'examples', 'node_modules', 'express');

function parse(argv) {
  const out = { runs: 21 };
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--runs') out.runs = Number(argv[++i]);
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

function main() {
  const { runs } = parse(process.argv.slice(2));
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
