// A systemd unit's SystemCallFilter= applied for real outside systemd: the groups come from
// `systemd-analyze syscall-filter` (the list systemd itself uses), the filter is resolved with
// systemd's rules, and test/helpers/seccomp-exec.c (compiled here with cc) installs it before it
// execs the command.
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

/** Why the systemd tests cannot run here, or null when systemd-analyze is installed. */
export const noSystemdAnalyze: string | null =
  spawnSync('systemd-analyze', ['--version'], { encoding: 'utf8' }).status === 0
    ? null
    : 'systemd-analyze is not installed (scripts/setup.sh installs the systemd package)';

/** Every group `systemd-analyze syscall-filter` knows, with its members (names and nested @groups). */
export function syscallGroups(): Map<string, string[]> {
  const r = spawnSync('systemd-analyze', ['syscall-filter', '--no-pager'], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`systemd-analyze syscall-filter failed: ${r.stderr}`);
  const groups = new Map<string, string[]>();
  let current: string[] | null = null;
  for (const raw of r.stdout.split('\n')) {
    const line = raw.trim();
    if (/^@[\w-]+$/.test(raw)) groups.set(line, (current = []));
    else if (line === '' || line.startsWith('#')) continue;
    else if (current) current.push(line);
  }
  if (!groups.has('@system-service') || !groups.has('@default')) throw new Error('systemd-analyze syscall-filter: no @system-service or @default');
  return groups;
}

function expand(name: string, groups: Map<string, string[]>, out: Set<string> = new Set()): Set<string> {
  if (!name.startsWith('@')) return out.add(name);
  const members = groups.get(name);
  if (!members) throw new Error(`unknown system call group ${name}`);
  for (const m of members) expand(m, groups, out);
  return out;
}

/**
 * The system calls a unit's SystemCallFilter= lines allow, by systemd's rules: a first line
 * without `~` makes an allow list that starts from @default; later lines without `~` add to it,
 * lines with `~` take away. (A deny-list filter is not needed by these tests and is refused.)
 */
export function allowedSyscalls(lines: string[], groups: Map<string, string[]>): Set<string> {
  if (lines.length === 0 || lines[0].startsWith('~')) throw new Error(`not an allow-list SystemCallFilter=: ${lines.join(' | ')}`);
  const allowed = expand('@default', groups);
  for (const line of lines) {
    const deny = line.startsWith('~');
    for (const word of line.replace(/^~/, '').split(/\s+/).filter(Boolean)) {
      for (const call of expand(word, groups)) {
        if (deny) allowed.delete(call);
        else allowed.add(call);
      }
    }
  }
  return allowed;
}

export interface SeccompExec {
  /** The wrapper that runs a command under a filter allowing `calls`; `action` is 'kill' or 'errno:N'. */
  wrapper(calls: Set<string>, action: string): string[];
  dir: string;
}

/**
 * Compiles seccomp-exec with a name -> number table for every call systemd knows (@known), taken
 * from the kernel headers; names this architecture lacks are left out, as systemd does.
 */
export function buildSeccompExec(groups: Map<string, string[]>): SeccompExec {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'privdrop-seccomp-'));
  fs.chmodSync(dir, 0o755); // a unit's User= runs it too
  const names = [...expand('@known', groups)].filter((n) => /^\w+$/.test(n)).sort();
  fs.writeFileSync(
    path.join(dir, 'syscall-names.h'),
    names.map((n) => `#ifdef __NR_${n}\n  {"${n}", __NR_${n}},\n#endif\n`).join(''),
  );
  const exe = path.join(dir, 'seccomp-exec');
  const cc = spawnSync(process.env.CC || 'cc', ['-O2', '-Wall', '-Werror', '-I', dir, '-o', exe, path.join(__dirname, 'seccomp-exec.c')], {
    encoding: 'utf8',
  });
  if (cc.status !== 0) throw new Error(`cc seccomp-exec.c failed: ${cc.stderr}`);
  let count = 0;
  return {
    dir,
    wrapper(calls, action) {
      const file = path.join(dir, `allowed-${++count}.txt`);
      fs.writeFileSync(file, [...calls].sort().join('\n') + '\n', { mode: 0o644 });
      return [exe, action, file];
    },
  };
}

/** The seccomp-exec action for a unit's SystemCallErrorNumber= (systemd kills the process without one). */
export function filterAction(errorNumber: string | undefined): string {
  if (!errorNumber) return 'kill';
  const n = os.constants.errno[errorNumber as keyof typeof os.constants.errno];
  if (n === undefined) throw new Error(`SystemCallErrorNumber=${errorNumber} is not an errno name`);
  return `errno:${n}`;
}
