// The privdrop command: exec, show, parse. Errors go to stderr as one line, never a stack trace
// (PRIVDROP_DEBUG=1 adds it), with documented exit statuses.
import * as fs from 'fs';
import * as path from 'path';
import { CapabilitySet } from './capabilities';
import { hasFlag, parseArgs, UsageError } from './cli-args';
import { EXEC_HELP, runExec } from './cli-exec';
import { runShow, SHOW_HELP } from './cli-show';

export const MAIN_HELP = `Usage: privdrop COMMAND [options]

Drop root to an unprivileged user while keeping named Linux capabilities, on every thread.

Commands:
  exec [options] [--] COMMAND [ARGS...]
                  become a user, keep capabilities, then run COMMAND in place (same PID)
  show [PID] [--json]
                  print the credentials and capabilities of a process, thread by thread
  parse TEXT [--json]
                  read libcap capability text: canonical form, names per set, hex masks

Options:
  -h, --help      show this help (privdrop COMMAND --help: that command's)
  -V, --version   print privdrop's version

Exit status: 0 success; 1 show or parse failed; 2 usage error; 127 exec failed before
COMMAND ran (nothing ran) or COMMAND not found. Otherwise exec exits with COMMAND's status.
`;

export const PARSE_HELP = `Usage: privdrop parse TEXT [--json]

Read capability text in libcap's grammar (cap_from_text(3)), e.g.
  privdrop parse 'cap_net_bind_service,cap_chown+ep cap_setuid+p'
and print its canonical text, the capability names in each set (effective, permitted,
inheritable) and each set as a 64-bit hex mask (bit n = capability n, as in /proc and
capsh --decode). Several arguments are joined with spaces into one text.

Options:
  --json       print JSON instead of text
  -h, --help   show this help

Exit status: 0; 1 if TEXT is not valid (the message names the bad clause and its offset);
2 for a usage error.
`;

const FLAGS = ['effective', 'permitted', 'inheritable'] as const;

export const EXIT = { OK: 0, FAILED: 1, USAGE: 2, EXEC_FAILED: 127 } as const;

export function version(): string {
  const pkg = JSON.parse(fs.readFileSync(path.join(__dirname, '..', 'package.json'), 'utf8')) as { version: string };
  return pkg.version;
}

function runParse(args: string[], out: (s: string) => void): number {
  const parsed = parseArgs('parse', args, { json: { value: false }, help: { value: false } }, { short: { h: 'help' } });
  if (hasFlag(parsed, 'help')) {
    out(PARSE_HELP);
    return EXIT.OK;
  }
  const words = [...parsed.positional, ...parsed.rest];
  if (words.length === 0) throw new UsageError('no capability TEXT given', 'parse');
  const set = CapabilitySet.parse(words.join(' '));
  const masks = set.masks;
  const hex = (m: bigint) => '0x' + m.toString(16).padStart(16, '0');
  if (hasFlag(parsed, 'json')) {
    const json: Record<string, unknown> = { text: set.toString() };
    for (const f of FLAGS) json[f] = { mask: hex(masks[f]), names: set[f] };
    out(JSON.stringify(json, null, 2) + '\n');
  } else {
    const lines = [`${'text'.padEnd(13)}${set.toString()}`];
    for (const f of FLAGS) lines.push(`${f.padEnd(13)}${hex(masks[f])}  ${set[f].length ? set[f].join(' ') : '(none)'}`);
    out(lines.join('\n') + '\n');
  }
  return EXIT.OK;
}

/** Exit status for an error thrown by a command: usage errors 2, exec 127, others 1. */
function failureStatus(command: string, e: unknown): number {
  if (e instanceof UsageError) return EXIT.USAGE;
  return command === 'exec' ? EXIT.EXEC_FAILED : EXIT.FAILED;
}

/**
 * Runs the privdrop command line and returns the exit status (exec, when it succeeds, never
 * returns: COMMAND replaces this process). Writes to the given streams, by default stdout/stderr.
 */
export function run(
  args: string[],
  out: (s: string) => void = (s) => process.stdout.write(s),
  err: (s: string) => void = (s) => process.stderr.write(s),
): number {
  const [command, ...rest] = args;
  try {
    switch (command) {
      case undefined:
        err(MAIN_HELP);
        return EXIT.USAGE;
      case '-h':
      case '--help':
      case 'help':
        if (command === 'help' && rest[0]) return run([rest[0], '--help'], out, err);
        out(MAIN_HELP);
        return EXIT.OK;
      case '-V':
      case '--version':
        out(`privdrop ${version()}\n`);
        return EXIT.OK;
      case 'exec':
        return runExec(rest, out, err);
      case 'show':
        return runShow(rest, out);
      case 'parse':
        return runParse(rest, out);
      default:
        throw new UsageError(command.startsWith('-') ? `unknown option ${command}` : `unknown command ${JSON.stringify(command)}`);
    }
  } catch (e) {
    const name = command && ['exec', 'show', 'parse'].includes(command) ? `privdrop ${command}` : 'privdrop';
    const message = e instanceof Error ? e.message : String(e);
    let text = `${name}: ${message}\n`;
    if (e instanceof UsageError) text += `Try '${name} --help'.\n`;
    if (process.env.PRIVDROP_DEBUG && e instanceof Error && e.stack) text += e.stack + '\n';
    err(text);
    return failureStatus(command ?? '', e);
  }
}

/** The bin entry point: runs the command line and sets the exit status. */
export function main(args: string[]): void {
  // `privdrop show | head -1`: a closed pipe ends the output quietly, without a stack trace.
  for (const stream of [process.stdout, process.stderr]) {
    stream.on('error', (e: NodeJS.ErrnoException) => {
      if (e.code === 'EPIPE') process.exit(process.exitCode ?? 0);
      throw e;
    });
  }
  process.exitCode = run(args);
}

export { EXEC_HELP, SHOW_HELP };
