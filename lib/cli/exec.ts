// `privdrop exec`: drop privileges, then execve COMMAND in place (same PID). Everything that can
// fail is checked before the drop, so a failure runs nothing.
import fs = require('fs');
import path = require('path');
import { binding } from '../addon/binding';
import type { CapabilityName } from '../capabilities';
import { hasFlag, optionValue, parseArgs, UsageError } from './args';
import { ConfigOrigin, readSecurityConfigs } from '../config';
import { DropOptions, dropPlan, keptSet, resolveDropOptions, ResolvedDrop } from '../drop';
import { ErrorCodes, PrivdropError, withStep } from '../errors';
import { capabilitiesFromText, toCapabilitySet } from '../capabilities/options';
import { BOUNDING_SET_VALUES, groupsFromText, isBoundingSet, Kind, OPTION_NAMES, OptionName, OptionRow, OPTIONS, planValue, planView } from '../drop/options';
import { permittedOnlyCapabilities, permittedOnlyProblem, programFile } from './permitted-only';

/** One option's help: the flag and its argument, then the text at column 25 (on its own line when the flag is long). */
function helpEntry(flag: string, lines: readonly string[]): string {
  const head = `  ${flag}`;
  const indent = ' '.repeat(25);
  const [first, ...rest] = lines;
  const top = head.length <= 24 ? `${head.padEnd(25)}${first}` : `${head}\n${indent}${first}`;
  return [top, ...rest.map((l) => indent + l)].join('\n') + '\n';
}

/** The drop's options, from the option table: a flag per option, and a flag that turns a boolean off. */
const DROP_HELP = OPTION_NAMES.map((name) => {
  const { cli } = OPTIONS[name] as OptionRow<unknown, unknown>;
  return helpEntry(`--${cli.flag}${cli.arg ? ` ${cli.arg}` : ''}`, cli.help) + (cli.off ? helpEntry(`--${cli.off.flag}`, cli.off.help) : '');
}).join('');

export const EXEC_HELP = `Usage: privdrop exec [options] [--] COMMAND [ARGS...]

Become an unprivileged user on every thread, keep the named capabilities, and run COMMAND
in place of privdrop (same PID, signals go straight to COMMAND). If anything fails, nothing
runs: the reason goes to stderr and the exit status is 125 (126 or 127 for COMMAND itself).

Options:
${DROP_HELP}  --permitted-only NAMES keep these capabilities (comma-separated names) permitted but not
                         effective in COMMAND, for a program that raises them itself when it
                         needs them (privdrop's listen() or withCapabilities(), cap_set_proc).
                         The kernel passes them that way only through COMMAND's file
                         inheritable set: mark it once with setcap NAME+i FILE (privdrop
                         checks, and runs nothing otherwise). Implies --no-ambient
  --keep-fd N            keep file descriptor N open in COMMAND (repeatable); 0-2 are always
                         kept, every other inherited descriptor is closed
  --reset-env            clear the environment except TERM; set HOME, USER, LOGNAME, SHELL
                         from the user's entry and PATH=/usr/local/bin:/usr/bin:/bin (COMMAND
                         is then looked up in that PATH), as setpriv --reset-env does
  --config FILE          read these settings from FILE (JSON, or a Security { } stanza among
                         other stanzas). Repeatable: a later file's settings override an
                         earlier one's, key by key (a cluster file over the base one); options
                         given here override the files. Each file (and every directory
                         above it, symlinks followed) must be owned by root (or by you) and
                         not writable by group or others, as sshd's StrictModes requires;
                         it must be a regular file (not a pipe, FIFO or device)
  --dry-run              check everything and print what would be done, change nothing
  -h, --help             show this help

COMMAND is searched for in PATH (inside DIR with --chroot) before anything changes.

Exit status (as env(1) and chroot(1)): COMMAND's own; 125 if privdrop fails (nothing ran);
126 if COMMAND is found but cannot be executed; 127 if COMMAND is not found; 2 for a usage
error; 0 for a successful --dry-run.
`;

const ROWS = OPTION_NAMES.map((name) => [name, OPTIONS[name] as OptionRow<unknown, unknown>] as const);

/** privdrop exec's options: the table's flags, then exec's own (test/evidence/fuzz.test.ts checks that the fuzzer knows each). */
export const SPECS: Record<string, { value: boolean; repeat?: boolean }> = {
  ...Object.fromEntries(
    ROWS.flatMap(([, { kind, cli }]) => [[cli.flag, { value: kind !== 'boolean' }], ...(cli.off ? [[cli.off.flag, { value: false }]] : [])]),
  ),
  'permitted-only': { value: true },
  'keep-fd': { value: true, repeat: true },
  'reset-env': { value: false },
  config: { value: true, repeat: true },
  'dry-run': { value: false },
  help: { value: false },
};

// dropPrivileges() option names and setpriv's spellings, typed as options: the message names ours.
export const ALIASES: Record<string, string> = Object.fromEntries(ROWS.flatMap(([, { cli }]) => (cli.aliases ?? []).map((a) => [a, cli.flag])));

/** A flag's text as the option's value (as the config readers read a stanza value). */
function fromText(kind: Kind, text: string, flag: string): unknown {
  switch (kind) {
    case 'groups':
      return groupsFromText(text);
    case 'capabilities':
      return capabilitiesFromText(text);
    case 'bounding':
      if (!isBoundingSet(text)) throw new UsageError(`--${flag} must be ${BOUNDING_SET_VALUES.join(' or ')}, got ${JSON.stringify(text)}`, 'exec');
      return text;
    default:
      return text;
  }
}

const DEFAULT_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';
/** --reset-env's PATH for the (never root) target user. */
const RESET_PATH = '/usr/local/bin:/usr/bin:/bin';
const O_CLOEXEC = 0o2000000;

export interface ExecRequest {
  options: DropOptions;
  command: string[];
  keepFds: number[];
  dryRun: boolean;
  resetEnv: boolean;
  /** --permitted-only: capabilities COMMAND gets permitted but not effective (lib/cli/permitted-only.ts). */
  permittedOnly: CapabilityName[];
  /** The program file the check read (set by runExec). */
  permittedOnlyFile?: string;
  /** COMMAND is this node: 'added' --disable-sigusr1 to its argv, or 'unsupported' by this node (set by checkExec). */
  nodeSwitch?: 'added' | 'unsupported';
  /** The --config files, in order (empty without one). */
  configFiles: string[];
  /** With --config: where each option set came from, "file:line" or the command-line option. */
  origins: Partial<Record<OptionName, string>>;
  /** What the files said that does not apply (a Solaris "Privileges" line). */
  notes: string[];
}

/** Options and COMMAND from the arguments and the config file; throws UsageError for exit 2. */
export function execRequest(args: string[]): ExecRequest | 'help' {
  const parsed = parseArgs('exec', args, SPECS, { short: { h: 'help' }, stopAtPositional: true, aliases: ALIASES });
  if (hasFlag(parsed, 'help')) return 'help';
  const command = parsed.rest;
  if (command.length === 0) throw new UsageError('no COMMAND given', 'exec');
  for (const [, { cli }] of ROWS) {
    if (cli.off && hasFlag(parsed, cli.flag) && hasFlag(parsed, cli.off.flag)) {
      throw new UsageError(`--${cli.flag} and --${cli.off.flag} contradict each other`, 'exec');
    }
  }
  const keepFds = (parsed.options.get('keep-fd') ?? []).map((v) => {
    if (!/^\d+$/.test(v) || Number(v) > 0x7fffffff) throw new UsageError(`--keep-fd needs a file descriptor number, got ${JSON.stringify(v)}`, 'exec');
    return Number(v);
  });

  const configFiles = parsed.options.get('config') ?? [];
  if (configFiles.includes('')) throw new UsageError('--config needs a file name', 'exec');
  // Layered: each file trust-checked and read in order, a later one's keys over an earlier one's.
  const config = configFiles.length ? readSecurityConfigs(configFiles) : undefined;
  const options: Record<string, unknown> = { ...config?.options };
  const origins: Partial<Record<OptionName, string>> = {};
  for (const [option, at] of Object.entries(config?.origins ?? {}) as [OptionName, ConfigOrigin][]) origins[option] = `${at.file}:${at.line}`;
  const set = (key: OptionName, value: unknown, flag: string) => {
    if (value === undefined) return;
    options[key] = value;
    origins[key] = `--${flag}`;
  };
  // Each option's flag from the table; a flag overrides the config files.
  for (const [name, { kind, cli }] of ROWS) {
    if (kind !== 'boolean') {
      const text = optionValue(parsed, cli.flag);
      if (text !== undefined) set(name, fromText(kind, text, cli.flag), cli.flag);
    } else if (hasFlag(parsed, cli.flag)) set(name, true, cli.flag);
    else if (cli.off && hasFlag(parsed, cli.off.flag)) set(name, false, cli.off.flag);
    else if (cli.default !== undefined && options[name] === undefined) options[name] = cli.default;
  }
  // Checked against libcap's names when the capability set is built just below.
  const permittedOnly = (optionValue(parsed, 'permitted-only') ?? '').split(',').map((n) => n.trim()).filter(Boolean) as CapabilityName[];
  if (optionValue(parsed, 'permitted-only') !== undefined) {
    if (permittedOnly.length === 0 || permittedOnly.some((n) => /[=+\-\s]/.test(n))) {
      throw new UsageError('--permitted-only needs a comma-separated list of capability names, e.g. cap_net_bind_service', 'exec');
    }
    if (hasFlag(parsed, 'ambient')) {
      throw new UsageError('--permitted-only and --ambient contradict each other: an ambient capability is effective in COMMAND', 'exec');
    }
    set('ambient', false, 'permitted-only');
    set('capabilities', permittedOnlyCapabilities(toCapabilitySet(options.capabilities), permittedOnly), 'permitted-only');
  }
  if (options.user === undefined) throw new UsageError('no user given: use --user USER (or user in --config)', 'exec');
  return {
    options: options as unknown as DropOptions, command, keepFds, dryRun: hasFlag(parsed, 'dry-run'), permittedOnly, resetEnv: hasFlag(parsed, 'reset-env'),
    configFiles, origins, notes: config?.notes ?? [],
  };
}

/** The path's file status as seen from inside `root`: absolute symlinks stay inside it, as after chroot. */
function statInRoot(root: string, file: string): fs.Stats | null {
  let parts = file.split('/').filter(Boolean);
  let resolved: string[] = [];
  let hops = 0;
  try {
    while (parts.length) {
      const part = parts.shift() as string;
      if (part === '.') continue;
      if (part === '..') {
        resolved.pop();
        continue;
      }
      const host = path.join(root, ...resolved, part);
      if (fs.lstatSync(host).isSymbolicLink()) {
        if (++hops > 40) return null;
        const target = fs.readlinkSync(host);
        if (target.startsWith('/')) resolved = [];
        parts = [...target.split('/').filter(Boolean), ...parts];
        continue;
      }
      resolved.push(part);
    }
    return fs.statSync(path.join(root, ...resolved));
  } catch {
    return null;
  }
}

export interface ResolvedCommand {
  /** The path execve gets: inside the chroot when there is one. */
  file: string;
  stat: fs.Stats;
}

/** Finds COMMAND as execvp would after the drop (PATH of privdrop's environment, empty and relative entries skipped). */
export function resolveCommand(command: string, chroot: string, searchPath = process.env.PATH || DEFAULT_PATH): ResolvedCommand {
  const root = chroot || '/';
  const candidates: string[] = [];
  if (command.includes('/')) {
    // After chroot the working directory is the new root.
    candidates.push(chroot && !command.startsWith('/') ? '/' + command : command);
  } else if (command !== '') {
    for (const dir of searchPath.split(':')) if (dir.startsWith('/')) candidates.push(path.posix.join(dir, command));
  }
  let notExecutable: string | undefined;
  for (const file of candidates) {
    const st = statInRoot(root, file.startsWith('/') ? file : path.resolve(file));
    if (!st || st.isDirectory()) continue;
    if (!st.isFile() || (st.mode & 0o111) === 0) {
      notExecutable ??= file;
      continue;
    }
    return { file, stat: st };
  }
  if (notExecutable !== undefined) {
    throw new PrivdropError(ErrorCodes.EXEC_FAILED, `${command}: ${notExecutable}${chroot ? ` (in ${chroot})` : ''} is not an executable file`);
  }
  const where = command.includes('/') ? '' : chroot ? ` in PATH inside ${chroot}` : ' in PATH';
  throw new PrivdropError(ErrorCodes.COMMAND_NOT_FOUND, `${command}: command not found${where}`, { path: command });
}

// The permission check execve will make as the new user, so "permission denied" also runs nothing.
function checkExecutableBy(cmd: ResolvedCommand, plan: ResolvedDrop, display: string): void {
  if (plan.capabilities.has('cap_dac_override', 'effective')) return;
  const { uid, gid, mode } = cmd.stat;
  const bit = uid === plan.uid ? 0o100 : gid === plan.gid || plan.groups.includes(gid) ? 0o010 : 0o001;
  if ((mode & bit) === 0) {
    throw new PrivdropError(ErrorCodes.EXEC_FAILED, `${display}: ${cmd.file} is not executable by uid ${plan.uid} (mode ${(mode & 0o7777).toString(8)})`);
  }
}

/** Inherited descriptors that would leak into COMMAND: open without close-on-exec, not kept. */
function leakingFds(keep: Set<number>): number[] {
  const out: number[] = [];
  let entries: string[];
  try {
    entries = fs.readdirSync('/proc/self/fd');
  } catch {
    return out;
  }
  for (const name of entries) {
    const fd = Number(name);
    if (!Number.isInteger(fd) || fd <= 2 || keep.has(fd)) continue;
    try {
      const m = /^flags:\s*([0-7]+)/m.exec(fs.readFileSync(`/proc/self/fdinfo/${fd}`, 'utf8'));
      if (m && (parseInt(m[1], 8) & O_CLOEXEC) === 0) out.push(fd);
    } catch {
      /* the directory's own descriptor, closed by now */
    }
  }
  return out;
}

function describeId(kind: 'user' | 'group', id: number): string {
  const entry = kind === 'user' ? binding().lookupUser(id) : binding().lookupGroup(id);
  return entry ? `${id} (${entry.name})` : String(id);
}

/** Node's own switch that keeps SIGUSR1 from starting its inspector. */
const DISABLE_SIGUSR1 = '--disable-sigusr1';

/**
 * Whether COMMAND is the node running privdrop (same file), and then whether that node has
 * --disable-sigusr1. Another node's version is not known without running it: SECURITY.md says what to do.
 */
function nodeSwitch(cmd: ResolvedCommand): 'added' | 'unsupported' | undefined {
  let self: fs.Stats;
  try {
    self = fs.statSync(process.execPath);
  } catch {
    return undefined;
  }
  if (cmd.stat.dev !== self.dev || cmd.stat.ino !== self.ino) return undefined;
  return process.allowedNodeEnvironmentFlags.has(DISABLE_SIGUSR1) ? 'added' : 'unsupported';
}

/** What --dry-run prints: the table's rows for the options, then exec's own. */
export function describePlan(plan: ResolvedDrop, cmd: ResolvedCommand, request: ExecRequest): string {
  const view = planView(plan, keptSet(plan), describeId);
  const rows: [string, string, OptionName?][] = ROWS.map(([name, row]) => [row.dryRun.row, row.dryRun.show(planValue(plan, name), view), name]);
  if (request.nodeSwitch === 'added') {
    for (const row of rows) if (row[2] === 'keepDebugSignals') row[1] = 'closed (COMMAND is node: --disable-sigusr1 added)';
  }
  if (request.permittedOnly.length) {
    rows.push(['permitted', `${request.permittedOnly.join(' ')} only, not effective: COMMAND raises it (through ${request.permittedOnlyFile}'s inheritable set)`]);
  }
  rows.push(
    ['root regain', plan.rootRegainable ? `yes (${plan.warnings.filter((w) => w.code === 'PRIVDROP_ROOT_EQUIVALENT_CAPABILITY').map((w) => w.subject).join(', ')})` : 'no'],
    ['environment', request.resetEnv ? 'reset (HOME USER LOGNAME SHELL PATH TERM)' : 'inherited'],
    ['command', [cmd.file, ...request.command.slice(1)].map(shellQuote).join(' ')],
    ['argv[0]', shellQuote(request.command[0])],
    ['keep fds', [0, 1, 2, ...request.keepFds].join(' ')],
  );
  // With --config: which file (and line), or which option, each setting came from.
  if (request.configFiles.length) {
    for (const row of rows) if (row[2]) row[1] += `  [${request.origins[row[2]] ?? 'default'}]`;
    rows.unshift(['config', request.configFiles.join(', ') + (request.configFiles.length > 1 ? ' (later files override earlier ones key by key)' : '')]);
    for (const note of request.notes) rows.push(['note', note]);
  }
  return 'dry run: checked, nothing changed; would do:\n' + rows.map(([k, v]) => `  ${k.padEnd(14)}${v}`).join('\n') + '\n';
}

function shellQuote(s: string): string {
  return /^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

/** setpriv --reset-env's environment for the target user: TERM kept, everything else replaced. */
export function resetEnvironment(plan: ResolvedDrop, term = process.env.TERM): Record<string, string> {
  if (!plan.account) {
    throw new PrivdropError(ErrorCodes.INVALID_ARGUMENT, `--reset-env needs a user in the user database; uid ${plan.uid} has no entry`);
  }
  const env: Record<string, string> = {
    HOME: plan.account.home,
    USER: plan.account.name,
    LOGNAME: plan.account.name,
    SHELL: plan.account.shell || '/bin/sh',
    PATH: RESET_PATH,
  };
  if (term !== undefined) env.TERM = term;
  return env;
}

interface CheckedExec {
  request: ExecRequest;
  /** The plan that was checked: the one that is dropped (names are resolved once). */
  plan: ResolvedDrop;
  cmd: ResolvedCommand;
  env: NodeJS.ProcessEnv;
}

/** Everything `privdrop exec` checks before the drop: the request, the plan, COMMAND, the descriptors. */
function checkExec(args: string[], out: (s: string) => void, err: (s: string) => void): CheckedExec | number {
  const request = execRequest(args);
  if (request === 'help') {
    out(EXEC_HELP);
    return 0;
  }
  const plan = resolveDropOptions(request.options);
  if (plan.chroot && !statInRoot('/', plan.chroot)?.isDirectory()) {
    throw new PrivdropError(ErrorCodes.INVALID_CHROOT, `--chroot ${plan.chroot}: no such directory`, { path: plan.chroot });
  }
  const env = request.resetEnv ? resetEnvironment(plan) : process.env;
  const cmd = resolveCommand(request.command[0], plan.chroot, request.resetEnv ? RESET_PATH : undefined);
  checkExecutableBy(cmd, plan, request.command[0]);
  if (request.permittedOnly.length) {
    const file = programFile(cmd.file, plan.chroot || '/', request.resetEnv ? RESET_PATH : process.env.PATH || DEFAULT_PATH);
    const problem = permittedOnlyProblem(file, request.permittedOnly);
    if (problem) throw new PrivdropError(ErrorCodes.INVALID_ARGUMENT, `--permitted-only: ${problem}`, { path: file, step: 'validate' });
    request.permittedOnlyFile = file;
  }
  for (const fd of request.keepFds) {
    try {
      fs.fstatSync(fd);
    } catch {
      throw new PrivdropError(ErrorCodes.INVALID_ARGUMENT, `--keep-fd ${fd}: file descriptor ${fd} is not open`);
    }
  }
  request.nodeSwitch = plan.keepDebugSignals ? undefined : nodeSwitch(cmd);
  if (request.nodeSwitch === 'added') request.command.splice(1, 0, DISABLE_SIGUSR1);
  // Printed now: COMMAND replaces this process before process.emitWarning() would print.
  for (const w of plan.warnings) err(`privdrop exec: warning: ${w.message}\n`);
  if (request.nodeSwitch === 'unsupported') {
    err(
      `privdrop exec: warning: node ${process.version} has no --disable-sigusr1 (Node 22.14, 23.7 and later have it): after the drop any process ` +
        `of uid ${plan.uid} can start the inspector of ${request.command[0]} with SIGUSR1 and run code in it with the kept capabilities. ` +
        'Call dropPrivileges() in the program instead (it closes that door on every Node), or use a newer node; --keep-debug-signals silences this\n',
    );
  }
  if (request.dryRun) {
    out(describePlan(plan, cmd, request));
    return 0;
  }
  return { request, plan, cmd, env };
}

/** Runs `privdrop exec`. Returns an exit status only for --help and --dry-run; otherwise execs or throws. */
export function runExec(args: string[], out: (s: string) => void, err: (s: string) => void = (s) => process.stderr.write(s)): number {
  let checked: CheckedExec | number;
  try {
    checked = checkExec(args, out, err);
  } catch (e) {
    throw withStep(e, 'validate'); // nothing has changed yet
  }
  if (typeof checked === 'number') return checked;
  const { request, plan, cmd } = checked;
  // Read before the drop: after a chroot there may be no /proc.
  const leaking = leakingFds(new Set(request.keepFds));
  const env = Object.entries(checked.env).map(([k, v]) => `${k}=${v ?? ''}`);
  // The plan checked above, not the options again: NSS may answer differently a second time.
  dropPlan(plan, { emitWarnings: false });
  for (const fd of leaking) {
    try {
      fs.closeSync(fd);
    } catch {
      /* already closed */
    }
  }
  binding().exec(cmd.file, request.command, env, request.keepFds);
  throw new PrivdropError(ErrorCodes.EXEC_FAILED, `${request.command[0]}: execve returned`);
}
