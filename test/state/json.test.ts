// Everything the API returns survives JSON.stringify (a logger, a health endpoint), masks as
// "0x" + 16 hex digits, and a processState() reads back from its JSON unchanged.
import {
  CapabilitySet, ErrorCodes, formatProcessState, PrivdropError, processState, processStateFromJSON, resolveDropOptions,
} from '../../lib';
import { describeAsRoot } from '../helpers/child';
import { scenario } from '../helpers/drop';

const HEX = /^0x[0-9a-f]{16}$/;

describe('processState() as JSON', () => {
  test('JSON.stringify works, every mask is a hex string equal to the bigint', () => {
    const state = processState();
    const json = JSON.parse(JSON.stringify(state));
    expect(json.pid).toBe(process.pid);
    expect(json.threads).toHaveLength(state.threads.length);
    state.threads.forEach((t, i) => {
      for (const set of ['inheritable', 'permitted', 'effective', 'bounding', 'ambient'] as const) {
        const m = json.threads[i].capabilities[set];
        expect(m.mask).toMatch(HEX);
        expect(BigInt(m.mask)).toBe(t.capabilities[set].mask);
        expect(m.names).toEqual(t.capabilities[set].names);
      }
    });
  });

  test('reads back: the same state, the same text, the same formatted output', () => {
    const state = processState();
    const text = JSON.stringify(state);
    const back = processStateFromJSON(text);
    expect(back).toEqual(state);
    expect(JSON.stringify(back)).toBe(text);
    expect(formatProcessState(back)).toBe(formatProcessState(state));
    expect(processStateFromJSON(JSON.parse(text))).toEqual(state); // the parsed value too
    expect(processStateFromJSON(state)).toEqual(state); // and the state itself
  });

  test('the mask objects have no extra enumerable key (toJSON is hidden)', () => {
    expect(Object.keys(processState().threads[0].capabilities.permitted)).toEqual(['names', 'mask']);
  });

  test.each([
    ['not JSON', '{', /not JSON/],
    ['no threads', '{"pid":1}', /threads must be an array/],
    ['a mask that is not hex', (s: string) => s.replace(/"mask":"0x[0-9a-f]+"/, '"mask":"400"'), /threads\[0\]\.capabilities\.\w+\.mask must be "0x"/],
    ['a mask that is too long', (s: string) => s.replace(/"mask":"0x([0-9a-f]+)"/, '"mask":"0x1$1"'), /mask must be "0x" and 1 to 16 hex digits/],
    ['a uid that is not a number', (s: string) => s.replace(/"real":\d+/, '"real":"0"'), /threads\[0\]\.uid\.real must be a non-negative integer/],
  ])('refuses %s with ERR_PRIVDROP_INVALID_ARGUMENT naming the field', (_name, input, message) => {
    const text = typeof input === 'string' ? input : input(JSON.stringify(processState()));
    let error: unknown;
    try {
      processStateFromJSON(text);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(PrivdropError);
    expect((error as PrivdropError).code).toBe(ErrorCodes.INVALID_ARGUMENT);
    expect((error as PrivdropError).message).toMatch(message);
  });
});

describe('other returned objects', () => {
  test('CapabilitySet, its masks and resolveDropOptions() stringify', () => {
    const set = CapabilitySet.parse('cap_net_bind_service+ep cap_kill+i');
    expect(JSON.parse(JSON.stringify(set.masks))).toEqual({
      effective: '0x0000000000000400',
      permitted: '0x0000000000000400',
      inheritable: '0x0000000000000020',
    });
    expect(JSON.parse(JSON.stringify(set)).text).toBe(set.toString());
    const plan = JSON.parse(JSON.stringify(resolveDropOptions({ user: 'nobody', capabilities: ['cap_net_bind_service'] })));
    expect(plan).toMatchObject({ uid: 65534, capabilities: { text: 'cap_net_bind_service=ep' }, boundingSet: 'retained' });
    expect(CapabilitySet.parse(plan.capabilities.text).equals(CapabilitySet.from(['cap_net_bind_service']))).toBe(true);
    expect(resolveDropOptions({ user: 'nobody', boundingSet: 'unchanged' }).boundingSet).toBe('unchanged');
  });

  test('a PrivdropError stringifies to its name, code, message and details', () => {
    let error: unknown;
    try {
      CapabilitySet.parse('cap_chown+ep cap_nope+p');
    } catch (e) {
      error = e;
    }
    expect(JSON.parse(JSON.stringify(error))).toEqual({
      name: 'PrivdropError',
      code: 'ERR_PRIVDROP_INVALID_CAPABILITIES',
      message: (error as Error).message,
      clause: 'cap_nope+p',
      offset: 13,
    });
  });
});

describeAsRoot('DropResult as JSON', () => {
  test('a real drop: the result and the state after it stringify and read back', () => {
    const r = scenario(`
      const result = privdrop.dropPrivileges({ user: 'nobody', capabilities: ['cap_net_bind_service'], supplementaryGroups: 'clear' });
      const state = privdrop.processState();
      const text = JSON.stringify({ result, state });
      const back = privdrop.processStateFromJSON(JSON.stringify(JSON.parse(text).state));
      report({ text, same: privdrop.formatProcessState(back) === privdrop.formatProcessState(state) });
    `);
    expect(r.stderr).toBe('');
    const { result, state } = JSON.parse(r.json.text);
    expect(result).toMatchObject({ uid: 65534, gid: 65534, groups: [], capabilities: 'cap_net_bind_service=ep' });
    expect(result.threads).toBeGreaterThan(1);
    expect(result.broadcasts.length).toBeGreaterThan(0);
    expect(state.consistent).toBe(true);
    expect(state.threads[0].capabilities.permitted).toEqual({ names: ['cap_net_bind_service'], mask: '0x0000000000000400' });
    expect(r.json.same).toBe(true);
  });
});
