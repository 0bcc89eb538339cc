// Every PrivdropError thrown before a drop's first irreversible step names its step: 'load' (the
// addon), 'resolve' (user and group lookups), 'validate' (everything else). Native errors carry
// their own; these are the ones thrown by lib/.
import { runExec } from '../../lib/cli/exec';
import { resolveDropOptions } from '../../lib/drop';
import { PrivdropError } from '../../lib/errors';
import { runNode } from '../helpers/child';

// Options that fail in TypeScript, each in a different check, with the code and step expected.
const badOptions: [string, unknown, string, string][] = [
  ['an unknown option', { user: 'nobody', users: 'x' }, 'ERR_PRIVDROP_INVALID_ARGUMENT', 'validate'],
  ['no user', { group: 'nogroup' }, 'ERR_PRIVDROP_INVALID_ARGUMENT', 'validate'],
  ['a name with a colon', { user: 'a:b' }, 'ERR_PRIVDROP_INVALID_ARGUMENT', 'validate'],
  ['a bad group name', { user: 'nobody', group: 'a b' }, 'ERR_PRIVDROP_INVALID_ARGUMENT', 'validate'],
  ['bad capability text', { user: 'nobody', capabilities: 'cap_foo+ep' }, 'ERR_PRIVDROP_INVALID_CAPABILITIES', 'validate'],
  ['an unknown capability name', { user: 'nobody', capabilities: ['cap_foo'] }, 'ERR_PRIVDROP_INVALID_CAPABILITIES', 'validate'],
  ['effective without permitted', { user: 'nobody', capabilities: 'cap_chown+e' }, 'ERR_PRIVDROP_INVALID_CAPABILITIES', 'validate'],
  ['a relative chroot', { user: 'nobody', chroot: 'tmp' }, 'ERR_PRIVDROP_INVALID_CHROOT', 'validate'],
  ['a bad boundingSet', { user: 'nobody', boundingSet: 'all' }, 'ERR_PRIVDROP_INVALID_ARGUMENT', 'validate'],
  ['a bad supplementary group name', { user: 'nobody', supplementaryGroups: ['a,b'] }, 'ERR_PRIVDROP_INVALID_ARGUMENT', 'validate'],
  ['root as the target', { user: 'root' }, 'ERR_PRIVDROP_INVALID_ARGUMENT', 'validate'],
  ['a uid with no entry and no group', { user: 4242424 }, 'ERR_PRIVDROP_INVALID_ARGUMENT', 'validate'],
  ["'init' for a uid with no entry", { user: 4242424, group: 4242424 }, 'ERR_PRIVDROP_INVALID_ARGUMENT', 'validate'],
  ['an unknown user', { user: 'no-such-user-privdrop' }, 'ERR_PRIVDROP_UNKNOWN_USER', 'resolve'],
  ['an unknown group', { user: 'nobody', group: 'no-such-group-privdrop' }, 'ERR_PRIVDROP_UNKNOWN_GROUP', 'resolve'],
];

function thrown(fn: () => unknown): { code?: string; step?: string } {
  try {
    fn();
  } catch (e) {
    if (!(e instanceof PrivdropError)) throw e;
    return { code: e.code, step: e.step };
  }
  throw new Error('did not throw');
}

describe('resolveDropOptions()', () => {
  test.each(badOptions)('%s: the error names its step', (_name, options, code, step) => {
    expect(thrown(() => resolveDropOptions(options as never))).toEqual({ code, step });
  });
});

test('dropPrivileges() throws the same, step included (in a child process)', () => {
  const r = runNode(`
    const out = [];
    for (const options of ${JSON.stringify(badOptions.map((b) => b[1]))}) {
      try { privdrop.dropPrivileges(options); out.push('returned'); } catch (e) { out.push({ code: e.code, step: e.step }); }
    }
    report(out);
  `);
  expect(r.stderr).toBe('');
  expect(r.json).toEqual(badOptions.map(([, , code, step]) => ({ code, step })));
});

test("the platform check says 'load'", () => {
  const r = runNode(`
    Object.defineProperty(process, 'platform', { value: 'darwin' });
    try { privdrop.resolveDropOptions({ user: 'nobody' }); } catch (e) { report({ code: e.code, step: e.step }); }
  `);
  expect(r.json).toEqual({ code: 'ERR_PRIVDROP_UNSUPPORTED_PLATFORM', step: 'load' });
});

describe('privdrop exec: errors before the drop', () => {
  // --dry-run throughout: even a check that wrongly passed would change nothing in this process.
  test.each([
    ['a command that does not exist', ['--dry-run', '--user', 'nobody', '--', 'no-such-command-privdrop'], 'ERR_PRIVDROP_COMMAND_NOT_FOUND'],
    ['a file that is not executable', ['--dry-run', '--user', 'nobody', '--', '/etc/passwd'], 'ERR_PRIVDROP_EXEC_FAILED'],
    ['a chroot that does not exist', ['--dry-run', '--user', 'nobody', '--chroot', '/no-such-dir-privdrop', '--', '/bin/true'], 'ERR_PRIVDROP_INVALID_CHROOT'],
    ['a descriptor that is not open', ['--dry-run', '--user', 'nobody', '--keep-fd', '987654', '--', '/bin/true'], 'ERR_PRIVDROP_INVALID_ARGUMENT'], // privdrop's own failure (exit 125), not COMMAND's
    ['a config file that does not exist', ['--dry-run', '--config', '/no-such-file-privdrop', '--', '/bin/true'], 'ERR_PRIVDROP_INVALID_CONFIG'],
    ['bad options', ['--dry-run', '--user', 'root', '--', '/bin/true'], 'ERR_PRIVDROP_INVALID_ARGUMENT'],
  ])('%s: step validate', (_name, args, code) => {
    expect(thrown(() => runExec(args, () => {}))).toEqual({ code, step: 'validate' });
  });
});
