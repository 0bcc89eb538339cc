// A systemd unit's SystemCallFilter= applied for real outside systemd: the groups come from
// `systemd-analyze syscall-filter` (the list systemd itself uses), the filter is resolved with
// systemd's rules, and test/helpers/seccomp-exec.c (compiled here with cc) installs it before it
// execs the command.
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

/** Why the systemd tests cannot run here, or null when systemd-analyze is installed. */
export const noSystemdAnalyze: string | null =
  spawnSync('systemd-analyze', ['--version'], { encoding: 'utf8' }).status === 0
    ? null
    : 'systemd-analyze is not installed (scripts/setup.sh installs the systemd package)';

/** Every group `systemd-analyze syscall-filter` knows, with its members (names and nested @groups). */
export function syscallGroups(): Map<string, string[]> {
  const r = spawnSync('systemd-analyze', ['syscall-filter', '--no-pager'], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`systemd-analyze syscall-filter failed: ${r.stderr}`);
  const groups = new Map<string, string[]>();
  let current: string[] | null = null;
  for (const raw of r.stdout.split('\n')) {
    const line = raw.trim();
    if (/^@[\w-]+$/.test(raw)) groups.set(line, (current = []));
    else if (line === '' || line.startsWith('#')) continue;
    else if (current) current.push(line);
  }
  if (!groups.has('@system-service') || !groups.has('@default')) throw new Error('systemd-analyze syscall-filter: no @system-service or @default');
  return groups;
}

function expand(name: string, groups: Map<string, string[]>, out: Set<string> = new Set()): Set<string> {
  if (!name.startsWith('@')) return out.add(name);
  const members = groups.get(name);
  if (!members) throw new Error(`unknown system call group ${name}`);
  for (const m of members) expand(m, groups, out);
  return out;
}

/**
 * The system calls a unit's SystemCallFilter= lines allow, by systemd's rules: a first line
 * without `~` makes an allow list that starts from @default; later lines without `~` add to it,
 * lines with `~` take away. (A deny-list filter is not needed by these tests and is refused.)
 */
export function allowedSyscalls(lines: string[], groups: Map<string, string[]>): Set<string> {
  if (lines.length === 0 || lines[0].startsWith('~')) throw new Error(`not an allow-list SystemCallFilter=: ${lines.join(' | ')}`);
  const allowed = expand('@default', groups);
  for (const line of lines) {
    const deny = line.startsWith('~');
    for (const word of line.replace(/^~/, '').split(/\s+/).filter(Boolean)) {
      for (const call of expand(word, groups)) {
        if (deny) allowed.delete(call);
        else allowed.add(call);
      }
    }
  }
  return allowed;
}

export interface SeccompExec {
  /**
   * The wrapper that runs a command under a filter allowing `calls` (a name, or "name N": that
   * call fails with errno N); `action` is 'kill' or 'errno:N' for every other call.
   */
  wrapper(calls: Iterable<string>, action: string): string[];
  dir: string;
}

/**
 * Compiles seccomp-exec with a name -> number table for every call systemd knows (@known), taken
 * from the kernel headers; names this architecture lacks are left out, as systemd does.
 */
export function buildSeccompExec(groups: Map<string, string[]>): SeccompExec {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'privdrop-seccomp-'));
  fs.chmodSync(dir, 0o755); // a unit's User= runs it too
  const names = [...new Set([...expand('@known', groups), ...DOCKER_DEFAULT_SECCOMP.allow])].filter((n) => /^\w+$/.test(n)).sort();
  fs.writeFileSync(
    path.join(dir, 'syscall-names.h'),
    names.map((n) => `#ifdef __NR_${n}\n  {"${n}", __NR_${n}},\n#endif\n`).join(''),
  );
  const exe = path.join(dir, 'seccomp-exec');
  const cc = spawnSync(process.env.CC || 'cc', ['-O2', '-Wall', '-Werror', '-I', dir, '-o', exe, path.join(__dirname, 'seccomp-exec.c')], {
    encoding: 'utf8',
  });
  if (cc.status !== 0) throw new Error(`cc seccomp-exec.c failed: ${cc.stderr}`);
  let count = 0;
  return {
    dir,
    wrapper(calls, action) {
      const file = path.join(dir, `allowed-${++count}.txt`);
      fs.writeFileSync(file, [...calls].sort().join('\n') + '\n', { mode: 0o644 });
      return [exe, action, file];
    },
  };
}

/** The seccomp-exec action for a unit's SystemCallErrorNumber= (systemd kills the process without one). */
export function filterAction(errorNumber: string | undefined): string {
  if (!errorNumber) return 'kill';
  const n = os.constants.errno[errorNumber as keyof typeof os.constants.errno];
  if (n === undefined) throw new Error(`SystemCallErrorNumber=${errorNumber} is not an errno name`);
  return `errno:${n}`;
}

/**
 * An approximation of the container runtimes' default seccomp profile (Kubernetes'
 * `seccompProfile: RuntimeDefault`; Docker's default): moby profiles/seccomp/default.json, read
 * for x86-64 and a container without CAP_SYS_ADMIN and the other capabilities its conditional
 * rules name. Every other call fails with EPERM (its defaultErrnoRet). Its argument conditions
 * are widened to the whole call (clone without namespace flags, personality with a few values,
 * socket but AF_VSOCK), so this filter allows a little more than the real one, never less.
 * Not in it, among others: keyctl, add_key, request_key (the kernel keyring is not namespaced),
 * mount, unshare, setns, ptrace, bpf.
 */
export const DOCKER_DEFAULT_SECCOMP = {
  errno: os.constants.errno.EPERM,
  /** Calls that fail with an errno of their own: glibc falls back to clone when clone3 gives ENOSYS. */
  fail: { clone3: os.constants.errno.ENOSYS } as Record<string, number>,
  allow: `accept accept4 access adjtimex alarm bind brk capget capset chdir chmod chown chown32 clock_adjtime
clock_adjtime64 clock_getres clock_getres_time64 clock_gettime clock_gettime64 clock_nanosleep clock_nanosleep_time64
close close_range connect copy_file_range creat dup dup2 dup3 epoll_create epoll_create1 epoll_ctl epoll_ctl_old
epoll_pwait epoll_pwait2 epoll_wait epoll_wait_old eventfd eventfd2 execve execveat exit exit_group faccessat
faccessat2 fadvise64 fadvise64_64 fallocate fanotify_mark fchdir fchmod fchmodat fchown fchown32 fchownat fcntl
fcntl64 fdatasync fgetxattr flistxattr flock fork fremovexattr fsetxattr fstat fstat64 fstatat64 fstatfs fstatfs64
fsync ftruncate ftruncate64 futex futex_time64 futex_waitv futimesat getcpu getcwd getdents getdents64 getegid
getegid32 geteuid geteuid32 getgid getgid32 getgroups getgroups32 getitimer getpeername getpgid getpgrp getpid
getppid getpriority getrandom getresgid getresgid32 getresuid getresuid32 getrlimit get_robust_list getrusage getsid
getsockname getsockopt get_thread_area gettid gettimeofday getuid getuid32 getxattr inotify_add_watch inotify_init
inotify_init1 inotify_rm_watch io_cancel ioctl io_destroy io_getevents io_pgetevents io_pgetevents_time64 ioprio_get
ioprio_set io_setup io_submit io_uring_enter io_uring_register io_uring_setup ipc kill landlock_add_rule
landlock_create_ruleset landlock_restrict_self lchown lchown32 lgetxattr link linkat listen listxattr llistxattr
_llseek lremovexattr lseek lsetxattr lstat lstat64 madvise membarrier memfd_create memfd_secret mincore mkdir mkdirat
mknod mknodat mlock mlock2 mlockall mmap mmap2 mprotect mq_getsetattr mq_notify mq_open mq_timedreceive
mq_timedreceive_time64 mq_timedsend mq_timedsend_time64 mq_unlink mremap msgctl msgget msgrcv msgsnd msync munlock
munlockall munmap name_to_handle_at nanosleep newfstatat _newselect open openat openat2 pause pidfd_open
pidfd_send_signal pipe pipe2 pkey_alloc pkey_free pkey_mprotect poll ppoll ppoll_time64 prctl pread64 preadv preadv2
prlimit64 process_mrelease pselect6 pselect6_time64 pwrite64 pwritev pwritev2 read readahead readlink readlinkat
readv recv recvfrom recvmmsg recvmmsg_time64 recvmsg remap_file_pages removexattr rename renameat renameat2
restart_syscall rmdir rseq rt_sigaction rt_sigpending rt_sigprocmask rt_sigqueueinfo rt_sigreturn rt_sigsuspend
rt_sigtimedwait rt_sigtimedwait_time64 rt_tgsigqueueinfo sched_getaffinity sched_getattr sched_getparam
sched_get_priority_max sched_get_priority_min sched_getscheduler sched_rr_get_interval sched_rr_get_interval_time64
sched_setaffinity sched_setattr sched_setparam sched_setscheduler sched_yield seccomp select semctl semget semop
semtimedop semtimedop_time64 send sendfile sendfile64 sendmmsg sendmsg sendto setfsgid setfsgid32 setfsuid
setfsuid32 setgid setgid32 setgroups setgroups32 setitimer setpgid setpriority setregid setregid32 setresgid
setresgid32 setresuid setresuid32 setreuid setreuid32 setrlimit set_robust_list setsid setsockopt set_thread_area
set_tid_address setuid setuid32 setxattr shmat shmctl shmdt shmget shutdown sigaltstack signalfd signalfd4
sigprocmask sigreturn socketcall socketpair splice stat stat64 statfs statfs64 statx symlink symlinkat sync
sync_file_range syncfs sysinfo tee tgkill time timer_create timer_delete timer_getoverrun timer_gettime
timer_gettime64 timer_settime timer_settime64 timerfd_create timerfd_gettime timerfd_gettime64 timerfd_settime
timerfd_settime64 times tkill truncate truncate64 ugetrlimit umask uname unlink unlinkat utime utimensat
utimensat_time64 utimes vfork vmsplice wait4 waitid waitpid write writev
arch_prctl modify_ldt socket personality clone`.split(/\s+/),
};

/** The entries for seccomp-exec of DOCKER_DEFAULT_SECCOMP, plus `extra` calls allowed. */
export function dockerDefaultCalls(extra: string[] = []): string[] {
  return [...DOCKER_DEFAULT_SECCOMP.allow, ...extra, ...Object.entries(DOCKER_DEFAULT_SECCOMP.fail).map(([n, e]) => `${n} ${e}`)];
}
