// "Did you mean": the closest known word within a small number of edits, nothing when far.
import { KNOWN_CAPABILITY_NAMES } from '../../lib/capabilities/names';
import { closest, didYouMean, editDistance } from '../../lib/errors/suggest';

describe('editDistance', () => {
  test.each([
    ['', '', 0],
    ['exec', 'exec', 0],
    ['exce', 'exec', 1], // one transposition
    ['exe', 'exec', 1],
    ['shw', 'show', 1],
    ['kitten', 'sitting', 3],
  ])('%s -> %s = %d', (a, b, d) => {
    expect(editDistance(a, b)).toBe(d);
    expect(editDistance(b, a)).toBe(d);
  });
});

describe('closest', () => {
  const commands = ['exec', 'show', 'parse'];
  test('finds the command, option or capability meant', () => {
    expect(closest('exce', commands)).toBe('exec');
    expect(closest('SHOW', commands)).toBe('show');
    expect(closest('prase', commands)).toBe('parse');
    expect(closest('--no-new-priv', ['--no-new-privs', '--ambient', '--no-ambient'])).toBe('--no-new-privs');
    expect(closest('cap_net_bind_servce', KNOWN_CAPABILITY_NAMES)).toBe('cap_net_bind_service');
    expect(closest('cap_sys_admn', KNOWN_CAPABILITY_NAMES)).toBe('cap_sys_admin');
  });
  test('suggests nothing for a word that is not close to any', () => {
    expect(closest('frobnicate', commands)).toBeUndefined();
    expect(closest('x', commands)).toBeUndefined();
    expect(closest('', commands)).toBeUndefined();
    expect(closest('cap_'.padEnd(200, 'x'), KNOWN_CAPABILITY_NAMES)).toBeUndefined();
  });
  test('didYouMean writes the hint or nothing', () => {
    expect(didYouMean('shwo', commands)).toBe(' (did you mean "show"?)');
    expect(didYouMean('zzzzzz', commands)).toBe('');
  });
});
