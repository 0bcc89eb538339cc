#!/usr/bin/env node
// The other runtimes, bundler and package managers the install tests use, from the npm registry
// at pinned versions, fetched with `npm pack` into the cache outside the repository
// (PRIVDROP_CACHE, default /var/cache/privdrop-ci) and unpacked once, as scripts/node-dist.js
// does for Node. None of them is a dependency of privdrop.
//   node scripts/ci/tools.js bun        prints the path of the bun binary (1.4)
//   node scripts/ci/tools.js deno       deno (2.9)
//   node scripts/ci/tools.js esbuild    esbuild's native CLI (no install script needed)
//   node scripts/ci/tools.js pnpm       pnpm's CLI file, run with node (10)
//   node scripts/ci/tools.js yarn       yarn's CLI file, run with node (4)
'use strict';
const { execFileSync } = require('child_process');
const fs = require('fs');
const path = require('path');
const { cacheDir } = require('../node-dist');

/** The exact versions tested: package, version, and the file in the package that runs. */
const tools = {
  bun: { pkg: '@oven/bun-linux-x64', version: '1.4.5', file: 'bin/bun' },
  deno: { pkg: '@deno/linux-x64-glibc', version: '2.9.6', file: 'deno' },
  esbuild: { pkg: '@esbuild/linux-x64', version: '0.28.2', file: 'bin/esbuild' },
  pnpm: { pkg: 'pnpm', version: '10.34.9', file: 'bin/pnpm.cjs' },
  yarn: { pkg: '@yarnpkg/cli-dist', version: '4.18.1', file: 'bin/yarn.js' },
};

function tool(name) {
  const t = tools[name];
  if (!t) throw new Error(`tools: unknown tool ${name} (${Object.keys(tools).join(', ')})`);
  const base = `${t.pkg.replace(/^@/, '').replace('/', '-')}-${t.version}`;
  const dir = path.join(cacheDir, base);
  const file = path.join(dir, 'package', t.file);
  if (fs.existsSync(file)) return file;
  fs.mkdirSync(cacheDir, { recursive: true });
  const tarball = path.join(cacheDir, `${base}.tgz`);
  if (!fs.existsSync(tarball)) {
    const name = execFileSync('npm', ['pack', `${t.pkg}@${t.version}`, '--pack-destination', cacheDir, '--silent'], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'inherit'],
    }).trim();
    fs.renameSync(path.join(cacheDir, name), tarball);
  }
  const partial = `${dir}.partial`;
  fs.rmSync(partial, { recursive: true, force: true });
  fs.mkdirSync(partial, { recursive: true });
  execFileSync('tar', ['xzf', tarball, '-C', partial]);
  const unpacked = path.join(partial, 'package', t.file);
  if (!fs.existsSync(unpacked)) throw new Error(`tools: ${t.pkg}@${t.version} has no ${t.file}`);
  fs.chmodSync(unpacked, 0o755);
  fs.rmSync(dir, { recursive: true, force: true });
  fs.renameSync(partial, dir);
  return file;
}

module.exports = { tool, tools };

if (require.main === module) {
  const name = process.argv[2];
  try {
    process.stdout.write(tool(name) + '\n');
  } catch (e) {
    console.error(e.message);
    process.exit(1);
  }
}
