// Property tests: any set survives set -> text -> set, and no input can do worse than a coded error.
import fc from 'fast-check';
import { CapabilityName, CapabilitySet, capabilityNames, CapabilityFlag, MAX_CAPABILITY_TEXT_LENGTH } from '../../lib/capabilities';
import { ErrorCodes, PrivdropError } from '../../lib/errors';

// Fixed seed: CI runs are reproducible; set FC_SEED to explore other inputs locally.
const seed = Number(process.env.FC_SEED ?? 20261126);
const numRuns = 2000;
const run = { seed, numRuns };

const mask = fc.bigInt({ min: 0n, max: (1n << 64n) - 1n });
const masks = fc.record({ effective: mask, permitted: mask, inheritable: mask });
const flags = fc.subarray<CapabilityFlag>(['effective', 'permitted', 'inheritable'], { minLength: 1 });
const knownName = fc.constantFrom(...capabilityNames());
const anyCase = (s: string) => fc.array(fc.boolean(), { minLength: s.length, maxLength: s.length }).map((up) =>
  Array.from(s, (c, i) => (up[i] ? c.toUpperCase() : c)).join(''),
);

// Pieces of the grammar, right and wrong, so random text often gets deep into libcap's parser.
const token = fc.oneof(
  knownName,
  knownName.chain(anyCase),
  fc.constantFrom('all', 'ALL', '0', '10', '40', '41', '63', '64', '010', '0x1', '99999999999999999999', 'cap_foo', 'cap_10'),
  fc.constantFrom('=', '+', '-', ',', 'e', 'i', 'p', 'E', 'I', 'P', 'ep', 'eip', 'x', '_'),
  fc.constantFrom(' ', '\t', '\n', '\r', '\v', '\f', '\u00a0', '\u2028', '\0', '\u212a', '\ud800', '\u{1f600}', '%s%n'),
);
const grammarish = fc.array(token, { maxLength: 24 }).map((parts) => parts.join(''));
const anyText = fc.oneof(grammarish, fc.string({ unit: 'binary', maxLength: 64 }), fc.string({ maxLength: 64 }));

/** Parses, or checks the error is the coded one whose clause and offset point into the text. */
function parseOrCodedError(text: string): CapabilitySet | PrivdropError {
  try {
    return CapabilitySet.parse(text);
  } catch (e) {
    expect(e).toBeInstanceOf(PrivdropError);
    const err = e as PrivdropError;
    expect(err.code).toBe(ErrorCodes.INVALID_CAPABILITIES);
    return err;
  }
}

describe('CapabilitySet properties', () => {
  test('any three 64-bit masks survive set -> libcap text -> set', () => {
    fc.assert(
      fc.property(masks, (m) => {
        const set = CapabilitySet.fromMasks(m);
        const back = CapabilitySet.parse(set.toString());
        expect(back.masks).toEqual(m);
        expect(back.toString()).toBe(set.toString());
      }),
      run,
    );
  });

  test('any set survives set -> JSON -> set, both by text and by names', () => {
    fc.assert(
      fc.property(masks, (m) => {
        const set = CapabilitySet.fromMasks(m);
        const json = JSON.parse(JSON.stringify(set));
        expect(CapabilitySet.parse(json.text).equals(set)).toBe(true);
        const byNames = CapabilitySet.empty()
          .with(json.effective, 'e')
          .with(json.permitted, 'p')
          .with(json.inheritable, 'i');
        expect(byNames.equals(set)).toBe(true);
      }),
      run,
    );
  });

  test('from(names, flags) has exactly those names in those flags, in any case', () => {
    fc.assert(
      fc.property(fc.uniqueArray(knownName, { maxLength: 12 }), flags, fc.boolean(), (names, fl, upper) => {
        const set = CapabilitySet.from((upper ? names.map((n) => n.toUpperCase()) : names) as CapabilityName[], fl);
        const sorted = [...names].sort((a, b) => capabilityNames().indexOf(a) - capabilityNames().indexOf(b));
        for (const flag of ['effective', 'permitted', 'inheritable'] as const) {
          expect(set[flag]).toEqual(fl.includes(flag) ? sorted : []);
          for (const name of names) expect(set.has(name, flag)).toBe(fl.includes(flag));
        }
      }),
      run,
    );
  });

  test('with() gives a superset, without() a subset, and without() undoes with() on a set lacking those names', () => {
    fc.assert(
      fc.property(masks, fc.uniqueArray(knownName, { maxLength: 8 }), flags, (m, names, fl) => {
        const set = CapabilitySet.fromMasks(m);
        expect(set.isSubsetOf(set.with(names, fl))).toBe(true);
        expect(set.without(names, fl).isSubsetOf(set)).toBe(true);
        const lacking = set.without(names);
        expect(lacking.with(names, fl).without(names, fl).equals(lacking)).toBe(true);
      }),
      run,
    );
  });

  test('isSubsetOf agrees with the masks, flag by flag', () => {
    fc.assert(
      fc.property(masks, masks, (a, b) => {
        const expected = (['effective', 'permitted', 'inheritable'] as const).every((f) => (a[f] & ~b[f]) === 0n);
        expect(CapabilitySet.fromMasks(a).isSubsetOf(CapabilitySet.fromMasks(b))).toBe(expected);
        expect(CapabilitySet.fromMasks(a).equals(CapabilitySet.fromMasks(b))).toBe(
          a.effective === b.effective && a.permitted === b.permitted && a.inheritable === b.inheritable,
        );
      }),
      run,
    );
  });
});

describe('CapabilitySet.parse on arbitrary text', () => {
  test('any string either parses to a set that round-trips or throws ERR_PRIVDROP_INVALID_CAPABILITIES', () => {
    fc.assert(
      fc.property(anyText, (text) => {
        const result = parseOrCodedError(text);
        if (result instanceof CapabilitySet) expect(CapabilitySet.parse(result.toString()).equals(result)).toBe(true);
      }),
      run,
    );
  });

  test('the clause in an error message is really at the offset it gives', () => {
    fc.assert(
      fc.property(grammarish, (text) => {
        const result = parseOrCodedError(text);
        if (result instanceof CapabilitySet) return;
        const m = /^invalid capability text: clause (".*") at offset (\d+)/.exec(result.message);
        if (!m) return; // NUL and length errors have their own messages
        const clause: string = JSON.parse(m[1].replace(/\\u00a0|\\u2028|\\u212a/g, (esc) => JSON.parse(`"${esc}"`)));
        expect(text.slice(Number(m[2])).startsWith(clause.replace(/\.\.\.$/, ''))).toBe(true);
      }),
      run,
    );
  });

  test('one bad clause among good ones is the clause reported, at its offset', () => {
    const goodClause = fc.tuple(fc.uniqueArray(knownName, { minLength: 1, maxLength: 3 }), fc.constantFrom('=', '+', '-'), fc.constantFrom('e', 'p', 'i', 'ep', 'eip'))
      .map(([names, op, fl]) => `${names.join(',')}${op}${fl}`);
    const badClause = fc.constantFrom('cap_foo+e', 'cap_chown+EP', '010+e', '64=p', '+e', 'cap_chown', 'cap_chown,+e', '=e+p', 'caps\u00a0x=e');
    const space = fc.constantFrom(' ', '  ', '\t', '\n');
    fc.assert(
      fc.property(fc.array(goodClause, { maxLength: 5 }), badClause, fc.array(fc.oneof(goodClause, badClause), { maxLength: 5 }), space, (before, bad, after, sep) => {
        const prefix = before.map((c) => c + sep).join('');
        const text = prefix + [bad, ...after].join(sep);
        const err = parseOrCodedError(text);
        expect(err).toBeInstanceOf(PrivdropError);
        expect((err as PrivdropError).message).toMatch(
          new RegExp(`^invalid capability text: clause ${escapeRegExp(JSON.stringify(bad).replace('\u00a0', '\\u00a0'))} at offset ${prefix.length}\\b`),
        );
      }),
      run,
    );
  });

  test('text with a NUL anywhere is rejected with the NUL\'s offset', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 40 }), fc.string({ maxLength: 40 }), (a, b) => {
        const err = parseOrCodedError(`${a.replace(/\0/g, '')}\0${b}`);
        expect(err).toBeInstanceOf(PrivdropError);
        expect((err as PrivdropError).message).toBe(`invalid capability text: NUL character at offset ${a.replace(/\0/g, '').length}`);
      }),
      run,
    );
  });

  test('huge text, valid or not, is handled quickly without crashing', () => {
    fc.assert(
      fc.property(grammarish, fc.integer({ min: 1, max: 20000 }), (piece, times) => {
        const text = `${piece} `.repeat(times).slice(0, MAX_CAPABILITY_TEXT_LENGTH + 100);
        parseOrCodedError(text);
      }),
      { seed, numRuns: 30 },
    );
  });

  // Speed is not asserted here (timed tests flake on a loaded machine); correctness at the limit is.
  test('the worst case, thousands of good clauses then a bad one at the limit, names the bad clause', () => {
    const good = '= '.repeat((MAX_CAPABILITY_TEXT_LENGTH - 10) / 2);
    const text = `${good}cap_nope+e`;
    expect(text.length).toBeLessThanOrEqual(MAX_CAPABILITY_TEXT_LENGTH);
    const err = parseOrCodedError(text);
    expect((err as PrivdropError).message).toBe(
      `invalid capability text: clause "cap_nope+e" at offset ${good.length}: unknown capability "cap_nope"`,
    );
  });
});

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
