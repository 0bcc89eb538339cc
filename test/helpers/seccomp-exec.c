// seccomp-exec: a test helper that imitates a systemd unit's SystemCallFilter=. It installs a
// seccomp filter that allows the system calls named in FILE (one name a line: the list a unit's
// filter resolves to, from `systemd-analyze syscall-filter`; or "name N": that call fails with
// errno N) on the native ABI only, gives every other call ACTION, then execs COMMAND under it.
//
//   seccomp-exec errno:1 FILE COMMAND ARGS...    a call outside the list fails with EPERM
//   seccomp-exec kill FILE COMMAND ARGS...       a call outside the list kills the process (SIGSYS)
//
// Built at test time by test/helpers/seccomp.ts, with a table of name -> number made from
// <asm/unistd.h> for the names systemd knows (the names this architecture lacks are left out, as
// systemd leaves them out). Like systemd it needs no_new_privs (or CAP_SYS_ADMIN) already: it does
// not set it, so a unit without NoNewPrivileges= is not made to look safer than it is.
#include <errno.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#if defined(__x86_64__)
#define NATIVE_ARCH AUDIT_ARCH_X86_64
#elif defined(__aarch64__)
#define NATIVE_ARCH AUDIT_ARCH_AARCH64
#else
#error "seccomp-exec: add this architecture's AUDIT_ARCH_ value"
#endif

struct syscall_name {
  const char* name;
  long nr;
};

static const struct syscall_name known[] = {
#include "syscall-names.h"
};

static long lookup(const char* name) {
  for (size_t i = 0; i < sizeof known / sizeof known[0]; i++)
    if (strcmp(known[i].name, name) == 0) return known[i].nr;
  return -1;
}

#define MAX_FILTER 4096

int main(int argc, char** argv) {
  if (argc < 4) {
    fprintf(stderr, "usage: seccomp-exec errno:N|kill FILE COMMAND [ARGS...]\n");
    return 125;
  }
  unsigned int deny;
  if (strcmp(argv[1], "kill") == 0) deny = SECCOMP_RET_KILL_PROCESS;
  else if (strncmp(argv[1], "errno:", 6) == 0) deny = SECCOMP_RET_ERRNO | (atoi(argv[1] + 6) & SECCOMP_RET_DATA);
  else {
    fprintf(stderr, "seccomp-exec: bad action %s\n", argv[1]);
    return 125;
  }

  static struct sock_filter f[MAX_FILTER];
  size_t n = 0;
  // Another ABI (i386, x32) has other numbers for the same calls: refuse it outright, as
  // SystemCallArchitectures=native does.
  f[n++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch));
  f[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, NATIVE_ARCH, 1, 0);
  f[n++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS);
  f[n++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr));
#if defined(__x86_64__)
  f[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JGE | BPF_K, 0x40000000 /* __X32_SYSCALL_BIT */, 0, 1);
  f[n++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS);
#endif

  FILE* in = fopen(argv[2], "r");
  if (!in) {
    fprintf(stderr, "seccomp-exec: %s: %s\n", argv[2], strerror(errno));
    return 125;
  }
  char line[128];
  while (fgets(line, sizeof line, in)) {
    line[strcspn(line, "\r\n")] = 0;
    if (line[0] == 0) continue;
    // "name" allows the call; "name N" makes it fail with errno N (as Docker's clone3 -> ENOSYS).
    unsigned int ret = SECCOMP_RET_ALLOW;
    char* space = strchr(line, ' ');
    if (space) {
      *space = 0;
      ret = SECCOMP_RET_ERRNO | (atoi(space + 1) & SECCOMP_RET_DATA);
    }
    long nr = lookup(line);
    if (nr < 0) continue;  // not a call of this architecture
    if (n + 3 > MAX_FILTER) {
      fprintf(stderr, "seccomp-exec: too many system calls\n");
      return 125;
    }
    f[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (unsigned int)nr, 0, 1);
    f[n++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, ret);
  }
  fclose(in);
  f[n++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, deny);

  struct sock_fprog prog = {.len = (unsigned short)n, .filter = f};
  if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog) != 0) {
    fprintf(stderr, "seccomp-exec: seccomp: %s (no_new_privs is needed, as under systemd)\n", strerror(errno));
    return 125;
  }
  execvp(argv[3], argv + 3);
  fprintf(stderr, "seccomp-exec: exec %s: %s\n", argv[3], strerror(errno));
  return 127;
}
