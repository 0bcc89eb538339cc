// Root's session keyring: a key in it that only a possessor may read (keyctl setperm
// 0x3f010000: possessor all, owner view only) must not be readable after the drop, from any
// thread or from anything the dropped process executes. Uses keyutils' keyctl.
import * as fs from 'fs';
import * as path from 'path';
import { describeAsRoot, distEntry, repoRoot, runProcess } from '../helpers/child';
import { KEYRING_ABORTS, KEYRING_REFUSED } from '../helpers/faults';

const BIN = path.join(repoRoot, 'bin', 'privdrop.js');
const KEYCTL = '/usr/bin/keyctl';
const NODE = process.execPath;
const haveKeyctl = fs.existsSync(KEYCTL);
const maybe = haveKeyctl
  ? describeAsRoot
  : (((name: string, fn: () => void) => describe.skip(`${name} [skipped: ${KEYCTL} missing; scripts/setup.sh installs keyutils]`, fn)) as unknown as jest.Describe);

/**
 * Runs `command` (a shell command line, with the key's serial in $KEY) inside a new root session
 * keyring that holds a possessor-only key whose payload is "s3cret".
 */
function inRootSession(command: string) {
  const script =
    `KEY=$(${KEYCTL} add user privdrop-test-secret s3cret @s) || exit 90; ${KEYCTL} setperm "$KEY" 0x3f010000 || exit 91; ` +
    `${KEYCTL} print "$KEY" >/dev/null || exit 92; export KEY; ${command}`;
  return runProcess(KEYCTL, ['session', '-', '/bin/sh', '-c', script], { timeoutMs: 30000 });
}

maybe('root session keyring after the drop', () => {
  test('control: root itself can read the key through its session keyring', () => {
    const r = inRootSession(`${KEYCTL} print "$KEY"`);
    expect(r.stdout).toContain('s3cret');
  });

  test('privdrop exec: the command cannot read root\'s session key', () => {
    const r = inRootSession(`${NODE} ${BIN} exec --user nobody -- ${KEYCTL} print "$KEY"; echo "status=$?"`);
    expect(r.stdout).not.toContain('s3cret');
    expect(r.stdout).toMatch(/status=[1-9]/);
  });

  // The second row is a setuid-root wrapper's process: real uid 1000, effective 0. The kernel makes
  // the new keyring the real uid's and checks each joining thread's fs uid (issue 16): it aborted.
  test.each([
    ['root', '', 0],
    ['real uid 1000, effective 0', '/usr/bin/setpriv --ruid 1000 -- ', 1000],
  ])('dropPrivileges() as %s: neither a child of the main thread nor a child of a Worker can read it', (_name, wrapper, owner) => {
    const code = `
      const privdrop = require(${JSON.stringify(distEntry)});
      const { execFileSync } = require('child_process');
      const { Worker } = require('worker_threads');
      const read = () => { try { return execFileSync(${JSON.stringify(KEYCTL)}, ['print', process.env.KEY], { stdio: ['ignore', 'pipe', 'ignore'] }).toString().trim(); } catch (e) { return 'refused'; } };
      const ring = () => execFileSync(${JSON.stringify(KEYCTL)}, ['rdescribe', '@s'], { stdio: ['ignore', 'pipe', 'ignore'] }).toString().trim();
      // A Worker started before the drop: its thread's credentials are changed by the drop too.
      const w = new Worker(\`
        const { parentPort } = require('worker_threads');
        const { execFileSync } = require('child_process');
        parentPort.on('message', () => {
          let out; try { out = execFileSync(${JSON.stringify(KEYCTL)}, ['print', process.env.KEY], { stdio: ['ignore', 'pipe', 'ignore'] }).toString().trim(); } catch (e) { out = 'refused'; }
          const ring = execFileSync(${JSON.stringify(KEYCTL)}, ['rdescribe', '@s'], { stdio: ['ignore', 'pipe', 'ignore'] }).toString().trim();
          parentPort.postMessage({ out, ring });
        });
        parentPort.postMessage('ready');\`, { eval: true });
      w.once('message', () => {
        const result = privdrop.dropPrivileges({ user: 'nobody' });
        const main = read();
        const mainRing = ring();
        w.once('message', (worker) => { console.log(JSON.stringify({ uid: result.uid, main, worker: worker.out, mainRing, workerRing: worker.ring })); process.exit(0); });
        w.postMessage('go');
      });`;
    const file = path.join(fs.mkdtempSync('/tmp/privdrop-keyring-'), 'drop.js');
    fs.chmodSync(path.dirname(file), 0o755);
    fs.writeFileSync(file, code);
    const r = inRootSession(`${wrapper}${NODE} ${file}`);
    fs.rmSync(path.dirname(file), { recursive: true, force: true });
    const line = r.stdout.trim().split('\n').pop() ?? '';
    const json = JSON.parse(line);
    expect(json.uid).toBe(65534);
    expect(json.main).toBe('refused');
    expect(json.worker).toBe('refused');
    // One new session keyring, the same on every thread (a child of each thread sees it), owned by
    // the real uid, which may only search it (to join it by name): no View, so no other process
    // of that uid sees its name in /proc/keys.
    expect(json.mainRing).toMatch(new RegExp(`^keyring;${owner};0;3f080000;privdrop:\\d+:[0-9a-f]{16}$`));
    expect(json.workerRing).toBe(json.mainRing);
  });
});

describeAsRoot('the keyring and chroot steps fail closed (fault-injection build)', () => {
  // eslint-disable-next-line @typescript-eslint/no-var-requires
  const { faultsBinding, runNode } = require('../helpers/child');
  // eslint-disable-next-line @typescript-eslint/no-var-requires
  const { prelude } = require('../helpers/drop');
  const withFault = (fault: string, body: string) =>
    runNode(`${prelude}\n${body}`, { binding: faultsBinding, env: { PRIVDROP_FAULT: fault } });
  const body = `
    const before = summary();
    const d = tryDrop({ user: 'nobody', capabilities: 'cap_net_bind_service+ep', chroot: '/' });
    process.stdout.write('CONTINUED\\n');
    report({ d, before, after: summary() });`;

  test(`${KEYRING_REFUSED}: a coded error, nothing changed`, () => {
    const r = withFault(KEYRING_REFUSED, body);
    expect(r.json.d).toMatchObject({ ok: false, code: 'ERR_PRIVDROP_SYSTEM', step: 'validate' });
    expect(r.json.after).toEqual(r.json.before);
  });

  test.each(KEYRING_ABORTS)('%s: abort, never back in JavaScript', (fault) => {
    const r = withFault(fault, body);
    expect(r.signal).toBe('SIGABRT');
    expect(r.stdout).not.toContain('CONTINUED');
    expect(r.stderr).toMatch(fault === 'fchdir' ? /step 'chroot'.*fchdir/ : /session-keyring/);
  });
});
