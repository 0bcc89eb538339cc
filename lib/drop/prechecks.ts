// Checks that need the system's state, run while resolving options (so also by
// resolveDropOptions() and `privdrop exec --dry-run`): each one catches an input that would
// otherwise pass validation and then fail at an irreversible step of the drop (an abort).
import fs = require('fs');
import { binding } from '../addon/binding';
import { ErrorCodes, errnoName, invalidArgument, PrivdropError } from '../errors';

/** What the checks need to know about the plan. */
export interface PrecheckPlan {
  uid: number;
  gid: number;
  groups: number[];
  chroot: string;
  /** Kept effective capabilities, by name. */
  effective: readonly string[];
  /** Kept permitted and inheritable sets as masks, and whether the ambient set is raised (inheritable then includes permitted). */
  masks: { permitted: bigint; inheritable: bigint };
  ambient: boolean;
  lockSecurebits: boolean;
}

function readProc(file: string): string | null {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return null;
  }
}

/** /proc/sys/kernel/ngroups_max (65536 on Linux since 2.6.4). */
export function ngroupsMax(): number {
  const v = Number(readProc('/proc/sys/kernel/ngroups_max'));
  return Number.isInteger(v) && v > 0 ? v : 65536;
}

/** [inside, outside, count] extents of a uid_map or gid_map; null if there is no such file. */
export function readIdMap(file: string): [number, number, number][] | null {
  const text = readProc(file);
  if (text === null) return null;
  const out: [number, number, number][] = [];
  for (const line of text.split('\n')) {
    const f = line.trim().split(/\s+/).map(Number);
    if (f.length === 3 && f.every(Number.isInteger)) out.push([f[0], f[1], f[2]]);
  }
  return out;
}

const mapped = (map: [number, number, number][], id: number) => map.some(([inside, , count]) => id >= inside && id - inside < count);

const invalid = (message: string, path?: string) => invalidArgument(message, { step: 'validate', path });

/** More groups than the kernel takes: setgroups() would fail with EINVAL after the drop began. */
export function checkGroupCount(groups: readonly number[]): void {
  const max = ngroupsMax();
  if (groups.length > max) {
    throw invalid(`${groups.length} supplementary groups is more than the kernel accepts (/proc/sys/kernel/ngroups_max is ${max})`);
  }
}

/**
 * In a user namespace (containers, rootless runtimes) the target uid, gid and every group must be
 * mapped, or setresuid()/setresgid()/setgroups() fail with EINVAL; and setgroups() fails with
 * EPERM when /proc/self/setgroups says "deny".
 */
export function checkUserNamespace(plan: Pick<PrecheckPlan, 'uid' | 'gid' | 'groups'>, currentGroups: readonly number[]): void {
  const uidMap = readIdMap('/proc/self/uid_map');
  if (uidMap && !mapped(uidMap, plan.uid)) {
    throw invalid(`uid ${plan.uid} is not mapped in this user namespace (/proc/self/uid_map: ${describeMap(uidMap)}), so the process cannot become it`, '/proc/self/uid_map');
  }
  const gidMap = readIdMap('/proc/self/gid_map');
  if (gidMap) {
    const unmapped = [plan.gid, ...plan.groups].filter((g) => !mapped(gidMap, g));
    if (unmapped.length) {
      const what = unmapped[0] === plan.gid ? `gid ${plan.gid}` : `supplementary group ${unmapped[0]}`;
      throw invalid(`${what} is not mapped in this user namespace (/proc/self/gid_map: ${describeMap(gidMap)})`, '/proc/self/gid_map');
    }
  }
  const setgroups = readProc('/proc/self/setgroups');
  if (setgroups !== null && setgroups.trim() === 'deny') {
    const same = plan.groups.length === currentGroups.length && plan.groups.every((g, i) => g === currentGroups[i]);
    if (!same) {
      throw new PrivdropError(
        ErrorCodes.NOT_PERMITTED,
        `setgroups is denied in this user namespace (/proc/self/setgroups: deny), so the supplementary groups cannot become ` +
          `[${plan.groups.join(', ')}]; keep the current ones ([${currentGroups.join(', ')}]${currentGroups.length ? '' : ": supplementaryGroups: 'clear'"})`,
        { step: 'validate', path: '/proc/self/setgroups', errno: 1, syscall: 'setgroups' },
      );
    }
  }
}

function describeMap(map: [number, number, number][]): string {
  if (map.length === 0) return 'empty';
  return map.map(([i, o, c]) => (c === 1 ? `${i}->${o}` : `${i}-${i + c - 1}->${o}-${o + c - 1}`)).join(', ');
}

const CAN_SEARCH_ANY = ['cap_dac_override', 'cap_dac_read_search'];

/**
 * The chroot directory: this process must be able to search it when chroot() runs (root without
 * cap_dac_override and cap_dac_read_search often cannot), and so must the target user afterwards
 * (or the process ends up in a root directory it cannot enter).
 */
export function checkChroot(plan: PrecheckPlan): void {
  if (!plan.chroot) return;
  const dir = plan.chroot;
  const access = binding().searchAccess(dir);
  // A missing directory (ENOENT, ENOTDIR) is reported by the drop's and the CLI's own checks.
  if (access.errno !== 0 && !(access.syscall === 'open' && (access.errno === 2 || access.errno === 20))) {
    const why =
      access.syscall === 'faccessat'
        ? `this process cannot search it (${errnoName(access.errno)}), and chroot() needs to${statText(dir)}: root without cap_dac_override and cap_dac_read_search has only the owner/group/other bits`
        : `${errnoName(access.errno)} opening it${access.errno === 13 ? ': a directory on the way cannot be searched by this process' : ''}`;
    throw new PrivdropError(ErrorCodes.INVALID_CHROOT, `the chroot directory ${dir} cannot be used: ${why}`, {
      step: 'validate',
      path: dir,
      errno: access.errno,
      syscall: access.syscall,
    });
  }
  if (plan.effective.some((c) => CAN_SEARCH_ANY.includes(c))) return;
  let st: fs.Stats;
  try {
    st = fs.statSync(dir);
  } catch {
    return; // the native check opened it a moment ago; the drop re-checks
  }
  const bit = st.uid === plan.uid ? 0o100 : st.gid === plan.gid || plan.groups.includes(st.gid) ? 0o010 : 0o001;
  if ((st.mode & bit) === 0) {
    throw new PrivdropError(
      ErrorCodes.INVALID_CHROOT,
      `the chroot directory ${dir} cannot be searched by uid ${plan.uid} (gid ${plan.gid})${statText(dir)}: ` +
        'after the drop the process could not enter its own root directory (make it searchable, or keep cap_dac_read_search)',
      { step: 'validate', path: dir, errno: 13 },
    );
  }
}

function statText(file: string): string {
  try {
    const st = fs.statSync(file);
    return ` (owner ${st.uid}, group ${st.gid}, mode 0${(st.mode & 0o7777).toString(8).padStart(3, '0')})`;
  } catch {
    return '';
  }
}

const SECBIT_NO_SETUID_FIXUP = 1 << 2;

/**
 * Inheritable capabilities with nothing kept in permitted: the uid change clears permitted (no
 * keep-caps is needed when nothing is kept), and capset() may then only set inheritable bits the
 * thread already has, so the final step of the drop would fail with EPERM. Found by the real-drop
 * property test ('cap_net_bind_service+i' with boundingSet 'unchanged').
 */
export function checkInheritable(plan: PrecheckPlan, status: string): void {
  const inheritable = plan.masks.inheritable | (plan.ambient ? plan.masks.permitted : 0n);
  if (plan.masks.permitted !== 0n || inheritable === 0n) return;
  const uids = /^Uid:[ \t]*(.*)$/m.exec(status)?.[1].trim().split(/\s+/).map(Number) ?? [];
  if (uids.length === 4 && uids.every((u) => u === plan.uid)) return; // no uid change
  const native = binding();
  if (plan.lockSecurebits || (native.getSecurebits() & SECBIT_NO_SETUID_FIXUP) !== 0) return; // permitted survives
  const extra = inheritable & ~native.capGetProc().inheritable;
  if (extra === 0n) return;
  const names: string[] = [];
  for (let i = 0n; i < 64n; i++) if (extra & (1n << i)) names.push(native.capName(Number(i)));
  throw new PrivdropError(
    ErrorCodes.INVALID_CAPABILITIES,
    `inheritable capabilities with nothing kept in permitted cannot be set after the uid change (${names.join(', ')}): ` +
      'keep them in permitted too (+ip), or keep none',
    { step: 'validate' },
  );
}

/** Every check above, for a resolved plan. */
export function precheck(plan: PrecheckPlan): void {
  checkGroupCount(plan.groups);
  // The kernel's list, as the drop compares it (process.getgroups() adds the effective gid).
  const status = readProc('/proc/self/status') ?? '';
  const line = /^Groups:[ \t]*(.*)$/m.exec(status);
  const current = (line ? line[1].trim().split(/\s+/).filter(Boolean).map(Number) : []).sort((a, b) => a - b);
  checkUserNamespace(plan, [...new Set(current)]);
  checkChroot(plan);
  checkInheritable(plan, status);
}
