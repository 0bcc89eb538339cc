// Every ERR_PRIVDROP_* code the native code can throw is one of ErrorCodes: errorFromNative() turns
// an unknown code into ERR_PRIVDROP_SYSTEM, which would hide it from callers that branch on `code`.
import * as fs from 'fs';
import * as path from 'path';
import { ErrorCodes } from '../../lib/errors';
import { repoRoot } from '../helpers/child';

const nativeDir = path.join(repoRoot, 'native');

function codesIn(dir: string): Map<string, string[]> {
  const found = new Map<string, string[]>();
  for (const name of fs.readdirSync(dir)) {
    const file = path.join(dir, name);
    if (fs.statSync(file).isDirectory()) {
      for (const [code, files] of codesIn(file)) found.set(code, [...(found.get(code) ?? []), ...files]);
      continue;
    }
    if (!/\.(cc|h)$/.test(name)) continue;
    for (const m of fs.readFileSync(file, 'utf8').matchAll(/ERR_PRIVDROP_[A-Z0-9_]*/g)) {
      found.set(m[0], [...(found.get(m[0]) ?? []), path.relative(repoRoot, file)]);
    }
  }
  return found;
}

test('every ERR_PRIVDROP_* code written in native/ is in ErrorCodes', () => {
  const known = new Set<string>(Object.values(ErrorCodes));
  const found = codesIn(nativeDir);
  expect(found.size).toBeGreaterThanOrEqual(5); // the scan does find the codes
  const unknown = [...found].filter(([code]) => !known.has(code)).map(([code, files]) => `${code} (${[...new Set(files)].join(', ')})`);
  expect(unknown).toEqual([]);
});
