// The option rules of lib/drop/options.ts, and that dropPrivileges(), the config reader and the command
// line apply the same ones (they drifted apart once: a comma was a valid name for one of them).
import { parseSecurityConfig } from '../../lib/config';
import { resolveDropOptions } from '../../lib/drop';
import { capabilitiesFromText } from '../../lib/capabilities/options';
import { describe as describeValue, ErrorCodes, PrivdropError } from '../../lib/errors';
import { checkBoundingSet, checkId, groupsFromText, isValidName, MAX_ID, numericName } from '../../lib/drop/options';

const codeOf = (fn: () => unknown): string | undefined => {
  try {
    fn();
  } catch (e) {
    return e instanceof PrivdropError ? e.code : (e as Error).name;
  }
  return undefined;
};

describe('names', () => {
  test.each(['nobody', 'www-data', 'a.b_c', '65534', 'x'.repeat(256)])('%j is a valid name', (name) => {
    expect(isValidName(name)).toBe(true);
  });
  test.each(['', 'a b', 'a:b', 'a,b', 'a\tb', 'a\nb', 'a\0b', 'x'.repeat(257), 'a\u00a0b'])('%j is not', (name) => {
    expect(isValidName(name)).toBe(false);
    expect(codeOf(() => checkId(name, 'user'))).toBe(ErrorCodes.INVALID_ARGUMENT);
  });

  test.each(['a,b', 'a:b', 'a b'])('user %j: the same rule in dropPrivileges() and both config formats', (name) => {
    expect(codeOf(() => resolveDropOptions({ user: name }))).toBe(ErrorCodes.INVALID_ARGUMENT);
    expect(codeOf(() => parseSecurityConfig(JSON.stringify({ user: name }), 'x.json'))).toBe(ErrorCodes.INVALID_CONFIG);
    expect(codeOf(() => parseSecurityConfig(JSON.stringify({ user: 'nobody', supplementaryGroups: [name] }), 'x.json'))).toBe(ErrorCodes.INVALID_CONFIG);
    expect(codeOf(() => parseSecurityConfig(`Security {\n  User = "${name}"\n}\n`, 'x.conf'))).toBe(ErrorCodes.INVALID_CONFIG);
  });
});

describe('ids', () => {
  test('0 to MAX_ID; (uid_t)-1 is refused everywhere', () => {
    expect(MAX_ID).toBe(2 ** 32 - 2);
    expect(checkId(MAX_ID, 'user')).toBe(MAX_ID);
    expect(codeOf(() => checkId(MAX_ID + 1, 'user'))).toBe('RangeError');
    expect(codeOf(() => checkId(-1, 'user'))).toBe('RangeError');
    expect(codeOf(() => checkId(1.5, 'user'))).toBe('RangeError');
    expect(parseSecurityConfig(JSON.stringify({ user: MAX_ID }), 'x.json')).toEqual({ user: MAX_ID });
    expect(codeOf(() => parseSecurityConfig(JSON.stringify({ user: MAX_ID + 1 }), 'x.json'))).toBe(ErrorCodes.INVALID_CONFIG);
  });
  test('a name of digits is a number only up to MAX_ID', () => {
    expect(numericName('65534')).toBe(65534);
    expect(numericName(String(MAX_ID))).toBe(MAX_ID);
    expect(numericName(String(MAX_ID + 1))).toBeUndefined();
    expect(numericName('1e3')).toBeUndefined();
  });
});

test('boundingSet values', () => {
  expect(checkBoundingSet(undefined)).toBe('retained');
  expect(checkBoundingSet('unchanged')).toBe('unchanged');
  expect(codeOf(() => checkBoundingSet('RETAINED'))).toBe(ErrorCodes.INVALID_ARGUMENT);
  expect(codeOf(() => checkBoundingSet(1))).toBe('TypeError');
});

test('supplementary groups written as text', () => {
  expect(groupsFromText('init')).toBe('init');
  expect(groupsFromText(' clear ')).toBe('clear');
  expect(groupsFromText('')).toEqual([]);
  expect(groupsFromText('adm, 4 ,nogroup')).toEqual(['adm', '4', 'nogroup']);
});

test('capability text versus a list of names', () => {
  expect(capabilitiesFromText('cap_chown+ep')).toBe('cap_chown+ep');
  expect(capabilitiesFromText('cap_chown=')).toBe('cap_chown=');
  expect(capabilitiesFromText('cap_chown, cap_kill cap_setuid')).toEqual(['cap_chown', 'cap_kill', 'cap_setuid']);
});

test('describe() names a value without calling its own methods', () => {
  const hostile = { toString: () => { throw new Error('called'); } };
  expect(describeValue(hostile)).toBe('an object');
  expect(describeValue(() => 1)).toBe('a function');
  expect(describeValue(null)).toBe('null');
  expect(describeValue([1])).toBe('an array');
  expect(describeValue(1.5)).toBe('number 1.5');
  expect(describeValue(Symbol('s'))).toBe('symbol Symbol(s)');
  expect(describeValue('x'.repeat(100))).toBe(`string ${'x'.repeat(40)}`);
});
