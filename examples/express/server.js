#!/usr/bin/env node
// Express on port 80, started as root: drop to an unprivileged user on every thread, keeping
// only cap_net_bind_service, THEN bind the port. Also the server of the Docker image, the
// systemd units and the Kubernetes pod in the folders beside this one.
//
//   sudo node examples/express/server.js            # serves http://localhost/ until SIGTERM/Ctrl-C
//   PORT=8080 PRIVDROP_USER=nobody sudo -E node examples/express/server.js
//
// GET /        a greeting naming the user it runs as
// GET /state   this process's verified per-thread state as JSON (for a health check or a logger)
'use strict';
const express = require('express');
const { dropPrivileges, processState } = require('privdrop');

const port = Number(process.env.PORT || 80);
const user = process.env.PRIVDROP_USER || 'www-data';

// Everything that needs root (reading a root-only secret, opening a log file) goes here, before the drop.

let result;
try {
  result = dropPrivileges({
    user,
    capabilities: ['cap_net_bind_service'], // the one capability kept: bind ports below 1024 later
    // supplementaryGroups: 'init' (the default): the user's groups from /etc/group, as a login would.
    noNewPrivileges: true, // nothing this process execs can gain privileges again
  });
} catch (e) {
  // Thrown before anything changed: the process is still exactly as it started. Refuse to serve.
  console.error(`express example: cannot drop privileges: ${e.code || e.name}: ${e.message}`);
  process.exit(1);
}

const app = express();
app.get('/', (_req, res) => res.type('text').send(`hello from uid ${process.getuid()} (${user}), pid ${process.pid}\n`));
app.get('/state', (_req, res) => {
  const state = processState(); // JSON-able: masks are written as "0x" + 16 hex digits
  res.status(state.consistent ? 200 : 500).json(state);
});

const server = app.listen(port, (error) => {
  if (error) {
    console.error(`express example: cannot listen on port ${port}: ${error.code} ${error.message}`);
    process.exit(1);
  }
  console.log(`express example: listening on port ${port} as ${user} (uid ${result.uid}, gid ${result.gid}), ` +
    `kept ${result.capabilities} on ${result.threads} threads`);
});
// As PID 1 in a container, node gets no default SIGTERM action: stop cleanly ourselves.
for (const signal of ['SIGTERM', 'SIGINT']) process.on(signal, () => server.close(() => process.exit(0)));
