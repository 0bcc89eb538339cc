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

/** The codes native/error_codes.h lists: the one place native code spells them. */
function headerCodes(): string[] {
  const text = fs.readFileSync(path.join(nativeDir, 'error_codes.h'), 'utf8');
  return [...text.matchAll(/inline constexpr char (\w+)\[\] = "(ERR_PRIVDROP_[A-Z0-9_]+)";/g)].map((m) => m[2]);
}

test('native/error_codes.h lists each native code once, each one of ErrorCodes', () => {
  const listed = headerCodes();
  expect(listed.length).toBeGreaterThanOrEqual(10);
  expect(new Set(listed).size).toBe(listed.length);
  const known = new Set<string>(Object.values(ErrorCodes));
  expect(listed.filter((c) => !known.has(c))).toEqual([]);
});

test('no other native file writes an ERR_PRIVDROP_ string literal, and every listed code is thrown somewhere', () => {
  const literals: string[] = [];
  let sources = '';
  for (const name of fs.readdirSync(nativeDir)) {
    if (!/\.(cc|h)$/.test(name) || name === 'error_codes.h') continue;
    const text = fs.readFileSync(path.join(nativeDir, name), 'utf8');
    sources += text;
    for (const m of text.matchAll(/"ERR_PRIVDROP_[A-Z0-9_]*"/g)) literals.push(`${name}: ${m[0]}`);
  }
  expect(literals).toEqual([]);
  const header = fs.readFileSync(path.join(nativeDir, 'error_codes.h'), 'utf8');
  const unused = [...header.matchAll(/inline constexpr char (\w+)\[\]/g)].map((m) => m[1]).filter((k) => !new RegExp(`\\b${k}\\b`).test(sources));
  expect(unused).toEqual([]);
});
