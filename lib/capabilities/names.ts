// The capability names privdrop's types know: Linux's capabilities 0-40 (cap_chown ...
// cap_checkpoint_restore, kernel 5.9), in bit order, as libcap spells them. The run time does not
// use this list (it asks libcap, which may know newer names); it exists so that TypeScript
// rejects a typo such as 'cap_net_bind_servce'. test/capabilities/names.test.ts checks it against
// this system's libcap.

export const KNOWN_CAPABILITY_NAMES = [
  'cap_chown', 'cap_dac_override', 'cap_dac_read_search', 'cap_fowner', 'cap_fsetid', 'cap_kill', 'cap_setgid',
  'cap_setuid', 'cap_setpcap', 'cap_linux_immutable', 'cap_net_bind_service', 'cap_net_broadcast', 'cap_net_admin',
  'cap_net_raw', 'cap_ipc_lock', 'cap_ipc_owner', 'cap_sys_module', 'cap_sys_rawio', 'cap_sys_chroot', 'cap_sys_ptrace',
  'cap_sys_pacct', 'cap_sys_admin', 'cap_sys_boot', 'cap_sys_nice', 'cap_sys_resource', 'cap_sys_time',
  'cap_sys_tty_config', 'cap_mknod', 'cap_lease', 'cap_audit_write', 'cap_audit_control', 'cap_setfcap',
  'cap_mac_override', 'cap_mac_admin', 'cap_syslog', 'cap_wake_alarm', 'cap_block_suspend', 'cap_audit_read',
  'cap_perfmon', 'cap_bpf', 'cap_checkpoint_restore',
] as const;

/** A capability name these types know, in libcap's lower case, e.g. 'cap_net_bind_service'. */
export type KnownCapabilityName = (typeof KNOWN_CAPABILITY_NAMES)[number];

/**
 * A capability name as the API accepts it in arrays: a known name in lower or upper case
 * ('cap_net_bind_service', 'CAP_NET_BIND_SERVICE'), or a capability number written in decimal
 * ('10'). Escape hatch for a name newer than these types (libcap on the machine knows it, the
 * types do not): write it as `'cap_new_thing' as CapabilityName`; it is checked at run time
 * against libcap like any other name.
 */
export type CapabilityName = KnownCapabilityName | Uppercase<KnownCapabilityName> | `${number}`;
