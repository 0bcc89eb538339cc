import { constants } from 'os';

const names = new Map<number, string>();
for (const [name, value] of Object.entries(constants.errno)) {
  if (!names.has(value)) names.set(value, name);
}

/** errno value -> its name ('EPERM'), or 'E<number>' when unknown. */
export function errnoName(errno: number): string {
  return names.get(errno) ?? `E${errno}`;
}
