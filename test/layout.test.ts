// The tree's rules, checked: test/ mirrors lib/ (a folder of tests per feature folder), and
// test/ and evidence/ share helpers in one place (test/helpers/) instead of importing each other
// both ways: evidence/ requires only test/helpers/ from test/, and only the tests of the evidence
// programs (test/evidence/) import evidence/.
import * as fs from 'fs';
import * as path from 'path';
import { repoRoot } from './helpers/child';

/** Every file under `dir` (relative to the repository) whose name matches `re`, except node_modules. */
function files(dir: string, re: RegExp): string[] {
  const out: string[] = [];
  for (const e of fs.readdirSync(path.join(repoRoot, dir), { withFileTypes: true })) {
    const rel = path.join(dir, e.name);
    if (e.isDirectory() && e.name !== 'node_modules') out.push(...files(rel, re));
    else if (e.isFile() && re.test(e.name)) out.push(rel);
  }
  return out;
}

/** The relative module specifiers a source file imports or requires, resolved to repository paths. */
function relativeImports(file: string): string[] {
  const text = fs.readFileSync(path.join(repoRoot, file), 'utf8');
  const specs = [...text.matchAll(/(?:\bfrom\s+|\brequire\(\s*|\bimport\(\s*)(['"])(\.{1,2}\/[^'"]*)\1/g)].map((m) => m[2]);
  return specs.map((s) => path.normalize(path.join(path.dirname(file), s)));
}

test('test/ has one folder per lib/ folder, and no other besides helpers, fixtures, types, evidence and examples', () => {
  const dirs = (d: string) =>
    fs.readdirSync(path.join(repoRoot, d), { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => e.name).sort();
  const lib = dirs('lib');
  expect(lib.length).toBeGreaterThan(5);
  expect(dirs('test')).toEqual([...lib, 'evidence', 'examples', 'fixtures', 'helpers', 'types'].sort());
});

test('evidence/ requires nothing from test/ but test/helpers/', () => {
  const evidence = files('evidence', /\.js$/);
  expect(evidence.length).toBeGreaterThan(10);
  const wrong = evidence.flatMap((f) => relativeImports(f).filter((t) => t.startsWith('test/') && !t.startsWith('test/helpers/')).map((t) => `${f} -> ${t}`));
  expect(wrong).toEqual([]);
  // The shared helper is really used from both sides.
  expect(evidence.some((f) => relativeImports(f).some((t) => t.startsWith('test/helpers/')))).toBe(true);
});

test('only the tests of the evidence programs (test/evidence/) import evidence/', () => {
  const tests = files('test', /\.(ts|js)$/);
  const wrong = tests
    .filter((f) => !f.startsWith('test/evidence/'))
    .flatMap((f) => relativeImports(f).filter((t) => t.startsWith('evidence/')).map((t) => `${f} -> ${t}`));
  expect(wrong).toEqual([]);
  expect(files('test/evidence', /\.test\.ts$/).some((f) => relativeImports(f).some((t) => t.startsWith('evidence/')))).toBe(true);
});
