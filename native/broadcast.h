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
  int threads = 0;          // threads that ran the operation (main thread included) or already showed its result
  int err = 0;              // errno of the first failure
  int failedTid = 0;        // thread that failed or never answered
  const char* failedStep = nullptr;
  bool timedOut = false;
  double ms = 0;
};

// What a thread's /proc status shows once it has run the operation. A thread found after the
// first pass that already shows it was created by a thread that had run the operation (every
// thread showed the old state before), so it needs no signal. This is what lets a broadcast
// finish while threads keep being created. Only usable when the operation visibly changes one of
// these fields; `any` (the no-op) accepts every thread found after the first pass.
struct StatusTarget {
  bool any = false;
  uint64_t inh = 0, prm = 0, eff = 0, bnd = 0, amb = 0;
  int nnp = 0;
};

// Must be called on the main thread. Never throws; never allocates while signals are out.
// name: for diagnostics and fault injection. deadlineMs: how long without any thread answering
// before the broadcast gives up (and at most ten times that in all). taskDirFd: an open /proc/self/task (kept from before a chroot), or -1 to open it here.
BroadcastReport Broadcast(const char* name, ThreadOp op, const void* arg, int taskDirFd = -1,
                          const StatusTarget* target = nullptr, int deadlineMs = 1000);

}  // namespace privdrop
