#!/usr/bin/env node
// Fastify serving HTTPS on port 443, started as root. The TLS private key is readable by root
// only (0600): read it while still root, then drop to an unprivileged user on every thread,
// keeping cap_net_bind_service permitted only; listen() raises it for the bind of 443 alone,
// and setCapabilities('=') then sheds it on every thread. After the drop the process can no
// longer read the key file, nor any other root-only file; after the bind it holds no capability.
//
//   sudo TLS_KEY=/etc/ssl/private/example.key TLS_CERT=/etc/ssl/certs/example.pem node examples/fastify/server.js
//
// A throwaway self-signed pair for trying it (NOT for production):
//   openssl req -x509 -newkey rsa:2048 -nodes -days 7 -subj /CN=localhost \
//     -keyout /etc/ssl/private/example.key -out /etc/ssl/certs/example.pem
'use strict';
const fs = require('fs');
const { dropPrivileges, listen, processState, setCapabilities } = require('privdrop');

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

// 2. Drop root on every thread; keep the capability that binds 443, permitted only.
let result;
try {
  result = dropPrivileges({ user, capabilities: 'cap_net_bind_service+p', noNewPrivileges: true });
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

// 4. Bind with the capability raised for the bind alone (fastify.listen() would bind after an
//    await, outside any window: listen(app) awaits ready() first), then shed it for good.
listen(app, { port, host: process.env.HOST || '0.0.0.0' }).then(
  () => {
    const shed = setCapabilities('=');
    console.log(`fastify example: listening on port ${port} (HTTPS) as ${user} (uid ${result.uid}, gid ${result.gid}); ` +
      `bound with cap_net_bind_service, then shed it: ${shed.capabilities} on ${shed.threads} threads`);
  },
  (e) => fail(`cannot listen on port ${port}: ${e.code} ${e.message}`),
);
for (const signal of ['SIGTERM', 'SIGINT']) process.on(signal, () => app.close().then(() => process.exit(0)));
