// The deployment examples: the systemd units (examples/systemd), the Kubernetes pod spec
// (examples/kubernetes) and Docker's default capability set (the top-level Dockerfile). Each test
// reads the example file itself, starts the express example the way that deployment would -- the
// same ids, groups, capability sets and no_new_privs, made with setpriv(1); for the units also
// their system call filter (a real seccomp filter made from `systemd-analyze syscall-filter`,
// test/helpers/seccomp.ts), a read-only tree and a hidepid /proc -- in its own network namespace,
// and checks every thread of the server in /proc. The units' exposure ratings come from
// `systemd-analyze security --offline=true`.
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import * as os from 'os';
import { describeAsRoot, isRoot, repoRoot, runNode } from '../helpers/child';
import {
  CapName, DOCKER_DEFAULT_CAPS, examplesDir, fetchInside, procThreads, runToExit, startServer, stopServer, threadMismatches,
} from '../helpers/servers';
import { CAP, maskHex } from '../helpers/drop';
import { threadStatuses } from '../helpers/proc-status';
import { parseYamlDocuments, podSecurityViolations } from '../helpers/pod-security';
import {
  allowedSyscalls, buildSeccompExec, DOCKER_DEFAULT_SECCOMP, dockerDefaultCalls, filterAction, noSystemdAnalyze, SeccompExec, syscallGroups,
} from '../helpers/seccomp';

const ZERO = maskHex();
const BIND = maskHex(CAP.net_bind_service);
const server = path.join(examplesDir, 'express', 'server.js');

function account(user: string): { uid: string; gid: string; groups: string } {
  const id = (flag: string) => spawnSync('id', [flag, user], { encoding: 'utf8' }).stdout.trim();
  return { uid: id('-u'), gid: id('-g'), groups: id('-G').split(/\s+/).map(Number).sort((a, b) => a - b).join(' ') };
}
const www = account('www-data');
const dropped = {
  Uid: `${www.uid} ${www.uid} ${www.uid} ${www.uid}`,
  Gid: `${www.gid} ${www.gid} ${www.gid} ${www.gid}`,
  Groups: www.groups,
  CapInh: ZERO,
  CapPrm: ZERO, // permitted only at the drop, raised for the bind by listen(), then shed: none left
  CapEff: ZERO,
  CapBnd: BIND,
  CapAmb: ZERO,
  NoNewPrivs: '1',
};

/** CAP_NET_BIND_SERVICE / NET_BIND_SERVICE -> net_bind_service, checked against the names the tests know. */
function capName(word: string): CapName {
  const name = word.toLowerCase().replace(/^cap_/, '');
  if (!(name in CAP)) throw new Error(`capability ${word} is not in the tests' table`);
  return name as CapName;
}
const setprivCaps = (names: CapName[]) => ['-all', ...names.map((n) => `+${n}`)].join(',');

/** The [Service] settings of a unit file, every line of each key in order (systemd adds up some, e.g. SystemCallFilter=). */
function readUnitLines(file: string): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  let section = '';
  for (const raw of fs.readFileSync(file, 'utf8').split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#') || line.startsWith(';')) continue;
    const header = /^\[(.+)\]$/.exec(line);
    if (header) section = header[1];
    else if (section === 'Service') {
      const eq = line.indexOf('=');
      (out[line.slice(0, eq)] ??= []).push(line.slice(eq + 1));
    }
  }
  return out;
}

/** The [Service] settings of a unit file (the last value of a key wins, as in systemd). */
function readUnit(file: string): Record<string, string> {
  return Object.fromEntries(Object.entries(readUnitLines(file)).map(([k, v]) => [k, v[v.length - 1]]));
}

/** What a unit's file-system settings make of the tree, imitated in a new mount namespace. */
function mountSandbox(unit: Record<string, string>): string[] {
  const steps: string[] = [];
  // ProtectSystem=strict: everything read-only (systemd then re-opens what ReadWritePaths= names).
  if (unit.ProtectSystem === 'strict') steps.push('mount -o remount,bind,ro /');
  // ProtectProc=invisible: a procfs of its own with hidepid=invisible (other users' processes hidden).
  if (unit.ProtectProc) steps.push(`mount -t proc -o hidepid=${unit.ProtectProc} proc /proc`);
  return steps.length ? ['unshare', '-m', '--propagation', 'private', 'sh', '-c', `${steps.join(' && ')} && exec "$@"`, 'sh'] : [];
}

/**
 * The command line that starts a process the way systemd would for this unit -- its mount
 * settings, then setpriv for the ids, capability sets and no_new_privs, then its system call
 * filter (applied last, as systemd does) -- the environment it sets, and the script it runs (its
 * /opt/privdrop-example path mapped to this checkout). `filter` overrides the unit's
 * SystemCallFilter= lines and `action` its SystemCallErrorNumber=.
 */
function systemdStart(file: string, change: { filter?: string[]; action?: string; drop?: string[] } = {}) {
  const lines = readUnitLines(file);
  for (const key of change.drop ?? []) delete lines[key];
  const unit = Object.fromEntries(Object.entries(lines).map(([k, v]) => [k, v[v.length - 1]]));
  const wrapper = [...mountSandbox(unit), 'setpriv'];
  if (unit.User) wrapper.push(`--reuid=${unit.User}`, `--regid=${unit.Group ?? unit.User}`, '--init-groups');
  const ambient = (unit.AmbientCapabilities ?? '').split(/\s+/).filter(Boolean).map(capName);
  // systemd raises ambient capabilities into the inheritable set too (the kernel requires it).
  wrapper.push(`--inh-caps=${setprivCaps(ambient)}`);
  if (ambient.length) wrapper.push(`--ambient-caps=${setprivCaps(ambient)}`);
  if (unit.CapabilityBoundingSet) wrapper.push(`--bounding-set=${setprivCaps(unit.CapabilityBoundingSet.split(/\s+/).map(capName))}`);
  if (/^(yes|true|1|on)$/i.test(unit.NoNewPrivileges ?? '')) wrapper.push('--no-new-privs');
  const filter = change.filter ?? lines.SystemCallFilter;
  if (filter) wrapper.push(...filtered().wrapper(allowedSyscalls(filter, filtered().groups), change.action ?? filterAction(unit.SystemCallErrorNumber)));
  const env: Record<string, string> = {};
  for (const m of (unit.Environment ?? '').matchAll(/(\w+)=(\S*)/g)) env[m[1]] = m[2];
  const [exe, script] = unit.ExecStart.split(/\s+/);
  expect(exe).toBe('/usr/bin/node');
  expect(script.startsWith('/opt/privdrop-example/')).toBe(true);
  return { unit, lines, wrapper, env, script: path.join(repoRoot, script.slice('/opt/privdrop-example/'.length)) };
}

/** The state a wrapper gives a process before privdrop runs (the wrapper execs cat on its own status). */
function startedAs(wrapper: string[]): Record<string, string> {
  const r = spawnSync(wrapper[0], [...wrapper.slice(1), 'cat', '/proc/self/status'], { encoding: 'utf8' });
  expect(r.stderr).toBe('');
  const out: Record<string, string> = {};
  for (const line of r.stdout.split('\n')) {
    const m = /^(\w+):\s*(.*)$/.exec(line);
    if (m) out[m[1]] = m[2].trim().replace(/\s+/g, ' ');
  }
  return out;
}

async function expectServesDropped(wrapper: string[], env: Record<string, string> = {}, script = server, seccomp = '0') {
  const s = await startServer(script, [], { wrapper, env, ready: /listening on port 80 as www-data .*then shed it: = on \d+ threads/ });
  try {
    const threads = procThreads(s.pid);
    expect(threads.length).toBeGreaterThanOrEqual(5);
    expect(threadMismatches(threads, dropped)).toEqual([]);
    // Seccomp 2: every thread runs under the filter (a new thread inherits it).
    expect(threadStatuses(s.pid).filter((t) => t.fields.Seccomp !== seccomp).map((t) => `${t.tid}: Seccomp ${t.fields.Seccomp}`)).toEqual([]);
    expect(fetchInside(s.pid, 'http://127.0.0.1/')).toEqual({
      status: 200,
      body: `hello from uid ${www.uid} (www-data), pid ${s.pid}\n`,
    });
    expect(JSON.parse(fetchInside(s.pid, 'http://127.0.0.1/state').body).consistent).toBe(true);
  } finally {
    expect(await stopServer(s)).toBe(0);
  }
  expect(s.output().stderr).toBe('');
}

const unitFile = (name: string) => path.join(examplesDir, 'systemd', name);
const UNITS = ['privdrop-example.service', 'privdrop-example-user.service'];

/** systemd-analyze security's verdict on a unit file: the exposure figure and its word. */
function exposure(file: string): { score: string; level: string } {
  const r = spawnSync('systemd-analyze', ['security', '--offline=true', '--no-pager', file], { encoding: 'utf8' });
  expect(r.stderr).toBe(''); // no unknown or misspelled setting, which systemd would ignore
  const m = /Overall exposure level for \S+: (\d+\.\d) (\w+)/.exec(r.stdout);
  if (!m) throw new Error(`no exposure level in:\n${r.stdout}\n${r.stderr}`);
  return { score: m[1], level: m[2] };
}

/** The settings a unit had before its sandboxing (issue 21): the exposure figure "before". */
const PLAIN_KEYS = ['ExecStart', 'Environment', 'User', 'Group', 'AmbientCapabilities', 'CapabilityBoundingSet', 'NoNewPrivileges', 'Restart'];

const describeSystemd: jest.Describe = noSystemdAnalyze
  ? (((name: string, fn: () => void) => describe.skip(`${name} [skipped: ${noSystemdAnalyze}]`, fn)) as unknown as jest.Describe)
  : describe;
const describeSystemdAsRoot: jest.Describe = isRoot ? describeSystemd : describeAsRoot;

describeSystemd('examples/systemd: systemd-analyze security --offline=true', () => {
  test.each(UNITS)('%s: exposure at most 3.0 ("OK"), the figure its comment gives', (name) => {
    const text = fs.readFileSync(unitFile(name), 'utf8');
    const { score, level } = exposure(unitFile(name));
    expect(Number(score)).toBeLessThanOrEqual(3.0);
    expect(level).toBe('OK');
    expect(text).toContain(`rates it ${score} ${level}`);
    // V8 compiles into writable+executable memory: node dies under MemoryDenyWriteExecute=yes.
    expect(readUnitLines(unitFile(name)).MemoryDenyWriteExecute).toBeUndefined();
    expect(text).toMatch(/^#\s+MemoryDenyWriteExecute=yes\s+V8 /m);
  });

  test.each(UNITS)('%s: without its sandboxing it rates as its comment says it did before; docs/deployment.md gives both figures', (name) => {
    const plain = Object.entries(readUnitLines(unitFile(name)))
      .filter(([key]) => PLAIN_KEYS.includes(key))
      .flatMap(([key, values]) => values.map((v) => `${key}=${v}`));
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'privdrop-unit-'));
    try {
      fs.writeFileSync(path.join(dir, name), `[Unit]\nDescription=before\n\n[Service]\n${plain.join('\n')}\n`);
      const { score, level } = exposure(path.join(dir, name));
      expect(fs.readFileSync(unitFile(name), 'utf8')).toContain(`without the sandboxing below: ${score} ${level}`);
      expect(Number(score)).toBeGreaterThan(3.0);
      const after = exposure(unitFile(name));
      const docs = fs.readFileSync(path.join(repoRoot, 'docs', 'deployment.md'), 'utf8');
      expect(docs).toContain(`| \`${name}\` | ${score} ${level} | ${after.score} ${after.level} |`);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

let seccompExec: (SeccompExec & { groups: Map<string, string[]> }) | undefined;
/** The groups and the compiled seccomp-exec, made once per file. */
function filtered(): SeccompExec & { groups: Map<string, string[]> } {
  if (!seccompExec) {
    const groups = syscallGroups();
    seccompExec = { ...buildSeccompExec(groups), groups };
  }
  return seccompExec;
}
afterAll(() => seccompExec && fs.rmSync(seccompExec.dir, { recursive: true, force: true }));

/** A child that reports its state, tries the express example's drop, and reports the error and its state again. */
const tryDrop = `
const before = privdrop.processState();
let error = null, result = null;
try {
  result = privdrop.dropPrivileges({ user: 'www-data', capabilities: 'cap_net_bind_service+p', noNewPrivileges: true });
} catch (e) { error = { code: e.code, step: e.step, syscall: e.syscall, errno: e.errno, message: e.message }; }
report({ before, error, result, after: privdrop.processState() });
`;

describeSystemdAsRoot('examples/systemd: started as systemd would, under the unit\'s own system call filter', () => {
  test('privdrop-example.service: root with a four-capability bounding set, read-only tree, @system-service filter: drops on every thread', async () => {
    const { unit, wrapper, env, script } = systemdStart(unitFile('privdrop-example.service'));
    expect(unit.User).toBeUndefined();
    expect(wrapper).toContain('errno:1'); // SystemCallErrorNumber=EPERM
    const before = startedAs(wrapper);
    expect(before.Uid).toBe('0 0 0 0');
    expect(before.CapEff).toBe(maskHex(CAP.setuid, CAP.setgid, CAP.setpcap, CAP.net_bind_service));
    expect(before.Seccomp).toBe('2');
    await expectServesDropped(wrapper, env, script, '2');
  });

  test('privdrop-example-user.service: www-data with an ambient capability, under its filter; privdrop clears ambient and inheritable', async () => {
    const { unit, wrapper, env, script } = systemdStart(unitFile('privdrop-example-user.service'));
    expect(unit.User).toBe('www-data');
    const before = startedAs(wrapper);
    expect(before.Uid).toBe(dropped.Uid);
    expect(before.CapAmb).toBe(BIND); // what the drop must clear: children would inherit it
    expect(before.CapInh).toBe(BIND);
    expect(before.Seccomp).toBe('2');
    await expectServesDropped(wrapper, env, script, '2');
  });

  test.each(UNITS)('%s with a filter that kills instead of EPERM: still serves, so no call outside the list is ever made', async (name) => {
    const { wrapper, env, script } = systemdStart(unitFile(name), { action: 'kill' });
    await expectServesDropped(wrapper, env, script, '2');
  });

  test.each([
    ['~@setuid', 'setgroups'],
    ['~keyctl', 'keyctl'], // add_key and request_key still allowed: the keyring stays reachable, so it must be left
    ['~capset', 'capset'],
  ])('the unit\'s filter plus SystemCallFilter=%s: the rehearsal refuses (ERR_PRIVDROP_NOT_PERMITTED, %s) and nothing changed', (extra, call) => {
    const file = unitFile('privdrop-example.service');
    const { wrapper } = systemdStart(file, { filter: [...readUnitLines(file).SystemCallFilter, extra] });
    const r = runNode(tryDrop, { wrapper });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const { before, error, after } = r.json;
    expect(error).toMatchObject({ code: 'ERR_PRIVDROP_NOT_PERMITTED', step: 'rehearse', syscall: call, errno: os.constants.errno.EPERM });
    expect(error.message).toMatch(new RegExp(`may not make ${call}\\b.*a seccomp filter or a security module refuses it.*nothing was changed`));
    expect(after).toEqual(before);
    expect(before.consistent).toBe(true);
    expect(before.threads.length).toBeGreaterThanOrEqual(5);
  });

  test('the unit\'s filter plus SystemCallFilter=~@keyring: no thread can make a key call, so there is no keyring to leave; it drops on every thread', () => {
    const file = unitFile('privdrop-example.service');
    const { wrapper } = systemdStart(file, { filter: [...readUnitLines(file).SystemCallFilter, '~@keyring'] });
    const r = runNode(tryDrop, { wrapper });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const { error, result, after } = r.json;
    expect(error).toBeNull();
    expect(result.sessionKeyring).toBe('unreachable');
    expect(after.consistent).toBe(true);
    expect(after.threads.every((t: { uid: { real: number } }) => t.uid.real === 33)).toBe(true);
  });

  test('the same missing @setuid under systemd\'s default action (kill): the process dies by SIGSYS in the rehearsal, before any change', () => {
    const file = unitFile('privdrop-example.service');
    const { wrapper } = systemdStart(file, { filter: [...readUnitLines(file).SystemCallFilter, '~@setuid'], action: 'kill' });
    const r = runNode(tryDrop, { wrapper });
    expect(r.signal).toBe('SIGSYS');
    expect(r.stdout).toBe(''); // no report: the drop never returned
  });

  test('the same unit without CapabilityBoundingSet=: the server refuses (cap_setpcap is needed to trim) and says why', () => {
    const { wrapper, env, script } = systemdStart(unitFile('privdrop-example-user.service'), { drop: ['CapabilityBoundingSet'] });
    const r = runToExit(script, [], { wrapper, env });
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/^express example: cannot drop privileges: ERR_PRIVDROP_NOT_PERMITTED: .*/);
    expect(r.stdout).toBe('');
  });
});

/** A container's start as the runtime makes it for uid 0: bounding = the capabilities given, nothing inheritable. */
function containerStart(caps: CapName[], noNewPrivs: boolean, readOnlyRoot = false): string[] {
  return [
    ...(readOnlyRoot ? ['unshare', '-m', '--propagation', 'private', 'sh', '-c', 'mount -o remount,bind,ro / && exec "$@"', 'sh'] : []),
    'setpriv', '--inh-caps=-all', `--bounding-set=${setprivCaps(caps)}`, ...(noNewPrivs ? ['--no-new-privs'] : []),
  ];
}

const podFile = path.join(examplesDir, 'kubernetes', 'pod.yaml');
type Obj = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
/** The Namespace and the Pod of pod.yaml. */
function readPodFile(): { namespace: Obj; pod: Obj; server: Obj } {
  const [namespace, pod] = parseYamlDocuments(fs.readFileSync(podFile, 'utf8')) as Obj[];
  expect([namespace.kind, pod.kind]).toEqual(['Namespace', 'Pod']);
  return { namespace, pod, server: pod.spec.containers[0].securityContext };
}

describe('examples/kubernetes: Pod Security Standards', () => {
  test('pod.yaml meets baseline; restricted refuses only running as root and adding SETUID, SETGID, SETPCAP', () => {
    const { namespace, pod, server } = readPodFile();
    expect(podSecurityViolations(pod, 'baseline')).toEqual([]);
    expect(podSecurityViolations(pod, 'restricted')).toEqual([
      'server: runAsNonRoot is not true',
      'server: runAsUser 0',
      'server: capabilities.add SETUID, SETGID, SETPCAP',
    ]);
    expect(namespace.metadata.labels).toEqual({
      'pod-security.kubernetes.io/enforce': 'baseline',
      'pod-security.kubernetes.io/warn': 'restricted',
      'pod-security.kubernetes.io/audit': 'restricted',
    });
    expect(pod.metadata.namespace).toBe(namespace.metadata.name);
    // What restricted asks beyond baseline, and the pod gives where a root start allows it.
    expect(server).toMatchObject({ allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, seccompProfile: { type: 'RuntimeDefault' } });
    expect(server.capabilities.drop).toEqual(['ALL']);
    expect(pod.spec.automountServiceAccountToken).toBe(false);
  });

  test.each([
    ['privileged: true', (c: Obj) => (c.privileged = true), 'server: privileged'],
    ['add SYS_ADMIN', (c: Obj) => c.capabilities.add.push('SYS_ADMIN'), 'server: capabilities.add SYS_ADMIN'],
    ['seccompProfile Unconfined', (c: Obj) => (c.seccompProfile.type = 'Unconfined'), 'server: seccompProfile Unconfined'],
  ])('the checker is not blind: %s breaks baseline', (_n, change, violation) => {
    const { pod, server } = readPodFile();
    change(server);
    expect(podSecurityViolations(pod, 'baseline')).toEqual([violation]);
  });

  test('the way without root (docs/deployment.md) meets restricted', () => {
    const { pod, server } = readPodFile();
    Object.assign(server, { runAsUser: 33, runAsNonRoot: true });
    server.capabilities.add = ['NET_BIND_SERVICE'];
    expect(podSecurityViolations(pod, 'restricted')).toEqual([]);
  });
});

describeAsRoot('examples/kubernetes: the pod started as the runtime would', () => {
  const pod = () => {
    const { server } = readPodFile();
    return {
      add: (server.capabilities.add as string[]).map(capName),
      wrapper: (seccomp: string[] = []) =>
        [...containerStart((server.capabilities.add as string[]).map(capName), server.allowPrivilegeEscalation === false, server.readOnlyRootFilesystem === true), ...seccomp],
    };
  };

  test('pod.yaml: root with SETUID, SETGID, SETPCAP and NET_BIND_SERVICE, no privilege escalation, read-only root: drops on every thread', async () => {
    const { add, wrapper } = pod();
    expect(add).toEqual(['setuid', 'setgid', 'setpcap', 'net_bind_service']);
    expect(startedAs(wrapper()).CapEff).toBe(maskHex(...add.map((n) => CAP[n])));
    await expectServesDropped(wrapper(), { PRIVDROP_USER: 'www-data' });
  });

  describeSystemd('under a filter like RuntimeDefault (Docker\'s default profile)', () => {
    test('the profile refuses keyctl, add_key and request_key whole: no thread can reach a key, so the drop has no keyring to leave; it drops on every thread and serves', async () => {
      const wrapper = pod().wrapper(filtered().wrapper(dockerDefaultCalls(), `errno:${DOCKER_DEFAULT_SECCOMP.errno}`));
      const r = runNode(tryDrop, { wrapper });
      expect(r.stderr).toBe('');
      expect(r.json.error).toBeNull();
      expect(r.json.result.sessionKeyring).toBe('unreachable');
      expect(r.json.after.consistent).toBe(true);
      await expectServesDropped(wrapper, { PRIVDROP_USER: 'www-data' }, server, '2');
    });

    test('the same profile with keyctl alone allowed (add_key and request_key still refused): the keyring is reachable, so every thread joins a new one', () => {
      const r = runNode(tryDrop, { wrapper: pod().wrapper(filtered().wrapper(dockerDefaultCalls(['keyctl']), `errno:${DOCKER_DEFAULT_SECCOMP.errno}`)) });
      expect(r.stderr).toBe('');
      expect(r.json.error).toBeNull();
      expect(r.json.result.sessionKeyring).toBe('replaced');
    });
  });

  test.each([
    ['drop: [ALL] with nothing added', [] as CapName[], /ERR_PRIVDROP_CAPABILITY_NOT_HELD: .*cap_net_bind_service/],
    ['add: [NET_BIND_SERVICE] only', ['net_bind_service'] as CapName[], /ERR_PRIVDROP_NOT_PERMITTED: .*cap_setuid.*cap_setgid/],
    ['without SETPCAP', ['setuid', 'setgid', 'net_bind_service'] as CapName[], /ERR_PRIVDROP_NOT_PERMITTED: .*cap_setpcap/],
  ])('%s: the server exits 1 with the error pod.yaml names and never binds', (_name, caps, error) => {
    expect(fs.readFileSync(podFile, 'utf8')).toContain(/ERR_PRIVDROP_\w+/.exec(error.source)![0]);
    const r = runToExit(server, [], { wrapper: containerStart(caps, true) });
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(new RegExp(`^express example: cannot drop privileges: ${error.source}`));
    expect(r.stdout).not.toMatch(/listening/);
  });
});

describeAsRoot('Docker (the top-level Dockerfile)', () => {
  test('the runtime stage runs the express example, as root, from /app installed (prebuilt binary, no compiler) in the install stage', () => {
    const dockerfile = fs.readFileSync(path.join(repoRoot, 'Dockerfile'), 'utf8');
    const stage = (name: string) => {
      const from = dockerfile.slice(dockerfile.search(new RegExp(`^FROM \\S+ AS ${name}$`, 'm')));
      const next = from.slice(1).search(/^FROM /m);
      return next < 0 ? from : from.slice(0, next + 1);
    };
    const install = stage('install');
    const runtime = stage('runtime');
    expect(install).toMatch(/^FROM \$\{RUNTIME_IMAGE\} AS install$/m); // the slim image, as the runtime
    expect(install).toMatch(/^COPY examples\/express\/server\.js \.\/server\.js$/m);
    expect(install).toMatch(/npm install --omit=dev .*\/tmp\/privdrop\.tgz/);
    expect(install).toMatch(/test ! -e node_modules\/privdrop\/build/); // nothing compiled
    expect(install).not.toMatch(/apt-get|libcap-dev/); // no toolchain installed to install privdrop
    expect(runtime).toMatch(/^FROM \$\{RUNTIME_IMAGE\} AS runtime$/m);
    expect(runtime).toMatch(/^COPY --from=install \/app \/app$/m);
    expect(runtime).toMatch(/^CMD \["node", "server\.js"\]$/m);
    expect(runtime).not.toMatch(/^USER /m); // it must start as root to drop
    expect(runtime).not.toMatch(/apt-get|g\+\+/); // nothing installed: no compiler in the runtime image
  });

  test("with Docker's default capability set, the server drops to www-data on every thread and binds port 80", async () => {
    const wrapper = containerStart(DOCKER_DEFAULT_CAPS, false);
    expect(startedAs(wrapper).CapBnd).toBe(maskHex(...DOCKER_DEFAULT_CAPS.map((n) => CAP[n])));
    await expectServesDropped(wrapper, { PRIVDROP_USER: 'www-data' });
  });
});
