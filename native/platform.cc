#include "platform.h"

#include <sys/prctl.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#ifdef __GLIBC__
#include <gnu/libc-version.h>
#endif

namespace privdrop {

double NowMs() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<double>(ts.tv_sec) * 1e3 + static_cast<double>(ts.tv_nsec) / 1e6;
}

PlatformInfo Platform() {
  PlatformInfo p;
#ifdef __GLIBC__
  p.glibc = true;
  p.libcVersion = gnu_get_libc_version();
#endif
#if defined(__x86_64__)
  p.arch = "x64";
  p.broadcastSupported = p.glibc;
#elif defined(__aarch64__)
  p.arch = "arm64";
  p.broadcastSupported = p.glibc;
#else
  p.arch = "other";
#endif
  return p;
}

int GetTid() { return static_cast<int>(syscall(SYS_gettid)); }

bool IsMainThread() { return GetTid() == getpid(); }

unsigned long GetSecurebits() {
  int bits = prctl(PR_GET_SECUREBITS, 0, 0, 0, 0);
  return bits < 0 ? 0 : static_cast<unsigned long>(bits);
}

}  // namespace privdrop
