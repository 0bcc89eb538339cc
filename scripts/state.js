#!/usr/bin/env node
// Prints what every thread of this process holds: identity, groups, capability sets,
// securebits, no_new_privs, and a per-thread table when the threads disagree.
//   node scripts/state.js          readable text
//   node scripts/state.js --json   the processState() object as JSON (masks as hex)
'use strict';
const privdrop = require('../dist');
// Until lib/index.ts re-exports formatProcessState, take it from its own module.
const formatProcessState = privdrop.formatProcessState || require('../dist/state').formatProcessState;

const state = privdrop.processState();
if (process.argv.includes('--json')) {
  const hex = (_key, value) => (typeof value === 'bigint' ? '0x' + value.toString(16) : value);
  process.stdout.write(JSON.stringify(state, hex, 2) + '\n');
} else {
  process.stdout.write(formatProcessState(state));
}
