#!/usr/bin/env node
// npm's install hook: compile the addon on Linux with glibc, do nothing elsewhere.
// It never calls a system package manager; scripts/setup.sh does that for developers.
'use strict';
const { spawnSync } = require('child_process');
const path = require('path');

function unsupported() {
  if (process.platform !== 'linux') return `${process.platform} is not Linux`;
  const header = process.report && process.report.getReport().header;
  if (!header || !header.glibcVersionRuntime) return 'the C library is not glibc';
  if (process.arch !== 'x64' && process.arch !== 'arm64') return `${process.arch} is not x64 or arm64`;
  return null;
}

const reason = unsupported();
if (reason) {
  console.log(`privdrop: not compiling the native addon (${reason}); every call will throw ERR_PRIVDROP_UNSUPPORTED_PLATFORM.`);
  process.exit(0);
}

const nodeGyp = require.resolve('node-gyp/bin/node-gyp.js');
const result = spawnSync(process.execPath, [nodeGyp, 'rebuild'], {
  cwd: path.resolve(__dirname, '..'),
  stdio: 'inherit',
});
if (result.status !== 0) {
  console.error(
    '\nprivdrop: building the native addon failed. It needs the libcap headers, pkg-config and a C++ toolchain:\n' +
      '  Debian/Ubuntu: apt-get install libcap-dev pkg-config g++ make python3\n' +
      '  Fedora/RHEL:   dnf install libcap-devel pkgconf gcc-c++ make python3\n' +
      '  Alpine:        not supported (musl)\n' +
      'then run: npm rebuild privdrop\n',
  );
  process.exit(result.status || 1);
}
