#!/usr/bin/env node
// Express on port 80, started as root: drop to an unprivileged user on every thread, keeping
// cap_net_bind_service PERMITTED ONLY (the right to bind a low port, in effect on no thread);
// listen() raises it on the main thread for the bind alone; then setCapabilities('=') takes it
// out of every thread for good, so the server answers requests with no capability at all.
// Also the server of the Docker image, the systemd units and the Kubernetes pod in the folders
// beside this one.
//
//   sudo node examples/express/server.js            # serves http://localhost/ until SIGTERM/Ctrl-C
//   PORT=8080 PRIVDROP_USER=nobody sudo -E node examples/express/server.js
//
// GET /        a greeting naming the user it runs as
// GET /state   this process's verified per-thread state as JSON (for a health check or a logger)
'use strict';
const express = require('express');
const { dropPrivileges, listen, processState, setCapabilities } = require('privdrop');

const port = Number(process.env.PORT || 80);
const user = process.env.PRIVDROP_USER || 'www-data';

function fail(message) {
  console.error(`express example: ${message}`);
  process.exit(1);
}

// Everything that needs root (reading a root-only secret, opening a log file) goes here, before the drop.

let result;
try {
  result = dropPrivileges({
    user,
    capabilities: 'cap_net_bind_service+p', // kept, but permitted only: nothing has it in effect
    // supplementaryGroups: 'init' (the default): the user's groups from /etc/group, as a login would.
    noNewPrivileges: true, // nothing this process execs can gain privileges again
  });
} catch (e) {
  // Thrown before anything changed: the process is still exactly as it started. Refuse to serve.
  fail(`cannot drop privileges: ${e.code || e.name}: ${e.message}`);
}

const app = express();
app.get('/', (_req, res) => res.type('text').send(`hello from uid ${process.getuid()} (${user}), pid ${process.pid}\n`));
app.get('/state', (_req, res) => {
  const state = processState(); // JSON-able: masks are written as "0x" + 16 hex digits
  res.status(state.consistent ? 200 : 500).json(state);
});

let server;
listen(app, { port }).then(
  (s) => {
    server = s;
    // No more privileged binds are coming: shed the capability on every thread, verified.
    const shed = setCapabilities('=');
    console.log(`express example: listening on port ${port} as ${user} (uid ${result.uid}, gid ${result.gid}); ` +
      `bound with cap_net_bind_service, then shed it: ${shed.capabilities} on ${shed.threads} threads`);
  },
  (e) => fail(`cannot listen on port ${port}: ${e.code} ${e.message}`),
);
// As PID 1 in a container, node gets no default SIGTERM action: stop cleanly ourselves.
for (const signal of ['SIGTERM', 'SIGINT']) process.on(signal, () => (server ? server.close(() => process.exit(0)) : process.exit(0)));
