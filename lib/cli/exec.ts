// `privdrop exec`: drop privileges, then execve COMMAND in place (same PID). Everything that can
// fail is checked before the drop, so a failure runs nothing.
import * as fs from 'fs';
import * as path from 'path';
import { binding } from '../addon/binding';
import type { CapabilityName } from '../capabilities';
import { hasFlag, optionValue, parseArgs, UsageError } from './args';
import { ConfigOrigin, readSecurityConfigs } from '../config';
import { DropOptions, dropPlan, keptSet, resolveDropOptions, ResolvedDrop } from '../drop';
import { ErrorCodes, PrivdropError, withStep } from '../errors';
import { BOUNDING_SET_VALUES, capabilitiesFromText, groupsFromText, isBoundingSet, OptionName, toCapabilitySet } from '../drop/options';
import { permittedOnlyCapabilities, permittedOnlyProblem, programFile } from './permitted-only';

export const EXEC_HELP = `Usage: privdrop exec [options] [--] COMMAND [ARGS...]

Become an unprivileged user on every thread, keep the named capabilities, and run COMMAND
in place of privdrop (same PID, signals go straight to COMMAND). If anything fails, nothing
runs: the reason goes to stderr and the exit status is 125 (126 or 127 for COMMAND itself).

Options:
  --user USER            user name or uid to become (required, here or in --config)
  --group GROUP          group name or gid (default: the user's primary group)
  --groups init|clear|LIST
                         supplementary groups: the user's (init, default), none (clear),
                         or a comma-separated list of names or gids
  --caps CAPS            capabilities to keep: libcap text ("cap_net_bind_service+ep") or a
                         comma-separated list of names (kept effective and permitted)
  --ambient              raise the kept capabilities into the ambient set so COMMAND keeps
                         them across exec (default)
  --no-ambient           do not: COMMAND starts without them unless it has file capabilities
  --permitted-only NAMES keep these capabilities (comma-separated names) permitted but not
                         effective in COMMAND, for a program that raises them itself when it
                         needs them (privdrop's listen() or withCapabilities(), cap_set_proc).
                         The kernel passes them that way only through COMMAND's file
                         inheritable set: mark it once with setcap NAME+i FILE (privdrop
                         checks, and runs nothing otherwise). Implies --no-ambient
  --bounding-set retained|unchanged
                         drop every other capability from the bounding set (retained,
                         default), or leave the bounding set as it is
  --chroot DIR           chroot into DIR after resolving names; COMMAND is looked up inside DIR
  --no-new-privs         set no_new_privs: nothing exec'd later can gain privileges
  --lock-securebits      set and lock noroot and no_setuid_fixup (root has no special powers)
  --keep-fd N            keep file descriptor N open in COMMAND (repeatable); 0-2 are always
                         kept, every other inherited descriptor is closed
  --keep-terminal        keep the controlling terminal (default: give it up after the drop,
                         so COMMAND cannot push keystrokes into the root shell that started
                         it with TIOCSTI; COMMAND still reads and writes the terminal and gets
                         Ctrl-C). Needed by what wants a controlling terminal (job control,
                         /dev/tty prompts): run those on their own pty (su --pty) instead
  --keep-debug-signals   keep the doors Node opens on a signal (default: close them: after
                         the drop any process of USER could signal this one, and SIGUSR1
                         would start node's inspector). A COMMAND that is this node is started
                         with --disable-sigusr1 where node has it (22.14, 23.7 and later)
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

/** privdrop exec's options (test/evidence/fuzz.test.ts checks that the fuzzer knows each). */
export const SPECS = {
  user: { value: true },
  group: { value: true },
  groups: { value: true },
  caps: { value: true },
  ambient: { value: false },
  'no-ambient': { value: false },
  'permitted-only': { value: true },
  'bounding-set': { value: true },
  chroot: { value: true },
  'no-new-privs': { value: false },
  'lock-securebits': { value: false },
  'keep-fd': { value: true, repeat: true },
  'keep-terminal': { value: false },
  'keep-debug-signals': { value: false },
  'reset-env': { value: false },
  config: { value: true, repeat: true },
  'dry-run': { value: false },
  help: { value: false },
};

// dropPrivileges() option names and setpriv's spellings, typed as options: the message names ours.
export const ALIASES: Record<string, string> = {
  capabilities: 'caps',
  'inh-caps': 'caps',
  supplementaryGroups: 'groups',
  'supplementary-groups': 'groups',
  'init-groups': 'groups',
  'clear-groups': 'groups',
  boundingSet: 'bounding-set',
  noNewPrivileges: 'no-new-privs',
  'no-new-privileges': 'no-new-privs',
  nnp: 'no-new-privs',
  lockSecurebits: 'lock-securebits',
  reuid: 'user',
  regid: 'group',
  uid: 'user',
  gid: 'group',
};

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
  if (hasFlag(parsed, 'ambient') && hasFlag(parsed, 'no-ambient')) {
    throw new UsageError('--ambient and --no-ambient contradict each other', 'exec');
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
  set('user', optionValue(parsed, 'user'), 'user');
  set('group', optionValue(parsed, 'group'), 'group');
  set('chroot', optionValue(parsed, 'chroot'), 'chroot');
  const groups = optionValue(parsed, 'groups');
  if (groups !== undefined) {
    set('supplementaryGroups', groupsFromText(groups), 'groups');
  }
  const caps = optionValue(parsed, 'caps');
  if (caps !== undefined) {
    set('capabilities', capabilitiesFromText(caps), 'caps');
  }
  const bounding = optionValue(parsed, 'bounding-set');
  if (bounding !== undefined && !isBoundingSet(bounding)) {
    throw new UsageError(`--bounding-set must be ${BOUNDING_SET_VALUES.join(' or ')}, got ${JSON.stringify(bounding)}`, 'exec');
  }
  set('boundingSet', bounding, 'bounding-set');
  if (hasFlag(parsed, 'ambient')) set('ambient', true, 'ambient');
  else if (hasFlag(parsed, 'no-ambient')) set('ambient', false, 'no-ambient');
  else if (options.ambient === undefined) options.ambient = true;
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
  if (hasFlag(parsed, 'no-new-privs')) set('noNewPrivileges', true, 'no-new-privs');
  if (hasFlag(parsed, 'lock-securebits')) set('lockSecurebits', true, 'lock-securebits');
  if (hasFlag(parsed, 'keep-terminal')) set('keepTerminal', true, 'keep-terminal');
  if (hasFlag(parsed, 'keep-debug-signals')) set('keepDebugSignals', true, 'keep-debug-signals');
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

/** The option each --dry-run row shows. */
const ROW_OPTIONS: Record<string, OptionName | undefined> = {
  user: 'user',
  group: 'group',
  groups: 'supplementaryGroups',
  capabilities: 'capabilities',
  ambient: 'ambient',
  'bounding set': 'boundingSet',
  chroot: 'chroot',
  no_new_privs: 'noNewPrivileges',
  securebits: 'lockSecurebits',
  terminal: 'keepTerminal',
  'debug signals': 'keepDebugSignals',
};

/** What --dry-run prints. */
export function describePlan(plan: ResolvedDrop, cmd: ResolvedCommand, request: ExecRequest): string {
  const kept = keptSet(plan);
  const names = (list: string[]) => (list.length ? list.join(' ') : '(none)');
  const rows: [string, string][] = [
    ['user', describeId('user', plan.uid)],
    ['group', describeId('group', plan.gid)],
    ['groups', plan.groups.length ? plan.groups.map((g) => describeId('group', g)).join(', ') : '(none)'],
    ['capabilities', kept.toString()],
    ['ambient', plan.ambient ? names(plan.capabilities.permitted) : '(none)'],
    ...(request.permittedOnly.length ? [['permitted', `${request.permittedOnly.join(' ')} only, not effective: COMMAND raises it (through ${request.permittedOnlyFile}'s inheritable set)`] as [string, string]] : []),
    ['bounding set', plan.boundingSet === 'retained' ? `only ${names(plan.capabilities.permitted)}` : 'unchanged'],
    ['chroot', plan.chroot || '(none)'],
    ['no_new_privs', plan.noNewPrivileges ? 'set' : 'unchanged'],
    ['securebits', plan.lockSecurebits ? 'noroot, no_setuid_fixup, locked' : 'unchanged'],
    ['root regain', plan.rootRegainable ? `yes (${plan.warnings.filter((w) => w.code === 'PRIVDROP_ROOT_EQUIVALENT_CAPABILITY').map((w) => w.subject).join(', ')})` : 'no'],
    ['terminal', plan.keepTerminal ? 'kept' : 'given up after the drop'],
    ['debug signals', plan.keepDebugSignals ? 'kept' : request.nodeSwitch === 'added' ? 'closed (COMMAND is node: --disable-sigusr1 added)' : 'closed in privdrop'],
    ['environment', request.resetEnv ? 'reset (HOME USER LOGNAME SHELL PATH TERM)' : 'inherited'],
    ['command', [cmd.file, ...request.command.slice(1)].map(shellQuote).join(' ')],
    ['argv[0]', shellQuote(request.command[0])],
    ['keep fds', [0, 1, 2, ...request.keepFds].join(' ')],
  ];
  // With --config: which file (and line), or which option, each setting came from.
  if (request.configFiles.length) {
    for (const row of rows) {
      const option = ROW_OPTIONS[row[0]];
      if (option) row[1] += `  [${request.origins[option] ?? 'default'}]`;
    }
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
