#!/usr/bin/env node
// Node binaries for the install and cross-architecture tests: the registry's node-linux-<arch>
// packages (the official builds), fetched with `npm pack` into a cache outside the repository
// (PRIVDROP_CACHE, default /var/cache/privdrop-ci) and unpacked once; re-runs use the cache.
//   node scripts/node-dist.js x64 22      prints the path of bin/node for Node 22 on x64
'use strict';
const { execFileSync } = require('child_process');
const fs = require('fs');
const path = require('path');

/** The exact versions tested (the newest of each line when this was written). */
const versions = { 18: '18.20.8', 20: '20.20.2', 22: '22.23.3', 24: '24.21.0' };
const cacheDir = process.env.PRIVDROP_CACHE || '/var/cache/privdrop-ci';

function nodeBinary(arch, major) {
  const version = versions[major];
  if (!version) throw new Error(`node-dist: no pinned version for Node ${major}`);
  const dir = path.join(cacheDir, `node-linux-${arch}-${version}`);
  const bin = path.join(dir, 'package', 'bin', 'node');
  if (fs.existsSync(bin)) return bin;
  fs.mkdirSync(cacheDir, { recursive: true });
  const name = `node-linux-${arch}-${version}.tgz`;
  const tarball = path.join(cacheDir, name);
  if (!fs.existsSync(tarball)) {
    execFileSync('npm', ['pack', `node-linux-${arch}@${version}`, '--pack-destination', cacheDir, '--silent'], {
      stdio: ['ignore', 'ignore', 'inherit'],
    });
  }
  const partial = `${dir}.partial`;
  fs.rmSync(partial, { recursive: true, force: true });
  fs.mkdirSync(partial, { recursive: true });
  execFileSync('tar', ['xzf', tarball, '-C', partial]);
  fs.rmSync(dir, { recursive: true, force: true });
  fs.renameSync(partial, dir);
  return bin;
}

module.exports = { nodeBinary, versions, cacheDir };

if (require.main === module) {
  const [arch, major] = process.argv.slice(2);
  process.stdout.write(nodeBinary(arch, major) + '\n');
}
