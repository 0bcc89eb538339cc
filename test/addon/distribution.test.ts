// The two native build descriptions stay one: CMakeLists.txt (cmake-js: prebuilds, cross
// build, test builds) and native/binding.gyp (node-gyp: scripts/build-from-source.js on a user's
// machine) list the same sources, flags and defines. The C library check reads ELF correctly.
// And the package a consumer installs asks nothing of the package manager: no dependency, no
// install script, no top-level binding.gyp.
import * as fs from 'fs';
import * as path from 'path';
import { detectLibc, elfInterpreter, libcOfInterpreter } from '../../lib/addon/libc';
// eslint-disable-next-line @typescript-eslint/no-var-requires
const { publishedManifest } = require('../../scripts/pack.js') as { publishedManifest: (pkg: object) => Record<string, unknown> };
import { repoRoot } from '../helpers/child';

const gyp = JSON.parse(
  fs
    .readFileSync(path.join(repoRoot, 'native', 'binding.gyp'), 'utf8')
    .replace(/^\s*#.*$/gm, ''), // gyp files allow comment lines
);
const cmake = fs.readFileSync(path.join(repoRoot, 'CMakeLists.txt'), 'utf8');

function cmakeList(name: string): string[] {
  const m = new RegExp(`set\\(${name}\\s+([^)]*)\\)`).exec(cmake);
  if (!m) throw new Error(`CMakeLists.txt has no set(${name} ...)`);
  return m[1].split(/\s+/).filter(Boolean);
}

// binding.gyp lives in native/ and names its sources from there.
const gypSources: string[] = gyp.target_defaults.sources.map((f: string) => `native/${f}`);

describe('CMakeLists.txt and native/binding.gyp', () => {
  test('list the same sources in the same order', () => {
    expect(cmakeList('PRIVDROP_SOURCES')).toEqual(gypSources);
  });

  test('every native .cc file is in the list', () => {
    const files = fs
      .readdirSync(path.join(repoRoot, 'native'))
      .filter((f) => f.endsWith('.cc'))
      .map((f) => `native/${f}`)
      .sort();
    expect([...gypSources].sort()).toEqual(files);
  });

  test("use the same C++ flags (libcap's pkg-config flags aside)", () => {
    const gypFlags = gyp.target_defaults.cflags_cc.filter((f: string) => !f.startsWith('<@('));
    expect(cmakeList('PRIVDROP_CXX_FLAGS')).toEqual(gypFlags);
    expect(gyp.target_defaults['cflags_cc!']).toEqual(['-fno-exceptions']); // CMake: -fexceptions
  });

  test('use the same defines', () => {
    expect(cmakeList('PRIVDROP_DEFINES')).toEqual(gyp.target_defaults.defines);
  });

  test("target the Node-API version package.json's binary.napi_versions names (cmake-js reads it)", () => {
    const pkg = JSON.parse(fs.readFileSync(path.join(repoRoot, 'package.json'), 'utf8'));
    expect(gyp.target_defaults.defines).toContain(`NAPI_VERSION=${pkg.binary.napi_versions[0]}`);
  });
});

describe('the C library check (ELF program interpreter of node)', () => {
  function elf(interpreter: string | null, { is64 = true, little = true } = {}): Buffer {
    const b = Buffer.alloc(512);
    b.writeUInt32BE(0x7f454c46, 0);
    b[4] = is64 ? 2 : 1;
    b[5] = little ? 1 : 2;
    const u16 = (v: number, o: number) => (little ? b.writeUInt16LE(v, o) : b.writeUInt16BE(v, o));
    const u32 = (v: number, o: number) => (little ? b.writeUInt32LE(v, o) : b.writeUInt32BE(v, o));
    const word = (v: number, o: number) =>
      is64 ? (little ? b.writeBigUInt64LE(BigInt(v), o) : b.writeBigUInt64BE(BigInt(v), o)) : u32(v, o);
    const phoff = 64;
    const phentsize = is64 ? 56 : 32;
    word(phoff, is64 ? 0x20 : 0x1c);
    u16(phentsize, is64 ? 0x36 : 0x2a);
    u16(2, is64 ? 0x38 : 0x2c);
    u32(1, phoff); // PT_LOAD first
    if (interpreter !== null) {
      const ph = phoff + phentsize;
      u32(3, ph); // PT_INTERP
      word(300, ph + (is64 ? 0x08 : 0x04));
      word(interpreter.length + 1, ph + (is64 ? 0x20 : 0x10));
      b.write(interpreter, 300, 'latin1');
    }
    return b;
  }

  test.each([
    ['/lib64/ld-linux-x86-64.so.2', 'glibc'],
    ['/lib/ld-linux-aarch64.so.1', 'glibc'],
    ['/lib/ld-linux-armhf.so.3', 'glibc'],
    ['/lib/ld-musl-x86_64.so.1', 'musl'],
    ['/lib/ld-musl-aarch64.so.1', 'musl'],
    ['/system/bin/linker64', 'unknown'],
  ])('%s is %s', (interp, libc) => {
    expect(elfInterpreter(elf(interp))).toBe(interp);
    expect(libcOfInterpreter(elfInterpreter(elf(interp)))).toBe(libc);
  });

  test('32-bit and big-endian ELF files are read too', () => {
    expect(elfInterpreter(elf('/lib/ld-linux.so.2', { is64: false }))).toBe('/lib/ld-linux.so.2');
    expect(elfInterpreter(elf('/lib/ld64.so.1', { little: false }))).toBe('/lib/ld64.so.1');
  });

  test('no PT_INTERP (static), not ELF, truncated: unknown, never a throw', () => {
    expect(libcOfInterpreter(elfInterpreter(elf(null)))).toBe('unknown');
    expect(elfInterpreter(Buffer.from('#!/bin/sh\n'.padEnd(100)))).toBeNull();
    expect(elfInterpreter(elf('/lib64/ld-linux-x86-64.so.2').subarray(0, 200))).toBeNull();
    expect(detectLibc('/nonexistent')).toBe('unknown');
  });

  test('this node (Debian, glibc) is glibc', () => {
    expect(detectLibc()).toBe('glibc');
  });
});

describe('the published package asks nothing of npm, pnpm or yarn', () => {
  const pkg = JSON.parse(fs.readFileSync(path.join(repoRoot, 'package.json'), 'utf8'));
  const published = publishedManifest(pkg);

  test('no runtime dependency of any kind', () => {
    for (const field of ['dependencies', 'optionalDependencies', 'peerDependencies', 'bundleDependencies', 'bundledDependencies']) {
      expect(published[field]).toBeUndefined();
    }
  });

  test('no scripts at all (no install hook, no prepare an install from a tarball or git would run), no leftover binary field', () => {
    expect(pkg.scripts.install).toBeUndefined();
    expect(pkg.scripts.postinstall).toBeUndefined();
    expect(pkg.scripts.preinstall).toBeUndefined();
    expect(published.scripts).toBeUndefined();
    expect(published.binary).toBeUndefined();
    expect(published.gypfile).toBeUndefined();
  });

  // npm, pnpm and yarn each run `node-gyp rebuild` for a package with a top-level binding.gyp.
  test('no top-level binding.gyp in the repository or in the files list', () => {
    expect(fs.existsSync(path.join(repoRoot, 'binding.gyp'))).toBe(false);
    expect(pkg.files).not.toContain('binding.gyp');
    expect(pkg.files).toContain('native/');
    expect(pkg.files).toContain('scripts/build-from-source.js');
  });

  test('type, keywords, and the version is the newest in CHANGELOG.md', () => {
    expect(published.type).toBe('commonjs');
    expect(Array.isArray(published.keywords) && (published.keywords as string[]).length).toBeGreaterThan(3);
    const changelog = fs.readFileSync(path.join(repoRoot, 'CHANGELOG.md'), 'utf8');
    const released = [...changelog.matchAll(/^## (\d+\.\d+\.\d+)\b/gm)].map((m) => m[1]);
    expect(released[0]).toBe(pkg.version);
  });
});

describe('the loader names each prebuilt binary by a literal path (bundlers follow it)', () => {
  const source = fs.readFileSync(path.join(repoRoot, 'lib', 'addon', 'binding.ts'), 'utf8');
  const requires = [...source.matchAll(/require\('([^']+\.node)'\)/g)].map((m) => m[1]);

  test("one literal require per target scripts/prebuild.js builds, each of prebuild.js's output files", () => {
    const prebuild = fs.readFileSync(path.join(repoRoot, 'scripts', 'prebuild.js'), 'utf8');
    const table = prebuild.slice(prebuild.indexOf('const targets = {'), prebuild.indexOf('\n};', prebuild.indexOf('const targets = {')));
    const arches = [...table.matchAll(/^  (\w+): \{/gm)].map((m) => m[1]);
    expect(arches.sort()).toEqual(['arm64', 'x64']);
    expect(requires.sort()).toEqual(arches.map((a) => `../../prebuilds/linux-${a}/node.napi.glibc.node`).sort());
  });

  test('no node-gyp-build, no directory listing, no environment variable in the loader', () => {
    expect(source).not.toMatch(/node-gyp-build|readdirSync|process\.env/);
  });
});
