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
const { readSecurityConfigs } = require(path.join(dist, 'config', 'index.js'));

// The fuzzer's own copies of the rules it checks against, not the package's. test/evidence/fuzz.test.ts
// fails when the library declares an option, config key or command-line flag missing here.
const OPTION_KEYS = ['user', 'group', 'supplementaryGroups', 'capabilities', 'chroot', 'boundingSet', 'ambient', 'noNewPrivileges', 'lockSecurebits', 'keepTerminal', 'keepDebugSignals'];
/** The Security stanza's key spellings (JSON's are OPTION_KEYS). */
const STANZA_KEYS = ['user', 'group', 'capabilities', 'chroot', 'supplemental_groups', 'supplementary_groups', 'bounding_set', 'ambient', 'no_new_privs', 'lock_securebits', 'keep_terminal', 'keep_debug_signals'];
/** privdrop exec's options (without the --), and the spellings it refuses with a hint (setpriv's, the option names). */
const EXEC_FLAGS = ['user', 'group', 'groups', 'caps', 'ambient', 'no-ambient', 'permitted-only', 'bounding-set', 'chroot', 'no-new-privs', 'lock-securebits', 'keep-fd', 'keep-terminal', 'keep-debug-signals', 'reset-env', 'config', 'dry-run', 'help'];
const EXEC_ALIASES = ['capabilities', 'inh-caps', 'supplementaryGroups', 'supplementary-groups', 'init-groups', 'clear-groups', 'boundingSet', 'noNewPrivileges', 'no-new-privileges', 'nnp', 'lockSecurebits', 'reuid', 'regid', 'uid', 'gid'];
const MAX_ID = 4294967294;
const FIXTURES = path.join(__dirname, '..', '..', 'test', 'fixtures');

module.exports = { privdrop, binding, readSecurityConfigs, MAX_CAPABILITY_TEXT_LENGTH, parseArgs, UsageError, runCli, runExec, runShow, OPTION_KEYS, STANZA_KEYS, EXEC_FLAGS, EXEC_ALIASES, MAX_ID, FIXTURES };
