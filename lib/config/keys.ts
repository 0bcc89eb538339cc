// The one key table of the config files: each option once, with its kind and every spelling
// it has in the Security stanza (matched without regard to case) and in JSON (exact).
import type { OptionName } from '../drop/options';

/** How a value is read and checked (lib/config/stanza.ts, json.ts, index.ts). */
export type Kind = 'id' | 'capabilities' | 'path' | 'groups' | 'bounding' | 'boolean';

export interface KeySpec {
  option: OptionName;
  kind: Kind;
}

// In the order messages list the keys: Momentum's names first, then privdrop's extra options.
const TABLE: Readonly<Record<OptionName, { kind: Kind; stanza: readonly string[]; json: string }>> = {
  user: { kind: 'id', stanza: ['user'], json: 'user' },
  group: { kind: 'id', stanza: ['group'], json: 'group' },
  capabilities: { kind: 'capabilities', stanza: ['capabilities'], json: 'capabilities' },
  chroot: { kind: 'path', stanza: ['chroot'], json: 'chroot' },
  supplementaryGroups: { kind: 'groups', stanza: ['supplemental_groups', 'supplementary_groups'], json: 'supplementaryGroups' },
  boundingSet: { kind: 'bounding', stanza: ['bounding_set'], json: 'boundingSet' },
  ambient: { kind: 'boolean', stanza: ['ambient'], json: 'ambient' },
  noNewPrivileges: { kind: 'boolean', stanza: ['no_new_privs'], json: 'noNewPrivileges' },
  lockSecurebits: { kind: 'boolean', stanza: ['lock_securebits'], json: 'lockSecurebits' },
  keepTerminal: { kind: 'boolean', stanza: ['keep_terminal'], json: 'keepTerminal' },
  keepDebugSignals: { kind: 'boolean', stanza: ['keep_debug_signals'], json: 'keepDebugSignals' },
};

// Keys that must never become object properties, whatever the format.
export const FORBIDDEN_KEYS: ReadonlySet<string> = new Set(['__proto__', 'constructor', 'prototype']);

function index(spellings: (entry: (typeof TABLE)[OptionName]) => readonly string[]): Readonly<Record<string, KeySpec>> {
  const out = Object.create(null) as Record<string, KeySpec>;
  for (const option of Object.keys(TABLE) as OptionName[]) {
    for (const key of spellings(TABLE[option])) out[key] = { option, kind: TABLE[option].kind };
  }
  return Object.freeze(out);
}

/** Stanza keys, lower case, to options. */
export const STANZA_KEYS = index((e) => e.stanza);

/** JSON keys (the DropOptions names) to options. */
export const JSON_KEYS = index((e) => [e.json]);
