// Bad input, at scale (CI size): the fast-check targets of evidence/fuzz.js with a fixed seed, and
// one regression test per bug they found. `npm run fuzz` runs the same targets 1,000,000 times.
import * as fs from 'fs';
import * as path from 'path';
import { loadSecurityConfig, parseSecurityConfig } from '../../lib/config';
import { run } from '../../lib/cli';
import { ErrorCodes, PrivdropError } from '../../lib/errors';
import { OPTION_NAMES } from '../../lib/drop/options';
import { JSON_KEYS, STANZA_KEYS } from '../../lib/config/keys';
import { ALIASES as EXEC_ALIASES, SPECS as EXEC_SPECS } from '../../lib/cli/exec';

const fixtures = path.join(__dirname, '..', 'fixtures');

// The targets live in evidence/fuzz.js (one definition for CI and for `npm run fuzz`); they load dist/.
interface TargetResult {
  name: string;
  cases: number;
  failures: number;
  examples: { reason: string; input: string }[];
  outcomes: Record<string, number>;
}
interface FuzzSummary {
  results: TargetResult[];
  problems: string[];
  cases: number;
  failures: number;
}
// eslint-disable-next-line @typescript-eslint/no-var-requires
const fuzz = require('../../evidence/fuzz.js') as { runAll(o: { total: number; seed: number; only?: string[] }): Promise<FuzzSummary>; TARGETS: { name: string }[] };
// eslint-disable-next-line @typescript-eslint/no-var-requires
const oracle = require('../../evidence/fuzz/oracle.js') as {
  CHANGES_STATE: Record<string, string>;
  HARMLESS: Record<string, string>;
  installTripwires(): () => void;
  tripped: string[];
  TripwireError: new () => Error;
};
// eslint-disable-next-line @typescript-eslint/no-var-requires
const { binding } = require('../../dist/addon/binding.js') as { binding(): Record<string, unknown> };

// Fixed seed and size for CI; FUZZ_SEED / FUZZ_CASES explore further. (19680: the first six
// targets get the 16000 cases they had before the run-time capability targets and the whole-file
// and layered config targets joined.)
const seed = Number(process.env.FUZZ_SEED ?? 20261126);
const total = Number(process.env.FUZZ_CASES ?? 19680);

describe('the tripwires cover every native call that changes the process', () => {
  const source = fs.readFileSync(path.join(__dirname, '..', '..', 'native', 'binding.cc'), 'utf8');
  const init = source.slice(source.indexOf('Napi::Object Init('));
  const exported = [...new Set([...init.matchAll(/exports\.Set\("(\w+)"/g)].map((m) => m[1]))].sort();

  test("native/binding.cc's exports are each in exactly one of the oracle's lists", () => {
    expect(exported.length).toBeGreaterThan(20);
    expect(exported).toContain('setCapabilities');
    const changes = Object.keys(oracle.CHANGES_STATE);
    const harmless = Object.keys(oracle.HARMLESS);
    expect(changes.filter((n) => harmless.includes(n))).toEqual([]);
    expect([...changes, ...harmless].sort()).toEqual(exported);
    // The loaded binding is the one this source builds.
    expect(Object.keys(binding()).sort()).toEqual(exported);
  });

  test('with the tripwires installed, every state-changing export throws a TripwireError and is recorded; restoring gives the originals back', () => {
    const native = binding();
    const originals = Object.fromEntries(Object.keys(oracle.CHANGES_STATE).map((n) => [n, native[n]]));
    const before = oracle.tripped.length;
    const restore = oracle.installTripwires();
    try {
      for (const name of Object.keys(oracle.CHANGES_STATE)) {
        expect(() => (native[name] as () => unknown)()).toThrow(oracle.TripwireError);
      }
      expect(oracle.tripped.slice(before)).toEqual(Object.keys(oracle.CHANGES_STATE));
    } finally {
      restore();
      oracle.tripped.length = before;
    }
    for (const [name, fn] of Object.entries(originals)) expect(native[name]).toBe(fn);
  });
});

describe("the fuzzer's lists name every option, config key and command-line flag the library declares", () => {
  // The library's lists are read from its own declarations, so an option added there fails here until the fuzzer generates it.
  // eslint-disable-next-line @typescript-eslint/no-var-requires
  const fuzzer = require('../../evidence/fuzz/dist.js') as { OPTION_KEYS: string[]; STANZA_KEYS: string[]; EXEC_FLAGS: string[]; EXEC_ALIASES: string[] };
  const missing = (declared: Iterable<string>, known: string[]) => [...declared].filter((k) => !known.includes(k));

  test('dropPrivileges() options (OPTION_NAMES) and the JSON config keys', () => {
    expect(OPTION_NAMES).toContain('keepTerminal');
    expect(missing(OPTION_NAMES, fuzzer.OPTION_KEYS)).toEqual([]);
    expect(missing(Object.keys(JSON_KEYS), fuzzer.OPTION_KEYS)).toEqual([]);
  });

  test('the Security stanza keys', () => {
    expect(Object.keys(STANZA_KEYS)).toContain('keep_terminal');
    expect(missing(Object.keys(STANZA_KEYS), fuzzer.STANZA_KEYS)).toEqual([]);
  });

  test('privdrop exec options, and the other spellings it answers with a hint', () => {
    expect(Object.keys(EXEC_SPECS)).toEqual(expect.arrayContaining(['keep-terminal', 'permitted-only', 'reset-env']));
    expect(missing(Object.keys(EXEC_SPECS), fuzzer.EXEC_FLAGS)).toEqual([]);
    expect(missing(Object.keys(EXEC_ALIASES), fuzzer.EXEC_ALIASES)).toEqual([]);
  });
});

describe('bad input, at scale (fixed seed)', () => {
  let summary: FuzzSummary;
  beforeAll(async () => {
    summary = await fuzz.runAll({ total, seed });
  }, 120000);

  test.each(fuzz.TARGETS.map((t) => t.name))('%s: every case works or throws the documented error', (name) => {
    const r = summary.results.find((x) => x.name === name) as TargetResult;
    expect(r.cases).toBeGreaterThan(0);
    expect(r.examples).toEqual([]);
    expect(r.failures).toBe(0);
  });

  test('no unexpected native call that changes the process was reached; no prototype changed; process state identical before and after', () => {
    expect(summary.problems).toEqual([]);
    expect(summary.cases).toBeGreaterThanOrEqual(total - fuzz.TARGETS.length);
  });
});

function codedError(fn: () => unknown): PrivdropError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(PrivdropError);
    return e as PrivdropError;
  }
  throw new Error('expected a PrivdropError, nothing was thrown');
}

describe('regressions found by the fuzzer', () => {
  test('deeply nested JSON in a config file is ERR_PRIVDROP_INVALID_CONFIG at its place, not a stack overflow', () => {
    for (const text of ['['.repeat(20000), '{"user":'.repeat(20000), require('fs').readFileSync(path.join(fixtures, 'fuzz-deep.json'), 'utf8')]) {
      const err = codedError(() => parseSecurityConfig(text, 'deep.json'));
      expect(err.code).toBe(ErrorCodes.INVALID_CONFIG);
      expect(err.message).toMatch(/^deep\.json:1:\d+: invalid JSON: nested deeper than 64 levels$/);
    }
    // 64 levels are still read (and judged on their content).
    const ok = `{"user":"nobody","supplementaryGroups":${'['.repeat(63)}${']'.repeat(63)}}`;
    expect(codedError(() => parseSecurityConfig(ok, 'x.json')).message).toMatch(/entries must be group names or ids/);
  });

  test('a config "file" that never ends (/dev/zero) is refused as not a regular file instead of hanging', () => {
    for (const file of ['/dev/zero', '/dev/urandom', '/dev/null']) {
      const err = codedError(() => loadSecurityConfig(file));
      expect(err.code).toBe(ErrorCodes.INVALID_CONFIG);
      expect(err.message).toBe(`config file ${file} is a character device, not a regular file; not read. Write the settings to a regular file owned by root`);
    }
    let stderr = '';
    expect(run(['exec', '--dry-run', '--config', '/dev/zero', '--', 'true'], () => {}, (s) => (stderr += s))).toBe(125);
    expect(stderr).toMatch(/^privdrop exec: config file \/dev\/zero is a character device/);
    expect(loadSecurityConfig(path.join(fixtures, 'fuzz-stanza.conf')).user).toBe('nobody');
  });

  test('a JSON config with an id past 4294967294 is ERR_PRIVDROP_INVALID_CONFIG at the value, not a RangeError from dropPrivileges() later', () => {
    const cases: [string, string][] = [
      ['{"user": 4294967295}', 'x.json:1:10: "user" must be a name (string) or an id (integer from 0 to 4294967294)'],
      ['{"user": "nobody", "group": 4294967296}', 'x.json:1:29: "group" must be a name (string) or an id (integer from 0 to 4294967294)'],
      ['{"user": "nobody", "supplementaryGroups": [4, 1e300]}', 'x.json:1:47: "supplementaryGroups" entries must be group names or ids'],
    ];
    for (const [text, message] of cases) {
      const err = codedError(() => parseSecurityConfig(text, 'x.json'));
      expect(err.code).toBe(ErrorCodes.INVALID_CONFIG);
      expect(err.message).toBe(message);
    }
    expect(parseSecurityConfig('{"user": 4294967294, "group": 0}', 'x.json')).toEqual({ user: 4294967294, group: 0 });
  });

  test('privdrop exec --config "" is a usage error (exit 2), not a TypeError reported as exit 125', () => {
    let stderr = '';
    expect(run(['exec', '--dry-run', '--config', '', '--', 'true'], () => {}, (s) => (stderr += s))).toBe(2);
    expect(stderr).toBe("privdrop exec: --config needs a file name\nTry 'privdrop exec --help'.\n");
  });
});
