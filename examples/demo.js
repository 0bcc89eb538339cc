#!/usr/bin/env node
// The privdrop demo (as root): drop to an unprivileged system user keeping only
// cap_net_bind_service, and that permitted only (in effect on no thread); THEN bind port 80 with
// listen(), which raises it on the main thread for the bind alone; then shed it on every thread
// with setCapabilities('='), and serve a page with the verified per-thread state.
//   sudo npm run demo                 serve until Ctrl-C
//   sudo npm run demo -- --once       fetch the page once, print it, exit (used by the tests)
//   sudo npm run demo -- --port 8080  another port
'use strict';
const http = require('http');
const privdrop = require('..');

const args = process.argv.slice(2);
const once = args.includes('--once');
const portIndex = args.indexOf('--port');
const port = portIndex >= 0 ? Number(args[portIndex + 1]) : 80;

function fail(message) {
  console.error(`demo: ${message}`);
  process.exit(1);
}

if (process.getuid() !== 0) {
  console.log('demo: not root, so there is nothing to drop. Here is this process as it is:\n');
  console.log(privdrop.formatProcessState(privdrop.processState()));
  fail('run it as root to see the drop: sudo npm run demo');
}

// Pick an unprivileged system user: www-data where it exists, else nobody.
function pickUser() {
  for (const user of ['www-data', 'nobody']) {
    try {
      privdrop.resolveDropOptions({ user, capabilities: 'cap_net_bind_service+p' });
      return user;
    } catch (e) {
      if (e.code !== 'ERR_PRIVDROP_UNKNOWN_USER') throw e;
    }
  }
  return fail('neither www-data nor nobody exists on this machine');
}

// Give the process a few threads worth checking: a Worker and the libuv threadpool.
const { Worker } = require('worker_threads');
const worker = new Worker('setInterval(() => {}, 1 << 30)', { eval: true });
worker.unref();

require('fs').readFile(__filename, () => {
  const user = pickUser();
  let result;
  try {
    // Permitted only: the right to bind stays, but no thread has it in effect.
    result = privdrop.dropPrivileges({ user, capabilities: 'cap_net_bind_service+p', supplementaryGroups: 'clear' });
  } catch (e) {
    fail(`${e.code}: ${e.message}`);
  }
  let state = privdrop.processState();
  let shed;
  const escape = (s) => String(s).replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]);
  const page = () => {
    const s = privdrop.processState();
    const rows = s.threads
      .map((t) => `<tr><td>${t.tid}</td><td>${escape(t.name)}</td><td>${t.uid.effective}</td><td>${t.gid.effective}</td>` +
        `<td>${escape(t.capabilities.effective.names.join(', ') || '(none)')}</td><td>${escape(t.capabilities.bounding.names.join(', ') || '(none)')}</td></tr>`)
      .join('\n');
    return `<!doctype html><meta charset="utf-8"><title>privdrop demo</title>
<h1>Serving port ${port} as ${escape(user)}, after dropping root</h1>
<p>dropPrivileges() verified ${result.threads} threads in ${result.ms.toFixed(2)} ms; kept <code>${escape(result.capabilities)}</code> (permitted, not effective);
listen() raised it on the main thread for the bind only; setCapabilities('=') then removed it from all ${shed.threads} threads.
Threads consistent now: <b>${s.consistent}</b>.</p>
<table border="1" cellpadding="4"><tr><th>tid</th><th>name</th><th>euid</th><th>egid</th><th>effective</th><th>bounding</th></tr>
${rows}
</table>
<pre>${escape(privdrop.formatProcessState(s))}</pre>`;
  };

  // The bind happens now, after the drop: listen() raises cap_net_bind_service for the bind alone.
  const server = http.createServer((req, res) => {
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    res.end(page());
  });
  privdrop.listen(server, { port }).then(() => {
    // This demo binds nothing else: shed the capability on every thread, verified.
    shed = privdrop.setCapabilities('=');
    state = privdrop.processState();
    const url = `http://localhost:${port}/`;
    console.log(`privdrop demo: dropped root to ${user} (uid ${result.uid}, gid ${result.gid}), kept ${result.capabilities} (permitted only)`);
    console.log(`verified ${result.threads} threads in ${result.ms.toFixed(2)} ms; then bound port ${port} with listen().`);
    console.log(`then setCapabilities('=') shed ${result.capabilities} on all ${shed.threads} threads (verified): capabilities now ${shed.capabilities}`);
    console.log(`\n${privdrop.formatProcessState(state)}`);
    console.log(`\nServing ${url}` + (once ? '' : ' (Ctrl-C to stop)'));
    if (!once) return;
    http.get(url, (res) => {
      let body = '';
      res.on('data', (c) => (body += c));
      res.on('end', () => {
        const ok = res.statusCode === 200 && body.includes(`as ${user}, after dropping root`);
        console.log(`GET ${url} -> ${res.statusCode}, ${body.length} bytes, page ${ok ? 'shows' : 'does NOT show'} the dropped state`);
        process.exit(ok && state.consistent ? 0 : 1);
      });
    }).on('error', (e) => fail(`GET ${url} failed: ${e.message}`));
  }, (e) => fail(`cannot listen on port ${port} after the drop: ${e.code} ${e.message}`));
});
