'use strict';
// The built package (dist/) the fuzz targets run against: the public API and the internals the
// command-line targets call directly. `npm test` and `npm run fuzz` build it first.
const path = require('path');

const dist = path.join(__dirname, '..', '..', 'dist');
const privdrop = require(path.join(dist, 'index.js'));
const { binding } = require(path.join(dist, 'addon', 'binding.js'));
const { MAX_CAPABILITY_TEXT_LENGTH } = require(path.join(dist, 'capabilities', 'index.js'));
const { parseArgs, UsageError } = require(path.join(dist, 'cli', 'args.js'));
const { run: runCli } = require(path.join(dist, 'cli', 'index.js'));
const { runExec } = require(path.join(dist, 'cli', 'exec.js'));
const { runShow } = require(path.join(dist, 'cli', 'show.js'));

// The fuzzer's own copies of the rules it checks against, not the package's.
const OPTION_KEYS = ['user', 'group', 'supplementaryGroups', 'capabilities', 'chroot', 'boundingSet', 'ambient', 'noNewPrivileges', 'lockSecurebits'];
const MAX_ID = 4294967294;
const FIXTURES = path.join(__dirname, '..', '..', 'test', 'fixtures');

module.exports = { privdrop, binding, MAX_CAPABILITY_TEXT_LENGTH, parseArgs, UsageError, runCli, runExec, runShow, OPTION_KEYS, MAX_ID, FIXTURES };
