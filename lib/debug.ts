// NODE_DEBUG=privdrop: one line per step on stderr, through util.debuglog (so NODE_DEBUG=privdrop
// and NODE_DEBUG=privdrop,net both work, and it costs one boolean test when off).
import { debuglog } from 'util';

const log = debuglog('privdrop');

/** Whether NODE_DEBUG names privdrop. Check it before building an expensive message. */
export function debugEnabled(): boolean {
  return log.enabled;
}

/** Writes "PRIVDROP <pid>: message" to stderr when enabled (util.format arguments). */
export function debug(message: string, ...args: unknown[]): void {
  if (log.enabled) log(message, ...args);
}

/** Milliseconds since `start` (a process.hrtime.bigint() value), two decimals. */
export function msSince(start: bigint): string {
  return (Number(process.hrtime.bigint() - start) / 1e6).toFixed(2);
}
