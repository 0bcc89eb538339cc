import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { loadSecurityConfig, parseSecurityConfig } from '../../lib/config';
import { ErrorCodes, PrivdropError } from '../../lib/errors';
import * as privdrop from '../../lib/index';

const fixtures = path.join(__dirname, '..', 'fixtures');
const stanzaFile = path.join(fixtures, 'config-security.conf');
const jsonFile = path.join(fixtures, 'config-security.json');

const expected = {
  user: 'nobody',
  group: 'nogroup',
  capabilities: 'cap_net_bind_service+ep',
  supplementaryGroups: ['nogroup', 'adm'],
  chroot: '/var/empty',
  noNewPrivileges: true,
  boundingSet: 'unchanged',
  ambient: false,
  lockSecurebits: true,
};

/** The error parseSecurityConfig throws for `text`, checked to be an INVALID_CONFIG PrivdropError. */
function configError(text: string, file = 'test.conf'): PrivdropError {
  try {
    parseSecurityConfig(text, file);
  } catch (e) {
    expect(e).toBeInstanceOf(PrivdropError);
    expect((e as PrivdropError).code).toBe(ErrorCodes.INVALID_CONFIG);
    return e as PrivdropError;
  }
  throw new Error(`no error for ${JSON.stringify(text)}`);
}

describe('loadSecurityConfig() reads both formats into DropOptions', () => {
  test('is exported from the package', () => {
    expect(privdrop.loadSecurityConfig).toBe(loadSecurityConfig);
  });

  test('a Security stanza: keys in any case, comments, quoted and bare values', () => {
    expect(loadSecurityConfig(stanzaFile)).toEqual(expected);
  });

  test('the equivalent JSON file gives the same options', () => {
    expect(loadSecurityConfig(jsonFile)).toEqual(loadSecurityConfig(stanzaFile));
  });

  test("the issue's Momentum example reads as written", () => {
    const text = `Security {
  user = ecuser
  group = ecuser
  # keep the right to bind low ports
  Capabilities = "cap_net_bind_service+ep"
  chroot = /var/empty
  supplemental_groups = "adm,www-data"
}
`;
    expect(parseSecurityConfig(text)).toEqual({
      user: 'ecuser',
      group: 'ecuser',
      capabilities: 'cap_net_bind_service+ep',
      chroot: '/var/empty',
      supplementaryGroups: ['adm', 'www-data'],
    });
  });

  test('supplemental_groups takes init, clear, "" (none) or a list; JSON takes ids as numbers', () => {
    const groups = (v: string) => parseSecurityConfig(`Security {\n user = a\n supplemental_groups = ${v}\n}`).supplementaryGroups;
    expect(groups('init')).toBe('init');
    expect(groups('clear')).toBe('clear');
    expect(groups('""')).toEqual([]);
    expect(groups('"adm, 4"')).toEqual(['adm', '4']);
    expect(parseSecurityConfig('{"user": 65534, "supplementaryGroups": [4, "adm"]}')).toEqual({ user: 65534, supplementaryGroups: [4, 'adm'] });
  });

  test('JSON capabilities may be an array of names; a byte-order mark is ignored', () => {
    expect(parseSecurityConfig('\ufeff{"user": "a", "capabilities": ["cap_chown", "CAP_KILL"]}')).toEqual({
      user: 'a',
      capabilities: ['cap_chown', 'CAP_KILL'],
    });
  });

  test('a file without a user is refused by loadSecurityConfig (the command line may add one)', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'privdrop-config-'));
    const file = path.join(dir, 'nouser.conf');
    fs.writeFileSync(file, 'Security {\n  capabilities = cap_chown+ep\n}\n');
    try {
      expect(() => loadSecurityConfig(file)).toThrow(expect.objectContaining({ code: ErrorCodes.INVALID_CONFIG, message: expect.stringContaining('no user') }));
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  test('a missing file is an INVALID_CONFIG error naming the file and the errno once', () => {
    expect(() => loadSecurityConfig('/nonexistent/privdrop.conf')).toThrow(
      expect.objectContaining({
        code: ErrorCodes.INVALID_CONFIG,
        path: '/nonexistent/privdrop.conf',
        message: "cannot read config file /nonexistent/privdrop.conf: ENOENT: no such file or directory, stat '/nonexistent/privdrop.conf'",
      }),
    );
  });
});

describe('config errors point at the file, line and column', () => {
  // Each case: the text, then where the error must point and what it must say.
  const stanzaCases: [string, string, number, number, RegExp][] = [
    ['unknown key', 'Security {\n  user = a\n  colour = blue\n}\n', 3, 3, /unknown key "colour"/],
    ['a key given twice, in another case', 'Security {\n  user = a\n  # again\n    USER = b\n}\n', 4, 5, /key "USER" given twice \(first at line 2, column 3\)/],
    ['a missing closing brace (points at the opening one)', '# x\nSecurity {\n  user = a\n', 2, 10, /missing "}"/],
    ['a missing opening brace', 'Security\n  user = a\n}\n', 2, 3, /expected "\{" after "Security"/],
    ['no Security stanza at all (points at the end)', '\n\n  Spool_Base = "/var/spool"\n', 4, 1, /no "Security \{" stanza in this file/],
    ['an empty file', '', 1, 1, /empty/],
    ['Privileges without Capabilities', 'Security {\n  user = a\n  Privileges = "basic,net_privaddr"\n}\n', 3, 3, /Solaris form .* does not apply on Linux, and this stanza has no "Capabilities"/],
    ['Privileges given twice', 'Security {\n  user = a\n  capabilities = \"=\"\n  Privileges = basic\n  privileges = basic\n}\n', 5, 3, /key "privileges" given twice \(first at line 4, column 3\)/],
    ['user = root (the seed\'s reason)', 'Security {\n  user = root\n}\n', 2, 10, /"user" is root: root owns most files .*capabilities alone do not contain root/],
    ['user = 0', 'Security {\n  USER = "0"\n}\n', 2, 10, /"USER" is root/],
    ['a missing "="', 'Security {\n  user a\n}\n', 2, 8, /expected "=" after "user"/],
    ['a missing value', 'Security {\n  user =\n}\n', 2, 9, /expected a value after "user ="/],
    ['an unterminated quote (points at the opening quote)', 'Security {\n  user = "nobody\n}\n', 2, 10, /unterminated string/],
    ['two words unquoted', 'Security {\n  capabilities = cap_chown+ep cap_kill+ep\n}\n', 2, 31, /unexpected "c" after the value of "capabilities"/],
    ['a bad boolean', 'Security {\n  user = a\n  no_new_privs = maybe\n}\n', 3, 18, /must be true or false/],
    ['bad capability text (points at the value, names the clause)', 'Security {\n  user = a\n  capabilities = "cap_chown+ep cap_nope+p"\n}\n', 3, 18, /clause "cap_nope\+p" at offset 13: unknown capability/],
    ['a bad bounding_set', 'Security {\n  user = a\n  bounding_set = cleared\n}\n', 3, 18, /"retained" or "unchanged"/],
    ['a relative chroot', 'Security {\n  user = a\n  chroot = var/empty\n}\n', 3, 12, /absolute path/],
    ['two Security stanzas (names both lines)', 'Security {\n  user = a\n}\nsecurity {\n}\n', 4, 1, /a second Security stanza \(the first is at line 1, column 1\)/],
    ['text after the stanza on its line', 'Security {\n  user = a\n} x = 1\n', 3, 3, /unexpected "x" after the Security stanza/],
    ['__proto__ as a key', 'Security {\n  __proto__ = a\n}\n', 2, 3, /unknown key "__proto__"/],
  ];
  test.each(stanzaCases)('stanza: %s', (_name, text, line, column, why) => {
    const e = configError(text);
    expect(e.message).toMatch(new RegExp(`^test\\.conf:${line}:${column}: `));
    expect(e.message).toMatch(why);
    expect(e.path).toBe('test.conf');
  });

  const jsonCases: [string, string, number, number, RegExp][] = [
    ['unknown key', '{\n  "user": "a",\n  "colour": "blue"\n}', 3, 3, /unknown key "colour"/],
    ['a key given twice', '{\n  "user": "a",\n  "user": "b"\n}', 3, 3, /key "user" given twice/],
    ['a missing closing brace', '{\n  "user": "a"\n', 1, 1, /missing "}"/],
    ['a missing comma', '{\n  "user": "a"\n  "group": "b"\n}', 3, 3, /expected "," or "}"/],
    ['a trailing comma', '{\n  "user": "a",\n}', 3, 1, /expected a key in double quotes/],
    ['privileges', '{\n  "user": "a",\n  "privileges": "basic"\n}', 3, 3, /Solaris form/],
    ['a wrong type', '{\n  "user": "a",\n  "ambient": "yes"\n}', 3, 14, /"ambient" must be true or false/],
    ['a wrong array entry', '{\n  "user": "a",\n  "capabilities": ["cap_chown", 7]\n}', 3, 33, /array of capability names/],
    ['bad capability names', '{\n  "user": "a",\n  "capabilities": ["cap_chown", "cap_nope"]\n}', 3, 19, /unknown capability "cap_nope"/],
    ['not an object', '\n  ["user"]', 2, 3, /must be a JSON object/],
    ['a non-JSON value', '{\n  "user": nobody\n}', 2, 11, /expected a value/],
  ];
  test.each(jsonCases)('JSON: %s', (_name, text, line, column, why) => {
    const e = configError(text, 'test.json');
    expect(e.message).toMatch(new RegExp(`^test\\.json:${line}:${column}: `));
    expect(e.message).toMatch(why);
  });

  test.each(['__proto__', 'constructor', 'prototype'])('JSON key %s is refused and pollutes nothing', (key) => {
    const e = configError(`{\n  "user": "a",\n  "${key}": { "polluted": true, "user": "root" }\n}`, 'evil.json');
    expect(e.message).toMatch(new RegExp(`^evil\\.json:3:3: key "${key}" is not allowed`));
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect((Object.prototype as unknown as Record<string, unknown>).user).toBeUndefined();
  });

  test('a file on disk: the message starts with its path', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'privdrop-config-'));
    const file = path.join(dir, 'bad.conf');
    fs.writeFileSync(file, 'Security {\n  user = nobody\n  privileges = basic\n}\n');
    try {
      expect(() => loadSecurityConfig(file)).toThrow(expect.objectContaining({ path: file, message: expect.stringMatching(new RegExp(`^${file}:3:3: `)) }));
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

// A whole Momentum configuration file: the Security stanza is read, the rest skipped (checked for balance only).
const ECELERITY = `# ecelerity.conf, as Momentum ships it (abridged)
Spool_Base = "/var/spool/ecelerity"
Debug_Flags = [ ]
Keep_Message_Dicts_In_Memory = true
Control_Listener {
  AuthLoginParameters = [
    uri = "file:///opt/msys/ecelerity/etc/passwd"
  ]
  Listen "/tmp/2025" { }
  Listen "127.0.0.1:2025" {
    Enable = true
  }
}
ESMTP_Listener {
  Listen ":25" {
    Enable = true   # the port the Security stanza keeps cap_net_bind_service for
  }
}
Security {
  user = ecuser
  group = ecuser
  # Linux
  Capabilities = "cap_net_admin+ep cap_net_bind_service+ep cap_net_raw+ep cap_sys_resource+ep"
  # Solaris
  Privileges = "basic net_privaddr net_bindmlp sys_resource sys_net_config net_rawaccess"
}
Alerting {
  from_address = "ecelerity@example.com"
}
spf_macros "mod" {
  options = ( "a", "b" )
}
`;

describe('whole configuration files: the Security stanza among others', () => {
  test("the seed's Example 9.7 inside an abridged ecelerity.conf reads as written; the Solaris line is ignored", () => {
    expect(parseSecurityConfig(ECELERITY, 'ecelerity.conf')).toEqual({
      user: 'ecuser',
      group: 'ecuser',
      capabilities: 'cap_net_admin+ep cap_net_bind_service+ep cap_net_raw+ep cap_sys_resource+ep',
    });
  });

  test("the seed's Example 9.6 as written (one line)", () => {
    expect(parseSecurityConfig('Security { user = ecuser group = ecuser Capabilities = "cap_net_bind_service+ep" }'.replace(/ (group|Capabilities)/g, '\n$1'))).toEqual({
      user: 'ecuser',
      group: 'ecuser',
      capabilities: 'cap_net_bind_service+ep',
    });
  });

  // Errors in the stanzas privdrop skips still point at their place.
  const cases: [string, string, number, number, RegExp][] = [
    ['a stanza never closed (points at its brace)', 'ESMTP_Listener {\n  Listen ":25" {\n  }\nSecurity {\n user = a\n}\n', 1, 16, /missing "}": the stanza opened here \(line 1\) is never closed/],
    ['an unterminated string in another stanza', 'Control_Listener {\n  Listen "/tmp/2025 {\n}\n', 2, 10, /unterminated string/],
    ['an array never closed', 'Debug_Flags = [ a, b\nSecurity {\n user = a\n}\n', 1, 15, /missing "\]" for the list opened here/],
    ['an assignment without a value', 'Spool_Base =\nSecurity {\n user = a\n}\n', 1, 13, /expected a value after "Spool_Base ="/],
    ['a stray closing brace', '}\nSecurity {\n user = a\n}\n', 1, 1, /expected a setting or stanza name, found "\}"/],
    ['a name without "=" or "{"', 'Spool_Base "/var/spool"\nSecurity {\n user = a\n}\n', 2, 1, /expected "=" or "\{" for "Spool_Base"/],
    ['two values on a line', 'Spool_Base = /a /b\n', 1, 17, /after the value of "Spool_Base"/],
    ['nested deeper than 64 levels', 'A {\n'.repeat(70), 65, 3, /nested deeper than 64 levels/],
    ['no Security stanza in a whole file', ECELERITY.replace(/Security \{[^}]*\}\n/, ''), 25, 1, /no "Security \{" stanza/],
  ];
  test.each(cases)('%s', (_name, text, line, column, why) => {
    const e = configError(text);
    expect(e.message).toMatch(why);
    expect(e.message).toMatch(new RegExp(`^test\\.conf:${line}:${column}: `));
  });
});

describe('config errors carry the position as properties', () => {
  test('line and column are on the error, not only in its message', () => {
    let caught: unknown;
    try {
      parseSecurityConfig('Security {\n  user = nobody\n  colour = blue\n}\n', '/etc/x.conf');
    } catch (e) {
      caught = e;
    }
    expect(caught).toBeInstanceOf(PrivdropError);
    expect(caught).toMatchObject({ code: ErrorCodes.INVALID_CONFIG, path: '/etc/x.conf', line: 3, column: 3 });
  });
});

describe('the key table (lib/config/keys.ts)', () => {
  // eslint-disable-next-line @typescript-eslint/no-var-requires
  const { JSON_KEYS, STANZA_KEYS } = require('../../lib/config/keys') as typeof import('../../lib/config/keys');
  // eslint-disable-next-line @typescript-eslint/no-var-requires
  const { OPTION_NAMES } = require('../../lib/drop/options') as typeof import('../../lib/drop/options');

  test('JSON keys are exactly the option names; every option has a stanza spelling', () => {
    expect(Object.keys(JSON_KEYS).sort()).toEqual([...OPTION_NAMES].sort());
    for (const [key, spec] of Object.entries(JSON_KEYS)) expect(spec.option).toBe(key);
    expect(new Set(Object.values(STANZA_KEYS).map((s) => s.option))).toEqual(new Set(OPTION_NAMES));
  });

  test('each option has one kind, whichever spelling names it', () => {
    for (const spec of Object.values(STANZA_KEYS)) expect(spec.kind).toBe(JSON_KEYS[spec.option].kind);
    expect(STANZA_KEYS.supplemental_groups).toEqual(STANZA_KEYS.supplementary_groups);
  });
});
