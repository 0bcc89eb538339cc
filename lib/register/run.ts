// What privdrop/register does when it loads: read PRIVDROP_CONFIG, then either drop (the process
// is root, on its main thread) or check that the process already is what the configuration says
// and holds nothing more (a child the server spawned, a cluster worker, a Worker thread: they
// inherit NODE_OPTIONS or execArgv, and so load this module again as the dropped user).
import fs = require('fs');
import { readSecurityConfigs } from '../config';
import { debug, msSince } from '../debug';
import { DropOptions, DropResult, dropPrivileges, keptSet, resolveWithoutPrechecks, ResolvedDrop } from '../drop';
import { ErrorCodes, PrivdropError } from '../errors';
import { closeJavaScriptDoors, inspectorSignalUnhandled } from '../drop/signal-doors';
import { processState, ProcessState } from '../state/read';
import { beyondConfiguration } from './check';

/** The environment variable that names the configuration file(s). */
export const CONFIG_VARIABLE = 'PRIVDROP_CONFIG';
/** Separates layered files in PRIVDROP_CONFIG, as in PATH: later files override earlier ones key by key. */
export const CONFIG_SEPARATOR = ':';
/** The exit status when privdrop/register refuses (as `privdrop exec`'s "privdrop failed, nothing ran"). */
export const REGISTER_FAILED = 125;

/** The file names in PRIVDROP_CONFIG's value. */
export function configPaths(value: string | undefined): string[] {
  if (value === undefined || value === '') {
    throw new PrivdropError(
      ErrorCodes.INVALID_CONFIG,
      `${CONFIG_VARIABLE} is not set: privdrop/register reads the configuration from the file it names (JSON or a Security stanza), ` +
        `or from several separated by "${CONFIG_SEPARATOR}" (a later file overrides an earlier one key by key)`,
      { step: 'validate' },
    );
  }
  const paths = value.split(CONFIG_SEPARATOR);
  const empty = paths.indexOf('');
  if (empty >= 0) {
    throw new PrivdropError(
      ErrorCodes.INVALID_CONFIG,
      `${CONFIG_VARIABLE}=${JSON.stringify(value)}: file ${empty + 1} of ${paths.length} is empty; separate file names with a single "${CONFIG_SEPARATOR}"`,
      { step: 'validate' },
    );
  }
  return paths;
}

export type RegisterOutcome =
  | { action: 'dropped'; files: string[]; result: DropResult }
  | { action: 'checked'; files: string[]; plan: ResolvedDrop };

const isRoot = () => process.getuid?.() === 0 && process.geteuid?.() === 0;

/** Drops to the configuration in `env.PRIVDROP_CONFIG`, or checks that the process already is it. Throws a PrivdropError otherwise. */
export function registerPrivileges(env: NodeJS.ProcessEnv = process.env): RegisterOutcome {
  const start = process.hrtime.bigint();
  // eslint-disable-next-line @typescript-eslint/no-var-requires
  const mainThread = (require('worker_threads') as typeof import('worker_threads')).isMainThread;
  const files = configPaths(env[CONFIG_VARIABLE]);
  debug('register: %s, pid %d, uid %d, reading %s=%s', mainThread ? 'main thread' : 'Worker thread', process.pid, process.getuid?.(), CONFIG_VARIABLE, files.join(CONFIG_SEPARATOR));
  const config = readSecurityConfigs(files);
  if (config.options.user === undefined) {
    throw new PrivdropError(ErrorCodes.INVALID_CONFIG, `${files.join(', ')}: no user given (privdrop/register needs one)`, { path: files[files.length - 1], step: 'validate' });
  }
  const options = config.options as DropOptions;
  if (mainThread && isRoot()) {
    debug('register: root: dropping before the application loads');
    const result = dropPrivileges(options);
    debug('register: dropped to uid %d gid %d keeping %s on %d threads; register took %s ms', result.uid, result.gid, result.capabilities, result.threads, msSince(start));
    return { action: 'dropped', files, result };
  }
  // Not root, or a Worker of a process that is: it must already be what the files say, and no more.
  const plan = resolveWithoutPrechecks(options);
  checkState(plan, processState(), files);
  if (mainThread && !plan.keepDebugSignals) closeSignalDoors();
  debug('register: already uid %d gid %d holding nothing beyond %s: continuing (%s ms)', plan.uid, plan.gid, keptSet(plan).toString(), msSince(start));
  return { action: 'checked', files, plan };
}

/** Takes a closed door's signal (SIGUSR1 without the inspector: nothing, rather than the default kill). */
function privdropClosedSignalDoor(): void {}

/**
 * As the drop does, unless keepDebugSignals: a child or cluster worker of the dropped server may
 * be signalled by every process of its user, so Node's signal doors close here too (the report and
 * heap-snapshot listeners; SIGUSR1's inspector by a listener that replaces Node's handler).
 */
function closeSignalDoors(): void {
  const { closed } = closeJavaScriptDoors();
  if (inspectorSignalUnhandled()) {
    process.on('SIGUSR1', privdropClosedSignalDoor);
    closed.push({ signal: 'SIGUSR1', door: 'inspector' });
  }
  if (closed.length) debug('register: closed the signal doors %s', closed.map((d) => `${d.signal} (${d.door})`).join(', '));
}

function checkState(plan: ResolvedDrop, state: ProcessState, files: string[]): void {
  const problems = beyondConfiguration(plan, state);
  if (problems.length === 0) return;
  const uid = process.getuid?.();
  const why = uid === 0 ? 'a Worker thread cannot drop the process' : `this process runs as uid ${uid}, not root, so it cannot drop`;
  throw new PrivdropError(
    ErrorCodes.STATE_MISMATCH,
    `${why}; it may continue only as exactly what ${files.join(', ')} configure${files.length > 1 ? '' : 's'}, but ${problems.join('; ')}. ` +
      'Start the server as root with privdrop/register (its children and Workers then inherit the dropped state), or unset NODE_OPTIONS and ' +
      `${CONFIG_VARIABLE} for processes that are not part of it`,
    { step: 'validate' },
  );
}

/** Runs registerPrivileges(); on failure writes "privdrop/register: CODE: message" to stderr and exits 125 (a Worker: throws). */
export function register(): void {
  try {
    registerPrivileges();
  } catch (e) {
    const err = e as { code?: string; name?: string; message?: string };
    const line = `privdrop/register: ${err.code ?? err.name}: ${err.message}\n`;
    debug('register: refused: %s', line.trim());
    // eslint-disable-next-line @typescript-eslint/no-var-requires
    if (!(require('worker_threads') as typeof import('worker_threads')).isMainThread) throw e; // the Worker fails with it
    try {
      fs.writeSync(2, line);
    } catch {
      /* stderr closed: the status still says it */
    }
    process.exit(REGISTER_FAILED);
  }
}
