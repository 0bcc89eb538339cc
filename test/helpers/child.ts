// Runs Node code in a fresh child process and returns what it reported. Privilege drops are
// only ever done in such children, never in the jest worker.
import { spawnSync, SpawnSyncOptions } from 'child_process';
import * as path from 'path';

export const repoRoot = path.resolve(__dirname, '..', '..');
export const distEntry = path.join(repoRoot, 'dist', 'index.js');
export const faultsBinding = path.join(repoRoot, 'build', 'Release', 'privdrop_faults.node');

export const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;

/** describe() for tests that need root: skipped with a visible reason otherwise. */
export const describeAsRoot: jest.Describe = isRoot
  ? describe
  : (((name: string, fn: () => void) =>
      describe.skip(`${name} [skipped: needs root, running as uid ${process.getuid?.()}]`, fn)) as unknown as jest.Describe);

export interface ChildResult {
  status: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** The last line of stdout that parses as JSON, if any. */
  json: any; // eslint-disable-line @typescript-eslint/no-explicit-any
}

export interface RunOptions {
  env?: NodeJS.ProcessEnv;
  nodeArgs?: string[];
  timeoutMs?: number;
  cwd?: string;
  /** Run node under this command line, e.g. ['setpriv', '--reuid=65534']. */
  wrapper?: string[];
  /**
   * Load this addon file instead of the packaged one (e.g. faultsBinding): a preload calls the
   * test-only dist/testing.js. The production loader takes no file name from the environment.
   */
  binding?: string;
}

/** The preload behind RunOptions.binding. */
export const useBindingPreload = path.join(repoRoot, 'test', 'fixtures', 'use-binding.js');

/**
 * Runs `code` as a CommonJS script in a new node process. `privdrop` resolves to the built
 * package (dist/), and `report(value)` prints value as one JSON line for the parent.
 */
export function runNode(code: string, options: RunOptions = {}): ChildResult {
  const prelude =
    `const privdrop = require(${JSON.stringify(distEntry)});\n` +
    `const report = (v) => process.stdout.write(JSON.stringify(v, (k, x) => typeof x === 'bigint' ? x.toString() : x) + '\\n');\n`;
  const bindingArgs = options.binding ? ['--require', useBindingPreload] : [];
  if (options.binding) options = { ...options, env: { ...options.env, PRIVDROP_TEST_BINDING: options.binding } };
  const args = [...bindingArgs, ...(options.nodeArgs ?? []), '-e', prelude + code];
  if (options.wrapper?.length) {
    const [file, ...rest] = options.wrapper;
    return runProcess(file, [...rest, process.execPath, ...args], options);
  }
  return runProcess(process.execPath, args, options);
}

export function runProcess(file: string, args: string[], options: RunOptions & SpawnSyncOptions = {}): ChildResult {
  const r = spawnSync(file, args, {
    cwd: options.cwd ?? repoRoot,
    env: { ...process.env, ...(options.env ?? {}) },
    encoding: 'utf8',
    timeout: options.timeoutMs ?? 30000,
    maxBuffer: 64 * 1024 * 1024,
  });
  const stdout = r.stdout ?? '';
  let json: unknown;
  for (const line of stdout.trim().split('\n').reverse()) {
    try {
      json = JSON.parse(line);
      break;
    } catch {
      /* not a JSON line */
    }
  }
  return { status: r.status, signal: r.signal, stdout, stderr: r.stderr ?? '', json };
}

/** What `fn` throws (a test fails if it returns instead). */
export function thrown<E = unknown>(fn: () => unknown): E {
  try {
    fn();
  } catch (e) {
    return e as E;
  }
  throw new Error('expected a throw');
}
