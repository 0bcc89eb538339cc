// Security configuration files: JSON, or the Momentum mail server's `Security { ... }` stanza.
// Both read into the same DropOptions; every error names the file, line and column.
// keys.ts: the key table; source.ts: positions; stanza.ts and json.ts: the two formats.
import * as fs from 'fs';
import type { DropOptions } from '../drop';
import { debug } from '../debug';
import { ErrorCodes, PrivdropError } from '../errors';
import { BOUNDING_SET_VALUES, Id, isBoundingSet, isChrootPath, isValidName, toCapabilitySet } from '../drop/options';
import { JSON_KEYS, KeySpec, STANZA_KEYS } from './keys';
import { parseJson, jsonValue } from './json';
import { Located, Source } from './source';
import { parseStanza, stanzaValue } from './stanza';
import { checkConfigTrust, checkTrustedFile } from './trust';

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
  debug('config: parsed %s as %s: %s', path, json ? 'JSON' : 'a Security stanza', Object.keys(options).join(', ') || 'no keys');
  return options as SecurityConfig;
}

// stat() says 0 bytes for /dev/zero or a pipe (--config <(...)), which never end or end late:
// read no more than the limit, whatever the size said.
function readAtMost(path: string, limit: number): string {
  const fd = fs.openSync(path, 'r');
  try {
    // What was opened is what was checked (a swap between the walk and the open is caught here).
    checkTrustedFile(path, path, fs.fstatSync(fd));
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
  checkConfigTrust(path);
  try {
    const size = fs.statSync(path).size;
    if (size > MAX_CONFIG_BYTES) {
      throw new PrivdropError(ErrorCodes.INVALID_CONFIG, `${path}: ${size} bytes; a config file may be at most ${MAX_CONFIG_BYTES}`, { path });
    }
    text = readAtMost(path, MAX_CONFIG_BYTES);
    debug('config: read %s (%d bytes)', path, Buffer.byteLength(text));
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
