// The command line as a new user meets it: "did you mean" for a mistyped command, option or
// capability name, and the exit statuses that tell privdrop's failure, a command that cannot be
// executed and a command that is not found apart (as env(1) and chroot(1) do).
import * as path from 'path';
import { describeAsRoot, repoRoot, runNode, runProcess } from '../helpers/child';

const BIN = path.join(repoRoot, 'bin', 'privdrop.js');
const privdrop = (...args: string[]) => runProcess(process.execPath, [BIN, ...args]);

describe('did you mean', () => {
  test.each([
    [['exce'], 'privdrop: unknown command "exce" (did you mean "exec"?)'],
    [['sohw'], 'privdrop: unknown command "sohw" (did you mean "show"?)'],
    [['--verison'], 'privdrop: unknown option --verison (did you mean "--version"?)'],
    [['show', '--jsn'], 'privdrop show: unknown option --jsn (did you mean "--json"?)'],
    [['parse', '--josn', 'cap_kill+p'], 'privdrop parse: unknown option --josn (did you mean "--json"?)'],
    [['exec', '--no-new-priv', '--user', 'nobody', '--', 'true'], 'privdrop exec: unknown option --no-new-priv (did you mean "--no-new-privs"?)'],
    [['exec', '--capabilities', 'cap_kill', '--user', 'nobody', '--', 'true'], 'privdrop exec: unknown option --capabilities (did you mean "--caps"?)'],
    [['exec', '--noNewPrivileges', '--user', 'nobody', '--', 'true'], 'privdrop exec: unknown option --noNewPrivileges (did you mean "--no-new-privs"?)'],
    [['exec', '--reuid', 'nobody', '--', 'true'], 'privdrop exec: unknown option --reuid (did you mean "--user"?)'],
    [['exec', '--toString', 'x', '--', 'true'], 'privdrop exec: unknown option --toString'],
  ])('privdrop %j: usage error (2) with the suggestion', (args, line) => {
    const r = privdrop(...args);
    expect(r.status).toBe(2);
    expect(r.stderr.split('\n')[0]).toBe(line);
    expect(r.stdout).toBe('');
  });

  test('nothing is suggested for a word close to no command', () => {
    const r = privdrop('frobnicate');
    expect(r.status).toBe(2);
    expect(r.stderr.split('\n')[0]).toBe('privdrop: unknown command "frobnicate"');
  });

  test.each([
    ['cap_net_bind_servce+ep', 'cap_net_bind_service'],
    ['net_bind_service+ep', 'cap_net_bind_service'],
    ['cap_sys_admn+p', 'cap_sys_admin'],
    ['CAP_SETUIDD+p', 'cap_setuid'],
  ])('a misspelt capability in parse (%s) names the one meant', (text, meant) => {
    const r = privdrop('parse', text);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(new RegExp(`unknown capability .* \\(did you mean "${meant}"\\?\\)\\n$`));
  });
});

describeAsRoot('exec exit statuses (125 privdrop, 126 cannot execute, 127 not found)', () => {
  test('125: privdrop itself failed (here: the capability list has a typo), and it suggests the name', () => {
    const r = privdrop('exec', '--user', 'nobody', '--caps', 'cap_net_bind_servce', '--', 'true');
    expect(r.status).toBe(125);
    expect(r.stderr).toMatch(/unknown capability "cap_net_bind_servce" \(did you mean "cap_net_bind_service"\?\)/);
  });

  test('126: COMMAND exists but is not an executable file', () => {
    const r = privdrop('exec', '--user', 'nobody', '--', '/etc/passwd');
    expect(r.status).toBe(126);
    expect(r.stderr).toBe('privdrop exec: /etc/passwd: /etc/passwd is not an executable file\n');
  });

  test('127: COMMAND not found', () => {
    const r = privdrop('exec', '--user', 'nobody', '--', 'privdrop-no-such-command');
    expect(r.status).toBe(127);
  });

  test("COMMAND's own status passes through, whatever it is", () => {
    for (const status of [0, 3, 125, 126]) {
      expect(privdrop('exec', '--user', 'nobody', '--', 'sh', '-c', `exit ${status}`).status).toBe(status);
    }
  });
});

describe('parse warns about valid text that dropPrivileges() would refuse', () => {
  test.each([
    ['cap_kill+e', /^privdrop parse: warning: effective capabilities must also be permitted: cap_kill=e \(write \+ep, not \+e\); dropPrivileges\(\) refuses it \(ERR_PRIVDROP_INVALID_CAPABILITIES\)\n$/],
    ['cap_kill+ep 41,42+p', /^privdrop parse: warning: capabilities 41, 42 are unknown to this kernel \(its last is \d+, cap_\w+\): dropPrivileges\(\) refuses them \(ERR_PRIVDROP_INVALID_CAPABILITIES\)\n$/],
  ])('%s: printed, status 0, one warning on stderr, and "warnings" in --json', (text, warning) => {
    const r = privdrop('parse', text);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^text {9}/);
    expect(r.stderr).toMatch(warning);
    const j = privdrop('parse', '--json', text);
    expect(j.status).toBe(0);
    expect(JSON.parse(j.stdout).warnings).toEqual([r.stderr.replace(/^privdrop parse: warning: /, '').trimEnd()]);
  });

  test('no warning for text the drop accepts', () => {
    for (const text of ['cap_net_bind_service+ep', 'cap_kill+p cap_chown+i', '=']) {
      const r = privdrop('parse', text);
      expect({ status: r.status, stderr: r.stderr }).toEqual({ status: 0, stderr: '' });
      expect(JSON.parse(privdrop('parse', '--json', text).stdout).warnings).toBeUndefined();
    }
  });
});

describeAsRoot('the parse warnings are true: dropPrivileges() refuses that text with the code named', () => {
  test.each([['cap_kill+e'], ['cap_kill+ep 41,42+p']])('%s', (text) => {
    const r = runNode(`try { privdrop.dropPrivileges({ user: 'nobody', capabilities: ${JSON.stringify(text)} }); report('dropped'); }
      catch (e) { report({ code: e.code, uid: process.getuid() }); }`);
    expect(r.json).toEqual({ code: 'ERR_PRIVDROP_INVALID_CAPABILITIES', uid: 0 });
  });
});

describe('did you mean, in the API and in config files', () => {
  const messageOf = (f: () => unknown): string => {
    try {
      f();
    } catch (e) {
      return (e as Error).message;
    }
    throw new Error('no error');
  };

  test('a misspelt dropPrivileges() option', () => {
    const r = runNode(`try { privdrop.resolveDropOptions({ user: 'nobody', capabilites: ['cap_kill'] }); } catch (e) { report(e.message); }`);
    expect(r.json).toMatch(/^unknown option "capabilites" \(did you mean "capabilities"\?\); known options: user, /);
  });

  test('a misspelt key in a Security stanza and in JSON, at its line and column', () => {
    // eslint-disable-next-line @typescript-eslint/no-var-requires
    const { parseSecurityConfig } = require('../../lib') as typeof import('../../lib');
    expect(messageOf(() => parseSecurityConfig('Security {\n  user = a\n  capabilites = "cap_kill+ep"\n}\n', 'a.conf'))).toMatch(
      /^a\.conf:3:3: unknown key "capabilites" \(did you mean "capabilities"\?\); known keys: /,
    );
    expect(messageOf(() => parseSecurityConfig('{"user": "a", "noNewPrivilege": true}', 'a.json'))).toMatch(
      /^a\.json:1:15: unknown key "noNewPrivilege" \(did you mean "noNewPrivileges"\?\); known keys: /,
    );
    expect(messageOf(() => parseSecurityConfig('Security {\n  __proto__ = a\n}\n', 'a.conf'))).toMatch(/^a\.conf:2:3: unknown key "__proto__"; known keys/);
  });
});
