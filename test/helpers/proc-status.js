'use strict';
// Reading /proc/<pid>/status and /proc/<pid>/task/<tid>/status in tests, with their own parser
// (not lib/state's: that is what many tests check). Plain CommonJS, so that scenario children can
// require it too: require(procStatusModule) in the code they run.
const fs = require('fs');

/** A status file's fields as written, each value trimmed: { Name: 'node', Uid: '0\t0\t0\t0', CapEff: '…', … }. */
function statusFields(text) {
  const out = {};
  for (const line of text.split('\n')) {
    const m = /^(\w+):\t?(.*)$/.exec(line);
    if (m) out[m[1]] = m[2].trim();
  }
  return out;
}

/** The text of a status file, or null when its thread or process exited before the read. */
function readStatus(file) {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch (e) {
    if (e.code === 'ENOENT' || e.code === 'ESRCH') return null;
    throw e;
  }
}

/** The fields of the status file `file` (it must exist). */
function statusOfFile(file) {
  return statusFields(fs.readFileSync(file, 'utf8'));
}

/** Every live thread of a process (default: this one), in tid order: [{ tid, fields }]. */
function threadStatuses(pid = 'self') {
  const out = [];
  for (const tid of fs.readdirSync(`/proc/${pid}/task`).map(Number).sort((a, b) => a - b)) {
    const text = readStatus(`/proc/${pid}/task/${tid}/status`);
    if (text !== null) out.push({ tid, fields: statusFields(text) }); // a thread that exited meanwhile is left out
  }
  return out;
}

module.exports = { statusFields, statusOfFile, readStatus, threadStatuses, procStatusModule: __filename };
