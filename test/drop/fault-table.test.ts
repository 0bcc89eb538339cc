// docs/design.md's fault table ("What happens when a step fails") is the one list of the drop's
// fault hooks. Here it is held to the code both ways: every name in it is a hook of the drop's
// native code (faults.h's wrappers, thread_ops.cc's step tables), every hook of that code is in
// it, and every name is run by a test (test/helpers/faults.ts holds the lists faults.test.ts and
// keyring.test.ts run). Before this check the table named hooks that did not exist
// (prctl:rehearse, keyctl:rehearse), and two rehearsal hooks were run by no test.
import * as fs from 'fs';
import * as path from 'path';
import { repoRoot } from '../helpers/child';
import { faultNamesRun } from '../helpers/faults';

const read = (file: string) => fs.readFileSync(path.join(repoRoot, file), 'utf8');

/** The fault names of the table, `@thread` taken off: ['open-task', 'rt_sigaction:rehearse', ...]. */
function tableNames(): string[] {
  const text = read('docs/design.md');
  const start = text.indexOf('| step | fault name |');
  expect(start).toBeGreaterThan(0);
  const rows = text.slice(start).split('\n').slice(2);
  const names: string[] = [];
  for (const row of rows) {
    if (!row.startsWith('|')) break;
    const cell = row.split('|')[2];
    for (const m of cell.matchAll(/`([a-z][^`]*)`/g)) names.push(m[1].replace(/@thread$/, '')); // not the "(each also `@thread`)" notes
  }
  return [...new Set(names)];
}

// The drop's native files; capset.cc and task_tail.cc hold setCapabilities()'s and the windows'
// hooks (setcaps-*, window-*), which test/runtime/ runs.
const DROP_FILES = ['drop.cc', 'thread_ops.cc', 'broadcast.cc', 'session.cc', 'status.cc'];
const PHASES = ['rehearse', 'transition', 'validate'];

/**
 * The hooks of the drop's native code: `exact`, names given as literals (a phase too, when it is
 * one: "capset:rehearse"); `phased`, names whose phase is a variable (the broadcast's calls, one
 * per broadcast), which match the name alone or with any phase.
 */
function nativeHooks(): { exact: Set<string>; phased: Set<string> } {
  const exact = new Set<string>();
  const phased = new Set<string>();
  for (const file of DROP_FILES) {
    const text = read(`native/${file}`);
    for (const m of text.matchAll(/\b(?:Injected|Hooked|HookedErrno|HookedOp|PretendSuccess|Prctl|Raw|RawCapset)\(\s*(Hook\(\s*)?"([a-z0-9_-]+)"(?:,\s*("?)([\w.>()-]+)\3)?/g)) {
      const [, isHook, name, quoted, phase] = m;
      if (isHook && phase && quoted) exact.add(`${name}:${phase}`);
      else if (isHook && phase) phased.add(name);
      else exact.add(name);
    }
    // Step tables: {"name", &Fn} (the transition) and {"name", "call", &Fn} (the rehearsal, run as name:rehearse).
    for (const m of text.matchAll(/\{\s*"([a-z0-9-]+)",\s*&\w+\s*\}/g)) exact.add(m[1]);
    for (const m of text.matchAll(/\{\s*"([a-z0-9-]+)",\s*"[^"]*",\s*&\w+\s*\}/g)) exact.add(`${m[1]}:rehearse`);
  }
  return { exact, phased };
}

const matches = (hooks: ReturnType<typeof nativeHooks>, name: string): boolean => {
  const [base, phase] = name.split(':');
  return hooks.exact.has(name) || (hooks.phased.has(base) && (phase === undefined || PHASES.includes(phase)));
};

test("every fault name in docs/design.md's table is a hook of the drop's native code", () => {
  const hooks = nativeHooks();
  expect(hooks.exact.size).toBeGreaterThan(30);
  expect(hooks.phased.size).toBeGreaterThan(3);
  expect(tableNames().filter((n) => !matches(hooks, n))).toEqual([]);
});

test("every hook of the drop's native code is in docs/design.md's table", () => {
  const listed = tableNames();
  const { exact, phased } = nativeHooks();
  const missing = [...[...exact].filter((h) => !listed.includes(h)), ...[...phased].filter((b) => !listed.some((n) => n.split(':')[0] === b))];
  expect(missing).toEqual([]);
});

test("every fault name in docs/design.md's table is run by test/drop/faults.test.ts or keyring.test.ts", () => {
  const tested = faultNamesRun();
  expect(tableNames().filter((n) => !tested.has(n))).toEqual([]);
});
