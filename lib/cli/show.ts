// `privdrop show [PID]`: what a process holds, thread by thread, as text or JSON.
import fs = require('fs');
import { binding } from '../addon/binding';
import { hasFlag, parseArgs, UsageError } from './args';
import { ErrorCodes, PrivdropError } from '../errors';
import { CAPABILITY_SETS, formatState, hexMask, terminalSafeJson } from '../state/format';
import { compareThreads, decodeSecurebits, IdSet, processState, readThreads, Securebits, StateDifference, ThreadState } from '../state/read';

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

const SETS = CAPABILITY_SETS;

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

function userName(id: number): string | null {
  return binding().lookupUser(id)?.name ?? null;
}

function groupName(id: number): string | null {
  return binding().lookupGroup(id)?.name ?? null;
}

/** What show reads: every thread of the process, its main thread, and (own process only) securebits. */
interface Snapshot {
  pid: number;
  command: string;
  main: ThreadState;
  threads: ThreadState[];
  securebits: Securebits | null;
  differences: StateDifference[];
}

function snapshot(pid?: number): Snapshot {
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
  return { pid, command, main, threads, securebits, differences: compareThreads(threads) };
}

/** The state of process `pid` (undefined: this process) in the shape `show --json` prints. */
export function showState(pid?: number): ShownState {
  const { pid: shown, command, main, threads, securebits, differences } = snapshot(pid);
  const caps = {} as ShownState['capabilities'];
  for (const set of SETS) caps[set] = { mask: hexMask(main.capabilities[set]), names: main.capabilities[set].names };
  return {
    pid: shown,
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
      for (const set of SETS) c[set] = hexMask(t.capabilities[set]);
      return { tid: t.tid, name: t.name, uid: t.uid, gid: t.gid, groups: t.groups, capabilities: c, noNewPrivs: t.noNewPrivs, seccomp: t.seccomp };
    }),
  };
}

/** The text form of `privdrop show`: the library's one formatter, with user and group names. */
export function formatShown(pid?: number): string {
  const s = snapshot(pid);
  return formatState({ ...s, thread: s.main, userName, groupName });
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
  // Names are the process's own text: escaped so they cannot drive the terminal (JSON too).
  out(hasFlag(parsed, 'json') ? terminalSafeJson(JSON.stringify(showState(pid), null, 2)) + '\n' : formatShown(pid));
  return 0;
}
