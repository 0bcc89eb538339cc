#!/usr/bin/env node
// npm pack / npm publish hooks.
//   prepack   fresh dist/ (no leftovers of renamed sources), and node-addon-api's three
//             headers copied to native/node-addon-api/ for the from-source fallback: the
//             tarball then builds without node-addon-api as a dependency
//   postpack  removes that copy again (a checkout builds against the devDependency)
//   check     (prepublishOnly) refuses to publish without both prebuilt binaries
'use strict';
const { execFileSync } = require('child_process');
const fs = require('fs');
const path = require('path');

const root = path.resolve(__dirname, '..');
const vendored = path.join(root, 'native', 'node-addon-api');
const headers = ['napi.h', 'napi-inl.h', 'napi-inl.deprecated.h', 'LICENSE.md'];
const prebuilds = ['linux-x64', 'linux-arm64'].map((t) => path.join(root, 'prebuilds', t, 'node.napi.glibc.node'));

function missingPrebuilds() {
  return prebuilds.filter((f) => !fs.existsSync(f)).map((f) => path.relative(root, f));
}

switch (process.argv[2]) {
  case 'prepack': {
    fs.rmSync(path.join(root, 'dist'), { recursive: true, force: true });
    execFileSync(process.execPath, [require.resolve('typescript/bin/tsc'), '-p', 'tsconfig.build.json'], { cwd: root, stdio: 'inherit' });
    const from = path.dirname(require.resolve('node-addon-api/package.json'));
    fs.rmSync(vendored, { recursive: true, force: true });
    fs.mkdirSync(vendored, { recursive: true });
    for (const h of headers) fs.copyFileSync(path.join(from, h), path.join(vendored, h));
    const missing = missingPrebuilds();
    if (missing.length) console.warn(`privdrop pack: WARNING: no ${missing.join(', ')}; run \`npm run prebuild\` first`);
    break;
  }
  case 'postpack':
    fs.rmSync(vendored, { recursive: true, force: true });
    break;
  case 'check': {
    const missing = missingPrebuilds();
    if (missing.length) {
      console.error(`privdrop: not publishing without ${missing.join(', ')}; run \`npm run prebuild\``);
      process.exit(1);
    }
    break;
  }
  default:
    console.error('usage: node scripts/pack.js prepack|postpack|check');
    process.exit(2);
}
