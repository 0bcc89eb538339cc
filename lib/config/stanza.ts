// Momentum configuration files (ecelerity.conf): the `Security { ... }` stanza, read strictly (one
// "key = value" per line, keys in any case, values bare or in double quotes), among whatever
// else the file holds. Other stanzas (nested, with quoted arguments), assignments, arrays and
// # comments are skipped; they are checked only for balance so that positions stay exact.
import { didYouMean } from '../errors/suggest';
import { groupsFromText } from '../drop/options';
import { FORBIDDEN_KEYS, KeySpec, STANZA_KEYS } from './keys';
import { describeChar, Entries, Located, Source } from './source';

const BARE_VALUE = /[^\s#"{}=]+/y;
const KEY = /[A-Za-z_][A-Za-z0-9_]*/y;
// Names and bare words of the stanzas privdrop skips: Momentum's names, host:port, paths, numbers.
const NAME = /[A-Za-z_][A-Za-z0-9_.:-]*/y;
const WORD = /[^\s#"{}[\]()=,;]+/y;
// Deeper nesting is refused (the skipping reader is recursive).
const MAX_DEPTH = 64;

/** What a file's Security stanza says, and what it said that does not apply on Linux. */
export interface StanzaRead {
  entries: Entries;
  /** Lines read but not applied ("Privileges" beside "Capabilities"), each "path:line:column: why". */
  notes: string[];
}

/** The Security stanza of a whole configuration file. */
export function parseStanza(src: Source): StanzaRead {
  const text = src.text;
  let i = 0;
  const skipBlank = () => {
    for (;;) {
      while (i < text.length && /\s/.test(text[i])) i++;
      if (text[i] !== '#') return;
      while (i < text.length && text[i] !== '\n') i++;
    }
  };
  const skipSpaces = () => {
    while (text[i] === ' ' || text[i] === '\t' || text[i] === '\r') i++;
  };
  const lineOf = (offset: number) => src.position(offset).line;

  // A quoted string of another stanza: any backslash escape is taken as it is.
  const skipString = () => {
    const start = i;
    for (i++; ; i++) {
      if (i >= text.length || text[i] === '\n') throw src.error(start, 'unterminated string: the closing quote is missing');
      if (text[i] === '\\') i++;
      else if (text[i] === '"') break;
    }
    i++;
  };
  // A value of another stanza's setting: a string, a word, an array [ ... ] or a block { ... }.
  const skipValue = (depth: number): void => {
    if (text[i] === '"') return skipString();
    if (text[i] === '[' || text[i] === '(') return skipList(depth + 1);
    if (text[i] === '{') return skipBlock(depth + 1, i);
    WORD.lastIndex = i;
    if (!WORD.exec(text)) throw src.error(i, `expected a value, found ${describeChar(text[i])}`);
    i = WORD.lastIndex;
  };
  // [ a, "b", c = d, [ nested ] ] (Momentum arrays hold values and settings alike).
  const skipList = (depth: number): void => {
    const open = i;
    const close = text[i] === '[' ? ']' : ')';
    if (depth > MAX_DEPTH) throw src.error(open, `nested deeper than ${MAX_DEPTH} levels`);
    i++;
    for (;;) {
      skipBlank();
      if (i >= text.length) throw src.error(open, `missing "${close}" for the list opened here`);
      if (text[i] === close) break;
      if (text[i] === ',' || text[i] === '=' || text[i] === ';') {
        i++;
        continue;
      }
      if (text[i] === '}' || text[i] === ']' || text[i] === ')') throw src.error(i, `unexpected ${describeChar(text[i])}: the list opened at line ${lineOf(open)} is not closed`);
      skipValue(depth);
    }
    i++;
  };
  // { settings and stanzas } of another stanza; `open` is its "{".
  const skipBlock = (depth: number, open: number): void => {
    if (depth > MAX_DEPTH) throw src.error(open, `nested deeper than ${MAX_DEPTH} levels`);
    i++;
    for (;;) {
      skipBlank();
      if (i >= text.length) throw src.error(open, `missing "}": the stanza opened here (line ${lineOf(open)}) is never closed`);
      if (text[i] === '}') break;
      skipItem(depth);
    }
    i++;
  };
  // One setting (`Name = value`) or stanza (`Name "arg" ... { ... }`) that is not the Security stanza.
  const skipItem = (depth: number): void => {
    NAME.lastIndex = i;
    const name = NAME.exec(text);
    if (!name) throw src.error(i, `expected a setting or stanza name, found ${describeChar(text[i])}`);
    i = NAME.lastIndex;
    skipSpaces();
    if (text[i] === '=') {
      i++;
      skipSpaces();
      if (i >= text.length || text[i] === '\n' || text[i] === '#') throw src.error(i, `expected a value after "${name[0]} =", found ${describeChar(text[i])}`);
      skipValue(depth);
      skipSpaces();
      if (text[i] === ';') i++;
      skipSpaces();
      if (i < text.length && text[i] !== '\n' && text[i] !== '#' && text[i] !== '}') {
        throw src.error(i, `unexpected ${describeChar(text[i])} after the value of "${name[0]}": one setting per line (quote values with spaces)`);
      }
      return;
    }
    // A stanza's arguments (Listen ":25", a module's instance name), then its block.
    for (;;) {
      skipSpaces();
      if (text[i] === '"') skipString();
      else if (text[i] === '{') return skipBlock(depth + 1, i);
      else if (text[i] === '\n' || text[i] === '#') {
        skipBlank(); // Momentum allows the "{" on the next line
        if (text[i] === '{') return skipBlock(depth + 1, i);
        throw src.error(i, `expected "=" or "{" for "${name[0]}", found ${describeChar(text[i])}`);
      } else {
        WORD.lastIndex = i;
        if (!WORD.exec(text)) throw src.error(i, `expected "=" or "{" for "${name[0]}", found ${describeChar(text[i])}`);
        i = WORD.lastIndex;
      }
    }
  };

  // Spaces and a comment may follow a Security value, nothing else on that line.
  const endOfLine = (what: string) => {
    skipSpaces();
    if (i >= text.length || text[i] === '\n' || text[i] === '#' || text[i] === '}') return;
    throw src.error(i, `unexpected ${describeChar(text[i])} after ${what}: one "key = value" per line (quote values with spaces)`);
  };
  // The body of `Security {`; `open` is its "{".
  const securityBody = (open: number): StanzaRead => {
    const entries: Entries = new Map();
    let privileges: Located | undefined;
    i = open + 1;
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
      const solaris = key === 'privileges';
      if (!solaris && (FORBIDDEN_KEYS.has(key) || !(key in STANZA_KEYS))) {
        const hint = FORBIDDEN_KEYS.has(key) ? '' : didYouMean(key, Object.keys(STANZA_KEYS));
        throw src.error(keyOffset, `unknown key "${k[0]}"${hint}; known keys: ${Object.keys(STANZA_KEYS).join(', ')}`);
      }
      // One option under two spellings (supplemental_groups, supplementary_groups) is one key.
      const option = solaris ? undefined : STANZA_KEYS[key].option;
      const earlierKey = solaris ? (privileges ? 'privileges' : undefined) : [...entries.keys()].find((e) => STANZA_KEYS[e].option === option);
      const earlier = solaris ? privileges && { key: privileges } : earlierKey === undefined ? undefined : entries.get(earlierKey);
      if (earlier) {
        const { line, column } = src.position(earlier.key.offset);
        const as = String(earlier.key.value).toLowerCase() === key ? '' : ` as "${earlier.key.value}"`;
        throw src.error(keyOffset, `key "${k[0]}" given twice (first${as} at line ${line}, column ${column})`);
      }
      skipSpaces();
      if (text[i] !== '=') throw src.error(i, `expected "=" after "${k[0]}", found ${describeChar(text[i])}`);
      i++;
      skipSpaces();
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
      if (solaris) privileges = { value: k[0], offset: keyOffset };
      else entries.set(key, { key: { value: k[0], offset: keyOffset }, value: { value, offset: valueOffset } });
    }
    i++;
    const notes: string[] = [];
    if (privileges) {
      const caps = [...entries.values()].find((e) => e.key.value !== undefined && STANZA_KEYS[String(e.key.value).toLowerCase()].option === 'capabilities');
      const where = src.position(privileges.offset);
      if (!caps) {
        throw src.error(
          privileges.offset,
          `"${privileges.value}" is the Solaris form (privilege sets) and does not apply on Linux, and this stanza has no "Capabilities": ` +
            'its author meant to keep something; say what to keep on Linux with Capabilities = "..." (e.g. "cap_net_bind_service+ep")',
        );
      }
      notes.push(`${src.path}:${where.line}:${where.column}: "${privileges.value}" is the Solaris form: ignored on Linux ("${caps.key.value}" at line ${lineOf(caps.key.offset)} applies)`);
    }
    return { entries, notes };
  };

  let found: { read: StanzaRead; offset: number } | undefined;
  for (;;) {
    skipBlank();
    if (i >= text.length) break;
    const start = i;
    KEY.lastIndex = i;
    const head = KEY.exec(text);
    if (head && head[0].toLowerCase() === 'security' && !/[.:-]/.test(text[KEY.lastIndex] ?? '')) {
      i = KEY.lastIndex;
      skipBlank();
      if (text[i] !== '{') throw src.error(i, `expected "{" after "${head[0]}", found ${describeChar(text[i])}`);
      if (found) {
        const first = src.position(found.offset);
        throw src.error(start, `a second Security stanza (the first is at line ${first.line}, column ${first.column}): one file has one; to override a file, give a second file (layered configuration)`);
      }
      found = { read: securityBody(i), offset: start };
      endOfLine('the Security stanza');
      continue;
    }
    skipItem(0);
  }
  if (!found) {
    throw src.error(i, text.trim() === '' ? 'the file is empty: expected "Security {"' : 'no "Security {" stanza in this file (its other stanzas and settings are not privdrop\'s)');
  }
  return found.read;
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
