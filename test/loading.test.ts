// require('privdrop') always works; what fails is the first call, with a coded error that
// says why (unsupported platform, or a binary that cannot be loaded).
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { runNode } from './helpers/child';

const fixture = (name: string) => path.join(__dirname, 'fixtures', name);

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
  'on musl (no glibcVersionRuntime in the report header)',
  () => runNode(callEveryEntryPoint, { nodeArgs: ['--require', fixture('loading-musl.js')] }),
  'ERR_PRIVDROP_UNSUPPORTED_PLATFORM',
  /glibc/,
);

// The message must tell the user what to install and what to run.
const installHint = /libcap-dev[\s\S]*`npm rebuild privdrop`/;

describeScenario(
  'when the native binary is missing',
  () => runNode(callEveryEntryPoint, { env: { PRIVDROP_BINDING: '/nonexistent.node' } }),
  'ERR_PRIVDROP_BINDING_NOT_FOUND',
  installHint,
);

describe('when the native binary is corrupt', () => {
  let dir: string;
  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'privdrop-loading-'));
    fs.writeFileSync(path.join(dir, 'x.node'), 'this is not a shared object\n');
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  describeScenario(
    'a text file named x.node',
    () => runNode(callEveryEntryPoint, { env: { PRIVDROP_BINDING: path.join(dir, 'x.node') } }),
    'ERR_PRIVDROP_BINDING_NOT_FOUND',
    installHint,
  );
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
