// Runs one prepared operation on every thread of the process (see shared threads.md, §4).
//
// The operation runs inside a signal handler on other threads: it may only make raw,
// async-signal-safe system calls and must report through its return value.
#pragma once

#include <cstdint>

namespace privdrop {

// Returns 0, or an errno value; *failedStep names what failed (a static string).
using ThreadOp = int (*)(const void* arg, const char** failedStep);

struct BroadcastReport {
  bool ok = false;
  int threads = 0;          // threads that ran the operation (main thread included)
  int err = 0;              // errno of the first failure
  int failedTid = 0;        // thread that failed or never answered
  const char* failedStep = nullptr;
  bool timedOut = false;
  double ms = 0;
};

// Must be called on the main thread. Never throws; never allocates while signals are out.
// name: for diagnostics and fault injection. taskDirFd: an open /proc/self/task (kept from before a chroot), or -1 to open it here.
BroadcastReport Broadcast(const char* name, ThreadOp op, const void* arg, int taskDirFd = -1, int deadlineMs = 1000);

}  // namespace privdrop
