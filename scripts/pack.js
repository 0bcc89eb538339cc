#!/usr/bin/env node
// npm pack / npm publish hooks.
//   prepack   fresh dist/ (no leftovers of renamed sources), node-addon-api's three headers
//             copied to native/node-addon-api/ for the from-source build: the tarball then
//             builds without node-addon-api as a dependency; and the package.json a consumer
//             gets: without `scripts` (the checkout's build, test and pack scripts: a consumer
//             runs none, and a `prepare` would be run by installs from a tarball or git) and
//             without `binary` (read by cmake-js in the checkout only). The checkout's
//             package.json is kept in package.json.packing meanwhile.
//   postpack  puts package.json back and removes the headers' copy (a checkout builds against
//             the devDependency)
//   check     (prepublishOnly) refuses to publish without both prebuilt binaries
'use strict';
const { execFileSync } = require('child_process');
const fs = require('fs');
const path = require('path');

const root = path.resolve(__dirname, '..');
const vendored = path.join(root, 'native', 'node-addon-api');
const manifest = path.join(root, 'package.json');
const saved = path.join(root, 'package.json.packing');

/** package.json as published: what the checkout's has, less what only the checkout uses. */
function publishedManifest(pkg) {
  const out = { ...pkg };
  delete out.scripts;
  delete out.binary;
  return out;
}

/** A pack that died between prepack and postpack left the checkout's package.json aside. */
function restoreManifest() {
  if (fs.existsSync(saved)) fs.renameSync(saved, manifest);
}
const headers = ['napi.h', 'napi-inl.h', 'napi-inl.deprecated.h', 'LICENSE.md'];
const prebuilds = ['linux-x64', 'linux-arm64'].map((t) => path.join(root, 'prebuilds', t, 'node.napi.glibc.node'));

function missingPrebuilds() {
  return prebuilds.filter((f) => !fs.existsSync(f)).map((f) => path.relative(root, f));
}

module.exports = { publishedManifest };

switch (require.main === module ? process.argv[2] : 'module') {
  case 'module':
    break;
  case 'prepack': {
    restoreManifest();
    fs.rmSync(path.join(root, 'dist'), { recursive: true, force: true });
    execFileSync(process.execPath, [require.resolve('typescript/bin/tsc'), '-p', 'tsconfig.build.json'], { cwd: root, stdio: 'inherit' });
    const from = path.dirname(require.resolve('node-addon-api/package.json'));
    fs.rmSync(vendored, { recursive: true, force: true });
    fs.mkdirSync(vendored, { recursive: true });
    for (const h of headers) fs.copyFileSync(path.join(from, h), path.join(vendored, h));
    const missing = missingPrebuilds();
    if (missing.length) console.warn(`privdrop pack: WARNING: no ${missing.join(', ')}; run \`npm run prebuild\` first`);
    const text = fs.readFileSync(manifest, 'utf8');
    fs.writeFileSync(saved, text);
    fs.writeFileSync(manifest, JSON.stringify(publishedManifest(JSON.parse(text)), null, 2) + '\n');
    break;
  }
  case 'postpack':
    restoreManifest();
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
