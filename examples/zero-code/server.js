#!/usr/bin/env node
// An ordinary Express server on port 80 that knows nothing of privdrop: started as root with
// privdrop/register, it already runs as the user of security.conf, on every thread, when its first
// line runs, keeping only cap_net_bind_service for app.listen(80).
//
//   sudo PRIVDROP_CONFIG=$PWD/examples/zero-code/security.conf node --require privdrop/register examples/zero-code/server.js
//   sudo PRIVDROP_CONFIG=... NODE_OPTIONS='--require privdrop/register' node examples/zero-code/server.js
//
// (security.conf must be owned by root and writable by nobody else; so must every directory above it.)
'use strict';
const express = require('express');

const port = Number(process.env.PORT || 80);
const app = express();
app.get('/', (_req, res) => res.type('text').send(`hello from uid ${process.getuid()}, pid ${process.pid}\n`));
const server = app.listen(port, () => console.log(`zero-code example: listening on port ${port} as uid ${process.getuid()}`));
server.on('error', (e) => {
  console.error(`zero-code example: cannot listen on port ${port}: ${e.code} ${e.message}`);
  process.exit(1);
});
// As PID 1 in a container, node gets no default SIGTERM action: stop cleanly ourselves.
for (const signal of ['SIGTERM', 'SIGINT']) process.on(signal, () => server.close(() => process.exit(0)));
