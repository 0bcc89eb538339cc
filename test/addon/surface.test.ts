// The addon's surface is declared once, in lib/addon/binding.ts (RawBinding), and that declaration
// is what native/binding.cc exports and what the loaded addon holds: a function added on one side
// only fails here.
import * as fs from 'fs';
import * as path from 'path';
import * as ts from 'typescript';
import { binding } from '../../lib/addon/binding';
import { repoRoot } from '../helpers/child';

/** The member names of RawBinding, read with the TypeScript compiler. */
function declared(): string[] {
  const file = path.join(repoRoot, 'lib', 'addon', 'binding.ts');
  const source = ts.createSourceFile(file, fs.readFileSync(file, 'utf8'), ts.ScriptTarget.ES2022, true);
  const names: string[] = [];
  source.forEachChild((node) => {
    if (ts.isInterfaceDeclaration(node) && node.name.text === 'RawBinding') {
      for (const m of node.members) if (m.name && ts.isIdentifier(m.name)) names.push(m.name.text);
    }
  });
  return names.sort();
}

/** Every name native/binding.cc's Init() sets on its exports. */
function exported(): string[] {
  const text = fs.readFileSync(path.join(repoRoot, 'native', 'binding.cc'), 'utf8');
  return [...new Set([...text.matchAll(/exports\.Set\("(\w+)"/g)].map((m) => m[1]))].sort();
}

test('RawBinding declares exactly what native/binding.cc exports', () => {
  expect(declared().length).toBeGreaterThan(20);
  expect(declared()).toEqual(exported());
});

test('the loaded addon holds exactly the declared names', () => {
  expect(Object.keys(binding()).sort()).toEqual(declared());
});

test('no other file of lib/ declares a part of the addon', () => {
  const others: string[] = [];
  const walk = (dir: string) => {
    for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
      const p = path.join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (p.endsWith('.ts') && !p.endsWith(path.join('addon', 'binding.ts'))) {
        // A cast of binding() to a wider type, or an interface naming binding.cc, is a second declaration.
        if (/binding\(\) as |native\/binding\.cc exports/.test(fs.readFileSync(p, 'utf8'))) others.push(path.relative(repoRoot, p));
      }
    }
  };
  walk(path.join(repoRoot, 'lib'));
  expect(others).toEqual([]);
});
