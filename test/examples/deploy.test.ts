// The deployment examples: the systemd units (examples/systemd), the Kubernetes pod spec
// (examples/kubernetes) and Docker's default capability set (the top-level Dockerfile). Each test
// reads the example file itself, starts the express example the way that deployment would -- the
// same ids, groups, capability sets and no_new_privs, made with setpriv(1) -- in its own network
// namespace, and checks every thread of the server in /proc.
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { describeAsRoot, repoRoot } from '../helpers/child';
import {
  CapName, DOCKER_DEFAULT_CAPS, examplesDir, fetchInside, procThreads, runToExit, startServer, stopServer, threadMismatches,
} from '../helpers/servers';
import { CAP, maskHex } from '../helpers/drop';

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

/** The [Service] settings of a unit file (the last value of a key wins, as in systemd). */
function readUnit(file: string): Record<string, string> {
  const out: Record<string, string> = {};
  let section = '';
  for (const raw of fs.readFileSync(file, 'utf8').split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#') || line.startsWith(';')) continue;
    const header = /^\[(.+)\]$/.exec(line);
    if (header) section = header[1];
    else if (section === 'Service') {
      const eq = line.indexOf('=');
      out[line.slice(0, eq)] = line.slice(eq + 1);
    }
  }
  return out;
}

/**
 * The setpriv command line that starts a process the way systemd would for this unit, the
 * environment it sets, and the script it runs (its /opt/privdrop-example path mapped to this checkout).
 */
function systemdStart(unit: Record<string, string>) {
  const wrapper = ['setpriv'];
  if (unit.User) wrapper.push(`--reuid=${unit.User}`, `--regid=${unit.Group ?? unit.User}`, '--init-groups');
  const ambient = (unit.AmbientCapabilities ?? '').split(/\s+/).filter(Boolean).map(capName);
  // systemd raises ambient capabilities into the inheritable set too (the kernel requires it).
  wrapper.push(`--inh-caps=${setprivCaps(ambient)}`);
  if (ambient.length) wrapper.push(`--ambient-caps=${setprivCaps(ambient)}`);
  if (unit.CapabilityBoundingSet) wrapper.push(`--bounding-set=${setprivCaps(unit.CapabilityBoundingSet.split(/\s+/).map(capName))}`);
  if (/^(yes|true|1|on)$/i.test(unit.NoNewPrivileges ?? '')) wrapper.push('--no-new-privs');
  const env: Record<string, string> = {};
  for (const m of (unit.Environment ?? '').matchAll(/(\w+)=(\S*)/g)) env[m[1]] = m[2];
  const [exe, script] = unit.ExecStart.split(/\s+/);
  expect(exe).toBe('/usr/bin/node');
  expect(script.startsWith('/opt/privdrop-example/')).toBe(true);
  return { wrapper, env, script: path.join(repoRoot, script.slice('/opt/privdrop-example/'.length)) };
}

/** The state a wrapper gives a process before privdrop runs (setpriv execs grep on its own status). */
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

async function expectServesDropped(wrapper: string[], env: Record<string, string> = {}, script = server) {
  const s = await startServer(script, [], { wrapper, env, ready: /listening on port 80 as www-data .*then shed it: = on \d+ threads/ });
  try {
    const threads = procThreads(s.pid);
    expect(threads.length).toBeGreaterThanOrEqual(5);
    expect(threadMismatches(threads, dropped)).toEqual([]);
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

describeAsRoot('examples/systemd', () => {
  test('privdrop-example.service: started as root with a four-capability bounding set, drops on every thread', async () => {
    const unit = readUnit(path.join(examplesDir, 'systemd', 'privdrop-example.service'));
    expect(unit.User).toBeUndefined();
    const { wrapper, env, script } = systemdStart(unit);
    const before = startedAs(wrapper);
    expect(before.Uid).toBe('0 0 0 0');
    expect(before.CapEff).toBe(maskHex(CAP.setuid, CAP.setgid, CAP.setpcap, CAP.net_bind_service));
    await expectServesDropped(wrapper, env, script);
  });

  test('privdrop-example-user.service: started as www-data with an ambient capability; privdrop clears ambient and inheritable', async () => {
    const unit = readUnit(path.join(examplesDir, 'systemd', 'privdrop-example-user.service'));
    expect(unit.User).toBe('www-data');
    const { wrapper, env, script } = systemdStart(unit);
    const before = startedAs(wrapper);
    expect(before.Uid).toBe(dropped.Uid);
    expect(before.CapAmb).toBe(BIND); // what the drop must clear: children would inherit it
    expect(before.CapInh).toBe(BIND);
    await expectServesDropped(wrapper, env, script);
  });

  test('the same unit without CapabilityBoundingSet=: the server refuses (cap_setpcap is needed to trim) and says why', () => {
    const unit = readUnit(path.join(examplesDir, 'systemd', 'privdrop-example-user.service'));
    delete unit.CapabilityBoundingSet;
    const { wrapper, env, script } = systemdStart(unit);
    const r = runToExit(script, [], { wrapper, env });
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/^express example: cannot drop privileges: ERR_PRIVDROP_NOT_PERMITTED: .*/);
    expect(r.stdout).toBe('');
  });
});

/** The capabilities of the pod spec's container, and whether it allows privilege escalation. */
function readPod(text: string): { add: CapName[]; drop: string[]; allowPrivilegeEscalation: boolean; runAsUser: number } {
  const list = (key: string) => {
    const m = new RegExp(`^\\s*${key}:\\s*\\[([^\\]]*)\\]`, 'm').exec(text);
    return m ? m[1].split(',').map((s) => s.trim()).filter(Boolean) : [];
  };
  return {
    add: list('add').map(capName),
    drop: list('drop'),
    allowPrivilegeEscalation: !/^\s*allowPrivilegeEscalation:\s*false/m.test(text),
    runAsUser: Number(/^\s*runAsUser:\s*(\d+)/m.exec(text)?.[1] ?? 0),
  };
}

/** A container's start as the runtime makes it for uid 0: bounding = the capabilities given, nothing inheritable. */
function containerStart(caps: CapName[], noNewPrivs: boolean): string[] {
  return ['setpriv', '--inh-caps=-all', `--bounding-set=${setprivCaps(caps)}`, ...(noNewPrivs ? ['--no-new-privs'] : [])];
}

describeAsRoot('examples/kubernetes', () => {
  const podFile = path.join(examplesDir, 'kubernetes', 'pod.yaml');

  test('pod.yaml: root with SETUID, SETGID, SETPCAP and NET_BIND_SERVICE, no privilege escalation: drops on every thread', async () => {
    const pod = readPod(fs.readFileSync(podFile, 'utf8'));
    expect(pod).toEqual({ add: ['setuid', 'setgid', 'setpcap', 'net_bind_service'], drop: ['ALL'], allowPrivilegeEscalation: false, runAsUser: 0 });
    const wrapper = containerStart(pod.add, !pod.allowPrivilegeEscalation);
    expect(startedAs(wrapper).CapEff).toBe(maskHex(...pod.add.map((n) => CAP[n])));
    await expectServesDropped(wrapper, { PRIVDROP_USER: 'www-data' });
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
  test('the runtime stage runs the express example, as root, from /app built in the build stage', () => {
    const dockerfile = fs.readFileSync(path.join(repoRoot, 'Dockerfile'), 'utf8');
    const runtime = dockerfile.slice(dockerfile.search(/^FROM \S+ AS runtime$/m));
    expect(dockerfile).toMatch(/^COPY examples\/express\/server\.js \.\/server\.js$/m);
    expect(runtime).toMatch(/^COPY --from=build \/app \/app$/m);
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
