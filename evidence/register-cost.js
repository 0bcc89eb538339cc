#!/usr/bin/env node
'use strict';
// What `node --require privdrop/register` costs a server's start-up, against the same server
// calling dropPrivileges() itself. Three variants of one HTTP server, each started as a fresh
// process and timed from spawn until it has dropped, listened, and exited:
//   self      the server calls dropPrivileges({ ...options inline }) first (the baseline)
//   register  the server has no privdrop code; node --require privdrop/register, PRIVDROP_CONFIG
//   none      no drop at all (what the drop itself costs, for scale)
// The variants run in turns in the same loop (so machine load hits each alike); medians are
// printed with the ratio register/self. Needs root (the drops are real).
//
//   sudo node evidence/register-cost.js [--runs N]

const { spawnSync } = require('child_process');
const fs = require('fs');
const os = require('os');
const path = require('path');

const runs = (() => {
  const i = process.argv.indexOf('--runs');
  const n = i < 0 ? 30 : Number(process.argv[i + 1]);
  if (!Number.isInteger(n) || n < 3) throw new Error('--runs needs an integer of at least 3');
  return n;
})();
if (process.getuid() !== 0) {
  console.error('register-cost: needs root (each run drops privileges for real)');
  process.exit(2);
}

const repo = path.resolve(__dirname, '..');
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'privdrop-register-cost-'));
fs.chmodSync(dir, 0o755);
fs.mkdirSync(path.join(dir, 'node_modules'));
fs.symlinkSync(repo, path.join(dir, 'node_modules', 'privdrop'));
const conf = path.join(dir, 'security.conf');
fs.writeFileSync(conf, 'Security {\n  user = nobody\n  Capabilities = "cap_net_bind_service+ep"\n  no_new_privs = yes\n}\n');

// The server: listens on an ephemeral port, says which uid it serves as, and exits.
const serve = `require('http').createServer((q, r) => r.end('ok')).listen(0, '127.0.0.1', function () {
  process.stdout.write('uid ' + process.getuid() + '\\n'); this.close(); });\n`;
const files = {
  self: `require('privdrop').dropPrivileges({ user: 'nobody', capabilities: 'cap_net_bind_service+ep', noNewPrivileges: true });\n${serve}`,
  register: serve,
  none: serve,
};
for (const [name, code] of Object.entries(files)) fs.writeFileSync(path.join(dir, `${name}.js`), code);
const args = {
  self: [path.join(dir, 'self.js')],
  register: ['--require', 'privdrop/register', path.join(dir, 'register.js')],
  none: [path.join(dir, 'none.js')],
};
const expectedUid = { self: 'uid 65534', register: 'uid 65534', none: 'uid 0' };

function once(name) {
  const start = process.hrtime.bigint();
  const r = spawnSync(process.execPath, args[name], { cwd: dir, encoding: 'utf8', env: { ...process.env, PRIVDROP_CONFIG: conf, NODE_DEBUG: '', NODE_OPTIONS: '' } });
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  if (r.status !== 0 || r.stdout.trim() !== expectedUid[name]) throw new Error(`${name}: status ${r.status}, stdout ${JSON.stringify(r.stdout)}, stderr ${r.stderr}`);
  return ms;
}

const median = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
const times = { self: [], register: [], none: [] };
try {
  for (const name of Object.keys(times)) once(name); // warm the file cache
  for (let i = 0; i < runs; i++) for (const name of Object.keys(times)) times[name].push(once(name));
} finally {
  fs.rmSync(dir, { recursive: true, force: true });
}
const m = Object.fromEntries(Object.entries(times).map(([k, v]) => [k, median(v)]));
const load = fs.readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
console.log(`start-up to listening and exit, ${runs} fresh processes each, in turns (median ms; load ${load}):`);
console.log(`  none (no drop)          ${m.none.toFixed(1)}`);
console.log(`  self (dropPrivileges()) ${m.self.toFixed(1)}`);
console.log(`  register (--require)    ${m.register.toFixed(1)}`);
console.log(`register / self: ${(m.register / m.self).toFixed(3)}x (${(m.register - m.self >= 0 ? '+' : '')}${(m.register - m.self).toFixed(1)} ms)`);
console.log(`self / none: ${(m.self / m.none).toFixed(3)}x; register / none: ${(m.register / m.none).toFixed(3)}x`);
