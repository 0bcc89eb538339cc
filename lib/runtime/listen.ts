// listen(): bind a server's port with cap_net_bind_service raised for the bind only.
//
// Node's server.listen(port, host) looks the host up first (dns.lookup, then process.nextTick,
// even for an address literal) and binds later, so a synchronous capability window around it has
// closed before the bind. listen() therefore resolves the host first, binds a socket natively
// inside the window (socket + bind, nothing else), and hands the bound descriptor to the server
// with server.listen({ fd }), which needs no privilege.
import dns = require('dns');
import fs = require('fs');
import net = require('net');
import { getSystemErrorMap } from 'util';
import { CapabilityName, CapabilitySet } from '../capabilities';
import { describe, ErrorCodes, invalidArgument, PrivdropError } from '../errors';
import { binding, mainThread } from '../addon/binding';
import { withCapabilities } from './index';

export interface ListenOptions {
  /** TCP port, 0 to 65535 (0: the kernel picks one). */
  port: number;
  /**
   * Host name or address to bind. A name is resolved (dns.lookup, the first address, as Node
   * does) BEFORE the window opens. Default: every address ('::', or '0.0.0.0' without IPv6).
   */
  host?: string;
  /** listen(2) backlog; Node's default (511) when omitted. */
  backlog?: number;
  /** With an IPv6 address, accept IPv6 only (IPV6_V6ONLY). Default false. */
  ipv6Only?: boolean;
  /** SO_REUSEPORT: several sockets (processes) can bind the same port; the kernel spreads connections. Default false. */
  reusePort?: boolean;
  /**
   * Capabilities raised on the calling thread for the bind. Default: cap_net_bind_service when
   * the port is below the unprivileged port start (1024 unless the system says otherwise) and the
   * capability is permitted; none otherwise. Each one named here must be permitted.
   */
  capabilities?: readonly CapabilityName[];
}

/**
 * What listen() needs of a server: a net, http, https or http2 Server has it. Written out rather
 * than imported from 'net' so that the public types type-check without @types/node.
 */
export interface ServerLike {
  listen(...args: never[]): unknown;
  once(event: string, listener: (...args: never[]) => void): unknown;
  readonly listening: boolean;
}

/** An express application: `app.listen(...)` creates an http.Server and returns it. */
export interface ListenableApp<S extends ServerLike = ServerLike> {
  listen(...args: never[]): S;
}

/** A fastify instance: listen() awaits `ready()` and binds `server`. */
export interface ReadyServer<S extends ServerLike = ServerLike> {
  server: S;
  ready(): PromiseLike<unknown>;
}

const listenKeys = new Set(['port', 'host', 'backlog', 'ipv6Only', 'reusePort', 'capabilities']);

const invalid = (message: string) => invalidArgument(message, { step: 'listen' });

interface Checked {
  port: number;
  host: string | undefined;
  backlog: number | undefined;
  ipv6Only: boolean;
  reusePort: boolean;
  capabilities: readonly CapabilityName[] | undefined;
}

function checkOptions(options: unknown): Checked {
  if (options === null || typeof options !== 'object' || Array.isArray(options)) {
    throw new TypeError(`listen() takes an options object, e.g. { port: 443, host: '0.0.0.0' }, got ${describe(options)}`);
  }
  const o = options as Record<string, unknown>;
  for (const key of Object.keys(o)) {
    if (!listenKeys.has(key)) throw invalid(`unknown listen option ${JSON.stringify(key)}; known options: ${[...listenKeys].join(', ')}`);
  }
  const { port, host, backlog, ipv6Only, reusePort, capabilities } = o;
  if (typeof port !== 'number' || !Number.isInteger(port) || port < 0 || port > 65535) {
    throw new RangeError(`port must be an integer from 0 to 65535, got ${describe(port)}`);
  }
  if (host !== undefined && (typeof host !== 'string' || host === '' || host.includes('\0'))) {
    throw new TypeError(`host must be a non-empty host name or address, got ${describe(host)}`);
  }
  if (backlog !== undefined && (typeof backlog !== 'number' || !Number.isInteger(backlog) || backlog < 0)) {
    throw new RangeError(`backlog must be a non-negative integer, got ${describe(backlog)}`);
  }
  for (const [name, v] of [['ipv6Only', ipv6Only], ['reusePort', reusePort]] as const) {
    if (v !== undefined && typeof v !== 'boolean') throw new TypeError(`${name} must be a boolean, got ${describe(v)}`);
  }
  if (capabilities !== undefined && (!Array.isArray(capabilities) || capabilities.some((c) => typeof c !== 'string'))) {
    throw new TypeError(`capabilities must be an array of capability names, got ${describe(capabilities)}`);
  }
  return {
    port,
    host: host as string | undefined,
    backlog: backlog as number | undefined,
    ipv6Only: ipv6Only === true,
    reusePort: reusePort === true,
    capabilities: capabilities as readonly CapabilityName[] | undefined,
  };
}

/** The server that will listen, and how to hand it the bound descriptor. */
interface Target {
  server: net.Server | undefined;
  listenOn(args: object): net.Server;
}

async function targetOf(target: unknown): Promise<Target> {
  if (target instanceof net.Server) {
    return { server: target, listenOn: (args) => target.listen(args) };
  }
  const t = target as Partial<ReadyServer<net.Server> & ListenableApp<net.Server>> | null;
  if (t !== null && typeof t === 'object' && t.server instanceof net.Server && typeof t.ready === 'function') {
    await t.ready();
    const server = t.server;
    return { server, listenOn: (args) => server.listen(args) };
  }
  if (typeof target === 'function' && typeof t?.listen === 'function') {
    const app = target as unknown as { listen(args: object): unknown };
    return {
      server: undefined,
      listenOn: (args) => {
        const server = app.listen(args);
        if (!(server instanceof net.Server)) throw new TypeError('app.listen() did not return a net.Server');
        return server;
      },
    };
  }
  throw new TypeError(
    `listen() takes a net, http, https or http2 server, an express app or a fastify instance, got ${describe(target)}`,
  );
}

/** /proc/sys/net/ipv4/ip_unprivileged_port_start of this network namespace (1024 when unreadable). */
function unprivilegedPortStart(): number {
  try {
    const v = Number(fs.readFileSync('/proc/sys/net/ipv4/ip_unprivileged_port_start', 'utf8').trim());
    return Number.isInteger(v) && v >= 0 ? v : 1024;
  } catch {
    return 1024;
  }
}

/** An Error shaped like the one Node's server.listen() emits: `listen EACCES: permission denied 0.0.0.0:80`. */
function listenError(errno: number, address: string, port: number): NodeJS.ErrnoException & { address: string; port: number } {
  const [code, text] = getSystemErrorMap().get(-errno) ?? [`E${errno}`, 'unknown error'];
  const err = new Error(`listen ${code}: ${text} ${address}:${port}`) as NodeJS.ErrnoException & { address: string; port: number };
  err.code = code;
  err.errno = -errno;
  err.syscall = 'listen';
  err.address = address;
  err.port = port;
  return err;
}

const EAFNOSUPPORT = 97;

/** Waits for the server's 'listening' (resolves) or 'error' (rejects), whichever comes first. */
function settle(server: net.Server): Promise<void> {
  return new Promise((resolve, reject) => {
    const onListening = () => {
      server.off('error', onError);
      resolve();
    };
    const onError = (e: Error) => {
      server.off('listening', onListening);
      reject(e);
    };
    server.once('listening', onListening);
    server.once('error', onError);
  });
}

/**
 * Binds `server` to `options.port` on `options.host` with cap_net_bind_service (or
 * `options.capabilities`) raised on the main thread for the bind only, then makes it listen.
 * Resolves with the server once it emits 'listening'; rejects with the server's error (or the
 * bind's, shaped like it: code 'EACCES', syscall 'listen', address, port).
 *
 * Takes a net/http/https/http2 server that is not listening yet, an express app (listen() calls
 * app.listen and resolves with the server it returns) or a fastify instance (listen() awaits
 * ready() and binds fastify.server). Main thread only.
 *
 * In a cluster worker, Node makes the PRIMARY bind (after an IPC round trip), so no window in the
 * worker can cover it: listen() then calls server.listen({ port, host, backlog, ipv6Only }) as
 * usual, opens no window, and the primary must be allowed to bind the port.
 */
export function listen<S extends ServerLike>(server: S, options: ListenOptions): Promise<S>;
export function listen<S extends ServerLike>(app: ListenableApp<S> | ReadyServer<S>, options: ListenOptions): Promise<S>;
export async function listen(target: unknown, options: ListenOptions): Promise<net.Server> {
  if (!mainThread()) {
    throw new PrivdropError(
      ErrorCodes.NOT_MAIN_THREAD,
      'listen() works on the main thread only (the capability window and the bind must happen on the thread that ' +
        'calls it, and privdrop supports that for the main thread): call listen() from the main thread',
      { step: 'listen' },
    );
  }
  const o = checkOptions(options);
  const native = binding();
  const t = await targetOf(target);
  if (t.server?.listening) throw invalid('the server is listening already (express: pass the app itself, or http.createServer(app))');

  // eslint-disable-next-line @typescript-eslint/no-var-requires
  const cluster = require('cluster') as import('cluster').Cluster;
  if (cluster.isWorker) {
    const server = t.listenOn({ port: o.port, host: o.host, backlog: o.backlog, ipv6Only: o.ipv6Only });
    await settle(server);
    return server;
  }

  // Resolve the host before the window: a bind after an asynchronous lookup would miss it.
  let addresses: string[];
  if (o.host === undefined) addresses = ['::', '0.0.0.0'];
  else if (net.isIP(o.host)) addresses = [o.host];
  else addresses = [(await dns.promises.lookup(o.host)).address];

  let names: readonly CapabilityName[];
  if (o.capabilities !== undefined) {
    names = o.capabilities;
  } else {
    const privileged = o.port > 0 && o.port < unprivilegedPortStart();
    names = privileged && CapabilitySet.current().has('cap_net_bind_service', 'permitted') ? ['cap_net_bind_service'] : [];
  }

  let fd = -EAFNOSUPPORT;
  let address = addresses[0];
  for (address of addresses) {
    const request = { address, port: o.port, ipv6Only: o.ipv6Only, reusePort: o.reusePort };
    fd = names.length > 0 ? withCapabilities(names, () => native.bindTcp(request)) : native.bindTcp(request);
    if (fd !== -EAFNOSUPPORT) break; // no IPv6 on this machine: Node falls back to 0.0.0.0 the same way
  }
  if (fd < 0) throw listenError(-fd, address, o.port);

  let server: net.Server;
  try {
    server = t.listenOn(o.backlog === undefined ? { fd } : { fd, backlog: o.backlog });
  } catch (e) {
    fs.closeSync(fd);
    throw e;
  }
  await settle(server);
  return server;
}
