// The Kubernetes Pod Security Standards (kubernetes.io/docs/concepts/security/pod-security-standards)
// checked on a pod spec, and the small part of YAML our examples use, read without a YAML library
// (the project has no run-time dependencies and allows no YAML one for tests either).

export type Yaml = string | number | boolean | null | Yaml[] | { [key: string]: Yaml };

interface Line { indent: number; text: string; no: number }

function scalar(raw: string): Yaml {
  const s = raw.trim();
  if (s.startsWith('[') && s.endsWith(']')) return s.slice(1, -1).split(',').map((x) => x.trim()).filter(Boolean).map(scalar);
  if (/^(['"]).*\1$/.test(s)) return s.slice(1, -1);
  if (s === 'true' || s === 'false') return s === 'true';
  if (s === 'null' || s === '~' || s === '') return null;
  if (/^-?\d+$/.test(s)) return Number(s);
  if (/^[{|>&*!]/.test(s)) throw new Error(`YAML subset: flow maps, block scalars, anchors and tags are not supported: ${s}`);
  return s;
}

/**
 * Block mappings, block sequences (`- `), flow lists of scalars (`[A, B]`), plain, quoted, number
 * and boolean scalars, comments, and `---` between documents. Anything else throws.
 */
export function parseYamlDocuments(text: string): Yaml[] {
  return text.split(/^---\s*$/m).map((doc) => {
    const lines: Line[] = [];
    doc.split('\n').forEach((raw, no) => {
      const noComment = raw.replace(/(^|\s)#.*$/, '');
      if (noComment.trim() === '') return;
      if (/\t/.test(raw.slice(0, raw.length - raw.trimStart().length))) throw new Error(`YAML subset: tab indent on line ${no + 1}`);
      lines.push({ indent: raw.length - raw.trimStart().length, text: noComment.trim(), no: no + 1 });
    });
    let i = 0;
    const block = (indent: number): Yaml => {
      if (lines[i].text.startsWith('- ') || lines[i].text === '-') {
        const seq: Yaml[] = [];
        while (i < lines.length && lines[i].indent === indent && lines[i].text.startsWith('-')) {
          const rest = lines[i].text.slice(1).trimStart();
          if (rest === '') {
            i++;
            seq.push(block(lines[i].indent));
          } else if (/^[^\s'"[][^:]*:(\s|$)/.test(rest)) {
            // "- key: value": a mapping whose keys sit two columns further in.
            lines[i] = { ...lines[i], indent: indent + 2, text: rest };
            seq.push(block(indent + 2));
          } else {
            seq.push(scalar(rest));
            i++;
          }
        }
        return seq;
      }
      const map: { [key: string]: Yaml } = {};
      while (i < lines.length && lines[i].indent === indent && !lines[i].text.startsWith('- ')) {
        const m = /^([^:]+):(?:\s+(.*))?$/.exec(lines[i].text);
        if (!m) throw new Error(`YAML subset: not "key: value" on line ${lines[i].no}: ${lines[i].text}`);
        const key = m[1].trim();
        i++;
        if (m[2] !== undefined && m[2] !== '') map[key] = scalar(m[2]);
        else if (i < lines.length && (lines[i].indent > indent || (lines[i].indent === indent && lines[i].text.startsWith('-'))))
          map[key] = block(lines[i].indent);
        else map[key] = null;
      }
      if (i < lines.length && lines[i].indent > indent) throw new Error(`YAML subset: unexpected indent on line ${lines[i].no}`);
      return map;
    };
    if (lines.length === 0) return null;
    const out = block(lines[0].indent);
    if (i !== lines.length) throw new Error(`YAML subset: could not read line ${lines[i].no}: ${lines[i].text}`);
    return out;
  });
}

type Obj = { [key: string]: Yaml };
const obj = (v: Yaml | undefined): Obj => (v && typeof v === 'object' && !Array.isArray(v) ? v : {});
const arr = (v: Yaml | undefined): Yaml[] => (Array.isArray(v) ? v : []);

/** The capabilities the Baseline level lets a container add. */
export const BASELINE_CAPABILITIES = [
  'AUDIT_WRITE', 'CHOWN', 'DAC_OVERRIDE', 'FOWNER', 'FSETID', 'KILL', 'MKNOD', 'NET_BIND_SERVICE', 'SETFCAP', 'SETGID',
  'SETPCAP', 'SETUID', 'SYS_CHROOT',
];
const SAFE_SYSCTLS = [
  'kernel.shm_rmid_forced', 'net.ipv4.ip_local_port_range', 'net.ipv4.ip_unprivileged_port_start', 'net.ipv4.tcp_syncookies',
  'net.ipv4.ping_group_range', 'net.ipv4.ip_local_reserved_ports', 'net.ipv4.tcp_keepalive_time', 'net.ipv4.tcp_fin_timeout',
  'net.ipv4.tcp_keepalive_intvl', 'net.ipv4.tcp_keepalive_probes',
];
const RESTRICTED_VOLUMES = ['configMap', 'csi', 'downwardAPI', 'emptyDir', 'ephemeral', 'persistentVolumeClaim', 'projected', 'secret'];

/**
 * The controls of a Pod Security Standards level that a pod spec breaks, one line each (empty:
 * the pod meets the level). Container fields override the pod's securityContext where the
 * standard says so (runAsNonRoot, runAsUser, seccompProfile).
 */
export function podSecurityViolations(pod: Yaml, level: 'baseline' | 'restricted'): string[] {
  const spec = obj(obj(pod).spec);
  const podCtx = obj(spec.securityContext);
  const containers = [...arr(spec.containers), ...arr(spec.initContainers), ...arr(spec.ephemeralContainers)].map(obj);
  const out: string[] = [];
  // ---- Baseline ----
  for (const key of ['hostNetwork', 'hostPID', 'hostIPC']) if (spec[key] === true) out.push(`${key}: true`);
  if (obj(podCtx.windowsOptions).hostProcess === true) out.push('hostProcess');
  for (const v of arr(spec.volumes).map(obj)) if ('hostPath' in v) out.push(`hostPath volume ${v.name}`);
  for (const s of arr(podCtx.sysctls).map(obj)) if (!SAFE_SYSCTLS.includes(String(s.name))) out.push(`sysctl ${s.name}`);
  if (obj(podCtx.seccompProfile).type === 'Unconfined') out.push('seccompProfile Unconfined');
  if (obj(podCtx.appArmorProfile).type === 'Unconfined') out.push('appArmorProfile Unconfined');
  for (const c of containers) {
    const ctx = obj(c.securityContext);
    if (ctx.privileged === true) out.push(`${c.name}: privileged`);
    if (obj(ctx.windowsOptions).hostProcess === true) out.push(`${c.name}: hostProcess`);
    for (const p of arr(c.ports).map(obj)) if (p.hostPort !== undefined && p.hostPort !== 0) out.push(`${c.name}: hostPort ${p.hostPort}`);
    const add = arr(obj(ctx.capabilities).add).map(String);
    const beyond = add.filter((cap) => !BASELINE_CAPABILITIES.includes(cap));
    if (beyond.length) out.push(`${c.name}: capabilities.add ${beyond.join(', ')}`);
    if (ctx.procMount !== undefined && ctx.procMount !== 'Default') out.push(`${c.name}: procMount ${ctx.procMount}`);
    if (obj(ctx.seccompProfile).type === 'Unconfined') out.push(`${c.name}: seccompProfile Unconfined`);
    if (obj(ctx.appArmorProfile).type === 'Unconfined') out.push(`${c.name}: appArmorProfile Unconfined`);
    const se = obj(ctx.seLinuxOptions);
    if (se.type !== undefined && !['container_t', 'container_init_t', 'container_kvm_t', 'container_engine_t'].includes(String(se.type)))
      out.push(`${c.name}: seLinuxOptions.type ${se.type}`);
    if (se.user !== undefined || se.role !== undefined) out.push(`${c.name}: seLinuxOptions user/role`);
  }
  if (level === 'baseline') return out;
  // ---- Restricted ----
  for (const v of arr(spec.volumes).map(obj)) {
    const kind = Object.keys(v).find((k) => k !== 'name');
    if (kind && !RESTRICTED_VOLUMES.includes(kind)) out.push(`volume ${v.name}: ${kind}`);
  }
  for (const c of containers) {
    const ctx = obj(c.securityContext);
    if (ctx.allowPrivilegeEscalation !== false) out.push(`${c.name}: allowPrivilegeEscalation is not false`);
    const nonRoot = ctx.runAsNonRoot ?? podCtx.runAsNonRoot;
    if (nonRoot !== true) out.push(`${c.name}: runAsNonRoot is not true`);
    const uid = ctx.runAsUser ?? podCtx.runAsUser;
    if (uid === 0) out.push(`${c.name}: runAsUser 0`);
    const seccomp = obj(ctx.seccompProfile).type ?? obj(podCtx.seccompProfile).type;
    if (seccomp !== 'RuntimeDefault' && seccomp !== 'Localhost') out.push(`${c.name}: seccompProfile is not RuntimeDefault or Localhost`);
    const caps = obj(ctx.capabilities);
    if (!arr(caps.drop).map(String).includes('ALL')) out.push(`${c.name}: capabilities.drop lacks ALL`);
    const added = arr(caps.add).map(String).filter((cap) => cap !== 'NET_BIND_SERVICE');
    if (added.length) out.push(`${c.name}: capabilities.add ${added.join(', ')}`);
  }
  return out;
}
