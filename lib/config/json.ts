// JSON config files, read with positions (JSON.parse gives none), duplicate keys refused and
// nesting bounded.
import { didYouMean } from '../errors/suggest';
import { PrivdropError } from '../errors';
import { isGroupForm, isIdNumber, MAX_ID } from '../drop/options';
import { FORBIDDEN_KEYS, JSON_KEYS, KeySpec } from './keys';
import { describeChar, Entries, Located, Source } from './source';

// Deeper JSON would overflow the recursive reader's stack (a RangeError instead of a coded error).
const MAX_JSON_DEPTH = 64;

/** The entries of a JSON object, each key and value with its offset. */
export function parseJson(src: Source): Entries {
  const text = src.text;
  let i = 0;
  const ws = () => {
    while (i < text.length && (text[i] === ' ' || text[i] === '\t' || text[i] === '\n' || text[i] === '\r')) i++;
  };
  const expected = (what: string): PrivdropError => src.error(i, `invalid JSON: expected ${what}, found ${describeChar(text[i])}`);

  const value = (depth = 0): Located => {
    ws();
    const offset = i;
    const c = text[i];
    if (c === '"') return { value: string(), offset };
    if ((c === '{' || c === '[') && depth >= MAX_JSON_DEPTH) throw src.error(offset, `invalid JSON: nested deeper than ${MAX_JSON_DEPTH} levels`);
    if (c === '{') {
      i++;
      const obj = new Map<string, Located>();
      ws();
      if (text[i] === '}') {
        i++;
        return { value: obj, offset };
      }
      for (;;) {
        ws();
        if (text[i] !== '"') throw expected('a key in double quotes');
        const keyOffset = i;
        const key = string();
        if (FORBIDDEN_KEYS.has(key)) throw src.error(keyOffset, `key ${JSON.stringify(key)} is not allowed`);
        if (obj.has(key)) throw src.error(keyOffset, `key ${JSON.stringify(key)} given twice`);
        ws();
        if (text[i] !== ':') throw expected('":"');
        i++;
        const v = value(depth + 1);
        obj.set(key, { value: { key, keyOffset, v }, offset: keyOffset });
        ws();
        if (text[i] === ',') {
          i++;
          continue;
        }
        if (text[i] === '}') {
          i++;
          return { value: obj, offset };
        }
        throw i >= text.length ? src.error(offset, 'invalid JSON: missing "}" for the object opened here') : expected('"," or "}"');
      }
    }
    if (c === '[') {
      i++;
      const arr: Located[] = [];
      ws();
      if (text[i] === ']') {
        i++;
        return { value: arr, offset };
      }
      for (;;) {
        arr.push(value(depth + 1));
        ws();
        if (text[i] === ',') {
          i++;
          continue;
        }
        if (text[i] === ']') {
          i++;
          return { value: arr, offset };
        }
        throw i >= text.length ? src.error(offset, 'invalid JSON: missing "]" for the array opened here') : expected('"," or "]"');
      }
    }
    const literal = /true|false|null|-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;
    literal.lastIndex = i;
    const m = literal.exec(text);
    if (!m) throw expected('a value');
    i = literal.lastIndex;
    return { value: m[0] === 'true' ? true : m[0] === 'false' ? false : m[0] === 'null' ? null : Number(m[0]), offset };
  };

  const string = (): string => {
    const start = i;
    let j = i + 1;
    for (;;) {
      if (j >= text.length) throw src.error(start, 'invalid JSON: unterminated string');
      const c = text.charCodeAt(j);
      if (c === 0x22) break;
      if (c < 0x20) throw src.error(j, 'invalid JSON: control character in a string');
      j += c === 0x5c ? 2 : 1;
    }
    i = j + 1;
    try {
      return JSON.parse(text.slice(start, i)) as string;
    } catch {
      throw src.error(start, 'invalid JSON: bad escape in string');
    }
  };

  const top = value();
  ws();
  if (i < text.length) throw src.error(i, `invalid JSON: unexpected ${describeChar(text[i])} after the top-level object`);
  if (!(top.value instanceof Map)) throw src.error(top.offset, 'the configuration must be a JSON object');
  const entries: Entries = new Map();
  for (const [name, entry] of top.value as Map<string, Located>) {
    const { keyOffset, v } = entry.value as { keyOffset: number; v: Located };
    if (!(name in JSON_KEYS)) {
      const hint = name.toLowerCase() === 'privileges' ? ': "privileges" is the Solaris form and is not supported on Linux; use "capabilities"' : `${didYouMean(name, Object.keys(JSON_KEYS))}; known keys: ${Object.keys(JSON_KEYS).join(', ')}`;
      throw src.error(keyOffset, `unknown key ${JSON.stringify(name)}${hint}`);
    }
    entries.set(name, { key: { value: name, offset: keyOffset }, value: v });
  }
  return entries;
}

/** A JSON value as the option's value, checked for its type. */
export function jsonValue(src: Source, spec: KeySpec, key: Located, v: Located): unknown {
  const name = key.value as string;
  const plain = (x: Located): unknown => (Array.isArray(x.value) ? x.value.map(plain) : x.value);
  const bad = (what: string) => src.error(v.offset, `"${name}" must be ${what}`);
  // Names are checked by checkValue(), for both formats.
  const isId = (x: unknown) => typeof x === 'string' || isIdNumber(x);
  switch (spec.kind) {
    case 'boolean':
      if (typeof v.value !== 'boolean') throw bad('true or false');
      return v.value;
    case 'id':
      if (!isId(v.value)) throw bad(`a name (string) or an id (integer from 0 to ${MAX_ID})`);
      return v.value;
    case 'path':
    case 'bounding':
      if (typeof v.value !== 'string') throw bad('a string');
      return v.value;
    case 'capabilities':
      if (typeof v.value === 'string') return v.value;
      if (Array.isArray(v.value)) {
        for (const item of v.value as Located[]) {
          if (typeof item.value !== 'string') throw src.error(item.offset, `"${name}" must be capability text or an array of capability names`);
        }
        return plain(v);
      }
      throw bad('capability text or an array of capability names');
    case 'groups':
      if (isGroupForm(v.value)) return v.value;
      if (Array.isArray(v.value)) {
        for (const item of v.value as Located[]) if (!isId(item.value)) throw src.error(item.offset, `"${name}" entries must be group names or ids`);
        return plain(v);
      }
      throw bad('"init", "clear" or an array of group names or ids');
    default:
      return plain(v); // a kind without a JSON form of its own: the option's check reads it
  }
}
