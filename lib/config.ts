// Security configuration files: JSON, or the Momentum mail server's `Security { ... }` stanza.
// Both read into the same DropOptions; every error names the file, line and column.
import * as fs from 'fs';
import { CapabilityName, CapabilitySet } from './capabilities';
import type { DropOptions, Id } from './drop';
import { debug } from './debug';
import { ErrorCodes, PrivdropError } from './errors';

/** What a config file may set: DropOptions, each one optional (the command line can add the rest). */
export type SecurityConfig = Partial<DropOptions>;

/** A config file larger than this is refused: a Security stanza is a few hundred bytes. */
export const MAX_CONFIG_BYTES = 1024 * 1024;

// Deeper JSON would overflow the recursive reader's stack (a RangeError instead of a coded error).
const MAX_JSON_DEPTH = 64;

// Keys that must never become object properties, whatever the format.
const FORBIDDEN_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

type Kind = 'id' | 'capabilities' | 'path' | 'groups' | 'bounding' | 'boolean';

interface KeySpec {
  option: keyof DropOptions;
  kind: Kind;
}

// Stanza keys (lower case) to options: Momentum's names, then privdrop's extra options.
const STANZA_KEYS: Readonly<Record<string, KeySpec>> = Object.freeze(
  Object.assign(Object.create(null) as Record<string, KeySpec>, {
    user: { option: 'user', kind: 'id' },
    group: { option: 'group', kind: 'id' },
    capabilities: { option: 'capabilities', kind: 'capabilities' },
    chroot: { option: 'chroot', kind: 'path' },
    supplemental_groups: { option: 'supplementaryGroups', kind: 'groups' },
    supplementary_groups: { option: 'supplementaryGroups', kind: 'groups' },
    bounding_set: { option: 'boundingSet', kind: 'bounding' },
    ambient: { option: 'ambient', kind: 'boolean' },
    no_new_privs: { option: 'noNewPrivileges', kind: 'boolean' },
    lock_securebits: { option: 'lockSecurebits', kind: 'boolean' },
  }),
);

// JSON keys are exactly the DropOptions names.
const JSON_KEYS: Readonly<Record<string, KeySpec>> = Object.freeze(
  Object.assign(Object.create(null) as Record<string, KeySpec>, {
    user: { option: 'user', kind: 'id' },
    group: { option: 'group', kind: 'id' },
    capabilities: { option: 'capabilities', kind: 'capabilities' },
    chroot: { option: 'chroot', kind: 'path' },
    supplementaryGroups: { option: 'supplementaryGroups', kind: 'groups' },
    boundingSet: { option: 'boundingSet', kind: 'bounding' },
    ambient: { option: 'ambient', kind: 'boolean' },
    noNewPrivileges: { option: 'noNewPrivileges', kind: 'boolean' },
    lockSecurebits: { option: 'lockSecurebits', kind: 'boolean' },
  }),
);

/** A position in the file, both counted from 1 (column in UTF-16 code units). */
interface Position {
  line: number;
  column: number;
}

class Source {
  private readonly lineStarts: number[] = [0];

  constructor(readonly path: string, readonly text: string) {
    for (let i = 0; i < text.length; i++) if (text[i] === '\n') this.lineStarts.push(i + 1);
  }

  position(offset: number): Position {
    let lo = 0;
    let hi = this.lineStarts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.lineStarts[mid] <= offset) lo = mid;
      else hi = mid - 1;
    }
    return { line: lo + 1, column: offset - this.lineStarts[lo] + 1 };
  }

  error(offset: number, message: string): PrivdropError {
    const { line, column } = this.position(offset);
    return new PrivdropError(ErrorCodes.INVALID_CONFIG, `${this.path}:${line}:${column}: ${message}`, { path: this.path, line, column });
  }
}

/** One value read from the file, with where it starts. */
interface Located {
  value: unknown;
  offset: number;
}

// ---- the Security stanza ---------------------------------------------------------------

const BARE_VALUE = /[^\s#"{}=]+/y;
const KEY = /[A-Za-z_][A-Za-z0-9_]*/y;

function parseStanza(src: Source): Map<string, { key: Located; value: Located }> {
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

  const entries = new Map<string, { key: Located; value: Located }>();
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
      throw src.error(keyOffset, `unknown key "${k[0]}"; known keys: ${Object.keys(STANZA_KEYS).join(', ')}`);
    }
    const earlier = entries.get(key);
    if (earlier) {
      const { line, column } = src.position(earlier.key.offset);
      throw src.error(keyOffset, `key "${k[0]}" given twice (first at line ${line}, column ${column})`);
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

function describeChar(c: string | undefined): string {
  if (c === undefined) return 'the end of the file';
  if (c === '\n') return 'the end of the line';
  return JSON.stringify(c);
}

function stanzaValue(src: Source, spec: KeySpec, key: Located, v: Located): unknown {
  const text = v.value as string;
  switch (spec.kind) {
    case 'boolean': {
      const t = text.toLowerCase();
      if (['true', 'yes', 'on', '1'].includes(t)) return true;
      if (['false', 'no', 'off', '0'].includes(t)) return false;
      throw src.error(v.offset, `"${key.value}" must be true or false (yes/no, on/off, 1/0), got ${JSON.stringify(text)}`);
    }
    case 'groups': {
      const t = text.trim();
      if (t === 'init' || t === 'clear') return t;
      if (t === '') return [];
      return t.split(',').map((g) => g.trim());
    }
    default:
      return text;
  }
}

// ---- JSON, with positions -----------------------------------------------------------------

function parseJson(src: Source): Map<string, { key: Located; value: Located }> {
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
  const entries = new Map<string, { key: Located; value: Located }>();
  for (const [name, entry] of top.value as Map<string, Located>) {
    const { keyOffset, v } = entry.value as { keyOffset: number; v: Located };
    if (!(name in JSON_KEYS)) {
      const hint = name.toLowerCase() === 'privileges' ? ': "privileges" is the Solaris form and is not supported on Linux; use "capabilities"' : `; known keys: ${Object.keys(JSON_KEYS).join(', ')}`;
      throw src.error(keyOffset, `unknown key ${JSON.stringify(name)}${hint}`);
    }
    entries.set(name, { key: { value: name, offset: keyOffset }, value: v });
  }
  return entries;
}

function jsonValue(src: Source, spec: KeySpec, key: Located, v: Located): unknown {
  const name = key.value as string;
  const plain = (x: Located): unknown => (Array.isArray(x.value) ? x.value.map(plain) : x.value);
  const bad = (what: string) => src.error(v.offset, `"${name}" must be ${what}`);
  // 4294967295 is (uid_t)-1, "unchanged" to the kernel: dropPrivileges() refuses it with a RangeError.
  const isId = (x: unknown) => typeof x === 'string' || (typeof x === 'number' && Number.isInteger(x) && x >= 0 && x <= 4294967294);
  switch (spec.kind) {
    case 'boolean':
      if (typeof v.value !== 'boolean') throw bad('true or false');
      return v.value;
    case 'id':
      if (!isId(v.value)) throw bad('a name (string) or an id (integer from 0 to 4294967294)');
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
      if (v.value === 'init' || v.value === 'clear') return v.value;
      if (Array.isArray(v.value)) {
        for (const item of v.value as Located[]) if (!isId(item.value)) throw src.error(item.offset, `"${name}" entries must be group names or ids`);
        return plain(v);
      }
      throw bad('"init", "clear" or an array of group names or ids');
  }
}

// ---- both formats -------------------------------------------------------------------------

// Checks that need no system lookup, so a typo is reported at its place in the file.
function checkValue(src: Source, spec: KeySpec, key: Located, v: Located, value: unknown): void {
  const name = key.value as string;
  if (spec.kind === 'bounding' && value !== 'retained' && value !== 'unchanged') {
    throw src.error(v.offset, `"${name}" must be "retained" or "unchanged", got ${JSON.stringify(value)}`);
  }
  if (spec.kind === 'path' && (typeof value !== 'string' || !value.startsWith('/'))) {
    throw src.error(v.offset, `"${name}" must be an absolute path, got ${JSON.stringify(value)}`);
  }
  if (spec.kind === 'id' && (value === '' || (typeof value === 'string' && /[\s:,]/.test(value)))) {
    throw src.error(v.offset, `"${name}" ${JSON.stringify(value)} is not a valid user or group name`);
  }
  if (spec.kind === 'groups' && Array.isArray(value) && value.some((g) => g === '' || (typeof g === 'string' && /[\s:]/.test(g)))) {
    throw src.error(v.offset, `"${name}" must be a comma-separated list of group names or ids, got ${JSON.stringify((value as Id[]).join(','))}`);
  }
  if (spec.kind === 'capabilities') {
    try {
      if (typeof value === 'string') CapabilitySet.parse(value);
      else CapabilitySet.from(value as CapabilityName[]);
    } catch (e) {
      if ((e as PrivdropError).code !== ErrorCodes.INVALID_CAPABILITIES) throw e;
      throw src.error(v.offset, `"${name}": ${(e as Error).message}`);
    }
  }
}

/** Which format a file is in: JSON when its name ends in .json or it starts with "{", "[" or a quote. */
export function configFormat(text: string, path = ''): 'json' | 'stanza' {
  return /\.json$/i.test(path) || /^\s*[{["]/.test(text) ? 'json' : 'stanza';
}

/**
 * Parses configuration text (JSON or a Security stanza) into options for dropPrivileges(), which
 * needs a user: text without one is refused. `path` only names the file in error messages.
 * Throws ERR_PRIVDROP_INVALID_CONFIG with "path:line:column: why".
 */
export function parseSecurityConfig(text: string, path = '<config>'): DropOptions {
  return parseConfigText(text, path, true) as DropOptions;
}

/** parseSecurityConfig, optionally without a user (privdrop exec takes it from --user). */
function parseConfigText(text: string, path: string, needUser: boolean): SecurityConfig {
  if (typeof text !== 'string') throw new TypeError('parseSecurityConfig(text, path?): text must be a string');
  if (typeof path !== 'string') throw new TypeError('parseSecurityConfig(text, path?): path must be a string');
  const src = new Source(path, text.charCodeAt(0) === 0xfeff ? text.slice(1) : text);
  const json = configFormat(src.text, path) === 'json';
  const entries = json ? parseJson(src) : parseStanza(src);
  const specs = json ? JSON_KEYS : STANZA_KEYS;
  const options: Record<string, unknown> = {};
  for (const [name, { key, value }] of entries) {
    const spec = specs[name];
    const converted = json ? jsonValue(src, spec, key, value) : stanzaValue(src, spec, key, value);
    checkValue(src, spec, key, value, converted);
    options[spec.option] = converted;
  }
  if (needUser && options.user === undefined) throw src.error(src.text.length, 'no user given (dropPrivileges() needs one)');
  debug('config %s: %s format, %s', path, json ? 'JSON' : 'stanza', Object.keys(options).join(', ') || 'no keys');
  return options as SecurityConfig;
}

// stat() says 0 bytes for /dev/zero or a pipe (--config <(...)), which never end or end late:
// read no more than the limit, whatever the size said.
function readAtMost(path: string, limit: number): string {
  const fd = fs.openSync(path, 'r');
  try {
    const buf = Buffer.alloc(limit + 1);
    let length = 0;
    for (let n; length <= limit && (n = fs.readSync(fd, buf, length, limit + 1 - length, null)) > 0; ) length += n;
    if (length > limit) {
      throw new PrivdropError(ErrorCodes.INVALID_CONFIG, `${path}: more than ${limit} bytes; a config file may be at most ${limit}`, { path });
    }
    return buf.toString('utf8', 0, length);
  } finally {
    fs.closeSync(fd);
  }
}

/** Reads and parses a config file; the user may be missing (the command line can give it). */
export function readSecurityConfig(path: string): SecurityConfig {
  if (typeof path !== 'string' || path === '') throw new TypeError('the config path must be a non-empty string');
  let text: string;
  try {
    const size = fs.statSync(path).size;
    if (size > MAX_CONFIG_BYTES) {
      throw new PrivdropError(ErrorCodes.INVALID_CONFIG, `${path}: ${size} bytes; a config file may be at most ${MAX_CONFIG_BYTES}`, { path });
    }
    text = readAtMost(path, MAX_CONFIG_BYTES);
  } catch (e) {
    if (e instanceof PrivdropError) throw e;
    const err = e as NodeJS.ErrnoException;
    throw new PrivdropError(ErrorCodes.INVALID_CONFIG, `cannot read config file ${path}: ${err.code ?? ''} ${err.message}`.replace(/\s+/g, ' '), {
      path,
      syscall: err.syscall,
      cause: e,
    });
  }
  return parseConfigText(text, path, false);
}

/**
 * Reads the options for dropPrivileges() from a JSON file or a Momentum-style `Security { }`
 * stanza. Throws PrivdropError ERR_PRIVDROP_INVALID_CONFIG naming the file, line and column of
 * the problem (unknown key, key given twice, missing brace, bad value, "Privileges").
 */
export function loadSecurityConfig(path: string): DropOptions {
  const options = readSecurityConfig(path);
  if (options.user === undefined) {
    throw new PrivdropError(ErrorCodes.INVALID_CONFIG, `${path}: no user given (dropPrivileges() needs one)`, { path });
  }
  return options as DropOptions;
}
