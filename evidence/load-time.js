#!/usr/bin/env node
'use strict';
// What require('privdrop') costs a fresh process: the median wall time of a `node -e` script that
// requires dist/ and prints what it measured, minus that of the same script without the require,
// both run in turns in the same loop so that machine load hits both;
// the CPU time the whole process used (user + system, less disturbed by other jobs than wall time),
// with and without the require; and the require() call itself, timed inside the process. Lists the
// files it loads.
//
//   node evidence/load-time.js [--runs N] [--compare OTHER_DIST_DIR]
//
// --compare times another build (e.g. the main branch's dist/) in the same loop.

const { spawnSync } = require('child_process');
const path = require('path');

function parse(argv) {
  const out = { runs: 60, compare: undefined };
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--runs') out.runs = Number(argv[++i]);
    else if (argv[i] === '--compare') out.compare = path.resolve(argv[++i]);
    else throw new Error(`unknown argument ${argv[i]}`);
  }
  if (!Number.isInteger(out.runs) || out.runs < 3) throw new Error('--runs needs an integer of at least 3');
  return out;
}

const median = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];

function wall(args) {
  const start = process.hrtime.bigint();
  const r = spawnSync(process.execPath, args, { encoding: 'utf8' });
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  if (r.status !== 0) throw new Error(`node ${args.join(' ')} failed: ${r.stderr}`);
  return { ms, stdout: r.stdout };
}

// Inside the process: the require() call alone, and the files it added to the module cache.
// The CPU time is the process's total so far, start-up included.
const probe = (dir) =>
  `const before = new Set(Object.keys(require.cache)); const s = process.hrtime.bigint(); ${dir ? `require(${JSON.stringify(dir)});` : ''}` +
  `const ms = Number(process.hrtime.bigint() - s) / 1e6; const u = process.cpuUsage();` +
  `console.log(JSON.stringify({ ms, cpu: (u.user + u.system) / 1000, files: Object.keys(require.cache).filter((f) => !before.has(f)) }))`;

function main() {
  const { runs, compare } = parse(process.argv.slice(2));
  const dist = path.resolve(__dirname, '..', 'dist');
  const builds = [{ name: 'this build', dir: dist }];
  if (compare) builds.push({ name: `compared (${compare})`, dir: compare });
  const empty = { wall: [], cpu: [] };
  const timed = builds.map(() => ({ wall: [], cpu: [], inside: [], files: [] }));
  for (let i = 0; i < runs; i++) {
    const none = wall(['-e', probe('')]);
    empty.wall.push(none.ms);
    empty.cpu.push(JSON.parse(none.stdout).cpu);
    builds.forEach((b, j) => {
      const r = wall(['-e', probe(b.dir)]);
      const inside = JSON.parse(r.stdout);
      timed[j].wall.push(r.ms);
      timed[j].cpu.push(inside.cpu);
      timed[j].inside.push(inside.ms);
      timed[j].files = inside.files;
    });
  }
  const base = median(empty.wall);
  const baseCpu = median(empty.cpu);
  console.log(`without the require: ${base.toFixed(1)} ms wall, ${baseCpu.toFixed(1)} ms CPU (medians of ${runs} fresh processes)`);
  builds.forEach((b, j) => {
    const t = timed[j];
    console.log(
      `${b.name}: require() adds ${(median(t.wall) - base).toFixed(1)} ms wall (${(median(t.wall) / base).toFixed(3)}x without), ` +
        `${(median(t.cpu) - baseCpu).toFixed(1)} ms CPU; the call itself ${median(t.inside).toFixed(2)} ms; ${t.files.length} files: ` +
        t.files.map((f) => path.relative(b.dir, f)).join(' '),
    );
  });
}

main();
