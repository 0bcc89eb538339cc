// Bad input, at scale (CI size): the fast-check targets of scripts/fuzz.js with a fixed seed, and
// one regression test per bug they found. `npm run fuzz` runs the same targets 1,000,000 times.
import * as path from 'path';
import { parseSecurityConfig } from '../lib/config';
import { ErrorCodes, PrivdropError } from '../lib/errors';

const fixtures = path.join(__dirname, 'fixtures');

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
});
