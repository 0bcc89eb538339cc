#!/usr/bin/env node
// Listeners started and stopped while the server runs, as the mail server privdrop comes from
// does ("a module that can stop and start listeners during operation"). Started as root, the
// server drops to an unprivileged user on every thread keeping cap_net_bind_service PERMITTED
// ONLY: no thread has it in effect. Each bind of a port below 1024, requested at any time on the
// admin endpoint, raises it on the main thread for that bind alone (privdrop's listen()), so the
// process serves with an empty effective set on every thread between binds.
//
//   sudo node examples/listeners/server.js
//   curl -X POST localhost:8025/listeners/25      # opens port 25 (an SMTP-style greeting)
//   curl localhost:8025/listeners                 # {"ports":[25]}
//   curl -X DELETE localhost:8025/listeners/25    # closes it
//   curl localhost:8025/state                     # every thread's state, as processState() reads it
//
// ADMIN_PORT (default 8025) and ADMIN_HOST (default 127.0.0.1) place the admin endpoint, an
// unprivileged port; PRIVDROP_USER (default www-data) is the user.
'use strict';
const http = require('http');
const net = require('net');
const { dropPrivileges, listen, processState } = require('privdrop');

const user = process.env.PRIVDROP_USER || 'www-data';
const adminPort = Number(process.env.ADMIN_PORT || 8025);
const adminHost = process.env.ADMIN_HOST || '127.0.0.1';

function fail(message) {
  console.error(`listeners example: ${message}`);
  process.exit(1);
}

try {
  dropPrivileges({
    user,
    capabilities: 'cap_net_bind_service+p', // the right to bind low ports, in effect on no thread
    noNewPrivileges: true,
  });
} catch (e) {
  fail(`cannot drop privileges: ${e.code || e.name}: ${e.message}`); // nothing changed: refuse to serve
}

/** Open listeners, by port. */
const listeners = new Map();

async function open(port) {
  if (listeners.has(port)) return { status: 409, body: { error: `port ${port} is already open` } };
  const server = net.createServer((socket) => socket.end(`220 port ${port} served by uid ${process.getuid()}\r\n`));
  try {
    // cap_net_bind_service raised on this thread for the bind only, then lowered again.
    await listen(server, { port, host: '127.0.0.1' });
  } catch (e) {
    return { status: e.code === 'EADDRINUSE' ? 409 : 500, body: { error: `${e.code}: ${e.message}` } };
  }
  listeners.set(port, server);
  return { status: 201, body: { opened: port } };
}

function close(port) {
  const server = listeners.get(port);
  if (!server) return Promise.resolve({ status: 404, body: { error: `port ${port} is not open` } });
  listeners.delete(port);
  return new Promise((resolve) => server.close(() => resolve({ status: 200, body: { closed: port } })));
}

const admin = http.createServer(async (req, res) => {
  const m = /^\/listeners\/(\d{1,5})$/.exec(req.url);
  let answer;
  if (req.url === '/listeners' && req.method === 'GET') answer = { status: 200, body: { ports: [...listeners.keys()].sort((a, b) => a - b) } };
  else if (req.url === '/state' && req.method === 'GET') answer = { status: 200, body: processState() };
  else if (m && Number(m[1]) > 0 && Number(m[1]) < 65536 && req.method === 'POST') answer = await open(Number(m[1]));
  else if (m && req.method === 'DELETE') answer = await close(Number(m[1]));
  else answer = { status: 404, body: { error: 'GET /listeners, POST or DELETE /listeners/PORT, GET /state' } };
  res.writeHead(answer.status, { 'content-type': 'application/json' }).end(JSON.stringify(answer.body) + '\n');
});
admin.on('error', (e) => fail(`cannot serve the admin endpoint on ${adminHost}:${adminPort}: ${e.code} ${e.message}`));
admin.listen(adminPort, adminHost, () => console.log(`listeners example: admin endpoint on ${adminHost}:${adminPort} as ${user} (uid ${process.getuid()})`));

// As PID 1 in a container, node gets no default SIGTERM action: stop cleanly ourselves.
for (const signal of ['SIGTERM', 'SIGINT']) {
  process.on(signal, () => {
    for (const s of listeners.values()) s.close();
    admin.close(() => process.exit(0));
    admin.closeAllConnections();
  });
}
