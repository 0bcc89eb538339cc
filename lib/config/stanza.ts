// The Momentum mail server's `Security { ... }` stanza: one "key = value" per line, keys in any
// case, values bare or in double quotes, # comments.
import { didYouMean } from '../errors/suggest';
import { groupsFromText } from '../drop/options';
import { FORBIDDEN_KEYS, KeySpec, STANZA_KEYS } from './keys';
import { describeChar, Entries, Located, Source } from './source';

const BARE_VALUE = /[^\s#"{}=]+/y;
const KEY = /[A-Za-z_][A-Za-z0-9_]*/y;

/** The entries of a `Security { key = value ... }` stanza. */
export function parseStanza(src: Source): Entries {
  const text = src.text;
  let i = 0;
  const skipBlank = () => {
    for (;;) {
      while (i < text.length && /\s/.test(text[i])) i++;
      if (text[i] !== '#') return;
      while (i < text.length && text[i] !== '\n') i++;
    }
  };
  // Spaces and a comment may follow a value, nothing else on that line.
  const endOfLine = (what: string) => {
    while (i < text.length && (text[i] === ' ' || text[i] === '\t' || text[i] === '\r')) i++;
    if (i >= text.length || text[i] === '\n' || text[i] === '#' || text[i] === '}') return;
    throw src.error(i, `unexpected ${describeChar(text[i])} after ${what}: one "key = value" per line (quote values with spaces)`);
  };

  skipBlank();
  KEY.lastIndex = i;
  const head = KEY.exec(text);
  if (!head || head[0].toLowerCase() !== 'security') {
    throw src.error(i, i >= text.length ? 'the file is empty: expected "Security {"' : 'expected "Security {"');
  }
  i = KEY.lastIndex;
  skipBlank();
  if (text[i] !== '{') throw src.error(i, `expected "{" after "${head[0]}", found ${describeChar(text[i])}`);
  const open = i;
  i++;

  const entries: Entries = new Map();
  for (;;) {
    skipBlank();
    if (i >= text.length) throw src.error(open, 'missing "}": the Security stanza opened here is never closed');
    if (text[i] === '}') break;
    KEY.lastIndex = i;
    const k = KEY.exec(text);
    if (!k) throw src.error(i, `expected a key or "}", found ${describeChar(text[i])}`);
    const keyOffset = i;
    const key = k[0].toLowerCase();
    i = KEY.lastIndex;
    if (key === 'privileges') {
      throw src.error(keyOffset, '"Privileges" is the Solaris form (privilege sets) and is not supported on Linux: use "Capabilities"');
    }
    if (FORBIDDEN_KEYS.has(key) || !(key in STANZA_KEYS)) {
      const hint = FORBIDDEN_KEYS.has(key) ? '' : didYouMean(key, Object.keys(STANZA_KEYS));
      throw src.error(keyOffset, `unknown key "${k[0]}"${hint}; known keys: ${Object.keys(STANZA_KEYS).join(', ')}`);
    }
    // One option under two spellings (supplemental_groups, supplementary_groups) is one key.
    const option = STANZA_KEYS[key].option;
    const earlierKey = [...entries.keys()].find((e) => STANZA_KEYS[e].option === option);
    const earlier = earlierKey === undefined ? undefined : entries.get(earlierKey);
    if (earlier) {
      const { line, column } = src.position(earlier.key.offset);
      const as = earlierKey === key ? '' : ` as "${earlier.key.value}"`;
      throw src.error(keyOffset, `key "${k[0]}" given twice (first${as} at line ${line}, column ${column})`);
    }
    while (text[i] === ' ' || text[i] === '\t') i++;
    if (text[i] !== '=') throw src.error(i, `expected "=" after "${k[0]}", found ${describeChar(text[i])}`);
    i++;
    while (text[i] === ' ' || text[i] === '\t') i++;
    const valueOffset = i;
    let value: string;
    if (text[i] === '"') {
      const end = readQuoted(src, i);
      value = end.value;
      i = end.next;
    } else {
      BARE_VALUE.lastIndex = i;
      const bare = BARE_VALUE.exec(text);
      if (!bare) throw src.error(i, `expected a value after "${k[0]} =", found ${describeChar(text[i])}`);
      value = bare[0];
      i = BARE_VALUE.lastIndex;
    }
    endOfLine(`the value of "${k[0]}"`);
    entries.set(key, { key: { value: k[0], offset: keyOffset }, value: { value, offset: valueOffset } });
  }
  i++;
  skipBlank();
  if (i < text.length) throw src.error(i, `unexpected ${describeChar(text[i])} after the Security stanza`);
  return entries;
}

function readQuoted(src: Source, start: number): { value: string; next: number } {
  const text = src.text;
  let out = '';
  let i = start + 1;
  for (;;) {
    if (i >= text.length || text[i] === '\n') throw src.error(start, 'unterminated string: the closing quote is missing');
    const c = text[i];
    if (c === '"') return { value: out, next: i + 1 };
    if (c === '\\') {
      const n = text[i + 1];
      if (n !== '"' && n !== '\\') throw src.error(i, 'only \\" and \\\\ are escapes in a quoted value');
      out += n;
      i += 2;
    } else {
      out += c;
      i++;
    }
  }
}

/** A stanza value (always text) as the option's value. */
export function stanzaValue(src: Source, spec: KeySpec, key: Located, v: Located): unknown {
  const text = v.value as string;
  switch (spec.kind) {
    case 'boolean': {
      const t = text.toLowerCase();
      if (['true', 'yes', 'on', '1'].includes(t)) return true;
      if (['false', 'no', 'off', '0'].includes(t)) return false;
      throw src.error(v.offset, `"${key.value}" must be true or false (yes/no, on/off, 1/0), got ${JSON.stringify(text)}`);
    }
    case 'groups':
      return groupsFromText(text);
    default:
      return text;
  }
}
