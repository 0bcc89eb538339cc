#!/usr/bin/env node
// node:cluster on port 80, started as root: the PRIMARY drops to an unprivileged user on every
// thread, keeping only cap_net_bind_service, then forks the workers. On Linux the primary
// accepts the connections itself (round-robin scheduling, the default) and hands them to the
// workers, so the primary is the only process that binds port 80 and the only one that needs the
// capability. The workers it forks after the drop start as the same user with NO capabilities at
// all (exec clears them: they were not made ambient), and they never held root.
//
//   sudo node examples/cluster/server.js             # WORKERS=2 by default
'use strict';
const cluster = require('cluster');
const http = require('http');

const port = Number(process.env.PORT || 80);
const user = process.env.PRIVDROP_USER || 'www-data';
const workers = Number(process.env.WORKERS || 2);

if (cluster.isPrimary) {
  const { dropPrivileges } = require('privdrop');
  cluster.schedulingPolicy = cluster.SCHED_RR; // the Linux default, spelled out: the primary binds

  let result;
  try {
    result = dropPrivileges({ user, capabilities: ['cap_net_bind_service'], noNewPrivileges: true });
  } catch (e) {
    console.error(`cluster example: cannot drop privileges: ${e.code || e.name}: ${e.message}`);
    process.exit(1);
  }

  const pids = [];
  cluster.on('listening', (worker) => {
    pids.push(worker.process.pid);
    if (pids.length === workers) {
      console.log(`cluster example: primary ${process.pid} dropped to ${user} (uid ${result.uid}), kept ${result.capabilities}; ` +
        `workers ${pids.join(', ')} listening on port ${port}`);
    }
  });
  cluster.on('exit', (worker, code, signal) => {
    if (!stopping) console.error(`cluster example: worker ${worker.process.pid} exited (${signal || code})`);
  });
  for (let i = 0; i < workers; i++) cluster.fork();

  let stopping = false;
  for (const signal of ['SIGTERM', 'SIGINT']) {
    process.on(signal, () => {
      stopping = true;
      cluster.disconnect(() => process.exit(0));
    });
  }
} else {
  // A worker: an ordinary unprivileged process. listen() asks the primary for the port.
  http
    .createServer((_req, res) => {
      res.setHeader('content-type', 'text/plain');
      res.end(`hello from worker ${process.pid}, uid ${process.getuid()}\n`);
    })
    .listen(port);
}
