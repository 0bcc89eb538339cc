#!/usr/bin/env node
// Runs a command that starts scripts/ci/drop-app.cjs (under Node, Bun or Deno, bundled or not)
// and checks it from outside, as root, in the caller's network namespace:
//   - every thread of the process, read from /proc/<pid>/task/*/status by this script (not by
//     privdrop): uid and gid 65534 (nobody) in all four fields, cap_net_bind_service alone in
//     the permitted and effective sets, nothing inheritable or ambient, all threads alike;
//   - a connection to 127.0.0.1:80 is answered by the dropped process.
// Then it lets the app exit and expects status 0. With --expect-error CODE [--expect-message RE]
// the app must instead fail with that PrivdropError code (and message).
//   node check-drop.js [--expect-error CODE] [--expect-message RE] -- COMMAND ARGS...
// Prints one line "install-tests: note: {...}" and exits 0 when every check held.
'use strict';
const { spawn } = require('child_process');
const fs = require('fs');
const net = require('net');

const argv = process.argv.slice(2);
const sep = argv.indexOf('--');
if (sep < 0 || sep === argv.length - 1) {
  console.error('usage: node check-drop.js [--expect-error CODE] [--expect-message RE] -- COMMAND ARGS...');
  process.exit(2);
}
const opt = (name) => {
  const i = argv.indexOf(name);
  return i >= 0 && i < sep ? argv[i + 1] : undefined;
};
const expectError = opt('--expect-error');
const expectMessage = opt('--expect-message');
const [command, ...args] = argv.slice(sep + 1);

const NOBODY = '65534';
const BIND = (1n << 10n).toString(16).padStart(16, '0'); // cap_net_bind_service
const ZERO = '0'.padStart(16, '0');

function fail(why, extra) {
  console.log(`install-tests: note: ${JSON.stringify({ ok: false, command: [command, ...args].join(' '), why, ...extra })}`);
  process.exit(1);
}

function threadsOf(pid) {
  const out = [];
  for (const tid of fs.readdirSync(`/proc/${pid}/task`)) {
    let text;
    try {
      text = fs.readFileSync(`/proc/${pid}/task/${tid}/status`, 'utf8');
    } catch {
      continue; // gone
    }
    const f = Object.fromEntries(text.split('\n').map((l) => [l.slice(0, l.indexOf(':')), l.slice(l.indexOf(':') + 1).trim()]));
    out.push({ tid, name: f.Name, uid: f.Uid, gid: f.Gid, prm: f.CapPrm, eff: f.CapEff, inh: f.CapInh, amb: f.CapAmb, nnp: f.NoNewPrivs });
  }
  return out;
}

function connect80() {
  return new Promise((resolve) => {
    const s = net.connect(80, '127.0.0.1');
    let data = '';
    s.setTimeout(5000, () => s.destroy(new Error('timeout')));
    s.on('data', (d) => (data += d));
    s.on('end', () => resolve(data.trim()));
    s.on('error', (e) => resolve(`error: ${e.message}`));
  });
}

const child = spawn(command, args, { stdio: ['pipe', 'pipe', 'pipe'] });
let stdout = '';
let stderr = '';
child.stderr.on('data', (d) => (stderr += d));
const timer = setTimeout(() => {
  child.kill('SIGKILL');
  fail('no report within 60 s', { stdout, stderr: stderr.slice(-2000) });
}, 60000);
child.on('error', (e) => fail(`cannot run: ${e.message}`));

child.stdout.on('data', async (d) => {
  const before = stdout;
  stdout += d;
  if (before.includes('\n') && /^\{/m.test(before)) return; // already handled the report
  const line = stdout.split('\n').find((l) => l.startsWith('{'));
  if (!line || !stdout.includes('\n', stdout.indexOf(line))) return;
  const report = JSON.parse(line);
  if (expectError) {
    child.on('exit', (status) => {
      clearTimeout(timer);
      const ok = report.ready === false && report.code === expectError && (!expectMessage || new RegExp(expectMessage).test(report.message));
      if (!ok || status === 0) fail(`expected ${expectError}${expectMessage ? ` matching /${expectMessage}/` : ''} and a failing exit`, { report, status, stderr: stderr.slice(-2000) });
      console.log(`install-tests: note: ${JSON.stringify({ ok: true, runtime: report.runtime, refused: report.code, message: report.message })}`);
      process.exit(0);
    });
    return;
  }
  if (!report.ready) {
    clearTimeout(timer);
    child.kill('SIGKILL');
    fail('the app did not drop', { report, stderr: stderr.slice(-2000) });
  }
  const threads = threadsOf(child.pid);
  const wrong = threads.filter(
    (t) =>
      t.uid.split(/\s+/).some((v) => v !== NOBODY) ||
      t.gid.split(/\s+/).some((v) => v !== NOBODY) ||
      t.prm !== BIND ||
      t.eff !== BIND ||
      t.inh !== ZERO ||
      t.amb !== ZERO ||
      t.nnp !== threads[0].nnp,
  );
  const port80 = await connect80();
  child.stdin.end('exit\n');
  child.on('exit', (status) => {
    clearTimeout(timer);
    const summary = { runtime: report.runtime, threads: threads.length, reported: report.threads, uid: NOBODY, capabilities: 'cap_net_bind_service', port80, status };
    if (wrong.length || threads.length < 2 || port80 !== 'privdrop' || status !== 0 || !report.consistent) {
      fail('a check failed', { ...summary, wrong, report, stderr: stderr.slice(-2000) });
    }
    console.log(`install-tests: note: ${JSON.stringify({ ok: true, ...summary })}`);
    process.exit(0);
  });
});
