#!/usr/bin/env node
// Builds the release binaries into prebuilds/linux-<arch>/node.napi.glibc.node (the layout and
// file name prebuildify uses; lib/addon/binding.ts requires each by that literal path): one Node-API binary per
// architecture for every Node >= 18, from CMakeLists.txt with PRIVDROP_STATIC (libcap,
// libstdc++ and libgcc linked in, stripped), in a Debian 11 build root (scripts/build-root.sh)
// so that they run on glibc 2.31 and later; `--host` builds with cmake-js on this machine
// instead. arm64 is cross-compiled on x86_64 with cmake/aarch64-linux-gnu.cmake. Each result is checked: it may need only glibc (libc.so.6 and
// the dynamic loader); its size and the newest glibc symbol version it needs are printed.
// Not committed to git: CI runs this before `npm pack` (see .ci/run); `npm publish` refuses
// to run without both binaries (prepublishOnly).
//   npm run prebuild                       x64 and arm64 (as root: makes the build root once)
//   node scripts/prebuild.js --arch x64    one architecture
//   node scripts/prebuild.js --host        on this machine's toolchain (glibc minimum: its own)
'use strict';
const { execFileSync, spawnSync } = require('child_process');
const fs = require('fs');
const path = require('path');

const root = path.resolve(__dirname, '..');
const targets = {
  x64: { tools: 'x86_64-linux-gnu', cmake: [] },
  arm64: {
    tools: 'aarch64-linux-gnu',
    cmake: ['--arch', 'arm64', `--CDCMAKE_TOOLCHAIN_FILE=${path.join(root, 'cmake', 'aarch64-linux-gnu.cmake')}`],
  },
};

function run(file, args, options = {}) {
  const r = spawnSync(file, args, { cwd: root, stdio: 'inherit', ...options });
  if (r.status !== 0) throw new Error(`prebuild: ${file} ${args.join(' ')} failed (exit ${r.status}, signal ${r.signal})`);
}

/** What a built binary needs from the system: shared libraries and the newest GLIBC_ version. */
function inspect(file) {
  const dynamic = execFileSync('readelf', ['-d', '-W', file], { encoding: 'utf8' });
  const needed = [...dynamic.matchAll(/\(NEEDED\)\s+Shared library: \[([^\]]+)\]/g)].map((m) => m[1]);
  const versions = execFileSync('readelf', ['-V', '-W', file], { encoding: 'utf8' });
  const glibc = [...new Set([...versions.matchAll(/Name: GLIBC_([0-9.]+)/g)].map((m) => m[1]))].sort((a, b) =>
    a.localeCompare(b, undefined, { numeric: true }),
  );
  return { needed, oldestGlibc: glibc[glibc.length - 1], bytes: fs.statSync(file).size };
}

/** cmake-js on this machine's toolchain (--host): quick, but needs this machine's glibc or newer. */
function buildOnHost(arch, target) {
  const out = path.join(root, 'build-prebuild', arch);
  const cmakeJs = require.resolve('cmake-js/bin/cmake-js');
  run(process.execPath, [cmakeJs, 'rebuild', '--out', out, '--CDPRIVDROP_STATIC=ON', ...target.cmake]);
  return path.join(out, 'Release', 'privdrop.node');
}

/**
 * CMake in the Debian 11 build root (scripts/build-root.sh), which has no node: the same
 * CMakeLists.txt, given the Node-API headers (node-api-headers) and node-addon-api's as cmake-js
 * would pass them.
 */
function buildInRoot(arch, buildRoot) {
  const src = path.join(buildRoot, 'privdrop-src');
  fs.rmSync(src, { recursive: true, force: true });
  fs.mkdirSync(path.join(src, 'native'), { recursive: true });
  fs.copyFileSync(path.join(root, 'CMakeLists.txt'), path.join(src, 'CMakeLists.txt'));
  fs.cpSync(path.join(root, 'cmake'), path.join(src, 'cmake'), { recursive: true });
  for (const f of fs.readdirSync(path.join(root, 'native'))) {
    if (/\.(cc|h)$/.test(f)) fs.copyFileSync(path.join(root, 'native', f), path.join(src, 'native', f));
  }
  fs.cpSync(require('node-api-headers').include_dir, path.join(src, 'headers', 'node-api'), { recursive: true });
  const addonApi = require('node-addon-api').include_dir;
  fs.mkdirSync(path.join(src, 'headers', 'addon-api'), { recursive: true });
  for (const h of ['napi.h', 'napi-inl.h', 'napi-inl.deprecated.h']) {
    fs.copyFileSync(path.join(addonApi, h), path.join(src, 'headers', 'addon-api', h));
  }
  const toolchain = arch === 'arm64' ? ' -DCMAKE_TOOLCHAIN_FILE=/privdrop-src/cmake/aarch64-linux-gnu.cmake' : '';
  const script =
    `cmake -S /privdrop-src -B /privdrop-src/out -DCMAKE_BUILD_TYPE=Release -DPRIVDROP_STATIC=ON` +
    ` -DCMAKE_JS_INC=/privdrop-src/headers/node-api -DNODE_ADDON_API_DIR=/privdrop-src/headers/addon-api` +
    ` -DCMAKE_CXX_FLAGS=-DBUILDING_NODE_EXTENSION${toolchain} >/privdrop-src/configure.log && cmake --build /privdrop-src/out -j 2`;
  run('chroot', [buildRoot, '/usr/bin/env', '-i', 'PATH=/usr/bin:/bin', 'sh', '-c', script]);
  return path.join(src, 'out', 'privdrop.node');
}

function build(arch, buildRoot) {
  const target = targets[arch];
  if (!target) throw new Error(`prebuild: unknown arch ${arch} (x64 or arm64)`);
  const built = buildRoot ? buildInRoot(arch, buildRoot) : buildOnHost(arch, target);
  const dest = path.join(root, 'prebuilds', `linux-${arch}`);
  fs.rmSync(dest, { recursive: true, force: true });
  fs.mkdirSync(dest, { recursive: true });
  const file = path.join(dest, 'node.napi.glibc.node');
  fs.copyFileSync(built, file);
  const info = inspect(file);
  const extra = info.needed.filter((lib) => lib !== 'libc.so.6' && !/^ld-linux[-a-z0-9_]*\.so\.\d$/.test(lib));
  if (extra.length) throw new Error(`prebuild: ${file} needs ${extra.join(', ')} besides glibc; it must link them statically`);
  // iostreams bring libstdc++'s locale set-up into the static binary, run at every dlopen, and about
  // 750 KB (1,153,952 bytes against 395,864 for x64 when native/caps.cc stopped using std::ifstream).
  if (fs.readFileSync(file).includes('ios_base')) {
    throw new Error(`prebuild: ${file} links libstdc++'s iostreams (an <iostream>, <fstream> or <sstream> in native/): read files with open() and read()`);
  }
  return { arch, file: path.relative(root, file), ...info };
}

if (require.main === module) {
  const at = process.argv.indexOf('--arch');
  const arches = at >= 0 ? process.argv[at + 1].split(',') : Object.keys(targets);
  const onHost = process.argv.includes('--host');
  if (!onHost || arches.includes('arm64')) {
    run('bash', [path.join(root, 'scripts', 'prebuild-deps.sh')]);
  }
  const buildRoot = onHost
    ? null
    : execFileSync('bash', [path.join(root, 'scripts', 'build-root.sh')], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] }).trim();
  const results = arches.map((arch) => build(arch, buildRoot));
  for (const r of results) {
    console.log(`prebuild: ${r.file}: ${r.bytes} bytes, needs ${r.needed.join(' ')}, oldest glibc ${r.oldestGlibc}`);
  }
}

module.exports = { inspect };
