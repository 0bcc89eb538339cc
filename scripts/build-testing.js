#!/usr/bin/env node
// Builds the normal addon and, beside it, privdrop_faults.node: the same code with the
// test-only fault-injection switch compiled in. Only tests load it (PRIVDROP_BINDING).
'use strict';
const { spawnSync } = require('child_process');
const path = require('path');

const nodeGyp = require.resolve('node-gyp/bin/node-gyp.js');
const jobs = String(require('os').availableParallelism ? require('os').availableParallelism() : 2);
const result = spawnSync(process.execPath, [nodeGyp, 'rebuild', '--jobs', jobs], {
  cwd: path.resolve(__dirname, '..'),
  stdio: 'inherit',
  env: { ...process.env, PRIVDROP_BUILD_FAULTS: '1' },
});
process.exit(result.status === null ? 1 : result.status);
