#!/usr/bin/env node
// npm's install hook. The package carries prebuilt binaries (prebuilds/linux-x64,
// prebuilds/linux-arm64); this only builds from source (node-gyp, which npm brings along)
// when none of them loads here, or when asked to (`npm rebuild privdrop --build-from-source`).
// It never fails the install: if the build fails, the package still installs, and every call
// throws ERR_PRIVDROP_BINDING_NOT_FOUND naming the cause and the command that fixes it.
// It never calls a system package manager; scripts/setup.sh does that for developers.
'use strict';
const { spawnSync } = require('child_process');
const fs = require('fs');
const path = require('path');

const root = path.resolve(__dirname, '..');
const say = (text) => console.log(`privdrop: ${text}`);

// dist/ is there in the published package; a fresh git checkout compiles it later (prepare).
let loader = null;
try {
  loader = require('../dist/addon/binding.js');
} catch {
  loader = null;
}

const reason = loader
  ? loader.unsupportedReason()
  : process.platform !== 'linux'
    ? `privdrop supports Linux only; this is ${process.platform}`
    : null;
if (reason) {
  say(`not building the native addon (${reason}); every call will throw ERR_PRIVDROP_UNSUPPORTED_PLATFORM.`);
  process.exit(0);
}

const fromSource = process.env.npm_config_build_from_source === 'true';
if (!fromSource && loader && typeof loader.prebuildPath === 'function') {
  const prebuild = loader.prebuildPath();
  if (prebuild) {
    try {
      require(prebuild);
      process.exit(0); // the prebuilt binary loads: nothing to do
    } catch (e) {
      say(`the prebuilt binary ${path.relative(root, prebuild)} does not load here (${String(e.message).split('\n')[0]}); building from source`);
    }
  }
}

// npm runs install scripts with its own node-gyp: npm_config_node_gyp names it, and its
// node-gyp-bin directory is on PATH.
const gyp = process.env.npm_config_node_gyp;
const [file, args] = gyp && fs.existsSync(gyp) ? [process.execPath, [gyp, 'rebuild']] : ['node-gyp', ['rebuild']];
const result = spawnSync(file, args, { cwd: root, stdio: 'inherit' });
if (result.status !== 0) {
  console.error(
    '\nprivdrop: building the native addon from source failed' +
      (result.error ? ` (${result.error.message})` : '') +
      '. It needs a C++ toolchain and the libcap headers:\n' +
      '  Debian/Ubuntu: apt-get install g++ make python3 pkg-config libcap-dev\n' +
      '  Fedora/RHEL:   dnf install gcc-c++ make python3 pkgconf libcap-devel\n' +
      'then run: npm rebuild privdrop --build-from-source\n' +
      'The package is installed; until then every call throws ERR_PRIVDROP_BINDING_NOT_FOUND.\n',
  );
}
process.exit(0);
