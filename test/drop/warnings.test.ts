// Kept capabilities that give root back, and gid 0: a warning with a code and the reason
// (process.emitWarning, listed in the result, printed by the CLI), and a plain field saying
// whether root can be regained with what was kept.
import * as path from 'path';
import { describeAsRoot, repoRoot, runProcess } from '../helpers/child';
import { scenario } from '../helpers/drop';

const BIN = path.join(repoRoot, 'bin', 'privdrop.js');

describeAsRoot('root-equivalent capabilities and gid 0', () => {
  test('keeping cap_sys_admin and cap_dac_override with group 0: warned, listed, rootRegainable', () => {
    const r = scenario(`
      const warnings = [];
      process.on('warning', (w) => warnings.push({ code: w.code, message: w.message }));
      const result = privdrop.dropPrivileges({ user: 'nobody', group: 0, capabilities: ['cap_net_bind_service', 'cap_sys_admin', 'cap_dac_override'] });
      setImmediate(() => report({ result, warnings }));`);
    expect(r.status).toBe(0);
    const { result, warnings } = r.json;
    expect(result.rootRegainable).toBe(true);
    expect(result.regainRootChecked).toBe(false);
    const listed = result.warnings.map((w: { code: string; subject: string }) => `${w.code} ${w.subject}`).sort();
    expect(listed).toEqual(['PRIVDROP_ROOT_EQUIVALENT_CAPABILITY cap_dac_override', 'PRIVDROP_ROOT_EQUIVALENT_CAPABILITY cap_sys_admin', 'PRIVDROP_ROOT_GROUP 0']);
    for (const w of result.warnings) expect(w.message.length).toBeGreaterThan(20);
    expect(warnings.map((w: { code: string }) => w.code).sort()).toEqual(listed.map((s: string) => s.split(' ')[0]).sort());
    expect(warnings.find((w: { message: string }) => /cap_sys_admin/.test(w.message)).message).toMatch(/mount|namespace/);
  });

  test('cap_setuid alone: rootRegainable, and the regain check is not claimed', () => {
    const r = scenario(`report(privdrop.dropPrivileges({ user: 'nobody', capabilities: 'cap_setuid+ep' }));`);
    expect(r.json.rootRegainable).toBe(true);
    expect(r.json.regainRootChecked).toBe(false);
  });

  test('control: cap_net_bind_service alone is not root-equivalent', () => {
    const r = scenario(`
      let warned = 0; process.on('warning', () => warned++);
      const result = privdrop.dropPrivileges({ user: 'nobody', capabilities: ['cap_net_bind_service'] });
      setImmediate(() => report({ result, warned }));`);
    expect(r.json.result.rootRegainable).toBe(false);
    expect(r.json.result.regainRootChecked).toBe(true);
    expect(r.json.result.warnings).toEqual([]);
    expect(r.json.warned).toBe(0);
  });

  test('privdrop exec prints the warnings before COMMAND runs, and --dry-run shows them', () => {
    const r = runProcess(process.execPath, [BIN, 'exec', '--user', 'nobody', '--caps', 'cap_sys_module,cap_net_bind_service', '--', '/bin/true']);
    expect(r.status).toBe(0);
    expect(r.stderr).toMatch(/privdrop exec: warning: .*cap_sys_module.*kernel module/);
    expect(r.stderr).not.toMatch(/cap_net_bind_service/);
    const d = runProcess(process.execPath, [BIN, 'exec', '--dry-run', '--user', 'nobody', '--group', '0', '--caps', 'cap_chown', '--', '/bin/true']);
    expect(d.status).toBe(0);
    expect(d.stdout).toMatch(/root regain\s+yes \(cap_chown\)/);
    expect(d.stderr).toMatch(/warning: .*cap_chown/);
    expect(d.stderr).toMatch(/warning: .*group 0/);
  });
});
