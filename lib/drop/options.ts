// The one option table of dropPrivileges(): each option once, with its type and check, its
// default, its config-file spellings, its privdrop exec flag and help, and what --dry-run and the
// NODE_DEBUG trace print. dropPrivileges() (lib/drop/index.ts), the config readers (lib/config/),
// privdrop exec (lib/cli/exec.ts) and the DropOptions type derive from it; the rules for ids,
// names and the enumerated values are here too, so none is repeated elsewhere.
import { CapabilityName, CapabilitySet } from '../capabilities';
import { toCapabilitySet } from '../capabilities/options';
import { describe, ErrorCodes, invalidArgument, PrivdropError } from '../errors';
import type { DropWarning } from './root-equivalent';

/** A user or group: a name, or a numeric id. */
export type Id = string | number;

/** The largest uid or gid: (uid_t)-1 = 4294967295 means "unchanged" to the kernel. */
export const MAX_ID = 4294967294;

/** The longest user or group name privdrop passes to NSS. */
export const MAX_NAME_LENGTH = 256;

// Whitespace, ':' (the field separator of /etc/passwd and /etc/group) and ',' (the member
// separator of /etc/group, and the list separator of --groups and of stanza values).
const NAME_SEPARATOR = /[\s:,]/;

/** The values of the boundingSet option; the first is the default. */
export const BOUNDING_SET_VALUES = ['retained', 'unchanged'] as const;
export type BoundingSet = (typeof BOUNDING_SET_VALUES)[number];

/** The word forms of supplementaryGroups (otherwise a list); the first is the default. */
export const GROUP_FORMS = ['init', 'clear'] as const;
export type GroupForm = (typeof GROUP_FORMS)[number];

/** An integer id from 0 to MAX_ID. */
export function isIdNumber(value: unknown): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value >= 0 && value <= MAX_ID;
}

/** A user or group name privdrop will look up: 1 to MAX_NAME_LENGTH characters, no NUL, no whitespace, ':' or ','. */
export function isValidName(value: unknown): boolean {
  return typeof value === 'string' && value.length > 0 && value.length <= MAX_NAME_LENGTH && !value.includes('\0') && !NAME_SEPARATOR.test(value);
}

/** A name made of digits that NSS does not know is taken as that number, as setpriv does. */
export function numericName(name: string): number | undefined {
  return /^\d+$/.test(name) && Number(name) <= MAX_ID ? Number(name) : undefined;
}

/**
 * Checks a user or group given to dropPrivileges(): RangeError for a number out of range,
 * ERR_PRIVDROP_INVALID_ARGUMENT for a name that cannot be one, TypeError for anything else.
 */
export function checkId(value: unknown, what: string): Id {
  if (typeof value === 'number') {
    if (!isIdNumber(value)) throw new RangeError(`${what} must be an integer from 0 to ${MAX_ID}, got ${value}`);
    return value;
  }
  if (typeof value === 'string') {
    if (!isValidName(value)) throw invalidArgument(`${what} ${JSON.stringify(value.slice(0, 64))} is not a valid name`);
    return value;
  }
  throw new TypeError(`${what} must be a name (string) or an id (number), got ${describe(value)}`);
}

/** A boolean option; undefined means false. */
export function checkBoolean(value: unknown, what: string): boolean {
  if (value === undefined) return false;
  if (typeof value !== 'boolean') throw new TypeError(`${what} must be a boolean, got ${describe(value)}`);
  return value;
}

/** A chroot directory: an absolute path without NUL bytes. */
export function isChrootPath(value: unknown): boolean {
  return typeof value === 'string' && value.startsWith('/') && !value.includes('\0');
}

/** The chroot option; undefined means none (''). */
export function checkChroot(value: unknown): string {
  if (value === undefined) return '';
  if (typeof value !== 'string') throw new TypeError('chroot must be a string');
  if (!isChrootPath(value)) {
    throw new PrivdropError(ErrorCodes.INVALID_CHROOT, `chroot must be an absolute path without NUL bytes, got ${JSON.stringify(value.slice(0, 256))}`);
  }
  return value;
}

export function isBoundingSet(value: unknown): value is BoundingSet {
  return (BOUNDING_SET_VALUES as readonly unknown[]).includes(value);
}

/** The boundingSet option; undefined means 'retained'. */
export function checkBoundingSet(value: unknown): BoundingSet {
  if (value === undefined) return BOUNDING_SET_VALUES[0];
  const expected = `boundingSet must be ${BOUNDING_SET_VALUES.map((v) => `'${v}'`).join(' or ')}`;
  if (typeof value !== 'string') throw new TypeError(`${expected}, got ${describe(value)}`);
  if (!isBoundingSet(value)) throw invalidArgument(`${expected}, got ${JSON.stringify(value.slice(0, 64))}`);
  return value;
}

export function isGroupForm(value: unknown): value is GroupForm {
  return (GROUP_FORMS as readonly unknown[]).includes(value);
}

/** The supplementaryGroups option: 'init' (default), 'clear', or a list of checked ids. */
export function checkSupplementaryGroups(value: unknown): GroupForm | Id[] {
  if (value === undefined) return GROUP_FORMS[0];
  if (isGroupForm(value)) return value;
  if (!Array.isArray(value)) throw new TypeError(`supplementaryGroups must be 'init', 'clear' or an array of group names or ids`);
  return value.map((g: unknown, i: number) => checkId(g, `supplementaryGroups[${i}]`));
}

/**
 * supplementaryGroups written as text (--groups, a stanza value): 'init', 'clear', or names and
 * ids separated by commas ('' is the empty list). List entries are trimmed, not yet checked.
 */
export function groupsFromText(text: string): GroupForm | string[] {
  const t = text.trim();
  if (isGroupForm(t)) return t;
  if (t === '') return [];
  return t.split(',').map((g) => g.trim());
}


// ---- the table ----------------------------------------------------------------------------------

/** How a config file's value is read and checked (lib/config/), and how privdrop exec reads its flag's text. */
export type Kind = 'id' | 'capabilities' | 'path' | 'groups' | 'bounding' | 'boolean';

/** What --dry-run and the trace print besides an option's own value: the resolved ids, the set every thread keeps. */
export interface PlanView {
  uid: number;
  gid: number;
  groups: number[];
  kept: CapabilitySet;
  /** The names of the permitted capabilities kept. */
  permitted: string[];
  /** "33 (www-data)": an id with its name in the user or group database (the trace gives numbers only). */
  named(kind: 'user' | 'group', id: number): string;
}

/** privdrop exec's flag for an option. A boolean's flag sets true, its `off` flag false. */
export interface CliSpec {
  flag: string;
  /** The value's name in the help ("USER"); none for a boolean. */
  arg?: string;
  /** The help text, one string per line (wrapped at 68 columns). */
  help: readonly string[];
  off?: { flag: string; help: readonly string[] };
  /** privdrop exec's value when neither flag is given and no config file sets it (the library's default otherwise). */
  default?: boolean;
  /** Other spellings people type (dropPrivileges()'s names, setpriv's): refused, with this flag named. */
  aliases?: readonly string[];
}

export interface OptionRow<In, Out> {
  kind: Kind;
  /** dropPrivileges()'s check of a given value; `undefined` gives the default. */
  check(value: unknown): Out;
  required?: true;
  /** Security stanza spellings, lower case (read in any case). The JSON key is the option's name. */
  stanza: readonly string[];
  cli: CliSpec;
  /** --dry-run's row: its label and what it shows. */
  dryRun: { row: string; show(value: Out, v: PlanView): string };
  /** Applied by the native drop: the plan field's value (`true`: the checked value as it is), under the option's name. */
  native?: true | { convert(value: Out): unknown }['convert'];
  /** The NODE_DEBUG=privdrop "resolved" line's words for it (none: not traced). */
  trace?(value: Out, v: PlanView): string;
  /** Only for the type: what a caller may pass (DropOptions). */
  readonly input?: In;
}

function row<In, Out = In>(r: OptionRow<In, Out>): OptionRow<In, Out> {
  return r;
}

function requiredRow<In>(r: OptionRow<In, In> & { required: true }): OptionRow<In, In> & { required: true } {
  return r;
}

const yesNo = (b: boolean) => (b ? 'yes' : 'no');
const names = (list: string[]) => (list.length ? list.join(' ') : '(none)');

/**
 * Every option of dropPrivileges(), in the order messages, --help, --dry-run and the trace list
 * them. Each property's comment is the option's documentation (DropOptions shows it).
 */
export const OPTIONS = {
  /** User name or uid to become. Required. */
  user: requiredRow<Id>({
    kind: 'id',
    check: (v) => checkId(v, 'user'),
    required: true,
    stanza: ['user'],
    cli: { flag: 'user', arg: 'USER', help: ['user name or uid to become (required, here or in --config)'], aliases: ['reuid', 'uid'] },
    dryRun: { row: 'user', show: (_, v) => v.named('user', v.uid) },
    trace: (_, v) => `uid ${v.uid}`,
  }),
  /** Group name or gid. Default: the user's primary group. */
  group: row<Id, Id | undefined>({
    kind: 'id',
    check: (v) => (v === undefined ? undefined : checkId(v, 'group')),
    stanza: ['group'],
    cli: { flag: 'group', arg: 'GROUP', help: ["group name or gid (default: the user's primary group)"], aliases: ['regid', 'gid'] },
    dryRun: { row: 'group', show: (_, v) => v.named('group', v.gid) },
    trace: (_, v) => `gid ${v.gid}`,
  }),
  /** 'init' (the user's groups, as initgroups; default), 'clear' (none), or an exact list (readonly arrays too). */
  supplementaryGroups: row<GroupForm | readonly Id[], GroupForm | Id[]>({
    kind: 'groups',
    check: checkSupplementaryGroups,
    stanza: ['supplemental_groups', 'supplementary_groups'],
    cli: {
      flag: 'groups',
      arg: 'init|clear|LIST',
      help: ["supplementary groups: the user's (init, default), none (clear),", 'or a comma-separated list of names or gids'],
      aliases: ['supplementaryGroups', 'supplementary-groups', 'init-groups', 'clear-groups'],
    },
    dryRun: { row: 'groups', show: (_, v) => (v.groups.length ? v.groups.map((g) => v.named('group', g)).join(', ') : '(none)') },
    trace: (_, v) => `groups [${v.groups.join(',')}]`,
  }),
  /**
   * Capabilities to keep: libcap text, an array of names (meaning +ep), or a CapabilitySet. Default: none.
   * Names are typed (CapabilityName): a typo does not compile. A name newer than the types: `'cap_x' as CapabilityName`.
   */
  capabilities: row<string | readonly CapabilityName[] | CapabilitySet, CapabilitySet>({
    kind: 'capabilities',
    check: toCapabilitySet,
    stanza: ['capabilities'],
    native: (set) => set.masks,
    cli: {
      flag: 'caps',
      arg: 'CAPS',
      help: ['capabilities to keep: libcap text ("cap_net_bind_service+ep") or a', 'comma-separated list of names (kept effective and permitted)'],
      aliases: ['capabilities', 'inh-caps'],
    },
    dryRun: { row: 'capabilities', show: (_, v) => v.kept.toString() },
    trace: (_, v) => `keep ${v.kept.toString()}`,
  }),
  /** 'retained' (default): drop every other capability from the bounding set. 'unchanged': leave it. */
  boundingSet: row<BoundingSet>({
    kind: 'bounding',
    check: checkBoundingSet,
    stanza: ['bounding_set'],
    native: true,
    cli: {
      flag: 'bounding-set',
      arg: BOUNDING_SET_VALUES.join('|'),
      help: ['drop every other capability from the bounding set (retained,', 'default), or leave the bounding set as it is'],
      aliases: ['boundingSet'],
    },
    dryRun: { row: 'bounding set', show: (value, v) => (value === 'retained' ? `only ${names(v.permitted)}` : 'unchanged') },
    trace: (value) => `bounding set ${value === 'retained' ? 'trimmed to them' : 'unchanged'}`,
  }),
  /** Raise the kept capabilities into the ambient set, so exec'd children keep them. Default false. */
  ambient: row<boolean>({
    kind: 'boolean',
    check: (v) => checkBoolean(v, 'ambient'),
    stanza: ['ambient'],
    native: true,
    cli: {
      flag: 'ambient',
      help: ['raise the kept capabilities into the ambient set so COMMAND keeps', 'them across exec (default)'],
      off: { flag: 'no-ambient', help: ['do not: COMMAND starts without them unless it has file capabilities'] },
      default: true,
    },
    dryRun: { row: 'ambient', show: (value, v) => (value ? names(v.permitted) : '(none)') },
    trace: (value) => `ambient ${yesNo(value)}`,
  }),
  /** Set no_new_privs on every thread: exec can never gain privileges again. Default false. */
  noNewPrivileges: row<boolean>({
    kind: 'boolean',
    check: (v) => checkBoolean(v, 'noNewPrivileges'),
    stanza: ['no_new_privs'],
    native: true,
    cli: { flag: 'no-new-privs', help: ["set no_new_privs: nothing exec'd later can gain privileges"], aliases: ['noNewPrivileges', 'no-new-privileges', 'nnp'] },
    dryRun: { row: 'no_new_privs', show: (value) => (value ? 'set' : 'unchanged') },
    trace: (value) => `no_new_privs ${yesNo(value)}`,
  }),
  /** Set and lock SECBIT_NOROOT and SECBIT_NO_SETUID_FIXUP, and lock keep-caps off. Default false. */
  lockSecurebits: row<boolean>({
    kind: 'boolean',
    check: (v) => checkBoolean(v, 'lockSecurebits'),
    stanza: ['lock_securebits'],
    native: true,
    cli: { flag: 'lock-securebits', help: ['set and lock noroot and no_setuid_fixup (root has no special powers)'], aliases: ['lockSecurebits'] },
    dryRun: { row: 'securebits', show: (value) => (value ? 'noroot, no_setuid_fixup, locked' : 'unchanged') },
    trace: (value) => `lock securebits ${yesNo(value)}`,
  }),
  /** chroot into this absolute path (after resolving names), then chdir('/'). */
  chroot: row<string>({
    kind: 'path',
    check: checkChroot,
    stanza: ['chroot'],
    native: true,
    cli: { flag: 'chroot', arg: 'DIR', help: ['chroot into DIR after resolving names; COMMAND is looked up inside DIR'] },
    dryRun: { row: 'chroot', show: (value) => value || '(none)' },
    trace: (value) => `chroot ${value || 'none'}`,
  }),
  /**
   * Keep the controlling terminal. Default false: after the drop the process gives up the
   * terminal it was started from (a root shell's), so nothing it runs can push keystrokes into
   * that shell with TIOCSTI. It keeps its descriptors to the terminal (reading and writing work,
   * Ctrl-C still reaches its process group); what needs a controlling terminal (job control in an
   * interactive shell, programs that open /dev/tty for a password) needs keepTerminal: true, and
   * should then be started on its own pseudo-terminal rather than root's (as su --pty does).
   */
  keepTerminal: row<boolean>({
    kind: 'boolean',
    check: (v) => checkBoolean(v, 'keepTerminal'),
    stanza: ['keep_terminal'],
    cli: {
      flag: 'keep-terminal',
      help: [
        'keep the controlling terminal (default: give it up after the drop,',
        'so COMMAND cannot push keystrokes into the root shell that started',
        'it with TIOCSTI; COMMAND still reads and writes the terminal and gets',
        'Ctrl-C). Needed by what wants a controlling terminal (job control,',
        '/dev/tty prompts): run those on their own pty (su --pty) instead',
      ],
    },
    dryRun: { row: 'terminal', show: (value) => (value ? 'kept' : 'given up after the drop') },
  }),
  /**
   * Keep the doors Node opens on a signal. Default false: before any thread's uid changes (from
   * then on every process of the target user may signal this one), the drop makes SIGUSR1 no
   * longer start the inspector (whoever connects to it runs code here, with the kept
   * capabilities), turns --report-on-signal off and removes the --heapsnapshot-signal listener.
   * An inspector already listening (--inspect at start-up) keeps listening; process.on('SIGUSR1')
   * listeners keep working. See result.closedSignalDoors and SECURITY.md, "Signal doors".
   */
  keepDebugSignals: row<boolean>({
    kind: 'boolean',
    check: (v) => checkBoolean(v, 'keepDebugSignals'),
    stanza: ['keep_debug_signals'],
    cli: {
      flag: 'keep-debug-signals',
      help: [
        'keep the doors Node opens on a signal (default: close them: after',
        'the drop any process of USER could signal this one, and SIGUSR1',
        "would start node's inspector). A COMMAND that is this node is started",
        'with --disable-sigusr1 where node has it (22.14, 23.7 and later)',
      ],
    },
    dryRun: { row: 'debug signals', show: (value) => (value ? 'kept' : 'closed in privdrop') },
  }),
};

export type OptionName = keyof typeof OPTIONS;

/** Every option of dropPrivileges(), in the table's order. */
export const OPTION_NAMES = Object.keys(OPTIONS) as readonly OptionName[];

export function isOptionName(key: string): key is OptionName {
  return Object.prototype.hasOwnProperty.call(OPTIONS, key);
}

type InputOf<R> = R extends OptionRow<infer In, unknown> ? In : never;
type OutputOf<R> = R extends OptionRow<unknown, infer Out> ? Out : never;
type Inputs = { [K in OptionName]: InputOf<(typeof OPTIONS)[K]> };
/** Each option's checked value, the default in place of a missing one. */
export type CheckedOptions = { [K in OptionName]: OutputOf<(typeof OPTIONS)[K]> };
type RequiredOption = { [K in OptionName]: (typeof OPTIONS)[K] extends { required: true } ? K : never }[OptionName];

/** The options of dropPrivileges(), as the table declares them. */
export type DropOptions = Pick<Inputs, RequiredOption> & Partial<Omit<Inputs, RequiredOption>>;

/** Checks every option of `options` (an object whose keys are known options), in the table's order. */
export function checkOptions(options: object): CheckedOptions {
  const own = (key: OptionName): unknown => (Object.prototype.hasOwnProperty.call(options, key) ? (options as Record<string, unknown>)[key] : undefined);
  const out: Record<string, unknown> = {};
  for (const name of OPTION_NAMES) {
    const r: OptionRow<unknown, unknown> = OPTIONS[name];
    if (r.required && own(name) === undefined) throw invalidArgument(`the ${name} option is required`);
    out[name] = r.check(own(name));
  }
  return out as CheckedOptions;
}

/**
 * What resolveDropOptions() returns and the drop applies: every option checked (user, group and
 * supplementaryGroups resolved to numbers), and what the plan implies.
 */
export interface ResolvedDrop extends Omit<CheckedOptions, 'user' | 'group' | 'supplementaryGroups'> {
  uid: number;
  gid: number;
  groups: number[];
  /** The user database entry of the target user, if it has one (for exec --reset-env). */
  account: { name: string; home: string; shell: string } | null;
  /** Root-equivalent capabilities kept, group 0, and kept signal doors with a shared user, with reasons. */
  warnings: DropWarning[];
  /** Whether a kept capability gives root back. */
  rootRegainable: boolean;
}

/** The view --dry-run and the trace print from; `named` adds names to ids (the trace gives numbers). */
export function planView(plan: ResolvedDrop, kept: CapabilitySet, named: PlanView['named'] = (_kind, id) => String(id)): PlanView {
  return { uid: plan.uid, gid: plan.gid, groups: plan.groups, kept, permitted: plan.capabilities.permitted, named };
}

/** An option's value in a plan (user, group and supplementaryGroups are resolved to uid, gid and groups). */
export function planValue(plan: ResolvedDrop, name: OptionName): unknown {
  return (plan as unknown as Record<string, unknown>)[name];
}

/** The native drop's plan (lib/addon/binding.ts RawPlan): the resolved ids, and each option the table marks native. */
export function nativePlan(plan: ResolvedDrop): Record<string, unknown> {
  const out: Record<string, unknown> = { uid: plan.uid, gid: plan.gid, groups: plan.groups };
  for (const name of OPTION_NAMES) {
    const { native } = OPTIONS[name] as OptionRow<unknown, unknown>;
    if (native) out[name] = native === true ? planValue(plan, name) : native(planValue(plan, name));
  }
  return out;
}
