#!/usr/bin/env node
// `npm test`'s build: cmake-js (CMakeLists.txt) builds build/Release/privdrop.node and, beside
// it, privdrop_faults.node: the same code with the test-only fault-injection switch compiled
// in. Only tests load that one, explicitly (dist/testing.js; test/helpers/child.ts).
'use strict';
const { spawnSync } = require('child_process');
const path = require('path');

const result = spawnSync(
  process.execPath,
  [require.resolve('cmake-js/bin/cmake-js'), 'rebuild', '--out', 'build', '--CDPRIVDROP_FAULTS=ON', '--log-level', 'warn'],
  { cwd: path.resolve(__dirname, '..'), stdio: 'inherit' },
);
process.exit(result.status === null ? 1 : result.status);
