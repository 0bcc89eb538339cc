// Security configuration files: JSON, or the Momentum mail server's `Security { ... }` stanza.
// Both read into the same DropOptions; every error names the file, line and column.
// keys.ts: the key table; source.ts: positions; stanza.ts and json.ts: the two formats.
import * as fs from 'fs';
import type { DropOptions } from '../drop';
import { debug } from '../debug';
import { ErrorCodes, PrivdropError } from '../errors';
import { toCapabilitySet } from '../capabilities/options';
import { BOUNDING_SET_VALUES, Id, isBoundingSet, isChrootPath, isValidName, OptionName } from '../drop/options';
import { ROOT_USER_REASON } from '../drop/root-equivalent';
import { JSON_KEYS, KeySpec, STANZA_KEYS } from './keys';
import { parseJson, jsonValue } from './json';
import { Located, Source } from './source';
import { parseStanza, stanzaValue } from './stanza';
import { checkConfigTrust, checkOpenedConfig, notRegularFile } from './trust';

/** What a config file may set: DropOptions, each one optional (the command line can add the rest). */
export type SecurityConfig = Partial<DropOptions>;

/** A config file larger than this is refused: a Security stanza is a few hundred bytes. */
export const MAX_CONFIG_BYTES = 1024 * 1024;

// Checks that need no system lookup, so a typo is reported at its place in the file.
function checkValue(src: Source, spec: KeySpec, key: Located, v: Located, value: unknown): void {
  const name = key.value as string;
  if (spec.kind === 'bounding' && !isBoundingSet(value)) {
    throw src.error(v.offset, `"${name}" must be ${BOUNDING_SET_VALUES.map((b) => `"${b}"`).join(' or ')}, got ${JSON.stringify(value)}`);
  }
  if (spec.kind === 'path' && !isChrootPath(value)) {
    throw src.error(v.offset, `"${name}" must be an absolute path, got ${JSON.stringify(value)}`);
  }
  // Only what the file says literally; a name that NSS maps to uid 0 is refused when it is resolved.
  if (spec.option === 'user' && (value === 'root' || value === 0 || value === '0')) {
    throw src.error(v.offset, `"${name}" is root: ${ROOT_USER_REASON}`);
  }
  if (spec.kind === 'id' && typeof value === 'string' && !isValidName(value)) {
    throw src.error(v.offset, `"${name}" ${JSON.stringify(value)} is not a valid user or group name`);
  }
  if (spec.kind === 'groups' && Array.isArray(value) && value.some((g) => typeof g === 'string' && !isValidName(g))) {
    throw src.error(v.offset, `"${name}" must be a comma-separated list of group names or ids, got ${JSON.stringify((value as Id[]).join(','))}`);
  }
  if (spec.kind === 'capabilities') {
    try {
      toCapabilitySet(value);
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

/** Where a setting was read: the file, line and column of its key. */
export interface ConfigOrigin {
  file: string;
  line: number;
  column: number;
}

/** One or more config files read (and layered: a later file's keys override an earlier one's, key by key). */
export interface ConfigRead {
  options: SecurityConfig;
  /** For each option set, where its value comes from (the last file that set it). */
  origins: Partial<Record<OptionName, ConfigOrigin>>;
  /** What was read but does not apply (a Solaris "Privileges" line), each "file:line:column: why". */
  notes: string[];
  /** The files, in the order they were layered. */
  files: string[];
}

/**
 * Parses configuration text (JSON or a Security stanza) into options for dropPrivileges(), which
 * needs a user: text without one is refused. `path` only names the file in error messages.
 * Throws ERR_PRIVDROP_INVALID_CONFIG with "path:line:column: why".
 */
export function parseSecurityConfig(text: string, path = '<config>'): DropOptions {
  return parseConfigText(text, path, true).options as DropOptions;
}

/** parseSecurityConfig, optionally without a user (privdrop exec takes it from --user), with origins and notes. */
function parseConfigText(text: string, path: string, needUser: boolean): ConfigRead {
  if (typeof text !== 'string') throw new TypeError('parseSecurityConfig(text, path?): text must be a string');
  if (typeof path !== 'string') throw new TypeError('parseSecurityConfig(text, path?): path must be a string');
  const src = new Source(path, text.charCodeAt(0) === 0xfeff ? text.slice(1) : text);
  const json = configFormat(src.text, path) === 'json';
  const { entries, notes } = json ? { entries: parseJson(src), notes: [] as string[] } : parseStanza(src);
  const specs = json ? JSON_KEYS : STANZA_KEYS;
  const options: Record<string, unknown> = {};
  const origins: ConfigRead['origins'] = {};
  for (const [name, { key, value }] of entries) {
    const spec = specs[name];
    const converted = json ? jsonValue(src, spec, key, value) : stanzaValue(src, spec, key, value);
    checkValue(src, spec, key, value, converted);
    options[spec.option] = converted;
    origins[spec.option] = { file: path, ...src.position(key.offset) };
  }
  if (needUser && options.user === undefined) throw src.error(src.text.length, 'no user given (dropPrivileges() needs one)');
  debug('config: parsed %s as %s: %s', path, json ? 'JSON' : 'a Security stanza', Object.keys(options).join(', ') || 'no keys');
  for (const note of notes) debug('config: %s', note);
  return { options: options as SecurityConfig, origins, notes, files: [path] };
}

// Opened without blocking (a FIFO swapped in after the stat must not hang open()) and without
// becoming a controlling terminal; read no more than the limit, whatever fstat said (it grows).
function readConfigFile(path: string): string {
  const readError = (e: unknown) => {
    const err = e as NodeJS.ErrnoException;
    // Node's own messages start with the code ("ENOENT: no such file or directory, stat '...'").
    const detail = err.code && !err.message.startsWith(err.code) ? `${err.code} ${err.message}` : err.message;
    return new PrivdropError(ErrorCodes.INVALID_CONFIG, `cannot read config file ${path}: ${detail}`.replace(/\s+/g, ' '), {
      path,
      syscall: err.syscall,
      cause: e,
    });
  };
  const notRegular = (st: fs.Stats) => {
    const why = notRegularFile(st);
    if (why === undefined) return;
    throw new PrivdropError(ErrorCodes.INVALID_CONFIG, `config file ${path} ${why}; not read. Write the settings to a regular file owned by root`, { path });
  };
  let fd: number;
  try {
    notRegular(fs.statSync(path)); // before open(): opening a FIFO blocks, opening a device may do something
    fd = fs.openSync(path, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK | fs.constants.O_NOCTTY);
  } catch (e) {
    throw e instanceof PrivdropError ? e : readError(e);
  }
  try {
    const st = fs.fstatSync(fd);
    notRegular(st);
    // What was opened is what is checked and read, wherever its name pointed (/proc/self/root/...).
    checkOpenedConfig(path, fd, st);
    if (st.size > MAX_CONFIG_BYTES) {
      throw new PrivdropError(ErrorCodes.INVALID_CONFIG, `${path}: ${st.size} bytes; a config file may be at most ${MAX_CONFIG_BYTES}`, { path });
    }
    const buf = Buffer.alloc(MAX_CONFIG_BYTES + 1);
    let length = 0;
    for (let n; length <= MAX_CONFIG_BYTES && (n = fs.readSync(fd, buf, length, MAX_CONFIG_BYTES + 1 - length, null)) > 0; ) length += n;
    if (length > MAX_CONFIG_BYTES) {
      throw new PrivdropError(ErrorCodes.INVALID_CONFIG, `${path}: more than ${MAX_CONFIG_BYTES} bytes; a config file may be at most ${MAX_CONFIG_BYTES}`, { path });
    }
    return buf.toString('utf8', 0, length);
  } catch (e) {
    throw e instanceof PrivdropError ? e : readError(e);
  } finally {
    fs.closeSync(fd);
  }
}

/** Reads, trust-checks and parses one config file; the user may be missing (the command line can give it). */
function readConfigLayer(path: string): ConfigRead {
  if (typeof path !== 'string' || path === '') throw new TypeError('the config path must be a non-empty string');
  checkConfigTrust(path);
  const text = readConfigFile(path);
  debug('config: read %s (%d bytes)', path, Buffer.byteLength(text));
  return parseConfigText(text, path, false);
}

/** The most files one layered configuration may name. */
export const MAX_CONFIG_FILES = 16;

/**
 * Reads config files in order, each trust-checked and parsed whole before the next; a later
 * file's keys override an earlier one's, key by key (as ecelerity-cluster.conf's Security stanza
 * overrides ecelerity.conf's). The user may be missing (the command line can give it).
 */
export function readSecurityConfigs(paths: readonly string[]): ConfigRead {
  if (!Array.isArray(paths) || paths.length === 0) throw new TypeError('config files: give a path or a non-empty array of paths');
  if (paths.length > MAX_CONFIG_FILES) {
    throw new PrivdropError(ErrorCodes.INVALID_CONFIG, `${paths.length} config files; a layered configuration may have at most ${MAX_CONFIG_FILES}`);
  }
  const out: ConfigRead = { options: {}, origins: {}, notes: [], files: [] };
  for (const path of paths) {
    const layer = readConfigLayer(path);
    for (const [option, value] of Object.entries(layer.options) as [OptionName, unknown][]) {
      const earlier = out.origins[option];
      if (earlier) debug('config: %s from %s:%d overrides %s:%d', option, path, layer.origins[option]!.line, earlier.file, earlier.line);
      (out.options as Record<string, unknown>)[option] = value;
      out.origins[option] = layer.origins[option];
    }
    out.notes.push(...layer.notes);
    out.files.push(path);
  }
  return out;
}

/** Reads and parses a config file; the user may be missing (the command line can give it). */
export function readSecurityConfig(path: string): SecurityConfig {
  return readConfigLayer(path).options;
}

/**
 * Reads the options for dropPrivileges() from a JSON file or a file with a Momentum-style
 * `Security { }` stanza, or from several layered files (a later file's keys override an earlier
 * one's, key by key; each file is trust-checked). Throws PrivdropError ERR_PRIVDROP_UNSAFE_CONFIG
 * for a file others could write, ERR_PRIVDROP_INVALID_CONFIG naming the file, line and column of
 * any other problem (unknown key, key given twice, missing brace, bad value, "Privileges" alone).
 */
export function loadSecurityConfig(path: string): DropOptions;
export function loadSecurityConfig(paths: readonly string[]): DropOptions;
export function loadSecurityConfig(paths: string | readonly string[]): DropOptions {
  const list = typeof paths === 'string' ? [paths] : paths;
  const { options, files } = readSecurityConfigs(list);
  if (options.user === undefined) {
    const path = files[files.length - 1];
    throw new PrivdropError(ErrorCodes.INVALID_CONFIG, `${files.join(', ')}: no user given (dropPrivileges() needs one)`, { path });
  }
  return options as DropOptions;
}
