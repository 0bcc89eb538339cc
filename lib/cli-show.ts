// `privdrop show [PID]`: what a process holds, thread by thread, as text or JSON.
import * as fs from 'fs';
import { binding } from './binding';
import { hasFlag, parseArgs, UsageError } from './cli-args';
import { ErrorCodes, PrivdropError } from './errors';
import {
  CapabilityMask,
  compareThreads,
  decodeSecurebits,
  fieldValue,
  IdSet,
  processState,
  readThreads,
  Securebits,
  StateDifference,
  ThreadState,
} from './state';

export const SHOW_HELP = `Usage: privdrop show [PID] [--json]

Print the credentials of process PID (default: this privdrop process, i.e. what it inherited):
uid, gid, supplementary groups, the five capability sets by name and as hex masks,
securebits (own process only: the kernel shows them nowhere else), no_new_privs, seccomp,
and a per-thread table when the threads disagree. Read from /proc/PID/task/*/status.

Options:
  --json       print JSON instead of text (masks as "0x" and 16 hex digits)
  -h, --help   show this help

Exit status: 0; 1 if the process does not exist or cannot be read; 2 for a usage error.
`;

const LABEL = 14;
const WIDTH = 100;
const SETS = ['permitted', 'effective', 'inheritable', 'ambient', 'bounding'] as const;

export interface ShownId extends IdSet {
  /** The name of the real id in the user or group database, if it has one. */
  name: string | null;
}

export interface ShownState {
  pid: number;
  command: string;
  uid: ShownId;
  gid: ShownId;
  groups: { id: number; name: string | null }[];
  capabilities: Record<(typeof SETS)[number], { mask: string; names: string[] }>;
  /** null for another process: securebits are not in /proc. */
  securebits: Securebits | null;
  noNewPrivs: boolean;
  seccomp: number;
  consistent: boolean;
  differences: StateDifference[];
  threads: {
    tid: number;
    name: string;
    uid: IdSet;
    gid: IdSet;
    groups: number[];
    capabilities: Record<(typeof SETS)[number], string>;
    noNewPrivs: boolean;
    seccomp: number;
  }[];
}

const hex = (m: CapabilityMask) => '0x' + m.mask.toString(16).padStart(16, '0');

function userName(id: number): string | null {
  return binding().lookupUser(id)?.name ?? null;
}

function groupName(id: number): string | null {
  return binding().lookupGroup(id)?.name ?? null;
}

/** The state of process `pid` (undefined: this process) in the shape `show --json` prints. */
export function showState(pid?: number): ShownState {
  let threads: ThreadState[];
  let securebits: Securebits | null = null;
  let mainTid: number;
  if (pid === undefined || pid === process.pid) {
    const state = processState();
    threads = state.threads;
    securebits = state.securebits ?? decodeSecurebits(binding().getSecurebits());
    pid = process.pid;
    mainTid = state.tid;
  } else {
    if (!fs.existsSync(`/proc/${pid}/task`)) throw new PrivdropError(ErrorCodes.SYSTEM, `no process with PID ${pid}`, { errno: 3 });
    threads = readThreads(`/proc/${pid}/task`);
    if (threads.length === 0) throw new PrivdropError(ErrorCodes.SYSTEM, `process ${pid} exited while it was read`, { errno: 3 });
    mainTid = pid;
  }
  const main = threads.find((t) => t.tid === mainTid) ?? threads[0];
  let command = main.name;
  try {
    command = fs.readFileSync(`/proc/${pid}/comm`, 'utf8').replace(/\n$/, '');
  } catch {
    /* gone: keep the thread name */
  }
  const differences = compareThreads(threads);
  const caps = {} as ShownState['capabilities'];
  for (const set of SETS) caps[set] = { mask: hex(main.capabilities[set]), names: main.capabilities[set].names };
  return {
    pid,
    command,
    uid: { ...main.uid, name: userName(main.uid.real) },
    gid: { ...main.gid, name: groupName(main.gid.real) },
    groups: main.groups.map((id) => ({ id, name: groupName(id) })),
    capabilities: caps,
    securebits,
    noNewPrivs: main.noNewPrivs,
    seccomp: main.seccomp,
    consistent: differences.length === 0,
    differences,
    threads: threads.map((t) => {
      const c = {} as Record<(typeof SETS)[number], string>;
      for (const set of SETS) c[set] = hex(t.capabilities[set]);
      return { tid: t.tid, name: t.name, uid: t.uid, gid: t.gid, groups: t.groups, capabilities: c, noNewPrivs: t.noNewPrivs, seccomp: t.seccomp };
    }),
  };
}

function formatId(id: ShownId): string {
  const named = (n: number) => (n === id.real && id.name ? `${n} (${id.name})` : String(n));
  if (id.real === id.effective && id.real === id.saved && id.real === id.fs) return named(id.real);
  return `real ${named(id.real)}, effective ${id.effective}, saved ${id.saved}, fs ${id.fs}`;
}

function wrap(first: string, words: string[]): string {
  const lines: string[] = [];
  let line = first;
  for (const w of words) {
    if (line.length + 1 + w.length > WIDTH - LABEL && line !== '') {
      lines.push(line);
      line = w;
    } else {
      line = line === '' ? w : `${line} ${w}`;
    }
  }
  lines.push(line);
  return lines.join('\n' + ' '.repeat(LABEL));
}

/** The aligned text form of showState(). */
export function formatShownState(s: ShownState, threadTable: ThreadState[] | null = null): string {
  const lines: string[] = [];
  const row = (label: string, value: string) => lines.push((label.padEnd(LABEL) + value).trimEnd());
  row('process', `${s.pid} (${s.command}), ${s.threads.length} thread${s.threads.length === 1 ? '' : 's'}`);
  row('uid', formatId(s.uid));
  row('gid', formatId(s.gid));
  row('groups', s.groups.length ? s.groups.map((g) => (g.name ? `${g.id} (${g.name})` : String(g.id))).join(', ') : '(none)');
  for (const set of SETS) {
    const c = s.capabilities[set];
    row(set, wrap(`${c.mask}`, c.names.length ? c.names : ['(none)']));
  }
  row(
    'securebits',
    s.securebits ? `0x${s.securebits.value.toString(16)} ${s.securebits.flags.length ? s.securebits.flags.join(', ') : '(none)'}` : 'unknown (not shown in /proc for other processes)',
  );
  row('no_new_privs', s.noNewPrivs ? 'yes' : 'no');
  row('seccomp', `${s.seccomp} (${['disabled', 'strict', 'filter'][s.seccomp] ?? 'unknown'})`);
  if (s.consistent) {
    row('threads', s.threads.length === 1 ? 'one thread' : `all ${s.threads.length} agree`);
  } else {
    const fields = s.differences.map((d) => d.field);
    row('threads', `DISAGREE on ${fields.join(', ')}; the values above are the main thread's`);
    const header = ['tid', 'name', ...fields];
    const table = (threadTable ?? []).map((t) => [String(t.tid), t.name, ...fields.map((f) => fieldValue(t, f) || '(none)')]);
    const widths = header.map((h, i) => Math.max(h.length, ...table.map((r) => r[i].length)));
    const fmt = (cells: string[]) => ('  ' + cells.map((c, i) => c.padEnd(widths[i])).join('  ')).trimEnd();
    lines.push(fmt(header), ...table.map(fmt));
  }
  return lines.join('\n') + '\n';
}

export function runShow(args: string[], out: (s: string) => void): number {
  const parsed = parseArgs('show', args, { json: { value: false }, help: { value: false } }, { short: { h: 'help' } });
  if (hasFlag(parsed, 'help')) {
    out(SHOW_HELP);
    return 0;
  }
  if (parsed.positional.length > 1) throw new UsageError('show takes at most one PID', 'show');
  let pid: number | undefined;
  if (parsed.positional.length === 1) {
    const arg = parsed.positional[0];
    if (!/^[1-9]\d{0,9}$/.test(arg) || Number(arg) > 0x7fffffff) throw new UsageError(`PID must be a positive number, got ${JSON.stringify(arg)}`, 'show');
    pid = Number(arg);
  }
  const state = showState(pid);
  if (hasFlag(parsed, 'json')) {
    out(JSON.stringify(state, null, 2) + '\n');
  } else {
    // The table needs the field values as /proc writes them: rebuild them from the JSON threads.
    const table = state.consistent ? null : tableThreads(state);
    out(formatShownState(state, table));
  }
  return 0;
}

function tableThreads(s: ShownState): ThreadState[] {
  const mask = (h: string): CapabilityMask => ({ names: [], mask: BigInt(h) });
  return s.threads.map((t) => ({
    tid: t.tid,
    name: t.name,
    uid: t.uid,
    gid: t.gid,
    groups: t.groups,
    capabilities: {
      inheritable: mask(t.capabilities.inheritable),
      permitted: mask(t.capabilities.permitted),
      effective: mask(t.capabilities.effective),
      bounding: mask(t.capabilities.bounding),
      ambient: mask(t.capabilities.ambient),
    },
    noNewPrivs: t.noNewPrivs,
    seccomp: t.seccomp,
  }));
}
