// The one text form of a process's credentials: formatProcessState() and `privdrop show` both
// print through formatState().
import type { CapabilityMask, IdSet, ProcessState, Securebits, StateDifference, ThreadState } from './read';
import { fieldValue } from './read';

const LABEL_WIDTH = 14;
const LINE_WIDTH = 100;

/** The capability sets in the order they are printed. */
export const CAPABILITY_SETS = ['permitted', 'effective', 'inheritable', 'ambient', 'bounding'] as const;

/** What formatState() prints. */
export interface StateText {
  pid: number;
  /** The process's name (comm). */
  command: string;
  /** The thread whose values are printed (the main thread for another process). */
  thread: ThreadState;
  /** Every thread read, by ascending tid. */
  threads: ThreadState[];
  differences: StateDifference[];
  /** null when unknown: the kernel shows securebits only to the thread itself. */
  securebits: Securebits | null;
  /** Threads inside withCapabilities() windows (own process only). */
  windows?: { tid: number; depth: number; raised: string[] }[];
  /** Names from the user and group databases, when the caller looked them up. */
  userName?: (uid: number) => string | null;
  groupName?: (gid: number) => string | null;
}

/** A capability mask as "0x" and 16 hex digits, as /proc and capsh --decode write it. */
export function hexMask(m: CapabilityMask): string {
  return '0x' + m.mask.toString(16).padStart(16, '0');
}

/**
 * Aligned text: the process, uid, gid, groups, each capability set (mask and names), securebits,
 * no_new_privs, seccomp, and a per-thread table of the differing fields when threads disagree.
 */
// C0 controls, DEL, C1 controls (0x9b is a one-byte CSI), and the Unicode line separators and
// bidirectional overrides that reorder what a terminal shows.
const CONTROL = /[\\\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;

/**
 * A process or thread name (or an NSS name) as text safe to print on a terminal: control
 * characters become \xNN (\uNNNN above 0xff) and a backslash becomes \\, so a process cannot
 * send escape sequences to root's terminal through `privdrop show`. Printable text is unchanged.
 */
export function escapeControl(text: string): string {
  return text.replace(CONTROL, (c) => {
    if (c === '\\') return '\\\\';
    const code = c.charCodeAt(0);
    return code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
  });
}

// What JSON.stringify leaves raw but a terminal may still act on: DEL, C1 controls, line
// separators and bidi overrides. Only ever inside JSON strings, so \uXXXX keeps the same value.
const JSON_UNSAFE = /[\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;

/** JSON text safe to print on a terminal: the same JSON value, with those characters escaped. */
export function terminalSafeJson(json: string): string {
  return json.replace(JSON_UNSAFE, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

export function formatState(s: StateText): string {
  const lines: string[] = [];
  const row = (label: string, value: string) => lines.push((label.padEnd(LABEL_WIDTH) + value).trimEnd());
  const t = s.thread;
  const count = s.threads.length;
  row('process', `${s.pid} (${escapeControl(s.command)}), ${count} thread${count === 1 ? '' : 's'}`);
  row('uid', formatIds(t.uid, s.userName));
  row('gid', formatIds(t.gid, s.groupName));
  const groupName = (id: number) => s.groupName?.(id) ?? null;
  row('groups', t.groups.length ? t.groups.map((id) => named(id, groupName(id))).join(', ') : '(none)');
  for (const set of CAPABILITY_SETS) {
    const c = t.capabilities[set];
    row(set, wrap(hexMask(c), c.names.length ? c.names : ['(none)']));
  }
  const bits = s.securebits;
  row('securebits', bits ? `0x${bits.value.toString(16)} ${bits.flags.length ? bits.flags.join(', ') : '(none)'}` : 'unknown (not shown in /proc for other processes)');
  row('no_new_privs', t.noNewPrivs ? 'yes' : 'no');
  row('seccomp', `${t.seccomp} (${['disabled', 'strict', 'filter'][t.seccomp] ?? 'unknown'})`);
  for (const w of s.windows ?? []) {
    row('windows', `thread ${w.tid} inside ${w.depth} withCapabilities() window${w.depth === 1 ? '' : 's'}: ${w.raised.join(' ') || '(nothing raised)'}`);
  }
  if (s.differences.length === 0) {
    row('threads', (count === 1 ? 'one thread' : `all ${count} agree`) + (s.windows?.length ? ' (outside the windows above)' : ''));
  } else {
    const fields = s.differences.map((d) => d.field);
    const whose = t.tid === s.pid ? "the main thread's" : `thread ${t.tid}'s`;
    row('threads', `DISAGREE on ${fields.join(', ')}; the values above are ${whose}`);
    const header = ['tid', 'name', ...fields];
    const table = s.threads.map((th) => [String(th.tid), escapeControl(th.name), ...fields.map((f) => fieldValue(th, f) || '(none)')]);
    const widths = header.map((h, i) => Math.max(h.length, ...table.map((r) => r[i].length)));
    const fmt = (cells: string[]) => ('  ' + cells.map((c, i) => c.padEnd(widths[i])).join('  ')).trimEnd();
    lines.push(fmt(header), ...table.map(fmt));
  }
  return lines.join('\n') + '\n';
}

/**
 * A readable, aligned text form of a processState() result (the calling thread's values, and a
 * per-thread table of the fields that differ when the threads disagree). Looks nothing up.
 */
export function formatProcessState(state: ProcessState): string {
  const thread = state.threads.find((t) => t.tid === state.tid) ?? state.threads[0];
  if (!thread) return `${'process'.padEnd(LABEL_WIDTH)}${state.pid}, no threads could be read\n`;
  const main = state.threads.find((t) => t.tid === state.pid) ?? thread;
  return formatState({
    pid: state.pid,
    command: main.name,
    thread,
    threads: state.threads,
    differences: state.differences,
    securebits: state.securebits,
    windows: state.windows,
  });
}

function named(id: number, name: string | null): string {
  return name ? `${id} (${escapeControl(name)})` : String(id);
}

function formatIds(ids: IdSet, nameOf?: (id: number) => string | null): string {
  const real = named(ids.real, nameOf?.(ids.real) ?? null);
  if (ids.real === ids.effective && ids.real === ids.saved && ids.real === ids.fs) return real;
  return `real ${real}, effective ${ids.effective}, saved ${ids.saved}, fs ${ids.fs}`;
}

function wrap(first: string, words: string[]): string {
  const lines: string[] = [];
  let line = first;
  for (const w of words) {
    if (line.length + 1 + w.length > LINE_WIDTH - LABEL_WIDTH && line !== '') {
      lines.push(line);
      line = w;
    } else {
      line = line === '' ? w : `${line} ${w}`;
    }
  }
  lines.push(line);
  return lines.join('\n' + ' '.repeat(LABEL_WIDTH));
}
