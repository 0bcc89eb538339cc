#include "debug_signal.h"

#include <signal.h>

#include <atomic>
#include <cerrno>
#include <cstring>

namespace privdrop {
namespace {

std::atomic<bool> ignoredByDrop{false};

}  // namespace

int CloseDebugSignal(bool* closed) {
  *closed = false;
  struct sigaction old;
  if (sigaction(SIGUSR1, nullptr, &old) != 0) return errno;
  const bool handled = (old.sa_flags & SA_SIGINFO) ? old.sa_sigaction != nullptr
                                                    : (old.sa_handler != SIG_DFL && old.sa_handler != SIG_IGN);
  if (!handled) return 0;
  struct sigaction ignore;
  std::memset(&ignore, 0, sizeof ignore);
  ignore.sa_handler = SIG_IGN;  // also discards a SIGUSR1 pending on a thread that blocks it
  sigemptyset(&ignore.sa_mask);
  if (sigaction(SIGUSR1, &ignore, nullptr) != 0) return errno;
  ignoredByDrop = true;
  *closed = true;
  return 0;
}

void ResetDebugSignalForExec() {
  if (!ignoredByDrop) return;
  struct sigaction now;
  if (sigaction(SIGUSR1, nullptr, &now) != 0 || (now.sa_flags & SA_SIGINFO) || now.sa_handler != SIG_IGN) return;
  struct sigaction dfl;
  std::memset(&dfl, 0, sizeof dfl);
  dfl.sa_handler = SIG_DFL;
  sigemptyset(&dfl.sa_mask);
  sigaction(SIGUSR1, &dfl, nullptr);
}

}  // namespace privdrop
