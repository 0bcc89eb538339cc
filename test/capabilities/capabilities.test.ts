// CapabilitySet and capabilityNames as a user sees them: libcap's text grammar, names, errors.
import { CapabilityName, CapabilitySet, capabilityNames, MAX_CAPABILITY_TEXT_LENGTH } from '../../lib/capabilities';
import { ErrorCodes, PrivdropError } from '../../lib/errors';

const all = (): bigint => (1n << BigInt(capabilityNames().length)) - 1n;
const bit = (n: number): bigint => 1n << BigInt(n);
const CHOWN = bit(0);
const FOWNER = bit(3);
const KILL = bit(5);
const NET_BIND_SERVICE = bit(10);

function parseError(text: string): PrivdropError {
  try {
    CapabilitySet.parse(text);
  } catch (e) {
    return e as PrivdropError;
  }
  throw new Error(`expected ${JSON.stringify(text)} to be rejected`);
}

describe('capabilityNames()', () => {
  test('lists every capability this kernel and libcap know, in number order', () => {
    const names = capabilityNames();
    expect(names.length).toBeGreaterThanOrEqual(38); // cap_perfmon (38) is in every kernel we support
    expect(names.slice(0, 3)).toEqual(['cap_chown', 'cap_dac_override', 'cap_dac_read_search']);
    expect(names[10]).toBe('cap_net_bind_service');
    expect(new Set(names).size).toBe(names.length);
  });

  test('matches /proc/sys/kernel/cap_last_cap', () => {
    const lastCap = Number(require('fs').readFileSync('/proc/sys/kernel/cap_last_cap', 'utf8'));
    expect(capabilityNames()).toHaveLength(lastCap + 1);
  });

  test('returns a fresh array each time', () => {
    const names = capabilityNames();
    names.pop();
    expect(capabilityNames()).toHaveLength(names.length + 1);
  });
});

// Every example in cap_text_formats(7) and cap_from_text(3), with libcap's canonical text for it.
describe('CapabilitySet.parse: the man page examples', () => {
  const examples: Array<[text: string, canonical: string, source: string]> = [
    ['all=p', '=p', 'cap_text_formats(7): lower every capability in e and i, raise all of p'],
    ['cap_fowner=ep', 'cap_fowner=ep', 'cap_text_formats(7): raise e and p, lower i'],
    ['all=', '=', 'cap_text_formats(7): an empty set'],
    ['=', '=', 'cap_text_formats(7): an empty set'],
    ['all+p', '=p', 'cap_text_formats(7): raise every permitted capability'],
    ['cap_fowner-i', '=', 'cap_text_formats(7): lower cap_fowner in i'],
    ['cap_fowner+p-i', 'cap_fowner=p', 'cap_text_formats(7): several operator-flag pairs'],
    ['cap_fowner+p cap_fowner-i', 'cap_fowner=p', 'cap_text_formats(7): the same as two clauses'],
    ['cap_fowner+pe-i', 'cap_fowner=ep', 'cap_text_formats(7)'],
    ['cap_fowner=+pe', 'cap_fowner=ep', 'cap_text_formats(7): =+ resets, then raises'],
    ['cap_chown=p cap_chown+e', 'cap_chown=ep', 'cap_from_text(3) example run'],
    ['all=pe cap_chown-e cap_kill-pe', '=ep cap_chown-e cap_kill-ep', 'cap_from_text(3) example run'],
  ];

  test.each(examples)('%s reads back as libcap prints it: %s', (text, canonical) => {
    const set = CapabilitySet.parse(text);
    expect(set.toString()).toBe(canonical);
    expect(CapabilitySet.parse(set.toString()).equals(set)).toBe(true);
  });

  test('"all=", "=" and every capability listed with "=" are the same empty set', () => {
    const everyName = capabilityNames().join(',');
    for (const text of ['all=', '=', `${everyName}=`, '']) {
      expect(CapabilitySet.parse(text).equals(CapabilitySet.empty())).toBe(true);
    }
  });

  test('"cap_fowner+p-i" equals "cap_fowner+p cap_fowner-i", and "cap_fowner+pe-i" equals "cap_fowner=+pe"', () => {
    expect(CapabilitySet.parse('cap_fowner+p-i').equals(CapabilitySet.parse('cap_fowner+p cap_fowner-i'))).toBe(true);
    expect(CapabilitySet.parse('cap_fowner+pe-i').equals(CapabilitySet.parse('cap_fowner=+pe'))).toBe(true);
  });

  test('"all=p" raises every known capability in permitted only', () => {
    expect(CapabilitySet.parse('all=p').masks).toEqual({ effective: 0n, permitted: all(), inheritable: 0n });
  });

  test('"all=pe cap_chown-e cap_kill-pe" gives the masks the man page describes', () => {
    expect(CapabilitySet.parse('all=pe cap_chown-e cap_kill-pe').masks).toEqual({
      effective: all() & ~CHOWN & ~KILL,
      permitted: all() & ~KILL,
      inheritable: 0n,
    });
  });
});

describe('CapabilitySet.parse: the grammar', () => {
  test('"all=ep" is every capability in capabilityNames()', () => {
    const set = CapabilitySet.parse('all=ep');
    expect(set.effective).toEqual(capabilityNames());
    expect(set.permitted).toEqual(capabilityNames());
    expect(set.inheritable).toEqual([]);
    expect(set.toString()).toBe('=ep');
  });

  test('"=ep cap_sys_resource-ep" is everything but cap_sys_resource', () => {
    const set = CapabilitySet.parse('=ep cap_sys_resource-ep');
    expect(set.has('cap_sys_resource')).toBe(false);
    expect(set.has('cap_sys_admin')).toBe(true);
    expect(set.toString()).toBe('=ep cap_sys_resource-ep');
  });

  test('several capabilities in one clause are separated by commas', () => {
    expect(CapabilitySet.parse('cap_chown,cap_kill=ep').masks).toEqual({
      effective: CHOWN | KILL,
      permitted: CHOWN | KILL,
      inheritable: 0n,
    });
  });

  test('clauses apply left to right and may be separated by any ASCII whitespace', () => {
    const set = CapabilitySet.parse(' cap_chown=ep\tcap_kill+i\ncap_fowner+p\r\v\fcap_chown-e ');
    expect(set.masks).toEqual({ effective: 0n, permitted: CHOWN | FOWNER, inheritable: KILL });
  });

  test('"+" and "-" change only the flags named', () => {
    const set = CapabilitySet.parse('cap_chown=eip cap_chown-i cap_kill+i');
    expect(set.masks).toEqual({ effective: CHOWN, permitted: CHOWN, inheritable: KILL });
  });

  test('capability names are case-insensitive, "all" too', () => {
    expect(CapabilitySet.parse('CAP_NET_BIND_SERVICE+ep').equals(CapabilitySet.parse('cap_net_bind_service+ep'))).toBe(true);
    expect(CapabilitySet.parse('Cap_Chown=p').masks.permitted).toBe(CHOWN);
    expect(CapabilitySet.parse('ALL=p').equals(CapabilitySet.parse('all=p'))).toBe(true);
  });

  test('flags are case-sensitive: "cap_chown+EP" is rejected', () => {
    const err = parseError('cap_chown+EP');
    expect(err.code).toBe(ErrorCodes.INVALID_CAPABILITIES);
    expect(err.message).toContain('flags are the lower-case letters e, i, p');
  });

  test('capabilities can be given by number: "10+ep" is cap_net_bind_service', () => {
    const set = CapabilitySet.parse('10+ep');
    expect(set.effective).toEqual(['cap_net_bind_service']);
    expect(set.toString()).toBe('cap_net_bind_service=ep');
  });

  test('"cap_10" is not a capability name', () => {
    expect(parseError('cap_10+ep').code).toBe(ErrorCodes.INVALID_CAPABILITIES);
  });

  test('numbers past the kernel\'s capabilities up to 63 parse, and show as numbers', () => {
    const beyond = capabilityNames().length;
    const set = CapabilitySet.parse(`${beyond}+ep 63+i`);
    expect(set.effective).toEqual([String(beyond)]);
    expect(set.inheritable).toEqual(['63']);
    expect(set.masks.inheritable).toBe(bit(63));
    expect(CapabilitySet.parse(set.toString()).equals(set)).toBe(true);
  });

  test('64 and above are rejected', () => {
    expect(parseError('64+ep').message).toContain('clause "64+ep" at offset 0');
    expect(parseError('18446744073709551617+e').code).toBe(ErrorCodes.INVALID_CAPABILITIES);
  });

  test('numbers with leading zeros or 0x are rejected: libcap would read "010" as octal 8', () => {
    for (const [text, number] of [['010+e', '010'], ['cap_chown,0x1+e', '0x1'], ['00+e', '00']]) {
      const err = parseError(text);
      expect(err.code).toBe(ErrorCodes.INVALID_CAPABILITIES);
      expect(err.message).toContain(`capability number "${number}" must be written in decimal without leading zeros`);
    }
    expect(CapabilitySet.parse('0+e').masks.effective).toBe(CHOWN);
  });

  test('"=" without capabilities means all of them, "+" and "-" need a list', () => {
    expect(CapabilitySet.parse('=e').masks.effective).toBe(all());
    expect(parseError('+e').code).toBe(ErrorCodes.INVALID_CAPABILITIES);
    expect(parseError('-e').code).toBe(ErrorCodes.INVALID_CAPABILITIES);
    expect(parseError('=e+p').code).toBe(ErrorCodes.INVALID_CAPABILITIES);
  });

  test.each(['cap_chown', 'cap_chown+', 'cap_chown-', 'cap_chown==e', 'cap_chown+x', ',cap_chown+e', 'cap_chown,,cap_kill+e', 'cap_chown,+e', 'cap_chown, cap_kill+e', 'all', 'cap_chown+e,cap_kill'])(
    'malformed clause %j is rejected with ERR_PRIVDROP_INVALID_CAPABILITIES',
    (text) => {
      const err = parseError(text);
      expect(err).toBeInstanceOf(PrivdropError);
      expect(err.code).toBe(ErrorCodes.INVALID_CAPABILITIES);
    },
  );
});

describe('CapabilitySet.parse: errors say which clause is wrong and where', () => {
  test('quotes the offending clause and its offset in the input', () => {
    const text = 'cap_chown+ep cap_kill=p cap_foo+e cap_bar+e';
    const err = parseError(text);
    expect(err).toBeInstanceOf(PrivdropError);
    expect(err.code).toBe(ErrorCodes.INVALID_CAPABILITIES);
    expect(err.message).toBe('invalid capability text: clause "cap_foo+e" at offset 24: unknown capability "cap_foo"');
    expect(text.slice(24)).toMatch(/^cap_foo\+e/);
  });

  test('names the unknown capability inside a list', () => {
    expect(parseError('cap_chown,net_admin+e').message).toContain('unknown capability "net_admin"');
  });

  test('offsets count JavaScript string positions, after any run of whitespace', () => {
    expect(parseError('\t\t  cap_chown=e   \n 10=e  x').message).toBe('invalid capability text: clause "x" at offset 26: unknown capability "x"');
  });

  test('shows a no-break space, which is not a separator, as an escape', () => {
    const err = parseError('cap_chown=ep\u00a0cap_kill+i');
    expect(err.message).toBe(
      'invalid capability text: clause "cap_chown=ep\\u00a0cap_kill+i" at offset 0: character "\\u00a0" is not part of the grammar',
    );
  });

  test('shortens a very long clause in the message', () => {
    const clause = `cap_chown,${'cap_kill,'.repeat(1000)}cap_nope+e`;
    const err = parseError(`cap_chown=e ${clause}`);
    expect(err.message).toContain('at offset 12');
    expect(err.message.length).toBeLessThan(300);
  });

  test('rejects NUL characters before libcap sees them', () => {
    expect(parseError('cap_chown+e\0cap_kill+e').message).toBe('invalid capability text: NUL character at offset 11');
  });

  test(`accepts up to ${MAX_CAPABILITY_TEXT_LENGTH} characters and rejects longer text`, () => {
    const clause = 'cap_kill+e ';
    const longest = clause.repeat(Math.floor(MAX_CAPABILITY_TEXT_LENGTH / clause.length)).padEnd(MAX_CAPABILITY_TEXT_LENGTH, ' ');
    expect(CapabilitySet.parse(longest).effective).toEqual(['cap_kill']);
    const err = parseError(`${longest} `);
    expect(err.code).toBe(ErrorCodes.INVALID_CAPABILITIES);
    expect(err.message).toBe(
      `invalid capability text: ${MAX_CAPABILITY_TEXT_LENGTH + 1} characters long, the limit is ${MAX_CAPABILITY_TEXT_LENGTH}`,
    );
  });

  test.each([undefined, null, 42, {}, ['cap_chown=e'], Buffer.from('cap_chown=e')])('throws TypeError for %p', (value) => {
    expect(() => CapabilitySet.parse(value as unknown as string)).toThrow(TypeError);
  });
});

describe('CapabilitySet.from and names', () => {
  test('raises the named capabilities in effective and permitted by default', () => {
    const set = CapabilitySet.from(['cap_net_bind_service', 'cap_dac_read_search']);
    expect(set.effective).toEqual(['cap_dac_read_search', 'cap_net_bind_service']);
    expect(set.permitted).toEqual(['cap_dac_read_search', 'cap_net_bind_service']);
    expect(set.inheritable).toEqual([]);
    expect(set.toString()).toBe('cap_dac_read_search,cap_net_bind_service=ep');
  });

  test('takes flags as letters, a flag name, or a list of flag names', () => {
    expect(CapabilitySet.from(['cap_kill'], 'pi').masks).toEqual({ effective: 0n, permitted: KILL, inheritable: KILL });
    expect(CapabilitySet.from(['cap_kill'], 'inheritable').masks).toEqual({ effective: 0n, permitted: 0n, inheritable: KILL });
    expect(CapabilitySet.from(['cap_kill'], ['effective', 'permitted']).equals(CapabilitySet.from(['cap_kill']))).toBe(true);
    expect(CapabilitySet.from(['cap_kill'], new Set(['permitted'] as const)).masks.permitted).toBe(KILL);
  });

  test('accepts names in any case and numbers in decimal', () => {
    expect(CapabilitySet.from(['CAP_NET_BIND_SERVICE']).equals(CapabilitySet.from(['cap_net_bind_service']))).toBe(true);
    expect(CapabilitySet.from(['10']).equals(CapabilitySet.from(['cap_net_bind_service']))).toBe(true);
    expect(CapabilitySet.from(['63']).effective).toEqual(['63']);
  });

  test('rejects an unknown name with ERR_PRIVDROP_INVALID_CAPABILITIES naming it', () => {
    expect(() => CapabilitySet.from(['cap_chown', 'cap_fly'] as CapabilityName[])).toThrow(
      expect.objectContaining({ code: ErrorCodes.INVALID_CAPABILITIES, message: 'unknown capability "cap_fly"' }),
    );
  });

  test('suggests the cap_ prefix when it is missing', () => {
    expect(() => CapabilitySet.from(['NET_BIND_SERVICE' as CapabilityName])).toThrow(
      'unknown capability "NET_BIND_SERVICE" (did you mean "cap_net_bind_service"?)',
    );
  });

  test('does not fold non-ASCII look-alikes the way toLowerCase would (Kelvin sign)', () => {
    expect(() => CapabilitySet.from(['cap_\u212aill' as CapabilityName])).toThrow(expect.objectContaining({ code: ErrorCodes.INVALID_CAPABILITIES }));
  });

  test('rejects "010", "64", "all" and the empty string as names', () => {
    for (const name of ['010', '64', 'all', '', ' cap_kill']) {
      expect(() => CapabilitySet.from([name as CapabilityName])).toThrow(expect.objectContaining({ code: ErrorCodes.INVALID_CAPABILITIES }));
    }
  });

  test('rejects uppercase flag letters, unknown flags and no flags with ERR_PRIVDROP_INVALID_ARGUMENT', () => {
    for (const flags of ['EP', 'x', '', [], ['bounding']]) {
      expect(() => CapabilitySet.from(['cap_kill'], flags as string)).toThrow(
        expect.objectContaining({ code: ErrorCodes.INVALID_ARGUMENT }),
      );
    }
  });

  test('throws TypeError for a bare string, non-string names or flags', () => {
    expect(() => CapabilitySet.from('cap_kill' as unknown as CapabilityName[])).toThrow(TypeError);
    expect(() => CapabilitySet.from([10 as unknown as CapabilityName])).toThrow(TypeError);
    expect(() => CapabilitySet.from(['cap_kill'], 3 as unknown as string)).toThrow(TypeError);
    expect(() => CapabilitySet.from(['cap_kill'], [1] as unknown as string[] as never)).toThrow(TypeError);
    expect(() => CapabilitySet.from(['cap_kill'], null as unknown as string)).toThrow(TypeError);
  });

  test('an empty list of names gives the empty set', () => {
    expect(CapabilitySet.from([]).equals(CapabilitySet.empty())).toBe(true);
  });
});

describe('CapabilitySet as a value', () => {
  const base = CapabilitySet.parse('cap_chown,cap_net_bind_service=ep cap_kill=i');

  test('is frozen', () => {
    expect(Object.isFrozen(base)).toBe(true);
    expect(() => {
      (base as unknown as { extra: number }).extra = 1;
    }).toThrow(TypeError);
  });

  test('masks returns a fresh copy each time', () => {
    const m = base.masks;
    m.effective = 0n;
    expect(base.masks.effective).toBe(CHOWN | NET_BIND_SERVICE);
    expect(base.masks).not.toBe(base.masks);
  });

  test('name getters return new arrays in capability-number order', () => {
    const names = base.effective;
    names.length = 0;
    expect(base.effective).toEqual(['cap_chown', 'cap_net_bind_service']);
    expect(CapabilitySet.from(['cap_net_bind_service', 'cap_chown', 'cap_dac_read_search']).effective).toEqual([
      'cap_chown',
      'cap_dac_read_search',
      'cap_net_bind_service',
    ]);
  });

  test('has() looks at the effective set unless a flag is given', () => {
    expect(base.has('cap_chown')).toBe(true);
    expect(base.has('cap_kill')).toBe(false);
    expect(base.has('CAP_KILL', 'inheritable')).toBe(true);
    expect(base.has('cap_chown', 'inheritable')).toBe(false);
    expect(base.has('10', 'permitted')).toBe(true);
  });

  test('has() throws for unknown names and flags instead of answering false', () => {
    expect(() => base.has('cap_nope' as CapabilityName)).toThrow(expect.objectContaining({ code: ErrorCodes.INVALID_CAPABILITIES }));
    expect(() => base.has('cap_chown', 'bounding' as never)).toThrow(expect.objectContaining({ code: ErrorCodes.INVALID_ARGUMENT }));
    expect(() => base.has('cap_chown', 'e' as never)).toThrow(expect.objectContaining({ code: ErrorCodes.INVALID_ARGUMENT }));
  });

  test('with() and without() return new sets and leave the original alone', () => {
    const more = base.with(['cap_kill']);
    expect(more.toString()).toBe('cap_kill=eip cap_chown,cap_net_bind_service+ep');
    const less = more.without(['cap_kill', 'cap_chown']);
    expect(less.toString()).toBe('cap_net_bind_service=ep');
    expect(base.equals(CapabilitySet.parse('cap_chown,cap_net_bind_service=ep cap_kill=i'))).toBe(true);
  });

  test('without() removes from all three sets unless flags are given', () => {
    expect(base.without(['cap_chown'], 'e').masks).toEqual({
      effective: NET_BIND_SERVICE,
      permitted: CHOWN | NET_BIND_SERVICE,
      inheritable: KILL,
    });
  });

  test('equals() compares all three sets', () => {
    expect(base.equals(CapabilitySet.parse('cap_kill+i cap_net_bind_service,cap_chown+pe'))).toBe(true);
    expect(base.equals(base.without(['cap_kill'], 'i'))).toBe(false);
    expect(base.equals(base.masks)).toBe(false);
    expect(base.equals(null)).toBe(false);
  });

  test('isSubsetOf() compares each set with the same set of the other', () => {
    expect(CapabilitySet.from(['cap_chown']).isSubsetOf(base)).toBe(true);
    expect(CapabilitySet.from(['cap_kill']).isSubsetOf(base)).toBe(false); // cap_kill is only inheritable in base
    expect(CapabilitySet.from(['cap_kill'], 'i').isSubsetOf(base)).toBe(true);
    expect(CapabilitySet.empty().isSubsetOf(CapabilitySet.empty())).toBe(true);
    expect(() => base.isSubsetOf(base.masks as never)).toThrow(TypeError);
  });

  test('toJSON() gives the canonical text and the three name lists', () => {
    expect(JSON.parse(JSON.stringify({ caps: base }))).toEqual({
      caps: {
        text: 'cap_kill=i cap_chown,cap_net_bind_service+ep',
        effective: ['cap_chown', 'cap_net_bind_service'],
        permitted: ['cap_chown', 'cap_net_bind_service'],
        inheritable: ['cap_kill'],
      },
    });
  });

  test('util.inspect shows the canonical text', () => {
    expect(require('util').inspect(base)).toBe('CapabilitySet <cap_kill=i cap_chown,cap_net_bind_service+ep>');
  });
});

describe('CapabilitySet.fromMasks and empty', () => {
  test('builds a set from three masks', () => {
    const set = CapabilitySet.fromMasks({ effective: NET_BIND_SERVICE, permitted: NET_BIND_SERVICE | KILL, inheritable: 0n });
    expect(set.toString()).toBe('cap_net_bind_service=ep cap_kill+p');
  });

  test('keeps bits past the known capabilities and names them by number', () => {
    const set = CapabilitySet.fromMasks({ effective: bit(63) | bit(0), permitted: 0n, inheritable: 0n });
    expect(set.effective).toEqual(['cap_chown', '63']);
    expect(set.toString()).toBe('cap_chown=e 63+e');
  });

  test('rejects negative masks and masks past 64 bits with ERR_PRIVDROP_INVALID_ARGUMENT', () => {
    for (const effective of [-1n, 1n << 64n]) {
      expect(() => CapabilitySet.fromMasks({ effective, permitted: 0n, inheritable: 0n })).toThrow(
        expect.objectContaining({ code: ErrorCodes.INVALID_ARGUMENT }),
      );
    }
  });

  test('throws TypeError for numbers instead of bigints and for missing masks', () => {
    expect(() => CapabilitySet.fromMasks({ effective: 1, permitted: 0n, inheritable: 0n } as never)).toThrow(TypeError);
    expect(() => CapabilitySet.fromMasks({ effective: 1n, permitted: 0n } as never)).toThrow(TypeError);
    expect(() => CapabilitySet.fromMasks(null as never)).toThrow(TypeError);
  });

  test('empty() has no capabilities and prints as "="', () => {
    expect(CapabilitySet.empty().masks).toEqual({ effective: 0n, permitted: 0n, inheritable: 0n });
    expect(CapabilitySet.empty().toString()).toBe('=');
  });
});

describe('CapabilitySet.current and ofProcess', () => {
  test('current() reads the calling thread and matches ofProcess(process.pid)', () => {
    expect(CapabilitySet.current().equals(CapabilitySet.ofProcess(process.pid))).toBe(true);
  });

  test('ofProcess() of a process that does not exist is ERR_PRIVDROP_SYSTEM with ESRCH', () => {
    expect(() => CapabilitySet.ofProcess(0x7ffffffe)).toThrow(
      expect.objectContaining({ code: ErrorCodes.SYSTEM, errnoName: 'ESRCH', syscall: 'cap_get_pid' }),
    );
  });

  test('ofProcess() rejects 0, negative, fractional and huge pids with ERR_PRIVDROP_INVALID_ARGUMENT', () => {
    for (const pid of [0, -1, 1.5, NaN, Infinity, 2 ** 31]) {
      expect(() => CapabilitySet.ofProcess(pid)).toThrow(expect.objectContaining({ code: ErrorCodes.INVALID_ARGUMENT }));
    }
  });

  test('ofProcess() throws TypeError for a pid that is not a number', () => {
    for (const pid of ['1', 1n, undefined, null]) {
      expect(() => CapabilitySet.ofProcess(pid as never)).toThrow(TypeError);
    }
  });
});

describe('CapabilitySet.parse errors carry the clause and offset as properties', () => {
  test('clause and offset are on the error, not only in its message', () => {
    let caught: unknown;
    try {
      CapabilitySet.parse('cap_chown+ep  cap_nope+e');
    } catch (e) {
      caught = e;
    }
    expect(caught).toBeInstanceOf(PrivdropError);
    expect(caught).toMatchObject({ code: ErrorCodes.INVALID_CAPABILITIES, clause: 'cap_nope+e', offset: 14 });
  });
});
