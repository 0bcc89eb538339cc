// User and group lookups that fail name the function they really called (getpwnam_r,
// getpwuid_r, getgrnam_r, getgrgid_r). NSS is made to fail with EIO by a preloaded shim.
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { repoRoot, runNode } from '../helpers/child';

const SHIM = `
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stddef.h>
int getpwnam_r(const char *n, struct passwd *p, char *b, size_t l, struct passwd **r) { *r = NULL; return EIO; }
int getpwuid_r(uid_t u, struct passwd *p, char *b, size_t l, struct passwd **r) { *r = NULL; return EIO; }
int getgrnam_r(const char *n, struct group *g, char *b, size_t l, struct group **r) { *r = NULL; return EIO; }
int getgrgid_r(gid_t i, struct group *g, char *b, size_t l, struct group **r) { *r = NULL; return EIO; }
`;

let dir: string;
let shim: string;

beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'privdrop-nss-'));
  fs.writeFileSync(path.join(dir, 'shim.c'), SHIM);
  shim = path.join(dir, 'shim.so');
  // The C compiler that built the addon (npm test builds it first).
  const cc = spawnSync(process.env.CC || 'cc', ['-shared', '-fPIC', '-o', shim, path.join(dir, 'shim.c')], { encoding: 'utf8' });
  if (cc.status !== 0) throw new Error(`cannot build the NSS shim: ${cc.stderr || cc.error}`);
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

test('each failed lookup names its own call, with the errno and the step', () => {
  const r = runNode(
    `const b = require(${JSON.stringify(path.join(repoRoot, 'dist', 'addon', 'binding'))}).binding();
     const out = {};
     for (const [name, fn] of [['userByName', () => b.lookupUser('somebody')], ['userById', () => b.lookupUser(4242)],
                               ['groupByName', () => b.lookupGroup('somegroup')], ['groupById', () => b.lookupGroup(4242)]]) {
       try { fn(); out[name] = 'returned'; } catch (e) { out[name] = { code: e.code, syscall: e.syscall, errnoName: e.errnoName, step: e.step }; }
     }
     report(out);`,
    // After whatever is preloaded already (npm run sanitize preloads libasan, which must come first).
    { env: { LD_PRELOAD: [process.env.LD_PRELOAD, shim].filter(Boolean).join(':') } },
  );
  expect(r.stderr).toBe('');
  const failed = (syscall: string) => ({ code: 'ERR_PRIVDROP_SYSTEM', syscall, errnoName: 'EIO', step: 'resolve' });
  expect(r.json).toEqual({
    userByName: failed('getpwnam_r'),
    userById: failed('getpwuid_r'),
    groupByName: failed('getgrnam_r'),
    groupById: failed('getgrgid_r'),
  });
});
