// Type tests, compiled (never run) by test/types.test.ts against the PUBLISHED types (dist/*.d.ts,
// through the package's "types"): every line without a directive must compile, every line after
// `@ts-expect-error` must NOT (tsc fails on a directive with nothing to expect). So a typo in a
// capability name, an option name or an enumerated value fails the build of a user's program.
import {
  CapabilityName, CapabilitySet, DropOptions, dropPrivileges, loadSecurityConfig, parseSecurityConfig, processState,
  processStateFromJSON, ProcessStateJSON, resolveDropOptions,
  listen, setCapabilities, withCapabilities,
} from '../..';
import * as http from 'http';

export function valid(): void {
  dropPrivileges({ user: 'www-data', capabilities: ['cap_net_bind_service'] });
  dropPrivileges({ user: 'www-data', capabilities: ['CAP_NET_BIND_SERVICE', '10'] }); // upper case, a number
  dropPrivileges({ user: 33, capabilities: 'cap_net_bind_service+ep' }); // libcap text stays a string
  dropPrivileges({ user: 'x', capabilities: CapabilitySet.from(['cap_chown', 'cap_kill'], 'ep') });

  // readonly arrays wherever arrays are accepted
  const groups = ['adm', 4] as const;
  dropPrivileges({ user: 'www-data', supplementaryGroups: groups });
  const frozen: readonly CapabilityName[] = Object.freeze(['cap_net_bind_service', 'cap_setuid'] as const);
  dropPrivileges({ user: 'www-data', capabilities: frozen });
  CapabilitySet.from(frozen).with(['cap_kill'] as const).without(groups.length ? ['cap_kill'] : []);

  // the escape hatch: a name newer than the types, checked against libcap at run time
  dropPrivileges({ user: 'x', capabilities: ['cap_something_new' as CapabilityName] });

  // config readers return what dropPrivileges() takes
  dropPrivileges(parseSecurityConfig('Security {\n user = www-data\n}\n'));
  dropPrivileges(loadSecurityConfig('/etc/myapp/security.conf'));
  // layered files: a later file's keys override an earlier one's (readonly arrays too)
  dropPrivileges(loadSecurityConfig(['/etc/ecelerity.conf', '/etc/ecelerity-cluster.conf']));
  dropPrivileges(loadSecurityConfig(['/etc/a.conf'] as const));
  const options: DropOptions = { ...parseSecurityConfig('{"user": "x"}'), noNewPrivileges: true };
  // the resolved plan names the bounding set as the option does
  const bounding: 'retained' | 'unchanged' = resolveDropOptions(options).boundingSet;
  void bounding;

  // @ts-expect-error a list of files is an array of paths, not several arguments
  loadSecurityConfig('/etc/a.conf', '/etc/b.conf');

  // JSON forms
  const json: ProcessStateJSON = JSON.parse(JSON.stringify(processState()));
  const hex: string = json.threads[0].capabilities.permitted.mask;
  const back: bigint = processStateFromJSON(json).threads[0].capabilities.permitted.mask;
  void hex;
  void back;
  const has: boolean = CapabilitySet.empty().has('cap_sys_admin', 'permitted');
  void has;
}

export function typos(): void {
  // @ts-expect-error a misspelt capability name
  dropPrivileges({ user: 'x', capabilities: ['cap_net_bind_servce'] });
  // @ts-expect-error a name without its cap_ prefix
  dropPrivileges({ user: 'x', capabilities: ['net_bind_service'] });
  // @ts-expect-error a misspelt name in CapabilitySet.from
  CapabilitySet.from(['cap_sys_admn']);
  // @ts-expect-error a misspelt name in has()
  CapabilitySet.empty().has('cap_setuidd');
  // @ts-expect-error a misspelt option name
  dropPrivileges({ user: 'x', capabilites: ['cap_kill'] });
  // @ts-expect-error a misspelt boundingSet value
  dropPrivileges({ user: 'x', boundingSet: 'retain' });
  // @ts-expect-error a misspelt supplementaryGroups form
  dropPrivileges({ user: 'x', supplementaryGroups: 'inti' });
  // @ts-expect-error the user is required
  dropPrivileges({ capabilities: ['cap_kill'] });
  // @ts-expect-error a JSON mask is a string, not a bigint
  const mask: bigint = (JSON.parse('{}') as ProcessStateJSON).threads[0].capabilities.effective.mask;
  void mask;
}

// Least privilege after start-up (issue 12): the same name checking, and the overloads of listen().
export async function runtime(): Promise<void> {
  setCapabilities('cap_net_bind_service+p');
  setCapabilities(['cap_net_bind_service'], { ambient: [] });
  const port: number = withCapabilities(['cap_net_bind_service'], () => 443);
  const server: http.Server = await listen(http.createServer(), { port, host: 'localhost' });
  void server;
  // @ts-expect-error a misspelt capability name in a window
  withCapabilities(['cap_net_bind_servce'], () => 0);
  // @ts-expect-error a misspelt listen option
  await listen(http.createServer(), { port: 80, hots: 'x' });
  // @ts-expect-error a misspelt ambient name
  setCapabilities('=', { ambient: ['cap_kil'] });
}
