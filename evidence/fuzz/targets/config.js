'use strict';
// parseSecurityConfig over stanzas and JSON built from their grammars, then mangled, and random text.
// What it accepts must resolve to a coded error or a valid plan, never a TypeError.
const fs = require('fs');
const os = require('os');
const path = require('path');
const fc = require('fast-check');
const { privdrop, readSecurityConfigs, OPTION_KEYS, STANZA_KEYS } = require('../dist');
const { anyCaseName, capText, anyString, anyValue, idArg, wholeConfigFile } = require('../generators');
const { classify, FuzzFailure, check, checkResolved } = require('../oracle');

const { PrivdropError, ErrorCodes, resolveDropOptions, parseSecurityConfig } = privdrop;

// Config text: Security stanzas and JSON built from the grammar, then mangled; random text.
const stanzaKey = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom(...STANZA_KEYS).chain((k) => fc.constantFrom(k, k.toUpperCase(), k[0].toUpperCase() + k.slice(1))) },
  { weight: 1, arbitrary: fc.constantFrom('privileges', 'Privileges', '__proto__', 'constructor', 'prototype', 'toString', 'hasOwnProperty', 'User1', '_', 'security') },
  { weight: 1, arbitrary: fc.string({ maxLength: 10 }) },
);
// A value as written in a stanza: bare when it can be, else quoted with \" and \\ escaped.
const bareOrQuoted = (arb) => fc.tuple(arb, fc.boolean()).map(([s, q]) => (/^[^\s#"{}=]+$/.test(s) && !q ? s : `"${s.replace(/[\\"]/g, (c) => '\\' + c)}"`));
const stanzaValue = fc.oneof(
  fc.constantFrom('nobody', 'root', '65534', '0', '-1', '4294967294', '4294967295', '4294967296', 'true', 'false', 'yes', 'no', 'on', 'off', '1', '0', 'maybe', 'init', 'clear', 'retained', 'unchanged', '/', '/tmp', 'relative', '""', '"adm, 4 ,nogroup"', '"a b"', '"\\"', '"\\x"', 'a,b', 'cap_net_bind_service+ep', '"cap_net_bind_service+ep cap_foo+p"'),
  bareOrQuoted(capText),
  bareOrQuoted(anyString.map((s) => s.slice(0, 300))),
  anyString,
);
const lineEnd = fc.constantFrom('\n', '\r\n', ' # comment\n', '\t\n', '', ' }', '\n\n', '\0\n', ' x\n');
const stanzaText = fc
  .record({
    head: fc.constantFrom('Security {\n', 'security{', 'SECURITY {\n', '\ufeffSecurity {\n', '# c\nSecurity\n{\n', 'Security\n', 'Secure {', '{', ''),
    lines: fc.array(fc.tuple(fc.constantFrom('', '  ', '\t'), stanzaKey, fc.constantFrom(' = ', '=', ' == ', ' : ', ' '), stanzaValue, lineEnd), { maxLength: 8 }),
    tail: fc.constantFrom('}\n', '}', '', '} extra', '}}', '} # done\n', '\n}\n\n'),
  })
  .map(({ head, lines, tail }) => head + lines.map((l) => l.join('')).join('') + tail);

const jsonKey = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom(...OPTION_KEYS) },
  { weight: 1, arbitrary: fc.constantFrom('__proto__', 'constructor', 'prototype', 'privileges', 'Privileges', 'User', 'capabilites', 'toString') },
  { weight: 1, arbitrary: fc.string({ maxLength: 10 }) },
);
const jsonLeaf = fc.oneof(
  fc.constantFrom('nobody', 'root', 'init', 'clear', 'retained', 'unchanged', '/', '/tmp', 'relative', 'cap_net_bind_service+ep', 'cap_foo', '', true, false, null, 0, -0, -1, 1.5, 65534, 4294967294, 4294967295, 4294967296, 1e400, 2 ** 53),
  capText,
  anyString.map((s) => s.slice(0, 200)),
  fc.double(),
  fc.integer(),
);
const jsonValue = fc.letrec((tie) => ({
  v: fc.oneof({ weight: 5, arbitrary: jsonLeaf }, { weight: 1, arbitrary: fc.array(tie('v'), { maxLength: 4 }) }, { weight: 1, arbitrary: fc.dictionary(jsonKey, tie('v'), { maxKeys: 2 }) }),
})).v;
const jsonObjectText = fc
  .array(fc.tuple(jsonKey, jsonValue), { maxLength: 8 })
  .map((entries) => '{' + entries.map(([k, v]) => `${JSON.stringify(k)}: ${JSON.stringify(v) ?? 'null'}`).join(', ') + '}');
// Mangle valid-looking text: cut it, or splice in a character that often breaks parsers.
const mangled = (text) =>
  fc.tuple(text, fc.nat(), fc.constantFrom('', '"', '\\', '{', '}', '[', ']', ',', ':', '=', '#', '\n', '\0', '\ud800', '\u2028', '\ufeff', 'u', '\\u12', '\\ud800')).map(([t, at, ins]) => {
    const i = at % (t.length + 1);
    return t.slice(0, i) + ins + t.slice(i + (ins === '' ? 1 : 0));
  });
const deepJson = fc.tuple(fc.integer({ min: 1, max: 20000 }), fc.constantFrom('[', '{"user":', '{"capabilities":[', '["'), fc.boolean()).map(([n, open, closed]) => {
  const close = open === '[' ? ']' : open === '{"user":' ? '}' : open === '["' ? '"]' : ']}';
  return open.repeat(n) + (closed ? (open === '{"user":' ? '"nobody"' : '') + close.repeat(n) : '');
});
// Well-formed files whose values are right or wrong for their key: reaches the value checks.
const STANZA_NAME = { user: 'user', group: 'group', supplementaryGroups: 'supplemental_groups', capabilities: 'capabilities', chroot: 'chroot', boundingSet: 'bounding_set', ambient: 'ambient', noNewPrivileges: 'no_new_privs', lockSecurebits: 'lock_securebits', keepTerminal: 'keep_terminal', keepDebugSignals: 'keep_debug_signals' };
for (const k of OPTION_KEYS) if (!STANZA_NAME[k]) throw new Error(`fuzz: no stanza spelling for option ${k}`);
const typedValues = { user: idArg, group: idArg, supplementaryGroups: fc.oneof(fc.constantFrom('init', 'clear'), fc.array(idArg, { maxLength: 3 })), capabilities: fc.oneof(capText, fc.array(anyCaseName, { maxLength: 3 })), chroot: fc.constantFrom('/', '/tmp', 'relative'), boundingSet: fc.constantFrom('retained', 'unchanged', 'x'), ambient: fc.boolean(), noNewPrivileges: fc.boolean(), lockSecurebits: fc.boolean(), keepTerminal: fc.oneof(fc.boolean(), fc.constantFrom('yes', 'off', 'maybe')), keepDebugSignals: fc.oneof(fc.boolean(), fc.constantFrom('yes', 'off', 'maybe')) };
for (const k of OPTION_KEYS) if (!typedValues[k]) throw new Error(`fuzz: no config value generator for option ${k}`);
const typedConfig = fc
  .tuple(fc.record(typedValues, { requiredKeys: [] }), fc.boolean())
  .map(([o, json]) => {
    const plain = (v) => (typeof v === 'number' || typeof v === 'string' || typeof v === 'boolean' || (Array.isArray(v) && v.every((x) => typeof x !== 'object' && typeof x !== 'symbol' && typeof x !== 'bigint')) ? v : typeof v === 'symbol' ? 'symbol' : typeof v === 'object' && v !== null ? 'obj' : String(v));
    if (json) return JSON.stringify(Object.fromEntries(Object.entries(o).map(([k, v]) => [k, plain(v)]))) ?? '{}';
    const str = (x) => (typeof x === 'symbol' ? String(x.description) : typeof x === 'object' && x !== null ? 'obj' : String(x));
    const q = (v) => `"${(Array.isArray(v) ? v.map(str).join(',') : str(v)).replace(/[\\"\n]/g, (c) => (c === '\n' ? ' ' : '\\' + c))}"`;
    return 'Security {\n' + Object.entries(o).map(([k, v]) => `  ${STANZA_NAME[k]} = ${q(v)}\n`).join('') + '}\n';
  });
// Stanzas that read: valid keys and values in any combination (the user left out at times).
const validStanza = fc
  .record({
    user: fc.constantFrom('nobody', 'www-data', '65534', '"daemon"'),
    group: fc.constantFrom('nogroup', '65534', '"www-data"'),
    Capabilities: fc.constantFrom('"cap_net_bind_service+ep"', '"="', 'cap_chown+p', '"cap_net_admin+ep cap_net_bind_service+ep cap_net_raw+ep cap_sys_resource+ep"'),
    Privileges: fc.constantFrom('"basic net_privaddr"', 'basic'),
    supplemental_groups: fc.constantFrom('init', 'clear', '""', '"adm,4"'),
    no_new_privs: fc.constantFrom('yes', 'no', 'true', '0'),
    bounding_set: fc.constantFrom('retained', 'unchanged'),
  }, { requiredKeys: [] })
  .filter((o) => !o.Privileges || o.Capabilities)
  .map((o) => 'Security {\n' + Object.entries(o).map(([k, v]) => `  ${k} = ${v}\n`).join('') + '}\n');
// A Security stanza (well-formed or not) inside a whole configuration file.
const stanzaOnly = fc.oneof({ weight: 3, arbitrary: validStanza }, { weight: 1, arbitrary: typedConfig.filter((t) => t.startsWith('Security')) }, { weight: 2, arbitrary: stanzaText });
const wholeFileText = wholeConfigFile(stanzaOnly).map(({ before, security, after }) => `${before}${security}\n${after}`);
const configTextArg = fc.oneof(
  { weight: 4, arbitrary: wholeFileText },
  { weight: 2, arbitrary: mangled(wholeFileText) },
  { weight: 8, arbitrary: typedConfig },
  { weight: 5, arbitrary: stanzaText },
  { weight: 3, arbitrary: mangled(stanzaText) },
  { weight: 5, arbitrary: jsonObjectText },
  { weight: 3, arbitrary: mangled(jsonObjectText) },
  { weight: 1, arbitrary: fc.oneof({ weight: 9, arbitrary: jsonObjectText }, { weight: 1, arbitrary: deepJson }) },
  { weight: 3, arbitrary: anyString },
  { weight: 1, arbitrary: fc.constantFrom('a'.repeat(1 << 20), 'Security {\n' + 'user = nobody\n'.repeat(2) + '}', '\n'.repeat(100000) + 'Security { user = nobody }', '{"user":"' + 'a'.repeat(1 << 20) + '"}') },
);
const configPathArg = fc.oneof(
  { weight: 8, arbitrary: fc.constantFrom(undefined, '<config>', 'security.conf', 'x.json', 'X.JSON', '', '/etc/myapp/security.conf', '__proto__', 'a\0b.json', '\ud800.json') },
  { weight: 1, arbitrary: anyString },
  { weight: 1, arbitrary: anyValue },
);

function checkConfig(result, text) {
  check(result !== null && typeof result === 'object' && Object.getPrototypeOf(result) === Object.prototype, 'config result is not a plain object');
  for (const k of Reflect.ownKeys(result)) check(OPTION_KEYS.includes(k), `config result has key ${String(k)}`);
  // What the reader accepted must be well-typed options: resolving them gives a coded error, never a TypeError/RangeError.
  if (result.user !== undefined) {
    let label;
    try {
      checkResolved(resolveDropOptions(result));
      label = 'ok';
    } catch (e) {
      if (e instanceof FuzzFailure) throw e;
      label = classify(e);
      check(e instanceof PrivdropError, `config ${JSON.stringify(text.slice(0, 200))} was accepted as ${JSON.stringify(result)}, then resolveDropOptions() threw ${e.name}: ${e.message}`);
    }
    return label;
  }
  return 'ok';
}

const configParse = {
  name: 'parseSecurityConfig',
  share: 0.2,
  arbitrary: fc.oneof({ weight: 20, arbitrary: fc.tuple(configTextArg, configPathArg) }, { weight: 1, arbitrary: fc.tuple(anyValue, configPathArg) }),
  run([text, file]) {
    let result;
    try {
      result = file === undefined ? parseSecurityConfig(text) : parseSecurityConfig(text, file);
    } catch (e) {
      if (e instanceof FuzzFailure) throw e;
      const label = classify(e);
      if (typeof text === 'string' && (file === undefined || typeof file === 'string')) {
        check(e instanceof PrivdropError, `string config gave ${e.name}: ${e.message}`);
        check(e.code === ErrorCodes.INVALID_CONFIG, `config error coded ${e.code}`);
        check(Number.isInteger(e.line) && e.line >= 1 && Number.isInteger(e.column) && e.column >= 1, `config error without line/column: ${e.message}`);
        check(e.path === (file === undefined ? '<config>' : file) || (file === '' && e.path === undefined), `config error path ${e.path}`);
      }
      return label;
    }
    return 'accepted+' + checkConfig(result, typeof text === 'string' ? text : '');
  },
};

const sameOutcome = (fn) => {
  try {
    return { ok: fn() };
  } catch (e) {
    if (e instanceof FuzzFailure) throw e;
    return { error: e };
  }
};

// The Security stanza read from a whole file is the stanza read alone; two in one file are an error.
const configWholeFile = {
  name: 'parseSecurityConfig whole files',
  share: 0.05,
  arbitrary: wholeConfigFile(stanzaOnly),
  run({ before, security, after }) {
    const s = security.replace(/^\ufeff/, '');
    const alone = sameOutcome(() => parseSecurityConfig(s, 'f.conf'));
    const whole = sameOutcome(() => parseSecurityConfig(`${before}${s}\n${after}`, 'f.conf'));
    if (whole.error) {
      check(whole.error instanceof PrivdropError && whole.error.code === ErrorCodes.INVALID_CONFIG, `whole file gave ${whole.error.name}: ${whole.error.message}`);
      check(Number.isInteger(whole.error.line) && Number.isInteger(whole.error.column), `whole-file error without a position: ${whole.error.message}`);
    }
    if (/^\s*[{["]/.test(s) || before !== '' && /^\s*$/.test(s)) return whole.error ? 'error' : 'ok';
    if (alone.ok) {
      check(whole.ok !== undefined, `the stanza alone reads, inside a whole file it fails: ${whole.error && whole.error.message}`);
      check(JSON.stringify(whole.ok) === JSON.stringify(alone.ok), `whole file read ${JSON.stringify(whole.ok)}, the stanza alone ${JSON.stringify(alone.ok)}`);
      const twice = sameOutcome(() => parseSecurityConfig(`${before}${s}\n${s}\n${after}`, 'f.conf'));
      check(twice.error && /a second Security stanza \(the first is at line \d+, column \d+\)/.test(twice.error.message), `two Security stanzas accepted: ${twice.error ? twice.error.message : JSON.stringify(twice.ok)}`);
      return 'same';
    }
    check(whole.error !== undefined, `the stanza alone fails (${alone.error.message}), inside a whole file it reads as ${JSON.stringify(whole.ok)}`);
    return 'both-fail';
  },
};

// Layered files: the list reads as the files one by one, a later one's keys over an earlier one's.
let layerDir;
const layerFile = (i, text) => {
  layerDir ??= fs.mkdtempSync(path.join(os.tmpdir(), 'privdrop-fuzz-layers-'));
  fs.chmodSync(layerDir, 0o755);
  const p = path.join(layerDir, `layer${i}.conf`);
  fs.writeFileSync(p, text);
  fs.chmodSync(p, 0o644);
  return p;
};
process.once('exit', () => layerDir && fs.rmSync(layerDir, { recursive: true, force: true }));
const configLayers = {
  name: 'loadSecurityConfig([files])',
  share: 0.02,
  arbitrary: fc.array(fc.oneof({ weight: 8, arbitrary: validStanza }, { weight: 4, arbitrary: wholeConfigFile(validStanza).map(({ before, security, after }) => `${before}${security}\n${after}`) }, { weight: 1, arbitrary: typedConfig }, { weight: 1, arbitrary: wholeFileText }, { weight: 1, arbitrary: stanzaText }), { minLength: 1, maxLength: 4 }),
  run(texts) {
    const files = texts.map((t, i) => layerFile(i, t));
    const singles = files.map((f) => sameOutcome(() => readSecurityConfigs([f]).options));
    const list = sameOutcome(() => privdrop.loadSecurityConfig(files));
    const firstError = singles.find((r) => r.error);
    if (firstError) {
      check(list.error !== undefined, 'a list with a bad file was accepted');
      check(list.error.message === firstError.error.message, `the list failed with ${list.error.message}, the first bad file alone with ${firstError.error.message}`);
      return 'file-error';
    }
    const merged = Object.assign({}, ...singles.map((r) => r.ok));
    if (merged.user === undefined) {
      check(list.error instanceof PrivdropError && /no user given/.test(list.error.message), `no user in any file, yet ${list.error ? list.error.message : 'accepted'}`);
      return 'no-user';
    }
    check(list.ok !== undefined, `every file reads, the list fails: ${list.error && list.error.message}`);
    check(JSON.stringify(list.ok) === JSON.stringify(merged), `the list read ${JSON.stringify(list.ok)}, the files merged key by key ${JSON.stringify(merged)}`);
    return `merged${files.length}`;
  },
};

module.exports = { configParse, configWholeFile, configLayers, validStanza, wholeFileText, layerFile };
