// The config files' keys, from the option table (lib/drop/options.ts): each option's spellings
// in the Security stanza (matched without regard to case) and in JSON (exact: the option's name).
import { Kind, OPTION_NAMES, OptionName, OPTIONS } from '../drop/options';

export type { Kind };

export interface KeySpec {
  option: OptionName;
  kind: Kind;
}

// Keys that must never become object properties, whatever the format.
export const FORBIDDEN_KEYS: ReadonlySet<string> = new Set(['__proto__', 'constructor', 'prototype']);

function index(spellings: (option: OptionName) => readonly string[]): Readonly<Record<string, KeySpec>> {
  const out = Object.create(null) as Record<string, KeySpec>;
  for (const option of OPTION_NAMES) {
    for (const key of spellings(option)) out[key] = { option, kind: OPTIONS[option].kind };
  }
  return Object.freeze(out);
}

/** Stanza keys, lower case, to options. */
export const STANZA_KEYS = index((option) => OPTIONS[option].stanza);

/** JSON keys (the DropOptions names) to options. */
export const JSON_KEYS = index((option) => [option]);
