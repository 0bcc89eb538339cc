// Process states whose real, effective and saved ids differ (issue 16): a setuid-root wrapper
// leaves real uid 1000 with effective and saved uid 0; `setpriv --euid` keeps the permitted set
// and empties the effective one. Each holds what a drop needs, so each must drop, every thread
// verified from outside (/proc/<pid>/task/*/status, test/helpers/drop-case.js runCase). Before the fix,
// a real uid other than the fs uid aborted in the transition (the session keyring belongs to the
// real uid, the other threads searched for it as their fs uid and each made its own), and an
// empty effective set was refused by the rehearsal's setgroups.
import { describeAsRoot } from '../helpers/child';

// eslint-disable-next-line @typescript-eslint/no-var-requires
const dropCase = require('../helpers/drop-case.js');

const SETPRIV = '/usr/bin/setpriv';
const none = { argv: [] };

type Ids = { name: string; argv: string[]; euid?: number; egid?: number };

const STATES: Ids[] = [
  { name: 'real uid 1000 (a setuid-root wrapper)', argv: [SETPRIV, '--ruid', '1000', '--'] },
  { name: 'real uid 65534', argv: [SETPRIV, '--ruid', '65534', '--'] },
  { name: 'real uid and gid 1000', argv: [SETPRIV, '--ruid', '1000', '--rgid', '1000', '--keep-groups', '--'] },
  { name: 'effective uid 1000, real 0 (effective set empty)', argv: [SETPRIV, '--euid', '1000', '--'] },
  { name: 'effective uid and gid 1000', argv: [SETPRIV, '--euid', '1000', '--egid', '1000', '--keep-groups', '--'] },
  { name: 'real 1000, effective 2000, saved 0', argv: [SETPRIV, '--ruid', '1000', '--'], euid: 2000 },
  { name: 'real 0, effective 65534, saved 0', argv: [], euid: 65534, egid: 65534 },
  { name: 'real 0, effective 0, saved 1000', argv: [SETPRIV, '--euid', '1000', '--'], euid: 0 },
  { name: 'real gid 1000, effective gid 3000, saved gid 0', argv: [SETPRIV, '--rgid', '1000', '--keep-groups', '--'], egid: 3000 },
];

const OPTIONS = [
  `{ user: 'nobody', capabilities: 'cap_net_bind_service+ep' }`,
  `{ user: 'nobody', group: 'nogroup', capabilities: 'cap_net_bind_service+ep', ambient: true, noNewPrivileges: true, lockSecurebits: true }`,
  `{ user: 1000, supplementaryGroups: 'clear', chroot: '/' }`,
];

describeAsRoot('real, effective and saved ids that differ: every such process drops', () => {
  test.each(STATES.map((s) => [s.name, s]))('%s', async (_name, ids) => {
    for (const options of OPTIONS) {
      const out = await dropCase.runCase({ options: new dropCase.Raw(options), wrapper: none, userns: null, ids });
      expect({ options, kind: out.kind, detail: out.detail ?? out.message }).toEqual({ options, kind: 'dropped', detail: undefined });
    }
  }, 60000);

  test('a process that holds no privilege (real and effective uid 1000) is still a coded error', async () => {
    const ids = { name: 'uid 1000', argv: [SETPRIV, '--reuid', '1000', '--'] };
    const out = await dropCase.runCase({ options: new dropCase.Raw(OPTIONS[0]), wrapper: none, userns: null, ids });
    expect(out).toMatchObject({ kind: 'coded', code: 'ERR_PRIVDROP_CAPABILITY_NOT_HELD' });
  });
});
