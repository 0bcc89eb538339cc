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

test('no import cycle at run time: the require() graph of dist/ (lazy requires included) has no cycle', () => {
  const dist = path.join(repoRoot, 'dist');
  const modules = files('dist', /\.js$/);
  expect(modules.length).toBeGreaterThan(20);
  const edges = new Map<string, string[]>();
  for (const m of modules) {
    const text = fs.readFileSync(path.join(repoRoot, m), 'utf8');
    const targets = [...text.matchAll(/\brequire\((["'])(\.{1,2}(?:\/[^"']*)?)\1\)/g)].map((r) => {
      const base = path.normalize(path.join(path.dirname(m), r[2]));
      return [`${base}.js`, path.join(base, 'index.js')].find((c) => fs.existsSync(path.join(repoRoot, c))) ?? base;
    });
    edges.set(m, targets);
  }
  const cycles: string[] = [];
  const state = new Map<string, 'open' | 'done'>();
  const visit = (m: string, stack: string[]) => {
    if (state.get(m) === 'done') return;
    if (state.get(m) === 'open') {
      cycles.push([...stack.slice(stack.indexOf(m)), m].map((f) => path.relative(dist, path.join(repoRoot, f))).join(' -> '));
      return;
    }
    state.set(m, 'open');
    for (const t of edges.get(m) ?? []) visit(t, [...stack, m]);
    state.set(m, 'done');
  };
  for (const m of modules) visit(m, []);
  expect(cycles).toEqual([]);
  // The check sees the edges: the drop requires the option table, which requires the capabilities' helpers.
  expect(edges.get('dist/drop/index.js')).toContain('dist/drop/options.js');
  expect(edges.get('dist/drop/options.js')).toContain('dist/capabilities/options.js');
});

test('dependencies point one way between the feature folders: capabilities/ <- drop/ <- config/, cli/', () => {
  const folderOf = (f: string) => f.split('/')[1];
  const wrong = files('lib', /\.ts$/).flatMap((f) =>
    relativeImports(f)
      .filter((t) => t.startsWith('lib/'))
      .filter((t) => {
        const from = folderOf(f);
        const to = folderOf(t);
        // capabilities/ uses none of drop, config, cli; drop/ none of config, cli.
        return (from === 'capabilities' && ['drop', 'config', 'cli'].includes(to)) || (from === 'drop' && ['config', 'cli'].includes(to));
      })
      .map((t) => `${f} -> ${t}`),
  );
  expect(wrong).toEqual([]);
});
