'use strict';
// The command line: run() over whole argument vectors (exec only with --dry-run), and parseArgs.
const path = require('path');
const fc = require('fast-check');
const { parseArgs, UsageError, runCli, runExec, runShow, FIXTURES, EXEC_FLAGS, EXEC_ALIASES } = require('../dist');
const { anyCaseName, capText, anyString } = require('../generators');
const { classify, FuzzFailure, check, outcome, TripwireError } = require('../oracle');
const { validStanza, wholeFileText, layerFile } = require('./config');

// A generated whole configuration file as a --config value: written to a file when the case runs.
const GENERATED = '\u0001generated config\u0001';
const generatedConfig = fc.oneof(validStanza, wholeFileText).map((text) => GENERATED + text);
const withFiles = (argv) => {
  let n = 10;
  return argv.map((a) => (typeof a === 'string' && a.startsWith(GENERATED) ? layerFile(n++, a.slice(GENERATED.length)) : a));
};

// Command lines. exec is only ever run with --dry-run as its first option.
const cliOption = fc.constantFrom(
  ...EXEC_FLAGS.map((f) => `--${f}`), ...EXEC_ALIASES.map((f) => `--${f}`),
  '-h', '--json', '--', '-', '-V', '--version', '--__proto__', '--constructor', '--toString',
  '--user=', '--user=nobody', '--caps=cap_net_bind_service', '--groups=adm,4', '--keep-fd=3', '--keep-fd=99999', '--=x', '---', '-x', '-hh',
  '--permitted-only=cap_net_bind_service', '--reset-env=x', '--keep-terminal=', '--keep-debug-signals=x',
);
const cliValue = fc.oneof(
  fc.constantFrom('nobody', 'root', '65534', '0', '-1', '4294967295', '4294967296', 'init', 'clear', '', 'adm,4,nogroup', 'retained', 'unchanged',
    'cap_net_bind_service', 'cap_net_bind_service+ep', 'cap_chown,cap_kill', 'cap_foo', '41', '63=ep', 'true', '/bin/true', 'sh', 'node', 'nonexistent-command',
    '/etc/passwd', '/', '/nonexistent', '/tmp', '/dev/null', '/dev/zero', '/dev/urandom', '/proc/self/status', '/proc/self/task', 'relative/path', '1', '2', '3',
    '99999', path.join(FIXTURES, 'cli-security.conf'), path.join(FIXTURES, 'cli-security.json'), path.join(FIXTURES, 'fuzz-proto.json'),
    path.join(FIXTURES, 'fuzz-deep.json'), path.join(FIXTURES, 'fuzz-stanza.conf'), path.join(FIXTURES, 'fuzz-ecelerity.conf'), path.join(FIXTURES, 'fuzz-ecelerity-cluster.conf'), String(process.pid), '1', '2147483647', '2147483648'),
  capText,
  anyString.map((s) => s.slice(0, 300)),
);
const cliWord = fc.oneof({ weight: 3, arbitrary: cliOption }, { weight: 4, arbitrary: cliValue });
const cliCommand = fc.constantFrom('exec', 'show', 'parse', 'help', '-h', '--help', '-V', '--version', 'Exec', 'bogus', '', '--', '-x', undefined);
// Each exec option with the values it is given (null: a flag without one); every flag of EXEC_FLAGS has an entry.
const EXEC_VALUES = {
  user: fc.oneof(fc.constantFrom('nobody', '65534', 'daemon', 'root', '0', '4294967295', '-1'), cliValue),
  group: fc.oneof(fc.constantFrom('nogroup', '65534', 'daemon', 'root', '0', '4294967295', '-1'), cliValue),
  groups: fc.oneof(fc.constantFrom('init', 'clear', '', 'nogroup,4', ' , '), cliValue),
  caps: fc.oneof(capText, fc.array(anyCaseName, { maxLength: 3 }).map((a) => a.join(','))),
  'permitted-only': fc.oneof(fc.array(anyCaseName, { maxLength: 3 }).map((a) => a.join(',')), fc.constantFrom('', ',', 'cap_foo', 'cap_net_bind_service+ep', 'cap_net_bind_service,', 'all'), cliValue),
  'bounding-set': fc.constantFrom('retained', 'unchanged', 'RETAINED', ''),
  chroot: fc.constantFrom('/', '/tmp', '/nonexistent', 'relative', '/etc/passwd'),
  'keep-fd': fc.constantFrom('0', '1', '2', '3', '99999', '-1', '2147483648', 'x', ''),
  config: fc.constantFrom(path.join(FIXTURES, 'fuzz-stanza.conf'), path.join(FIXTURES, 'fuzz-proto.json'), path.join(FIXTURES, 'fuzz-deep.json'), path.join(FIXTURES, 'cli-security.json'), '/dev/zero', '/dev/null', '/etc', '/nonexistent', '/proc/self/root/etc/hostname'),
  ambient: null, 'no-ambient': null, 'no-new-privs': null, 'lock-securebits': null, 'keep-terminal': null, 'keep-debug-signals': null, 'reset-env': null, help: null,
  'dry-run': null, // exec always gets it first; given again, it is a repeated flag
};
for (const f of EXEC_FLAGS) if (!(f in EXEC_VALUES)) throw new Error(`fuzz: no generator for privdrop exec --${f}`);
const execOption = fc.oneof(
  ...Object.entries(EXEC_VALUES).map(([f, v]) => (v === null ? fc.constant([`--${f}`]) : fc.tuple(fc.constant(`--${f}`), v))),
  fc.tuple(fc.constantFrom(...EXEC_ALIASES.map((f) => `--${f}`)), cliValue),
);
const execArgv = fc
  .tuple(fc.array(execOption, { maxLength: 6 }), fc.boolean(), fc.array(fc.oneof(fc.constantFrom('true', '/bin/true', 'sh', 'node', '/etc/passwd', '/', 'nonexistent-command', '', './x', '-c'), cliValue), { minLength: 0, maxLength: 3 }))
  .map(([opts, dashdash, cmd]) => ['exec', '--dry-run', '--user', 'nobody', ...opts.flat(), ...(dashdash ? ['--'] : []), ...cmd]);
const argvArg0 = fc.tuple(cliCommand, fc.array(cliWord, { maxLength: 10 })).map(([cmd, words]) => {
  if (cmd === undefined) return [];
  return cmd === 'exec' ? ['exec', '--dry-run', ...words] : [cmd, ...words];
});
const argvArg = fc.oneof(argvArg0, execArgv);

const EXIT_STATUSES = new Set([0, 1, 2, 125, 126, 127]);

const cliRun = {
  name: 'cli run (exec --dry-run, show, parse)',
  share: 0.05,
  arbitrary: argvArg,
  run(generated) {
    const argv = withFiles(generated);
    check(argv[0] !== 'exec' || argv[1] === '--dry-run', 'fuzzer bug: exec without --dry-run');
    let out = '';
    let err = '';
    let status;
    try {
      status = runCli(argv, (s) => (out += s), (s) => (err += s));
    } catch (e) {
      if (e instanceof TripwireError) throw new FuzzFailure(`privdrop ${argv.join(' ')} reached native ${e.message}`);
      throw new FuzzFailure(`run() threw ${e && e.name}: ${e && e.message}`);
    }
    check(EXIT_STATUSES.has(status), `exit status ${status}`);
    check(typeof out === 'string' && typeof err === 'string', 'output is not text');
    if (status !== 0) check(/^privdrop( exec| show| parse)?: |^Usage: privdrop/.test(err), `exit ${status} without a "privdrop:" message: ${JSON.stringify(err.slice(0, 200))}`);
    check(!/\n\s+at /.test(err), `stack trace on stderr: ${err.slice(0, 300)}`);
    // The same command, the error seen directly: a usage error or a coded one, never a TypeError (args are strings).
    const [cmd, ...rest] = argv;
    let direct = 'ok';
    const noop = () => {};
    try {
      if (cmd === 'exec') runExec(rest, noop, noop);
      else if (cmd === 'show') runShow(rest, noop);
      else return `exit${status}`;
    } catch (e) {
      if (e instanceof TripwireError) throw new FuzzFailure(`privdrop ${argv.join(' ')} reached native ${e.message}`);
      direct = classify(e, { allowTypeErrors: false, extra: [UsageError] });
      check((e instanceof UsageError) === (status === 2), `exit ${status} for ${e.name}`);
    }
    return `exit${status}:${direct}`;
  },
};

const SPECS = {
  user: { value: true },
  caps: { value: true },
  'keep-fd': { value: true, repeat: true },
  'dry-run': { value: false },
  json: { value: false },
  help: { value: false },
};
const cliArgs = {
  name: 'cli parseArgs',
  share: 0.05,
  arbitrary: fc.tuple(fc.array(fc.oneof(cliWord, fc.constantFrom('--keep-fd', '--json', '--dry-run', '-h', '--user=a=b', '--caps')), { maxLength: 12 }), fc.boolean()),
  run([args, stopAtPositional]) {
    let parsed;
    const label = outcome(() => (parsed = parseArgs('fuzz', args, SPECS, { short: { h: 'help' }, stopAtPositional })), { allowTypeErrors: false, extra: [UsageError] });
    if (label === 'ok') {
      check(parsed.options instanceof Map, 'options is not a Map');
      for (const k of parsed.options.keys()) check(Object.prototype.hasOwnProperty.call(SPECS, k), `unknown option ${k} accepted`);
      for (const [k, v] of parsed.options) check(SPECS[k].repeat || v.length === 1, `--${k} kept twice`);
      const consumed = parsed.positional.length + parsed.rest.length;
      check(consumed <= args.length, 'more arguments out than in');
      check(parsed.rest.every((r, i) => r === args[args.length - parsed.rest.length + i]), 'rest is not the tail of args');
    }
    return label;
  },
};

module.exports = { cliRun, cliArgs };
