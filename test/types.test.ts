// The published types (dist/*.d.ts) compile a correct program and reject typos: test/types/api.ts
// is compiled with tsc, where each `@ts-expect-error` line must fail to type-check (tsc reports an
// unused directive otherwise). What the types promise about config text holds at run time too.
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { ErrorCodes, parseSecurityConfig, PrivdropError } from '../lib';
import { repoRoot } from './helpers/child';

const fixture = path.join(repoRoot, 'test', 'types', 'api.ts');

test('tsc accepts the valid uses and rejects every typo in test/types/api.ts', () => {
  expect(fs.existsSync(path.join(repoRoot, 'dist', 'index.d.ts'))).toBe(true); // built by pretest
  const tsc = path.join(repoRoot, 'node_modules', 'typescript', 'bin', 'tsc');
  const r = spawnSync(process.execPath, [tsc, '-p', path.join(repoRoot, 'test', 'types', 'tsconfig.json')], { encoding: 'utf8', timeout: 120000 });
  expect(r.stdout + r.stderr).toBe('');
  expect(r.status).toBe(0);
  // The fixture does test typos (a file without them would pass trivially).
  expect(fs.readFileSync(fixture, 'utf8').match(/@ts-expect-error/g)!.length).toBeGreaterThanOrEqual(9);
});

describe('parseSecurityConfig() returns options dropPrivileges() accepts', () => {
  test('the user is required, as for loadSecurityConfig(), with the place in the text', () => {
    let error: unknown;
    try {
      parseSecurityConfig('Security {\n  capabilities = "cap_kill+ep"\n}\n', 'app.conf');
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(PrivdropError);
    expect((error as PrivdropError).code).toBe(ErrorCodes.INVALID_CONFIG);
    expect((error as PrivdropError).message).toBe('app.conf:4:1: no user given (dropPrivileges() needs one)');
    expect(parseSecurityConfig('{"user": "nobody", "capabilities": ["cap_kill"]}')).toEqual({ user: 'nobody', capabilities: ['cap_kill'] });
  });
});
