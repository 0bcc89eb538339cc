// Broadcast: run one prepared operation on every thread of the process (docs/design.md, "The broadcast").
//
// This is the generic primitive. The drop runs its rehearsal and its transition through it
// (native/thread_ops.h); anything else that must change per-thread state on every thread (a
// capset-only operation, for instance) can run through it the same way:
//
//   struct MyArgs { ... };                      // prepared before the call, read-only after
//   int MyOp(const void* a, const char** step) {  // raw, async-signal-safe system calls only
//     if (syscall(SYS_capset, ...) != 0) { *step = "capset"; return errno; }
//     return 0;
//   }
//   BroadcastReport r = Broadcast("my-name", &MyOp, &args, taskDirFd, &target);
//
// How it works:
//   1. the signal-33 handler is installed (raw rt_sigaction) for this call only; the previous
//      disposition is restored before Broadcast returns, so two copies of privdrop in one process
//      (or a library that replaces or chains the handler) can never form a chain loop;
//   2. /proc/self/task is listed with raw getdents64 (no allocation while signals are out); every
//      other thread gets ONE signal (rt_tgsigqueueinfo, SI_QUEUE, a pointer to its result slot and
//      a random cookie); the calling thread runs the operation itself meanwhile;
//   3. the handler checks slot and cookie, runs the operation, stores the result with an atomic
//      write, restores errno and returns. Signals that are not ours go to the previous handler;
//   4. passes over /proc/self/task repeat until one finds no thread that still needs the signal.
//      A thread found after the first pass that already shows `target` was created by a thread
//      that had run the operation and needs no signal. A thread that exits is done.
// Every wait has a deadline: deadlineMs without any thread answering, ten times that in all.
//
// Rules for an operation: no allocation, no locks, no stdio, no libcap, no C++ exceptions,
// no glibc wrapper that broadcasts itself (setuid & co.: use the raw syscall). It runs once per
// thread per call. It returns 0 or an errno value and names the failing step in *step (a static
// string). Fault hooks (faults.h): "rt_sigaction:<name>", "getdents64:<name>",
// "rt_tgsigqueueinfo:<name>" and "silent:<name>" (a thread that never answers).
#pragma once

#include <cstdint>

#include "status.h"

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
  bool mechanism = false;   // the failure is the broadcast's own (install, list, signal, deadline), not the operation's
  double ms = 0;
};

// What a thread's /proc status shows once it has run the operation (see step 4 above): the
// `fields` (status.h CredField bits; never kGroups, which would need an allocation) of `want`.
// Only usable when the operation visibly changes one of them; no fields (an operation that
// changes nothing) accepts every thread found after the first pass.
struct StatusTarget {
  const ThreadCreds* want = nullptr;
  unsigned fields = 0;
};

// Any thread may call it; calls from several threads run one after the other (a waiting caller
// still answers the running broadcast). Never throws; never allocates.
// name: for diagnostics and fault injection. taskDirFd: an open /proc/self/task (kept from before
// a chroot), or -1 to open it here. target: see StatusTarget, or null to signal every thread found.
BroadcastReport Broadcast(const char* name, ThreadOp op, const void* arg, int taskDirFd = -1,
                          const StatusTarget* target = nullptr, int deadlineMs = 1000);

}  // namespace privdrop
