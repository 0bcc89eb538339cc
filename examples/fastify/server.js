#!/usr/bin/env node
// Fastify serving HTTPS on port 443, started as root. The TLS private key is readable by root
// only (0600): read it while still root, then drop to an unprivileged user on every thread,
// keeping only cap_net_bind_service, then bind 443. After the drop the process can no longer
// read the key file, nor any other root-only file.
//
//   sudo TLS_KEY=/etc/ssl/private/example.key TLS_CERT=/etc/ssl/certs/example.pem node examples/fastify/server.js
//
// A throwaway self-signed pair for trying it (NOT for production):
//   openssl req -x509 -newkey rsa:2048 -nodes -days 7 -subj /CN=localhost \
//     -keyout /etc/ssl/private/example.key -out /etc/ssl/certs/example.pem
'use strict';
const fs = require('fs');
const { dropPrivileges, processState } = require('privdrop');

const port = Number(process.env.PORT || 443);
const user = process.env.PRIVDROP_USER || 'www-data';
const keyFile = process.env.TLS_KEY || '/etc/ssl/private/example.key';
const certFile = process.env.TLS_CERT || '/etc/ssl/certs/example.pem';

function fail(message) {
  console.error(`fastify example: ${message}`);
  process.exit(1);
}

// 1. As root: read what only root may read.
let https;
try {
  https = { key: fs.readFileSync(keyFile), cert: fs.readFileSync(certFile) };
} catch (e) {
  fail(`cannot read the TLS key or certificate: ${e.message}`);
}

// 2. Drop root on every thread; keep only the capability that binds 443.
let result;
try {
  result = dropPrivileges({ user, capabilities: ['cap_net_bind_service'], noNewPrivileges: true });
} catch (e) {
  fail(`cannot drop privileges: ${e.code || e.name}: ${e.message}`); // nothing changed: refuse to serve
}

// 3. Serve.
const app = require('fastify')({ https });
app.get('/', async () => `hello over TLS from uid ${process.getuid()} (${user}), pid ${process.pid}\n`);
app.get('/state', async (_req, reply) => {
  const state = processState(); // JSON-able: masks are written as "0x" + 16 hex digits
  reply.code(state.consistent ? 200 : 500).send(state);
});

app.listen({ port, host: process.env.HOST || '0.0.0.0' }).then(
  () => console.log(`fastify example: listening on port ${port} (HTTPS) as ${user} (uid ${result.uid}, gid ${result.gid}), ` +
    `kept ${result.capabilities} on ${result.threads} threads`),
  (e) => fail(`cannot listen on port ${port}: ${e.code} ${e.message}`),
);
for (const signal of ['SIGTERM', 'SIGINT']) process.on(signal, () => app.close().then(() => process.exit(0)));
