// The capability names in the types (lib/capabilities/names.ts) are libcap's, in bit order.
import { KNOWN_CAPABILITY_NAMES } from '../../lib/capabilities/names';
import { capabilityNames } from '../../lib';

test('the names the types know are the names libcap gives bits 0..40, in order', () => {
  const libcap = capabilityNames();
  // A libcap newer than the types may know more; it must know at least these, with these numbers.
  expect(libcap.length).toBeGreaterThanOrEqual(KNOWN_CAPABILITY_NAMES.length);
  expect(libcap.slice(0, KNOWN_CAPABILITY_NAMES.length)).toEqual([...KNOWN_CAPABILITY_NAMES]);
});
