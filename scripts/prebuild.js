#!/usr/bin/env node
// Builds the release binaries into prebuilds/linux-<arch>/node.napi.glibc.node (the layout and
// file name prebuildify uses and node-gyp-build matches): one Node-API binary per
// architecture for every Node >= 18, built with cmake-js and CMakeLists.txt's PRIVDROP_STATIC
// (libcap, libstdc++ and libgcc linked in, stripped). arm64 is cross-compiled on x86_64 with
// cmake/aarch64-linux-gnu.cmake. Each result is checked: it may need only glibc (libc.so.6 and
// the dynamic loader); its size and the newest glibc symbol version it needs are printed.
// Not committed to git: CI runs this before `npm pack` (see .ci/run); `npm publish` refuses
// to run without both binaries (prepublishOnly).
//   npm run prebuild                       x64 and arm64 (installs the toolchain as root)
//   node scripts/prebuild.js --arch x64    one architecture
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

function build(arch) {
  const target = targets[arch];
  if (!target) throw new Error(`prebuild: unknown arch ${arch} (x64 or arm64)`);
  const out = path.join(root, 'build-prebuild', arch);
  const cmakeJs = require.resolve('cmake-js/bin/cmake-js');
  run(process.execPath, [cmakeJs, 'rebuild', '--out', out, '--CDPRIVDROP_STATIC=ON', ...target.cmake]);
  const dest = path.join(root, 'prebuilds', `linux-${arch}`);
  fs.rmSync(dest, { recursive: true, force: true });
  fs.mkdirSync(dest, { recursive: true });
  const file = path.join(dest, 'node.napi.glibc.node');
  fs.copyFileSync(path.join(out, 'Release', 'privdrop.node'), file);
  const info = inspect(file);
  const extra = info.needed.filter((lib) => lib !== 'libc.so.6' && !/^ld-linux[-a-z0-9_]*\.so\.\d$/.test(lib));
  if (extra.length) throw new Error(`prebuild: ${file} needs ${extra.join(', ')} besides glibc; it must link them statically`);
  return { arch, file: path.relative(root, file), ...info };
}

if (require.main === module) {
  const at = process.argv.indexOf('--arch');
  const arches = at >= 0 ? process.argv[at + 1].split(',') : Object.keys(targets);
  if (at < 0 || arches.includes('arm64')) {
    run('bash', [path.join(root, 'scripts', 'prebuild-deps.sh')]);
  }
  const results = arches.map(build);
  for (const r of results) {
    console.log(`prebuild: ${r.file}: ${r.bytes} bytes, needs ${r.needed.join(' ')}, oldest glibc ${r.oldestGlibc}`);
  }
}

module.exports = { inspect };
