// LD_PRELOAD library for tests and the real-drop property test: installs one seccomp filter in a
// Node process before Node starts, the way another addon or a preloaded library could.
//   PRIVDROP_TEST_SECCOMP="<scope>:<call>:<arg0>:<arg1>:<action>"
//     scope   thread  - a native thread of its own installs the filter (no TSYNC) and sleeps
//             process - the main thread installs it before any other thread exists (all inherit it)
//     call    prctl | keyctl | setfsuid | capset | setgroups | setresuid | setresgid
//     arg0    the call's first argument to match (the prctl option, the keyctl operation), -1: any
//     arg1    its second (PR_CAP_AMBIENT's sub-operation), -1: any
//     action  errno (EPERM) | kill (SECCOMP_RET_KILL_THREAD) | trap (SECCOMP_RET_TRAP)
//   PRIVDROP_TEST_SECCOMP_EXE: only a process running this executable installs it (not a wrapper).
// Needs CAP_SYS_ADMIN (no_new_privs would change the thread's state); if the filter cannot be
// installed the process exits 97 with "seccomp-preload: ..." on stderr.
#define _GNU_SOURCE
#include <errno.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <pthread.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#if defined(__x86_64__)
#define ARCH AUDIT_ARCH_X86_64
#elif defined(__aarch64__)
#define ARCH AUDIT_ARCH_AARCH64
#endif

static struct sock_fprog prog;
static struct sock_filter code[16];
static volatile int installed = 0;

static long callNumber(const char* call) {
  if (!strcmp(call, "prctl")) return __NR_prctl;
  if (!strcmp(call, "keyctl")) return __NR_keyctl;
  if (!strcmp(call, "setfsuid")) return __NR_setfsuid;
  if (!strcmp(call, "capset")) return __NR_capset;
  if (!strcmp(call, "setgroups")) return __NR_setgroups;
  if (!strcmp(call, "setresuid")) return __NR_setresuid;
  if (!strcmp(call, "setresgid")) return __NR_setresgid;
  return -1;
}

static void fail(const char* what) {
  fprintf(stderr, "seccomp-preload: %s: %s\n", what, strerror(errno));
  _exit(97);
}

static void install(void) {
  if (syscall(__NR_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog) != 0) fail("seccomp(SECCOMP_SET_MODE_FILTER)");
  installed = 1;
}

// Tells the process it runs in that the filter is there (the dynamic loader ignores LD_PRELOAD in
// a secure-execution process: one whose real and effective ids differ at execve).
static void announce(void) { setenv("PRIVDROP_TEST_SECCOMP_INSTALLED", "1", 1); }

static void* threadMain(void* unused) {
  (void)unused;
  install();
  for (;;) sleep(1000);
  return NULL;
}

__attribute__((constructor)) static void setup(void) {
  const char* spec = getenv("PRIVDROP_TEST_SECCOMP");
  const char* exe = getenv("PRIVDROP_TEST_SECCOMP_EXE");
  if (spec == NULL) return;
  if (exe != NULL) {
    char self[4096];
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    if (n < 0) return;
    self[n] = '\0';
    if (strcmp(self, exe) != 0) return;
  }
  char scope[16], call[16], action[16];
  long arg0 = -1, arg1 = -1;
  if (sscanf(spec, "%15[^:]:%15[^:]:%ld:%ld:%15s", scope, call, &arg0, &arg1, action) != 5) {
    errno = EINVAL;
    fail("PRIVDROP_TEST_SECCOMP");
  }
  long nr = callNumber(call);
  if (nr < 0) { errno = EINVAL; fail(call); }
  unsigned ret = !strcmp(action, "kill") ? SECCOMP_RET_KILL_THREAD
                 : !strcmp(action, "trap") ? SECCOMP_RET_TRAP
                                           : SECCOMP_RET_ERRNO | EPERM;
  int i = 0;
  // Another architecture's calls are allowed; the matching call with matching arguments gets `ret`.
  code[i++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch));
  code[i++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, ARCH, 1, 0);
  code[i++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
  code[i++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr));
  code[i++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (unsigned)nr, 1, 0);
  code[i++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
  if (arg0 >= 0) {
    code[i++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, args[0]));
    code[i++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (unsigned)arg0, 1, 0);
    code[i++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
  }
  if (arg1 >= 0) {
    code[i++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, args[1]));
    code[i++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (unsigned)arg1, 1, 0);
    code[i++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
  }
  code[i++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, ret);
  prog.len = (unsigned short)i;
  prog.filter = code;
  if (!strcmp(scope, "process")) {
    install();
    announce();
    return;
  }
  pthread_t t;
  if (pthread_create(&t, NULL, threadMain, NULL) != 0) fail("pthread_create");
  pthread_detach(t);
  struct timespec tick = {0, 1000000};
  for (int waited = 0; !installed && waited < 5000; waited++) nanosleep(&tick, NULL);
  if (!installed) { errno = ETIMEDOUT; fail("waiting for the filter thread"); }
  announce();
}
