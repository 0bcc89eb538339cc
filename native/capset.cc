// setCapabilities() on every thread, and per-thread capability windows. See capset.h.
#include "capset.h"

#include <linux/capability.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "broadcast.h"
#include "caps.h"
#include "error.h"
#include "fatal.h"
#include "faults.h"
#include "platform.h"
#include "status.h"
#include "task_tail.h"
#include "thread_ops.h"

namespace privdrop {
namespace {

constexpr uint64_t Bit(unsigned cap) { return uint64_t{1} << cap; }
constexpr int kDeadlineMs = 1000;

void Pause() {
  timespec pause{0, 50000};
  nanosleep(&pause, nullptr);
}

// ---- raw capget/capset of the calling thread (async-signal-safe) -----------------------

int GetCaps(CapMasks* out) {
  __user_cap_header_struct h{_LINUX_CAPABILITY_VERSION_3, 0};
  __user_cap_data_struct d[2]{};
  if (syscall(SYS_capget, &h, d) != 0) return errno;
  out->effective = d[0].effective | (static_cast<uint64_t>(d[1].effective) << 32);
  out->permitted = d[0].permitted | (static_cast<uint64_t>(d[1].permitted) << 32);
  out->inheritable = d[0].inheritable | (static_cast<uint64_t>(d[1].inheritable) << 32);
  return 0;
}

// capset through the drop's raw call (thread_ops.h): `fault` names it for fault injection.
int PutCaps(const char* fault, const CapMasks& c) { return RawCapset(fault, MakeCapData(c.effective, c.permitted, c.inheritable)); }

// ---- the per-thread operation of setCapabilities ---------------------------------------

struct ApplyArgs {
  CapMasks caps;
  uint64_t lowerAmbient;  // ambient capabilities to lower explicitly (capset lowers the rest itself)
};

int NoopOp(const void*, const char** step) {
  *step = "noop (injected fault)";  // the only way it fails
  return Injected("setcaps-noop");
}

int ApplyOp(const void* a, const char** step) {
  const auto* p = static_cast<const ApplyArgs*>(a);
  if (int e = PutCaps("setcaps-capset", p->caps)) { *step = "capset"; return e; }
  for (unsigned cap = 0; cap < 64; cap++) {
    if (!(p->lowerAmbient & Bit(cap))) continue;
    if (int e = HookedErrno("setcaps-ambient", [&] { return syscall(SYS_prctl, PR_CAP_AMBIENT, PR_CAP_AMBIENT_LOWER, cap, 0UL, 0UL); })) {
      *step = "prctl(PR_CAP_AMBIENT_LOWER)";
      return e;
    }
  }
  return 0;
}

[[noreturn]] void FatalSetCaps(const char* step, int err, int tid, const std::string& detail) {
  FatalAfter("setCapabilities() failed after it had changed a thread",
             "The threads may now hold different capabilities, so the process is aborted rather than return to "
             "JavaScript in that state",
             step, err, tid, detail);
}

// ---- windows ----------------------------------------------------------------------------

constexpr int kMaxWindowThreads = 1024;  // threads inside a window at the same time

struct WindowSlot {
  std::atomic<int> tid{0};
  std::atomic<int> depth{0};
  std::atomic<uint64_t> raised{0};
  // Between its capget and its capset the owner must not be changed behind its back (it would
  // write the old set back): a sweep that finds it busy leaves the bits in `pending` for it.
  std::atomic<bool> busy{false};
  std::atomic<uint64_t> pending{0};
  TaskTail tail;  // the last thread before the first window of this thread raised anything (owner only)
};

WindowSlot g_windows[kMaxWindowThreads];
std::atomic<int> g_openWindows{0};   // windows open on any thread (nesting counted)
std::atomic<bool> g_setting{false};  // SetCapabilities is between its first check and its verification
std::atomic<uint64_t> g_windowSeq{0};

WindowSlot* FindWindow(int tid) {
  for (auto& s : g_windows) {
    if (s.tid.load(std::memory_order_acquire) == tid) return &s;
  }
  return nullptr;
}

WindowSlot* ClaimWindow(int tid) {
  if (WindowSlot* s = FindWindow(tid)) return s;
  for (auto& s : g_windows) {
    int expected = 0;
    if (s.tid.compare_exchange_strong(expected, tid, std::memory_order_acq_rel)) return &s;
  }
  return nullptr;
}

// Gives the slot back when no window of its thread is open any more.
void ReleaseIfIdle(WindowSlot* slot) {
  if (slot->depth.load(std::memory_order_acquire) != 0) return;
  slot->tail.valid = false;
  slot->tid.store(0, std::memory_order_release);
}

// Takes `count` windows of a thread, which raised `raised`, out of the registry once what they
// raised is lowered everywhere (slot: the thread's, or null when it has none).
void Unregister(WindowSlot* slot, uint64_t raised, int count) {
  if (slot) {
    slot->raised.fetch_and(~raised, std::memory_order_acq_rel);
    slot->depth.fetch_sub(count, std::memory_order_acq_rel);
    ReleaseIfIdle(slot);
  }
  g_windowSeq.fetch_add(1, std::memory_order_acq_rel);
  g_openWindows.fetch_sub(count, std::memory_order_seq_cst);
}

[[noreturn]] void FatalWindow(const std::string& what, int err, int tid) {
  AbortWith("privdrop: FATAL: withCapabilities() could not lower " + what + " on thread " + std::to_string(tid) + ": " +
            (err ? strerror(err) : "still effective") +
            ". The process is aborted rather than run on with the capability in effect (pid " + std::to_string(getpid()) +
            ").\n");
}

// Lowers `bits` in the calling thread's effective set and checks it with capget. Returns 0 or an
// errno value (EPERM with the bits still effective). Async-signal-safe.
int LowerSelf(const char* fault, uint64_t bits) {
  CapMasks c;
  if (int e = GetCaps(&c)) return e;
  if (!(c.effective & bits)) return 0;
  c.effective &= ~bits;
  if (int e = PutCaps(fault, c)) return e;
  if (int e = GetCaps(&c)) return e;
  return (c.effective & bits) ? EPERM : 0;
}

// Applies what a sweep left for this thread while it was busy (the bits its own windows did not
// raise), as the sweep would have. Aborts when it cannot.
void ApplyPending(WindowSlot* slot) {
  for (uint64_t p; (p = slot->pending.load(std::memory_order_acquire)) != 0;) {
    slot->busy.store(true, std::memory_order_seq_cst);
    const uint64_t bits = p & ~slot->raised.load(std::memory_order_acquire);
    int e = LowerSelf("window-sweep", bits);
    slot->busy.store(false, std::memory_order_seq_cst);
    if (e) FatalWindow(CapNames(bits) + ", raised by the window of the thread that created it,", e, GetTid());
    slot->pending.fetch_and(~p, std::memory_order_acq_rel);
  }
}

// The per-thread operation of a window's sweep: lower the closing thread's raised capabilities,
// except those the thread's own open windows raised. Runs in the signal handler.
int SweepOp(const void* a, const char** step) {
  const uint64_t bits = *static_cast<const uint64_t*>(a);
  const int tid = static_cast<int>(syscall(SYS_gettid));
  WindowSlot* own = FindWindow(tid);
  uint64_t lower = bits & ~(own ? own->raised.load(std::memory_order_acquire) : 0);
  if (lower == 0) return 0;
  if (own != nullptr && own->busy.load(std::memory_order_seq_cst)) {
    own->pending.fetch_or(lower, std::memory_order_acq_rel);  // ApplyPending, right after its capset
    return 0;
  }
  if (int e = LowerSelf("window-sweep", lower)) {
    *step = "capset";
    return e;
  }
  return 0;
}

// Called by a window that raised `bits` (this thread's windows, nested ones included) and has
// lowered them on its own thread, when threads may have been born meanwhile: lowers them on every
// other thread (all of them: a thread created by a new thread copies it), except where a thread's
// own window raised them. Aborts when any thread cannot be lowered or does not answer in time.
void SweepBornThreads(uint64_t bits) {
  LoadFault();
  int fd = SweepTaskDir();
  BroadcastReport r = Broadcast("window-sweep", &SweepOp, &bits, fd, nullptr, kDeadlineMs);
  if (!r.ok) {
    FatalAfter("withCapabilities() could not lower the capabilities it had raised on the threads born inside the window",
               "A thread may still hold them in effect, so the process is aborted rather than return to JavaScript in "
               "that state",
               "window-sweep", r.err, r.failedTid, CapNames(bits) + "; " + BroadcastFailure(r, "answered"));
  }
  // A thread that was busy lowers them itself a moment later: wait for it (with a deadline).
  for (const double start = NowMs();;) {
    int busyTid = 0;
    for (auto& s : g_windows) {
      if (s.pending.load(std::memory_order_acquire) != 0) { busyTid = s.tid.load(std::memory_order_acquire); break; }
    }
    if (busyTid == 0) break;
    if (NowMs() - start > kDeadlineMs) FatalWindow(CapNames(bits), ETIMEDOUT, busyTid);
    Pause();
  }
  TaskTail fresh;
  ReadTail(&fresh, true);  // later windows start from the thread that is last now
}

// A thread that ends inside its windows (a Worker terminated while its window's function ran:
// its JavaScript stops there, and WindowLeave is never called) closes them as it exits, as
// WindowLeave would have: threads born meanwhile (the threadpool's, another addon's) copied what
// the windows raised, and keep it unless it is lowered on them; and the open windows would hold
// setCapabilities() off for good. One per thread that ever opened a window (thread_local: its
// destructor runs when the thread exits). The main thread ends only with the process: nothing to do.
struct WindowsAtThreadExit {
  ~WindowsAtThreadExit() {
    const int tid = GetTid();
    if (tid == getpid()) return;
    WindowSlot* slot = FindWindow(tid);
    if (slot == nullptr) return;
    const int depth = slot->depth.load(std::memory_order_acquire);
    if (depth == 0) return;
    const uint64_t raised = slot->raised.load(std::memory_order_acquire);
    if (raised != 0 && !StillLast(slot->tail)) SweepBornThreads(raised);
    Unregister(slot, raised, depth);
  }
};

void CloseWindowsAtThreadExit() {
  static thread_local WindowsAtThreadExit guard;
  (void)guard;  // constructed on the first call on each thread; destroyed when the thread exits
}

}  // namespace

WindowsHeld::WindowsHeld(const char* what) {
  OpenTaskDirs();  // before a drop's chroot, so that windows after it can still list the threads
  g_setting.store(true, std::memory_order_seq_cst);
  const int self = GetTid();
  if (WindowSlot* own = FindWindow(self); own != nullptr && own->depth.load() > 0) {
    g_setting.store(false, std::memory_order_seq_cst);
    throw Error(kErrInvalidArgument,
                std::string(what) + " cannot run inside a withCapabilities() window of the same thread: call it after the "
                "window's function has returned",
                0, "", "validate");
  }
  for (const double start = NowMs(); g_openWindows.load(std::memory_order_seq_cst) > 0;) {
    if (NowMs() - start > kDeadlineMs) {
      int tid = 0;
      for (auto& s : g_windows) if (s.depth.load() > 0) { tid = s.tid.load(); break; }
      g_setting.store(false, std::memory_order_seq_cst);
      throw Error(kErrThreadUnreachable,
                  std::string(what) + ": thread " + std::to_string(tid) + " stayed inside a withCapabilities() window for more than " +
                      std::to_string(kDeadlineMs) + " ms; nothing was changed",
                  ETIMEDOUT, "", "validate");
    }
    Pause();
  }
}

WindowsHeld::~WindowsHeld() { g_setting.store(false, std::memory_order_seq_cst); }

SetCapsResult SetCapabilities(const SetCapsPlan& plan) {
  SetCapsResult result;
  const double t0 = NowMs();
  const int pid = getpid();
  if (!Platform().broadcastSupported)
    throw Error(kErrUnsupportedPlatform, "the all-thread broadcast needs glibc on x86_64 or arm64");
  if (!IsMainThread())
    throw Error(kErrNotMainThread, "setCapabilities() must be called on the process's main thread", 0, "",
                "validate");
  LoadFault();

  // No window may be open while the threads change: wait for open ones to close.
  WindowsHeld held("setCapabilities()");

  TaskDir task;
  if (int e = HookedErrno("setcaps-open-task", [&] { return task.Open() ? 0 : -1; }))
    ThrowSystemError(kErrSystem, e, "open", "validate", "cannot open /proc/self/task (is /proc mounted?)");
  std::vector<ThreadCreds> before;
  if (int err = ReadThreads(task.fd(), &before)) ThrowSystemError(kErrSystem, err, "read", "validate", "cannot read /proc/self/task/*/status");
  auto self = std::find_if(before.begin(), before.end(), [&](const ThreadCreds& t) { return t.tid == pid; });
  if (self == before.end()) throw Error(kErrSystem, "the main thread is missing from /proc/self/task", ESRCH);
  const ThreadCreds cur = *self;
  for (const ThreadCreds& t : before) {
    std::string a, b;
    std::string field = FirstDifference(cur, t, &a, &b);
    if (!field.empty())
      throw Error(kErrInconsistentThreads,
                  "the threads of this process disagree before setCapabilities(): " + field + " is " + a +
                      " on the main thread but " + b + " on thread " + std::to_string(t.tid) + "; nothing was changed",
                  0, "", "validate");
  }

  // ---- validation: what the kernel would refuse, and what only lowers ----
  const unsigned lastCap = LastCap();
  const uint64_t known = lastCap >= 63 ? ~uint64_t{0} : Bit(lastCap + 1) - 1;
  const uint64_t asked = plan.effective | plan.permitted | plan.inheritable | (plan.ambientGiven ? plan.ambient : 0);
  if (asked & ~known)
    throw Error(kErrInvalidCapabilities, "capability " + CapNames(asked & ~known) + " is unknown to this kernel",
                EINVAL);
  if (plan.effective & ~plan.permitted)
    throw Error(kErrInvalidCapabilities,
                "effective capabilities must also be permitted: " + CapNames(plan.effective & ~plan.permitted), EINVAL);
  const uint64_t notHeld = (plan.permitted & ~cur.prm) | (plan.inheritable & ~(cur.prm | cur.inh));
  if (notHeld)
    throw Error(kErrCapabilityNotHeld,
                "cannot set capabilities this process does not hold in its permitted set: " + CapNames(notHeld) +
                    " (a capability once lowered from the permitted set cannot be raised again); nothing was changed",
                EPERM, "", "validate");
  const uint64_t newInh = plan.inheritable & ~cur.inh;
  if (newInh & ~cur.bnd)
    throw Error(kErrCapabilityNotHeld,
                "cannot make inheritable capabilities outside the bounding set: " + CapNames(newInh & ~cur.bnd), EPERM, "",
                "validate");
  uint64_t ambient = cur.amb & plan.permitted & plan.inheritable;
  if (plan.ambientGiven) {
    if (plan.ambient & ~cur.amb)
      throw Error(kErrCapabilityNotHeld,
                  "setCapabilities() only lowers the ambient set; not ambient now: " + CapNames(plan.ambient & ~cur.amb),
                  EPERM, "", "validate");
    if (plan.ambient & ~(plan.permitted & plan.inheritable))
      throw Error(kErrInvalidArgument,
                  "ambient capabilities must stay permitted and inheritable: " +
                      CapNames(plan.ambient & ~(plan.permitted & plan.inheritable)),
                  0, "", "validate");
    ambient = plan.ambient;
  }

  // Prove that every thread answers before anything changes.
  const StatusTarget anyThread{};
  BroadcastReport noop = Broadcast("setcaps-noop", &NoopOp, nullptr, task.fd(), &anyThread, kDeadlineMs);
  result.noopMs = noop.ms;
  result.noopThreads = noop.threads;
  if (!noop.ok)
    throw Error(kErrThreadUnreachable,
                std::string("not every thread answered the no-op broadcast (") + (noop.failedStep ? noop.failedStep : "?") +
                    " on thread " + std::to_string(noop.failedTid) + "): " + strerror(noop.err) + "; nothing was changed",
                noop.err, "rt_tgsigqueueinfo", "noop-broadcast");

  ApplyArgs args{};
  args.caps = plan;
  // capset itself lowers ambient capabilities that stop being permitted and inheritable.
  args.lowerAmbient = cur.amb & plan.permitted & plan.inheritable & ~ambient;

  // First on this thread alone: capset is all or nothing, so a refusal here changes nothing.
  if (int e = PutCaps("setcaps-trial", args.caps))
    ThrowSystemError(kErrNotPermitted, e, "capset", "trial",
                     "the kernel refused the new capability sets on the main thread (nothing was changed)");

  // What every thread must show after: a thread born from a changed one already does.
  ThreadCreds want = cur;
  want.inh = plan.inheritable;
  want.prm = plan.permitted;
  want.eff = plan.effective;
  want.amb = ambient;
  const StatusTarget target{&want, kCapsAndNnp};

  // ---- from here on a failure never returns ----
  BroadcastReport r = Broadcast("setcaps", &ApplyOp, &args, task.fd(), &target, kDeadlineMs);
  result.applyMs = r.ms;
  result.applyThreads = r.threads;
  if (!r.ok) {
    FatalSetCaps("setcaps-broadcast", r.err, r.failedTid, BroadcastFailure(r, "answered"));
  }

  std::vector<ThreadCreds> after;
  if (int err = HookedOp("setcaps-verify", [&] { return ReadThreads(task.fd(), &after); }, EIO))
    FatalSetCaps("verify", err, pid, "cannot read /proc/self/task/*/status");
  for (const ThreadCreds& t : after) {
    std::string expected, actual;
    std::string field = FirstDifference(want, t, &expected, &actual);
    if (!field.empty()) FatalSetCaps("verify", 0, t.tid, field + " is " + actual + ", expected " + expected);
  }
  result.threads = static_cast<int>(after.size());
  result.verified = want;
  result.ms = NowMs() - t0;
  return result;
}

uint64_t WindowEnter(uint64_t mask) {
  const int tid = GetTid();
  // Announce the window, then make sure no SetCapabilities is running (it sets g_setting, then
  // waits for g_openWindows to reach 0: with sequentially consistent order one of us sees the other).
  for (const double start = NowMs();;) {
    g_openWindows.fetch_add(1, std::memory_order_seq_cst);
    if (!g_setting.load(std::memory_order_seq_cst)) break;
    g_openWindows.fetch_sub(1, std::memory_order_seq_cst);
    if (NowMs() - start > 10 * kDeadlineMs)
      throw Error(kErrThreadUnreachable, "setCapabilities() on the main thread did not finish in time", ETIMEDOUT);
    Pause();
  }
  WindowSlot* slot = ClaimWindow(tid);
  if (slot == nullptr) {
    g_openWindows.fetch_sub(1, std::memory_order_seq_cst);
    throw Error(kErrSystem, "too many threads inside capability windows", EMFILE);
  }
  CloseWindowsAtThreadExit();
  // Nothing changed yet: undo the registration and throw.
  auto refuse = [&](auto&& thrower) {
    slot->busy.store(false, std::memory_order_seq_cst);
    ApplyPending(slot);
    ReleaseIfIdle(slot);
    g_openWindows.fetch_sub(1, std::memory_order_seq_cst);
    thrower();
  };
  slot->busy.store(true, std::memory_order_seq_cst);
  CapMasks cur;
  if (int e = GetCaps(&cur))
    refuse([&] { ThrowSystemError(kErrSystem, e, "capget", "window", "cannot read this thread's capabilities"); });
  if (const uint64_t notHeld = mask & ~cur.permitted) {
    refuse([&] {
      throw Error(kErrCapabilityNotHeld,
                  "cannot raise capabilities this thread does not hold in its permitted set: " + CapNames(notHeld) +
                      " (keep them permitted-only in the drop, e.g. capabilities: '" + CapNames(notHeld) + "+p')",
                  EPERM, "", "window");
    });
  }
  const uint64_t raised = mask & ~cur.effective;
  // A thread born while the capabilities are raised copies them: remember the last thread from
  // before, so that WindowLeave can tell whether any was born (native/task_tail.h).
  if (raised != 0 && !slot->tail.valid) {
    if (!Platform().broadcastSupported)
      refuse([&] {
        throw Error(kErrUnsupportedPlatform,
                    "withCapabilities() lowers the capabilities again on threads born inside the window with the all-thread "
                    "broadcast, which needs glibc on x86_64 or arm64; nothing was raised",
                    0, "", "window");
      });
    if (int e = ReadTail(&slot->tail))
      refuse([&] {
        ThrowSystemError(kErrSystem, e, "getdents64", "window",
                         "cannot list /proc/self/task, which withCapabilities() reads to find the threads born inside the "
                         "window (mount /proc); nothing was raised");
      });
  }
  // The registry says "raised" before the kernel does, and after it no longer does (processState relies on it).
  slot->depth.fetch_add(1, std::memory_order_acq_rel);
  slot->raised.fetch_or(raised, std::memory_order_acq_rel);
  g_windowSeq.fetch_add(1, std::memory_order_acq_rel);
  if (raised != 0) {
    CapMasks up = cur;
    up.effective |= raised;
    if (int err = PutCaps("window-raise", up)) {
      slot->raised.fetch_and(~raised, std::memory_order_acq_rel);
      slot->depth.fetch_sub(1, std::memory_order_acq_rel);
      g_windowSeq.fetch_add(1, std::memory_order_acq_rel);
      refuse([&] { ThrowSystemError(kErrSystem, err, "capset", "window", "cannot raise " + CapNames(raised)); });
    }
  }
  slot->busy.store(false, std::memory_order_seq_cst);
  ApplyPending(slot);
  return raised;
}

void WindowLeave(uint64_t raised) {
  const int tid = GetTid();
  WindowSlot* slot = FindWindow(tid);
  if (raised != 0) {
    if (slot) slot->busy.store(true, std::memory_order_seq_cst);
    int e = LowerSelf("window-lower", raised);
    if (slot) slot->busy.store(false, std::memory_order_seq_cst);
    if (e) FatalWindow(CapNames(raised) + " again", e, tid);
    if (slot) ApplyPending(slot);
    // Threads born while this thread had them raised hold them too: if the last thread from
    // before is not last any more, lower them everywhere (what this thread's windows raised).
    if (slot == nullptr || !StillLast(slot->tail)) SweepBornThreads(slot ? slot->raised.load(std::memory_order_acquire) : raised);
  }
  Unregister(slot, raised, 1);
}

std::vector<WindowInfo> Windows(uint64_t* seq) {
  *seq = g_windowSeq.load(std::memory_order_acquire);
  std::vector<WindowInfo> out;
  for (auto& s : g_windows) {
    int tid = s.tid.load(std::memory_order_acquire);
    if (tid == 0) continue;
    WindowInfo w;
    w.tid = tid;
    w.depth = s.depth.load(std::memory_order_acquire);
    w.raised = s.raised.load(std::memory_order_acquire);
    if (w.depth > 0) out.push_back(w);
  }
  return out;
}

}  // namespace privdrop
