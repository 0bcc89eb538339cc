// NODE_DEBUG=privdrop lines for dropPrivileges(): what it resolved, each step of the native drop
// with its thread count and time, and what it verified. Only called when tracing is on.
import fs = require('fs');
import type { RawDropResult } from '../addon/binding';
import { debug, msSince } from '../debug';
import type { CapabilitySet } from '../capabilities';
import { OPTION_NAMES, OptionRow, OPTIONS, planValue, planView, ResolvedDrop } from './options';

/** Threads of this process now, from /proc/self/task ('?' if it cannot be read). */
function threadCount(): number | string {
  try {
    return fs.readdirSync('/proc/self/task').length;
  } catch {
    return '?';
  }
}

export function traceStart(): void {
  debug('drop: start, %s threads in /proc/self/task', threadCount());
}

export function traceResolved(plan: ResolvedDrop, kept: CapabilitySet, start: bigint): void {
  const view = planView(plan, kept);
  const words = OPTION_NAMES.flatMap((name) => {
    const row: OptionRow<unknown, unknown> = OPTIONS[name];
    return row.trace ? [row.trace(planValue(plan, name), view)] : [];
  });
  debug('drop: resolved and checked in %s ms: %s', msSince(start), words.join(', '));
}

export function traceRefused(e: unknown, start: bigint): void {
  const err = e as { code?: string; name?: string; message?: string };
  debug('drop: refused before any change after %s ms: %s: %s', msSince(start), err.code ?? err.name, err.message);
}

export function traceDone(raw: RawDropResult, start: bigint): void {
  for (const b of raw.broadcasts) debug('drop: step %s ran on %d threads in %s ms', b.name, b.threads, b.ms.toFixed(3));
  debug(
    'drop: done: %d threads verified in /proc/self/task, regaining root %s; native %s ms, whole call %s ms',
    raw.threads, raw.regainChecked ? 'proved impossible' : 'not checked (cap_setuid kept)', raw.ms.toFixed(3), msSince(start),
  );
}
