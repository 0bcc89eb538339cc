// Run-time capabilities: setCapabilities() on every thread, and capability windows on one thread.
//
// SetCapabilities is cap_set_proc for the whole process: the same all-thread broadcast and
// /proc verification as the drop (native/broadcast.h). A window raises capabilities that are
// already permitted in the effective set of the calling thread only, and lowers them again.
// The two exclude each other: SetCapabilities waits (with a deadline) until no window is open,
// and a window waits while SetCapabilities runs, so a broadcast never meets a raised thread.
#pragma once

#include <cstdint>
#include <vector>

#include "caps.h"
#include "status.h"

namespace privdrop {

// The three sets every thread gets (CapMasks), and the ambient set.
struct SetCapsPlan : CapMasks {
  bool ambientGiven = false;  // false: ambient keeps what is still permitted and inheritable
  uint64_t ambient = 0;
};

struct SetCapsResult {
  int threads = 0;  // threads verified in /proc/self/task
  double ms = 0;
  ThreadCreds verified;  // what every thread was verified to show
  double noopMs = 0, applyMs = 0;
  int noopThreads = 0, applyThreads = 0;
};

// Validates (nothing changes on a failure, which throws Error), then changes every thread and
// verifies every thread in /proc. A failure after the first thread changed aborts the process.
SetCapsResult SetCapabilities(const SetCapsPlan& plan);

// Raises `mask` in the calling thread's effective set. Throws ERR_PRIVDROP_CAPABILITY_NOT_HELD
// (nothing changed) for a capability that is not permitted. Returns the bits it raised (those
// not already effective), which WindowLeave must be given.
uint64_t WindowEnter(uint64_t mask);
// Lowers `raised` again on the calling thread; aborts the process if that fails.
void WindowLeave(uint64_t raised);

// Holds windows off for its lifetime: waits (up to a second) until no window is open on any
// thread and keeps new ones waiting, so that an all-thread change and its verification never
// meet a raised thread. Throws Error (nothing changed) when the calling thread is inside a window
// itself or another one stays open too long. SetCapabilities takes it; the drop runs under it too.
class WindowsHeld {
 public:
  explicit WindowsHeld(const char* what);
  ~WindowsHeld();
  WindowsHeld(const WindowsHeld&) = delete;
  WindowsHeld& operator=(const WindowsHeld&) = delete;
};

struct WindowInfo {
  int tid = 0;
  int depth = 0;
  uint64_t raised = 0;
};
// The threads inside a window right now. *seq changes whenever a window opens or closes.
std::vector<WindowInfo> Windows(uint64_t* seq);

}  // namespace privdrop
