#include "faults.h"

#ifdef PRIVDROP_FAULT_INJECTION
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace privdrop {
namespace {
char g_fault[96];
bool g_faultOnThread = false;
std::atomic<int> g_faultTid{0};  // with @thread: the one other thread that fails

bool OnRightThread() {
  const int tid = static_cast<int>(syscall(SYS_gettid));
  const bool onMain = tid == getpid();
  if (!g_faultOnThread) return onMain;
  if (onMain) return false;
  int expected = 0;
  return g_faultTid.compare_exchange_strong(expected, tid) || expected == tid;
}
}  // namespace

void LoadFault() {
  const char* f = getenv("PRIVDROP_FAULT");
  g_fault[0] = '\0';
  g_faultOnThread = false;
  g_faultTid.store(0);
  if (f == nullptr) return;
  snprintf(g_fault, sizeof g_fault, "%s", f);
  if (char* at = strchr(g_fault, '@')) {
    g_faultOnThread = strcmp(at, "@thread") == 0;
    *at = '\0';
  }
}

namespace detail {

bool Fault(const char* name) { return g_fault[0] != '\0' && strcmp(g_fault, name) == 0 && OnRightThread(); }

bool Fault(const char* call, const char* phase) {
  if (phase == nullptr) return false;
  size_t n = strlen(call);
  return g_fault[0] != '\0' && strncmp(g_fault, call, n) == 0 && g_fault[n] == ':' && strcmp(g_fault + n + 1, phase) == 0 &&
         OnRightThread();
}

}  // namespace detail

}  // namespace privdrop
#endif
