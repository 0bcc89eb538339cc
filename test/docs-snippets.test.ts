// Every fenced block in the README, CONTRIBUTING.md and docs/ is run or checked here:
// - js / mjs: run as a script (CommonJS / ES module) as root, in a network namespace of its own
//   (so it may bind ports 80 and 443), with `privdrop` resolving to this checkout; it must exit 0
//   (or still be serving when its timer ends it), print nothing on stderr, and leave every thread
//   agreeing in /proc;
// - console: each `$ privdrop ...` line is run and its output must be exactly the lines below it;
// - conf, json: a configuration file; parseSecurityConfig() must accept it;
// - text: output shown for reading, not code;
// - anything else (sh, ...) must be preceded by `<!-- not run: reason -->`, and is counted.
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { spawnSync } from 'child_process';
import { distEntry, isRoot, repoRoot } from './helpers/child';

interface Block { file: string; line: number; lang: string; code: string; notRun?: string }

const docFiles = ['README.md', 'CONTRIBUTING.md', ...fs.readdirSync(path.join(repoRoot, 'docs')).filter((f) => f.endsWith('.md')).map((f) => `docs/${f}`)];

function blocks(file: string): Block[] {
  const lines = fs.readFileSync(path.join(repoRoot, file), 'utf8').split('\n');
  const out: Block[] = [];
  for (let i = 0; i < lines.length; i++) {
    const open = /^```(\S*)\s*$/.exec(lines[i]);
    if (!open) continue;
    const start = i;
    const body: string[] = [];
    for (i++; i < lines.length && lines[i] !== '```'; i++) body.push(lines[i]);
    let j = start - 1;
    while (j >= 0 && lines[j].trim() === '') j--;
    const marker = j >= 0 ? /^<!-- not run: (.+) -->$/.exec(lines[j]) : null;
    out.push({ file, line: start + 1, lang: open[1], code: body.join('\n'), notRun: marker?.[1] });
  }
  return out;
}

const all = docFiles.flatMap(blocks);
const name = (b: Block) => `${b.file}:${b.line} (${b.lang || 'plain'})`;
const runnable = all.filter((b) => !b.notRun && (b.lang === 'js' || b.lang === 'mjs'));

let sandbox = '';
beforeAll(() => {
  sandbox = fs.mkdtempSync(path.join(os.tmpdir(), 'privdrop-snippets-'));
  fs.chmodSync(sandbox, 0o755);
  fs.mkdirSync(path.join(sandbox, 'node_modules'));
  fs.symlinkSync(repoRoot, path.join(sandbox, 'node_modules', 'privdrop'));
});
afterAll(() => fs.rmSync(sandbox, { recursive: true, force: true }));

test('every block is run, checked, output, or says why it is not run', () => {
  const unexplained = all.filter((b) => !b.notRun && !['js', 'mjs', 'console', 'conf', 'json', 'text'].includes(b.lang));
  expect(unexplained.map(name)).toEqual([]);
  expect(runnable.length).toBeGreaterThan(3);
});

test.each(all.filter((b) => !b.notRun && (b.lang === 'conf' || b.lang === 'json')).map((b) => [name(b), b] as const))(
  'config %s parses',
  (_n, b) => {
    const { parseSecurityConfig } = require(distEntry);
    expect(() => parseSecurityConfig(b.code, `${b.file}:${b.line}`)).not.toThrow();
  },
);

test.each(all.filter((b) => !b.notRun && b.lang === 'console').map((b) => [name(b), b] as const))(
  'transcript %s is what the command prints',
  (_n, b) => {
    const [command, ...expected] = b.code.split('\n');
    expect(command.startsWith('$ privdrop ')).toBe(true);
    const bin = path.join(repoRoot, 'bin', 'privdrop.js');
    const r = spawnSync('sh', ['-c', `privdrop() { "${process.execPath}" "${bin}" "$@"; }; ${command.slice(2)}`], { encoding: 'utf8' });
    expect((r.stdout + r.stderr).trimEnd().split('\n')).toEqual(expected);
  },
);

const rootTest = isRoot ? test.each : (rows: readonly (readonly [string, Block])[]) =>
  (title: string, fn: (n: string, b: Block) => void) =>
    test.skip(`${title.replace('%s', rows.map((r) => r[0]).join(', '))} [skipped: the snippets drop privileges and need root, running as uid ${process.getuid?.()}]`, () => undefined);

rootTest(runnable.map((b) => [name(b), b] as const))('snippet %s runs as root and leaves every thread agreeing', (_n, b) => {
  const file = path.join(sandbox, `snippet-${b.line}.${b.lang}`);
  fs.writeFileSync(file, b.code + '\n');
  const r = spawnSync('unshare', ['-n', 'sh', '-c', 'ip link set lo up && exec "$0" --require "$1" "$2"',
    process.execPath, path.join(repoRoot, 'test', 'fixtures', 'snippet-preload.js'), file], {
    cwd: sandbox,
    encoding: 'utf8',
    timeout: 30000,
    env: { ...process.env, PRIVDROP_SNIPPET_ENTRY: distEntry, NODE_OPTIONS: '' },
  });
  expect(r.stderr).toBe('');
  expect(r.status).toBe(0);
  const state = /SNIPPET-STATE (.*)/.exec(r.stdout);
  expect(state).not.toBeNull();
  expect(JSON.parse(state![1]).consistent).toBe(true);
});
