// Kept capabilities (and a target group 0) with which a process can make itself root again.
// A drop that keeps one is allowed (a program may really need it) but never silent: the result
// lists a warning with the reason for each, process.emitWarning() reports it, the CLI prints it,
// and `rootRegainable` says plainly that root can be regained.

/** One reason why what was kept is, or comes close to, root. */
export interface DropWarning {
  /** 'PRIVDROP_ROOT_EQUIVALENT_CAPABILITY', 'PRIVDROP_ROOT_GROUP' or 'PRIVDROP_SHARED_USER' (lib/signal-doors.ts). */
  code: string;
  /** The capability name, or the group id or uid as text. */
  subject: string;
  message: string;
}

/**
 * Why the user may not be root, whatever capabilities are kept (the Momentum mail server's own
 * warning about `user = root` with Capabilities, in a sentence).
 */
export const ROOT_USER_REASON =
  'root owns most files on the system (its configuration, programs and other services\' data), so a process that is still ' +
  'uid 0 can change them whatever capabilities it keeps: capabilities alone do not contain root. Name an unprivileged ' +
  'user (e.g. www-data, or a user made for the service) and keep only the capabilities it needs';

export const WARNING_CODES = {
  ROOT_EQUIVALENT_CAPABILITY: 'PRIVDROP_ROOT_EQUIVALENT_CAPABILITY',
  ROOT_GROUP: 'PRIVDROP_ROOT_GROUP',
  SHARED_USER: 'PRIVDROP_SHARED_USER',
} as const;

/** Each capability that gives root back, with how. */
export const ROOT_EQUIVALENT_CAPABILITIES: Readonly<Record<string, string>> = Object.freeze({
  cap_setuid: 'it can set its uid to 0 directly (setuid(0))',
  cap_setgid: 'it can join any group, e.g. shadow or disk, and read or write what they guard',
  cap_sys_admin: 'it can mount file systems over /etc or /usr, create namespaces, and much more: it is nearly root',
  cap_sys_module: 'it can load a kernel module, i.e. run any code in the kernel',
  cap_sys_ptrace: "it can ptrace any process, including root's, and inject code into it",
  cap_sys_rawio: 'it can read and write raw devices and I/O ports (disks, /dev/mem)',
  cap_dac_override: 'it can write any file regardless of permissions (/etc/passwd, /etc/shadow, crontabs)',
  cap_dac_read_search: 'it can read any file (/etc/shadow, private keys) and open files by handle outside its root',
  cap_chown: 'it can make any file its own (chown /etc/passwd) and then rewrite it',
  cap_fowner: 'it can change the mode of any file (chmod /etc/shadow) and then rewrite it',
  cap_setfcap: 'it can give a program it controls file capabilities, e.g. cap_setuid, and run it',
  cap_setpcap: 'it can raise inheritable capabilities from the bounding set and pass them to a program it runs',
  cap_mknod: 'it can create device nodes for the disks and memory and open them',
  cap_bpf: 'it can load BPF programs that read kernel memory or tamper with other processes',
  cap_sys_boot: 'it can load and boot a new kernel (kexec_load)',
  cap_sys_chroot: 'it can chroot into a tree it controls and run a set-user-ID root program there with its own libraries',
});

/** The warnings for a plan: kept permitted capabilities by name, the gid and supplementary groups. */
export function rootEquivalence(permitted: readonly string[], gid: number, groups: readonly number[]): { warnings: DropWarning[]; rootRegainable: boolean } {
  const warnings: DropWarning[] = [];
  for (const name of permitted) {
    const how = Object.prototype.hasOwnProperty.call(ROOT_EQUIVALENT_CAPABILITIES, name) ? ROOT_EQUIVALENT_CAPABILITIES[name] : undefined;
    if (how) {
      warnings.push({
        code: WARNING_CODES.ROOT_EQUIVALENT_CAPABILITY,
        subject: name,
        message: `keeping ${name} gives root back: ${how}`,
      });
    }
  }
  const rootRegainable = warnings.length > 0;
  if (gid === 0 || groups.includes(0)) {
    warnings.push({
      code: WARNING_CODES.ROOT_GROUP,
      subject: '0',
      message: `${gid === 0 ? 'the target gid is' : 'the supplementary groups include'} group 0 (root): the process can read and write every file and device that root's group may`,
    });
  }
  return { warnings, rootRegainable };
}
