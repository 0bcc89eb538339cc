// require('privdrop') always works; what fails is the first call, with a coded error that
// says why (unsupported platform, or a binary that cannot be loaded).
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { faultsBinding, repoRoot, runNode } from '../helpers/child';

const fixture = (name: string) => path.join(__dirname, '..', 'fixtures', name);

// Loads the package by name (self-reference, cwd is the repo root) and calls every public
// entry point with valid arguments, reporting what each threw.
const callEveryEntryPoint = `
  let loaded;
  try { loaded = require('privdrop'); } catch (e) { report({ requireError: String(e && e.stack) }); process.exit(0); }
  const calls = {
    'CapabilitySet.parse': () => loaded.CapabilitySet.parse('cap_net_bind_service=ep'),
    processState: () => loaded.processState(),
    dropPrivileges: () => loaded.dropPrivileges({ user: 'nobody' }),
    capabilityNames: () => loaded.capabilityNames(),
  };
  const results = {};
  for (const [name, call] of Object.entries(calls)) {
    try { call(); results[name] = { threw: false }; }
    catch (e) { results[name] = { threw: true, code: e.code, message: e.message, isPrivdropError: e instanceof loaded.PrivdropError }; }
  }
  report({ results });
`;

const entryPoints = ['CapabilitySet.parse', 'processState', 'dropPrivileges', 'capabilityNames'];

interface CallResult {
  threw: boolean;
  code?: string;
  message?: string;
  isPrivdropError?: boolean;
}

function describeScenario(title: string, run: () => ReturnType<typeof runNode>, code: string, message?: RegExp): void {
  describe(title, () => {
    let requireError: string | undefined;
    let results: Record<string, CallResult>;
    beforeAll(() => {
      const r = run();
      expect(r.stderr).toBe('');
      ({ requireError, results } = r.json);
    });

    test("require('privdrop') does not throw", () => {
      expect(requireError).toBeUndefined();
    });

    test.each(entryPoints)(`%s throws a PrivdropError with code ${code}`, (name) => {
      expect(results[name]).toEqual(expect.objectContaining({ threw: true, code, isPrivdropError: true }));
      if (message) expect(results[name].message).toMatch(message);
    });
  });
}

describeScenario(
  'on macOS (process.platform overridden to darwin)',
  () => runNode(callEveryEntryPoint, { nodeArgs: ['--require', fixture('loading-darwin.js')] }),
  'ERR_PRIVDROP_UNSUPPORTED_PLATFORM',
  /Linux/,
);

describeScenario(
  'on musl (node\'s ELF interpreter is ld-musl, as on Alpine)',
  () => runNode(callEveryEntryPoint, { nodeArgs: ['--require', fixture('loading-musl.js')] }),
  'ERR_PRIVDROP_UNSUPPORTED_PLATFORM',
  /glibc[\s\S]*musl/,
);

// A copy of the package (dist/, package.json, and no node_modules: privdrop needs no other
// package at run time) with the given files under build/ and prebuilds/, as an install would
// leave it.
function packageCopy(files: Record<string, string | Buffer>): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'privdrop-loading-'));
  fs.cpSync(path.join(repoRoot, 'dist'), path.join(dir, 'dist'), { recursive: true });
  fs.copyFileSync(path.join(repoRoot, 'package.json'), path.join(dir, 'package.json'));
  for (const [name, content] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
    fs.writeFileSync(path.join(dir, name), content);
  }
  return dir;
}

const built = path.join(repoRoot, 'build', 'Release', 'privdrop.node');
const prebuildName = `prebuilds/linux-${process.arch}/node.napi.glibc.node`;
const copies: string[] = [];
const inCopy = (files: Record<string, string | Buffer>) => {
  const dir = packageCopy(files);
  copies.push(dir);
  return runNode(callEveryEntryPoint, { cwd: dir });
};
afterAll(() => copies.forEach((d) => fs.rmSync(d, { recursive: true, force: true })));

// Nothing to load: the message says so and gives the one command (with what it needs first).
describeScenario(
  'with no prebuild and no build (a checkout, or a copy without prebuilds/)',
  () => inCopy({}),
  'ERR_PRIVDROP_BINDING_NOT_FOUND',
  /no prebuilt binary for linux-\w+ \(.*prebuilds\/linux-\w+\/node\.napi\.glibc\.node\) and no build at [\s\S]*libcap-dev[\s\S]*`node \/.*\/scripts\/build-from-source\.js`/,
);

describeScenario(
  'with a corrupt build and no prebuild',
  () => inCopy({ 'build/Release/privdrop.node': 'this is not a shared object\n' }),
  'ERR_PRIVDROP_BINDING_NOT_FOUND',
  /could not be loaded \(.*privdrop\.node: .*(invalid ELF header|too short)[\s\S]*`node \/.*\/scripts\/build-from-source\.js`/,
);

// The loader inlined into an application's bundle (as esbuild does) whose binary was not
// shipped beside it: the advice is a bundler's, not a rebuild. scripts/ci/install-tests.sh
// bundles with the real esbuild and drops for real.
test('bundled into an application file without the binary beside it: BINDING_NOT_FOUND with the bundler recipes', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'privdrop-bundle-'));
  copies.push(dir);
  const source = fs
    .readFileSync(path.join(repoRoot, 'dist', 'addon', 'binding.js'), 'utf8')
    .replace(/require\("(\.\.\/errors|\.\/libc)"\)/g, (_, m) => `require(${JSON.stringify(path.join(repoRoot, 'dist', 'addon', m))})`);
  fs.mkdirSync(path.join(dir, 'out'));
  fs.writeFileSync(path.join(dir, 'out', 'server.js'), source);
  // A build/ near the "bundle" is not looked for: in a bundle only the copied prebuild is.
  fs.mkdirSync(path.join(dir, 'build', 'Release'), { recursive: true });
  fs.copyFileSync(built, path.join(dir, 'build', 'Release', 'privdrop.node'));
  const r = runNode(
    `const b = require(${JSON.stringify(path.join(dir, 'out', 'server.js'))});
     try { b.binding(); report({ threw: false }); }
     catch (e) { report({ code: e.code, name: e.name, message: e.message, bundled: b.bundled }); }`,
  );
  expect(r.stderr).toBe('');
  expect(r.json).toEqual(expect.objectContaining({ code: 'ERR_PRIVDROP_BINDING_NOT_FOUND', name: 'PrivdropError', bundled: true }));
  expect(r.json.message).toMatch(/bundled into .*out\/server\.js[\s\S]*--loader:\.node=copy[\s\S]*--external:privdrop[\s\S]*docs\/install\.md/);
  expect(r.json.message).not.toMatch(/build-from-source|npm rebuild/);
});

test('a build that does not load falls through to the prebuild, and bindingPath() names the one loaded', () => {
  const dir = packageCopy({ 'build/Release/privdrop.node': 'corrupt\n', [prebuildName]: fs.readFileSync(built) });
  copies.push(dir);
  const r = runNode(
    `const p = require('privdrop'); const b = require(require('path').resolve('dist/addon/binding.js'));
     report({ threads: p.processState().threads.length, loaded: b.bindingPath() });`,
    { cwd: dir },
  );
  expect(r.stderr).toBe('');
  expect(r.json.threads).toBeGreaterThan(0);
  expect(r.json.loaded).toBe(path.join(fs.realpathSync(dir), prebuildName));
});

test('a from-source build is taken before the prebuild', () => {
  const dir = packageCopy({ 'build/Release/privdrop.node': fs.readFileSync(built), [prebuildName]: 'corrupt\n' });
  copies.push(dir);
  const r = runNode(`report({ threads: require('privdrop').processState().threads.length })`, { cwd: dir });
  expect(r.stderr).toBe('');
  expect(r.json.threads).toBeGreaterThan(0);
});

// issue 10 item 6: no environment variable picks the binary a (root) process loads. The old
// loader took PRIVDROP_BINDING; node-gyp-build's own resolve() takes PRIVDROP_PREBUILD.
describe('the production loader ignores binary names in the environment', () => {
  const probe = `const b = require(${JSON.stringify(path.join(repoRoot, 'dist', 'addon', 'binding.js'))});
    report({ faultInjection: b.binding().faultInjection, loaded: b.bindingPath() });`;

  test('PRIVDROP_BINDING naming the fault-injection build', () => {
    expect(fs.existsSync(faultsBinding)).toBe(true);
    const r = runNode(probe, { env: { PRIVDROP_BINDING: faultsBinding } });
    expect(r.stderr).toBe('');
    expect(r.json).toEqual({ faultInjection: false, loaded: built });
  });

  test('PRIVDROP_PREBUILD naming a directory with that build as its prebuild', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'privdrop-prebuild-env-'));
    copies.push(dir);
    fs.mkdirSync(path.join(dir, 'build', 'Release'), { recursive: true });
    fs.copyFileSync(faultsBinding, path.join(dir, 'build', 'Release', 'privdrop.node'));
    const r = runNode(probe, { env: { PRIVDROP_PREBUILD: dir } });
    expect(r.stderr).toBe('');
    expect(r.json).toEqual({ faultInjection: false, loaded: built });
  });

  test('the explicit test-only entry does load another file (the mechanism the tests use)', () => {
    const r = runNode(probe, { binding: faultsBinding });
    expect(r.stderr).toBe('');
    expect(r.json).toEqual({ faultInjection: true, loaded: faultsBinding });
  });

  test('dist/testing.js is not in the published package', () => {
    const pkg = JSON.parse(fs.readFileSync(path.join(repoRoot, 'package.json'), 'utf8'));
    expect(pkg.files).toContain('!dist/testing.*');
  });
});

test('on a supported system every entry point loads the binary and works', () => {
  const r = runNode(`
    const p = require('privdrop');
    report({ parsed: String(p.CapabilitySet.parse('cap_net_bind_service=ep')), names: p.capabilityNames().length, threads: p.processState().threads.length });
  `);
  expect(r.stderr).toBe('');
  expect(r.json.parsed).toMatch(/cap_net_bind_service/);
  expect(r.json.names).toBeGreaterThan(30);
  expect(r.json.threads).toBeGreaterThan(0);
});
