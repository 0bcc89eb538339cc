// What a process that privdrop/register does not drop (it is not root) may hold: at most what the
// configuration keeps, on every thread. Anything more means it was not started by the dropped
// server, or something raised it since: privdrop/register refuses to let the application run.
import { CapabilitySet } from '../capabilities';
import type { ResolvedDrop } from '../drop';
import type { ProcessState } from '../state/read';

const SETS = ['permitted', 'effective', 'inheritable', 'ambient', 'bounding'] as const;
/** What lockSecurebits sets (and locks); securebits survive exec, so a child has them too. */
const LOCKED_SECUREBITS = ['noroot', 'noroot_locked', 'no_setuid_fixup', 'no_setuid_fixup_locked', 'keep_caps_locked'];

function names(mask: bigint): string {
  const list = CapabilitySet.fromMasks({ effective: 0n, permitted: mask, inheritable: 0n }).permitted;
  return list.length <= 6 ? list.join(' ') : `${list.slice(0, 5).join(' ')} and ${list.length - 5} more`;
}

/** Each way `state` goes beyond `plan`, as text naming the threads; empty when it does not. */
export function beyondConfiguration(plan: ResolvedDrop, state: ProcessState): string[] {
  const m = plan.capabilities.masks;
  const allowed: Record<(typeof SETS)[number], bigint | undefined> = {
    permitted: m.permitted,
    effective: m.permitted, // withCapabilities() may raise a permitted one
    inheritable: m.inheritable | (plan.ambient ? m.permitted : 0n),
    ambient: plan.ambient ? m.permitted : 0n,
    bounding: plan.boundingSet === 'retained' ? m.permitted : undefined,
  };
  // One line per problem, with the threads that have it.
  const found = new Map<string, number[]>();
  const add = (what: string, tid: number) => found.set(what, [...(found.get(what) ?? []), tid]);
  for (const t of state.threads) {
    const uids = [t.uid.real, t.uid.effective, t.uid.saved, t.uid.fs];
    if (uids.some((u) => u !== plan.uid)) add(`uid is ${uids.join(' ')} (real, effective, saved, fs), not the configured ${plan.uid}`, t.tid);
    const gids = [t.gid.real, t.gid.effective, t.gid.saved, t.gid.fs];
    if (gids.some((g) => g !== plan.gid)) add(`gid is ${gids.join(' ')}, not the configured ${plan.gid}`, t.tid);
    const extraGroups = t.groups.filter((g) => !plan.groups.includes(g));
    if (extraGroups.length) add(`it is in groups ${extraGroups.join(',')} beyond the configured [${plan.groups.join(',')}]`, t.tid);
    for (const set of SETS) {
      const limit = allowed[set];
      if (limit === undefined) continue;
      const extra = t.capabilities[set].mask & ~limit;
      if (extra !== 0n) add(`its ${set} set holds ${names(extra)} beyond the configuration`, t.tid);
    }
    if (plan.noNewPrivileges && !t.noNewPrivs) add('no_new_privs is not set, and the configuration sets it', t.tid);
  }
  const out = [...found].map(([what, tids]) => `${what} (${tids.length === state.threads.length ? 'every thread' : `thread${tids.length > 1 ? 's' : ''} ${tids.join(', ')}`})`);
  if (plan.lockSecurebits) {
    const missing = LOCKED_SECUREBITS.filter((b) => !state.securebits.flags.includes(b));
    if (missing.length) out.push(`securebits ${missing.join(', ')} are not set, and the configuration locks them`);
  }
  if (!state.consistent) out.push(`its threads disagree on ${state.differences.map((d) => d.field).join(', ')}`);
  return out;
}
