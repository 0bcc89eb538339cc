// The README's demo (docs: README.md, Two commands), run the way the README runs it (with --once so that it ends).
import * as path from 'path';
import { describeAsRoot, repoRoot, runProcess } from '../helpers/child';

describeAsRoot('npm run demo', () => {
  test('drops to an unprivileged user keeping cap_net_bind_service permitted only, binds a privileged port with listen(), sheds the capability and serves its state', () => {
    const port = 600 + Math.floor(Math.random() * 90);
    const r = runProcess(process.execPath, [path.join(repoRoot, 'examples', 'demo.js'), '--once', '--port', String(port)]);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/dropped root to (www-data|nobody) \(uid \d+, gid \d+\), kept cap_net_bind_service=p \(permitted only\)/);
    expect(r.stdout).toContain(`then bound port ${port} with listen().`);
    expect(r.stdout).toMatch(/then setCapabilities\('='\) shed cap_net_bind_service=p on all \d+ threads \(verified\): capabilities now =/);
    expect(r.stdout).toMatch(/permitted\s+0x0000000000000000/); // the state printed after the shedding
    expect(r.stdout).toMatch(/threads\s+all \d+ agree/);
    expect(r.stdout).toContain(`GET http://localhost:${port}/ -> 200`);
    expect(r.stdout).toContain('page shows the dropped state');
  });
});
