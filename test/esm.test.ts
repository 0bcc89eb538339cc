// The package is CommonJS (dist/); ES modules (Node 18 to 24) must still see every export by name
// and the whole module as the default export.
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { repoRoot, runProcess } from './helpers/child';

let dir: string;

// A project outside the repo with privdrop installed as a dependency (a symlink, as npm link does).
beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'privdrop-esm-'));
  fs.mkdirSync(path.join(dir, 'node_modules'));
  fs.symlinkSync(repoRoot, path.join(dir, 'node_modules', 'privdrop'), 'dir');
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

function runModule(source: string) {
  const file = path.join(dir, `check-${Math.random().toString(36).slice(2)}.mjs`);
  fs.writeFileSync(file, source);
  const r = runProcess(process.execPath, [file], { cwd: dir });
  expect(r.stderr).toBe('');
  expect(r.status).toBe(0);
  return r.json;
}

test('named imports from privdrop work in an ES module', () => {
  const json = runModule(`
    import { CapabilitySet, processState, PrivdropError, dropPrivileges, capabilityNames, ErrorCodes } from 'privdrop';
    const isClass = (f) => typeof f === 'function' && /^class\\b/.test(Function.prototype.toString.call(f));
    console.log(JSON.stringify({
      CapabilitySet: isClass(CapabilitySet),
      PrivdropError: isClass(PrivdropError),
      processState: typeof processState,
      dropPrivileges: typeof dropPrivileges,
      capabilityNames: typeof capabilityNames,
      code: ErrorCodes.UNSUPPORTED_PLATFORM,
      threads: processState().threads.length,
    }));
  `);
  expect(json).toEqual({
    CapabilitySet: true,
    PrivdropError: true,
    processState: 'function',
    dropPrivileges: 'function',
    capabilityNames: 'function',
    code: 'ERR_PRIVDROP_UNSUPPORTED_PLATFORM',
    threads: expect.any(Number),
  });
  expect(json.threads).toBeGreaterThan(0);
});

test('the default import is the whole CommonJS module', () => {
  const json = runModule(`
    import privdrop from 'privdrop';
    import { processState } from 'privdrop';
    console.log(JSON.stringify({ processState: typeof privdrop.processState, same: privdrop.processState === processState }));
  `);
  expect(json).toEqual({ processState: 'function', same: true });
});

test('every CommonJS export is also a named ES export', () => {
  // Node 23+ (so 24) also puts the whole CommonJS module in the namespace under the key
  // 'module.exports' (documented in Node's "Interoperability with CommonJS"); older Node does
  // not. Where the key is there it must be exactly module.exports; it is not a named export.
  const json = runModule(`
    import * as namespace from 'privdrop';
    import { createRequire } from 'module';
    const cjs = createRequire(import.meta.url)('privdrop');
    const hasKey = Object.keys(namespace).includes('module.exports');
    console.log(JSON.stringify({
      esm: Object.keys(namespace).filter((k) => k !== 'default' && k !== '__esModule' && k !== 'module.exports').sort(),
      cjs: Object.keys(cjs).filter((k) => k !== '__esModule').sort(),
      moduleExportsKey: hasKey ? namespace['module.exports'] === cjs : 'absent',
    }));
  `);
  expect(json.esm).toEqual(json.cjs);
  expect(json.esm.length).toBeGreaterThanOrEqual(6);
  const major = Number(process.versions.node.split('.')[0]);
  expect(json.moduleExportsKey).toBe(major >= 23 ? true : 'absent');
});
