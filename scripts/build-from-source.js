#!/usr/bin/env node
// Builds privdrop's native addon from source, for a system where the prebuilt binary does not
// load (or when you want your own build). Nothing runs this at install time: the package has no
// install script, so npm, pnpm and yarn have nothing to ask about.
//   node node_modules/privdrop/scripts/build-from-source.js
// node-gyp builds native/binding.gyp (in native/, so that no package manager sees a top-level
// binding.gyp), and the result is put at build/Release/privdrop.node, which the loader takes
// before the prebuilt binary. node-gyp: npm's own copy (the one npm runs), else one on PATH.
// Node's headers: the ones installed beside this node (no download) when they are there.
// Needs a C++ toolchain, make, python3 and the libcap headers. Exits 1 with what to install when
// the build fails; privdrop then keeps throwing ERR_PRIVDROP_BINDING_NOT_FOUND.
'use strict';
const { spawnSync } = require('child_process');
const fs = require('fs');
const path = require('path');

const root = path.resolve(__dirname, '..');
const native = path.join(root, 'native');
const prefix = path.resolve(path.dirname(process.execPath), '..');

/** node-gyp's CLI: npm's (npm_config_node_gyp inside npm scripts; else beside this node), or null. */
function findNodeGyp() {
  const candidates = [
    process.env.npm_config_node_gyp,
    path.join(prefix, 'lib', 'node_modules', 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'),
  ];
  for (const c of candidates) if (c && fs.existsSync(c)) return c;
  try {
    return require.resolve('node-gyp/bin/node-gyp.js', { paths: [root] });
  } catch {
    return null;
  }
}

function fail(why) {
  console.error(
    `privdrop: building the native addon from source failed (${why}). It needs a C++ toolchain, make, python3 and the libcap headers:\n` +
      '  Debian/Ubuntu: apt-get install g++ make python3 pkg-config libcap-dev\n' +
      '  Fedora/RHEL:   dnf install gcc-c++ make python3 pkgconf libcap-devel\n' +
      `then run again: node ${path.relative(process.cwd(), __filename) || __filename}\n` +
      'Until a build or a prebuilt binary loads, every privdrop call throws ERR_PRIVDROP_BINDING_NOT_FOUND.',
  );
  process.exit(1);
}

const gyp = findNodeGyp();
const [file, args] = gyp ? [process.execPath, [gyp, 'rebuild']] : ['node-gyp', ['rebuild']];
if (!process.env.npm_config_nodedir && fs.existsSync(path.join(prefix, 'include', 'node', 'node_api.h'))) {
  args.push(`--nodedir=${prefix}`);
}
console.log(`privdrop: ${path.basename(file)} ${args.join(' ')} (in ${native})`);
const result = spawnSync(file, args, { cwd: native, stdio: 'inherit' });
if (result.error) fail(result.error.code === 'ENOENT' ? 'node-gyp not found: install npm, or `npm install -g node-gyp`' : result.error.message);
if (result.status !== 0) fail(`node-gyp exited with ${result.status ?? result.signal}`);

const built = path.join(native, 'build', 'Release', 'privdrop.node');
const dest = path.join(root, 'build', 'Release', 'privdrop.node');
fs.mkdirSync(path.dirname(dest), { recursive: true });
fs.copyFileSync(built, dest);
fs.rmSync(path.join(native, 'build'), { recursive: true, force: true });
try {
  require(dest);
} catch (e) {
  fs.rmSync(dest, { force: true });
  fail(`the build does not load: ${String(e.message).split('\n')[0]}`);
}
console.log(`privdrop: built ${dest}; it is loaded before the prebuilt binary`);
