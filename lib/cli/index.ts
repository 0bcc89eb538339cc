// The privdrop command: exec, show, parse. Errors go to stderr as one line, never a stack trace
// (PRIVDROP_DEBUG=1 adds it), with documented exit statuses.
import fs = require('fs');
import path = require('path');
import { ErrorCodes } from '../errors';
import { didYouMean } from '../errors/suggest';
import { UsageError } from './args';
import { EXEC_HELP, runExec } from './exec';
import { PARSE_HELP, runParse } from './parse';
import { runShow, SHOW_HELP } from './show';

/** The commands, for "did you mean". */
const COMMANDS = ['exec', 'show', 'parse', 'help'];

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

Exit status: 0 success; 1 show or parse failed; 2 usage error. exec, as env(1) and chroot(1):
125 privdrop failed (nothing ran), 126 COMMAND found but cannot be executed, 127 COMMAND not
found; otherwise COMMAND's own status.
`;

export const EXIT = {
  OK: 0,
  FAILED: 1,
  USAGE: 2,
  /** exec: privdrop itself failed before COMMAND ran (unknown user, bad config, not permitted...). */
  PRIVDROP_FAILED: 125,
  /** exec: COMMAND was found but cannot be executed (not executable, not by the new user, execve failed). */
  CANNOT_EXECUTE: 126,
  /** exec: COMMAND was not found. */
  NOT_FOUND: 127,
} as const;

export function version(): string {
  const pkg = JSON.parse(fs.readFileSync(path.join(__dirname, '..', '..', 'package.json'), 'utf8')) as { version: string };
  return pkg.version;
}

/** Exit status for an error thrown by a command: usage errors 2; exec 125, 126 or 127 (as env(1)); others 1. */
function failureStatus(command: string, e: unknown): number {
  if (e instanceof UsageError) return EXIT.USAGE;
  if (command !== 'exec') return EXIT.FAILED;
  const code = (e as { code?: unknown } | null)?.code;
  if (code === ErrorCodes.COMMAND_NOT_FOUND) return EXIT.NOT_FOUND;
  if (code === ErrorCodes.EXEC_FAILED) return EXIT.CANNOT_EXECUTE;
  return EXIT.PRIVDROP_FAILED;
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
        return runParse(rest, out, err);
      default:
        throw new UsageError(
          command.startsWith('-')
            ? `unknown option ${command}${didYouMean(command, ['--help', '--version'])}`
            : `unknown command ${JSON.stringify(command)}${didYouMean(command, COMMANDS)}`,
        );
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

export { EXEC_HELP, PARSE_HELP, SHOW_HELP };
