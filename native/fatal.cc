#include "fatal.h"

#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace privdrop {

void Fatal(const char* step, int err, int tid, const std::string& detail) {
  char msg[1024];
  int n = snprintf(msg, sizeof msg,
                   "privdrop: FATAL: the privilege drop failed after its first irreversible step, at step '%s' "
                   "on thread %d: %s%s%s. The process may hold a mix of old and new credentials, so it is "
                   "aborted now rather than return to JavaScript half-dropped (pid %d).\n",
                   step, tid, err ? strerror(err) : "verification failed", detail.empty() ? "" : "; ",
                   detail.c_str(), static_cast<int>(getpid()));
  if (n > 0) {
    size_t len = std::min(static_cast<size_t>(n), sizeof msg - 1);
    ssize_t ignored = write(STDERR_FILENO, msg, len);
    (void)ignored;
  }
  abort();
}

void FatalBroadcast(const char* step, const BroadcastReport& r) {
  std::string detail = std::string(r.failedStep ? r.failedStep : "?") +
                       (r.timedOut ? " (a thread did not answer within the deadline)" : "") + ", " +
                       std::to_string(r.threads) + " threads done";
  Fatal(step, r.err, r.failedTid, detail);
}

}  // namespace privdrop
