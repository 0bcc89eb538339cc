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
#include <fstream>
#include <string>

#include "broadcast.h"
#include "caps.h"
#include "error.h"
#include "faults.h"
#include "platform.h"
#include "status.h"

namespace privdrop {
namespace {

constexpr uint64_t Bit(unsigned cap) { return uint64_t{1} << cap; }
constexpr int kDeadlineMs = 1000;

double NowMs() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<double>(ts.tv_sec) * 1e3 + static_cast<double>(ts.tv_nsec) / 1e6;
}

void Pause() {
  timespec pause{0, 50000};
  nanosleep(&pause, nullptr);
}

std::string Names(uint64_t mask) {
  std::string s;
  for (unsigned cap = 0; cap < 64; cap++) {
    if (!(mask & Bit(cap))) continue;
    s += s.empty() ? "" : ",";
    s += CapName(cap);
  }
  return s;
}

// ---- raw capget/capset of the calling thread (async-signal-safe) -----------------------

struct RawCaps {
  uint64_t eff = 0, prm = 0, inh = 0;
};

int GetCaps(RawCaps* out) {
  __user_cap_header_struct h{_LINUX_CAPABILITY_VERSION_3, 0};
  __user_cap_data_struct d[2]{};
  if (syscall(SYS_capget, &h, d) != 0) return errno;
  out->eff = d[0].effective | (static_cast<uint64_t>(d[1].effective) << 32);
  out->prm = d[0].permitted | (static_cast<uint64_t>(d[1].permitted) << 32);
  out->inh = d[0].inheritable | (static_cast<uint64_t>(d[1].inheritable) << 32);
  return 0;
}

int PutCaps(const char* fault, const RawCaps& c) {
  if (Fault(fault)) return EPERM;
  __user_cap_header_struct h{_LINUX_CAPABILITY_VERSION_3, 0};
  __user_cap_data_struct d[2]{};
  d[0].effective = static_cast<uint32_t>(c.eff);
  d[1].effective = static_cast<uint32_t>(c.eff >> 32);
  d[0].permitted = static_cast<uint32_t>(c.prm);
  d[1].permitted = static_cast<uint32_t>(c.prm >> 32);
  d[0].inheritable = static_cast<uint32_t>(c.inh);
  d[1].inheritable = static_cast<uint32_t>(c.inh >> 32);
  return syscall(SYS_capset, &h, d) == 0 ? 0 : errno;
}

// ---- the per-thread operation of setCapabilities ---------------------------------------

struct ApplyArgs {
  RawCaps caps;
  uint64_t lowerAmbient;  // ambient capabilities to lower explicitly (capset lowers the rest itself)
};

int NoopOp(const void*, const char** step) {
  if (Fault("setcaps-noop")) { *step = "noop (injected fault)"; return EPERM; }
  return 0;
}

int ApplyOp(const void* a, const char** step) {
  const auto* p = static_cast<const ApplyArgs*>(a);
  if (int e = PutCaps("setcaps-capset", p->caps)) { *step = "capset"; return e; }
  for (unsigned cap = 0; cap < 64; cap++) {
    if (!(p->lowerAmbient & Bit(cap))) continue;
    if (Fault("setcaps-ambient")) { *step = "prctl(PR_CAP_AMBIENT_LOWER)"; return EPERM; }
    if (syscall(SYS_prctl, PR_CAP_AMBIENT, PR_CAP_AMBIENT_LOWER, cap, 0UL, 0UL) < 0) {
      *step = "prctl(PR_CAP_AMBIENT_LOWER)";
      return errno;
    }
  }
  return 0;
}

unsigned LastCap() {
  std::ifstream f("/proc/sys/kernel/cap_last_cap");
  unsigned v = 0;
  if (f >> v && v < 64) return v;
  return CAP_LAST_CAP;
}

[[noreturn]] void Fatal(const char* step, int err, int tid, const std::string& detail) {
  char msg[1024];
  int n = snprintf(msg, sizeof msg,
                   "privdrop: FATAL: setCapabilities() failed after it had changed a thread, at step '%s' on thread "
                   "%d: %s%s%s. The threads may now hold different capabilities, so the process is aborted rather "
                   "than return to JavaScript in that state (pid %d).\n",
                   step, tid, err ? strerror(err) : "verification failed", detail.empty() ? "" : "; ", detail.c_str(),
                   static_cast<int>(getpid()));
  if (n > 0) {
    ssize_t ignored = write(STDERR_FILENO, msg, std::min(static_cast<size_t>(n), sizeof msg - 1));
    (void)ignored;
  }
  abort();
}

// ---- windows ----------------------------------------------------------------------------

constexpr int kMaxWindowThreads = 1024;  // threads inside a window at the same time

struct WindowSlot {
  std::atomic<int> tid{0};
  std::atomic<int> depth{0};
  std::atomic<uint64_t> raised{0};
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

}  // namespace

WindowsHeld::WindowsHeld(const char* what) {
  g_setting.store(true, std::memory_order_seq_cst);
  const int self = GetTid();
  if (WindowSlot* own = FindWindow(self); own != nullptr && own->depth.load() > 0) {
    g_setting.store(false, std::memory_order_seq_cst);
    throw Error("ERR_PRIVDROP_INVALID_ARGUMENT",
                std::string(what) + " cannot run inside a withCapabilities() window of the same thread: call it after the "
                "window's function has returned",
                0, "", "validate");
  }
  for (const double start = NowMs(); g_openWindows.load(std::memory_order_seq_cst) > 0;) {
    if (NowMs() - start > kDeadlineMs) {
      int tid = 0;
      for (auto& s : g_windows) if (s.depth.load() > 0) { tid = s.tid.load(); break; }
      g_setting.store(false, std::memory_order_seq_cst);
      throw Error("ERR_PRIVDROP_THREAD_UNREACHABLE",
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
    throw Error("ERR_PRIVDROP_UNSUPPORTED_PLATFORM", "the all-thread broadcast needs glibc on x86_64 or arm64");
  if (!IsMainThread())
    throw Error("ERR_PRIVDROP_NOT_MAIN_THREAD", "setCapabilities() must be called on the process's main thread", 0, "",
                "validate");
  LoadFault();

  // No window may be open while the threads change: wait for open ones to close.
  WindowsHeld held("setCapabilities()");

  TaskDir task;
  if (Fault("setcaps-open-task") ? (errno = EPERM, true) : !task.Open())
    ThrowSystemError("ERR_PRIVDROP_SYSTEM", errno, "open", "validate", "cannot open /proc/self/task (is /proc mounted?)");
  int err = 0;
  std::vector<ThreadCreds> before = ReadThreads(task.fd(), &err);
  if (err != 0) ThrowSystemError("ERR_PRIVDROP_SYSTEM", err, "read", "validate", "cannot read /proc/self/task/*/status");
  auto self = std::find_if(before.begin(), before.end(), [&](const ThreadCreds& t) { return t.tid == pid; });
  if (self == before.end()) throw Error("ERR_PRIVDROP_SYSTEM", "the main thread is missing from /proc/self/task", ESRCH);
  const ThreadCreds cur = *self;
  for (const ThreadCreds& t : before) {
    std::string a, b;
    std::string field = FirstDifference(cur, t, &a, &b);
    if (!field.empty())
      throw Error("ERR_PRIVDROP_INCONSISTENT_THREADS",
                  "the threads of this process disagree before setCapabilities(): " + field + " is " + a +
                      " on the main thread but " + b + " on thread " + std::to_string(t.tid) + "; nothing was changed",
                  0, "", "validate");
  }

  // ---- validation: what the kernel would refuse, and what only lowers ----
  const unsigned lastCap = LastCap();
  const uint64_t known = lastCap >= 63 ? ~uint64_t{0} : Bit(lastCap + 1) - 1;
  const uint64_t asked = plan.effective | plan.permitted | plan.inheritable | (plan.ambientGiven ? plan.ambient : 0);
  if (asked & ~known)
    throw Error("ERR_PRIVDROP_INVALID_CAPABILITIES", "capability " + Names(asked & ~known) + " is unknown to this kernel",
                EINVAL);
  if (plan.effective & ~plan.permitted)
    throw Error("ERR_PRIVDROP_INVALID_CAPABILITIES",
                "effective capabilities must also be permitted: " + Names(plan.effective & ~plan.permitted), EINVAL);
  const uint64_t notHeld = (plan.permitted & ~cur.prm) | (plan.inheritable & ~(cur.prm | cur.inh));
  if (notHeld)
    throw Error("ERR_PRIVDROP_CAPABILITY_NOT_HELD",
                "cannot set capabilities this process does not hold in its permitted set: " + Names(notHeld) +
                    " (a capability once lowered from the permitted set cannot be raised again); nothing was changed",
                EPERM, "", "validate");
  const uint64_t newInh = plan.inheritable & ~cur.inh;
  if (newInh & ~cur.bnd)
    throw Error("ERR_PRIVDROP_CAPABILITY_NOT_HELD",
                "cannot make inheritable capabilities outside the bounding set: " + Names(newInh & ~cur.bnd), EPERM, "",
                "validate");
  uint64_t ambient = cur.amb & plan.permitted & plan.inheritable;
  if (plan.ambientGiven) {
    if (plan.ambient & ~cur.amb)
      throw Error("ERR_PRIVDROP_CAPABILITY_NOT_HELD",
                  "setCapabilities() only lowers the ambient set; not ambient now: " + Names(plan.ambient & ~cur.amb),
                  EPERM, "", "validate");
    if (plan.ambient & ~(plan.permitted & plan.inheritable))
      throw Error("ERR_PRIVDROP_INVALID_ARGUMENT",
                  "ambient capabilities must stay permitted and inheritable: " +
                      Names(plan.ambient & ~(plan.permitted & plan.inheritable)),
                  0, "", "validate");
    ambient = plan.ambient;
  }

  // Prove that every thread answers before anything changes.
  StatusTarget anyThread;
  anyThread.any = true;
  BroadcastReport noop = Broadcast("setcaps-noop", &NoopOp, nullptr, task.fd(), &anyThread, kDeadlineMs);
  result.noopMs = noop.ms;
  result.noopThreads = noop.threads;
  if (!noop.ok)
    throw Error("ERR_PRIVDROP_THREAD_UNREACHABLE",
                std::string("not every thread answered the no-op broadcast (") + (noop.failedStep ? noop.failedStep : "?") +
                    " on thread " + std::to_string(noop.failedTid) + "): " + strerror(noop.err) + "; nothing was changed",
                noop.err, "rt_tgsigqueueinfo", "noop-broadcast");

  ApplyArgs args{};
  args.caps.eff = plan.effective;
  args.caps.prm = plan.permitted;
  args.caps.inh = plan.inheritable;
  // capset itself lowers ambient capabilities that stop being permitted and inheritable.
  args.lowerAmbient = cur.amb & plan.permitted & plan.inheritable & ~ambient;

  // First on this thread alone: capset is all or nothing, so a refusal here changes nothing.
  if (int e = PutCaps("setcaps-trial", args.caps))
    ThrowSystemError("ERR_PRIVDROP_NOT_PERMITTED", e, "capset", "trial",
                     "the kernel refused the new capability sets on the main thread (nothing was changed)");

  // ---- from here on a failure never returns ----
  StatusTarget target;
  target.inh = plan.inheritable;
  target.prm = plan.permitted;
  target.eff = plan.effective;
  target.bnd = cur.bnd;
  target.amb = ambient;
  target.nnp = cur.nnp;
  BroadcastReport r = Broadcast("setcaps", &ApplyOp, &args, task.fd(), &target, kDeadlineMs);
  result.applyMs = r.ms;
  result.applyThreads = r.threads;
  if (!r.ok) {
    Fatal("setcaps-broadcast", r.err, r.failedTid,
          std::string(r.failedStep ? r.failedStep : "?") + (r.timedOut ? " (a thread did not answer within the deadline)" : "") +
              ", " + std::to_string(r.threads) + " threads answered");
  }

  ThreadCreds want = cur;
  want.inh = target.inh;
  want.prm = target.prm;
  want.eff = target.eff;
  want.amb = target.amb;
  std::vector<ThreadCreds> after = ReadThreads(task.fd(), &err);
  if (Fault("setcaps-verify")) err = EIO;
  if (err != 0) Fatal("verify", err, pid, "cannot read /proc/self/task/*/status");
  for (const ThreadCreds& t : after) {
    std::string expected, actual;
    std::string field = FirstDifference(want, t, &expected, &actual);
    if (!field.empty()) Fatal("verify", 0, t.tid, field + " is " + actual + ", expected " + expected);
  }
  result.threads = static_cast<int>(after.size());
  result.effective = want.eff;
  result.permitted = want.prm;
  result.inheritable = want.inh;
  result.ambient = want.amb;
  result.bounding = want.bnd;
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
      throw Error("ERR_PRIVDROP_THREAD_UNREACHABLE", "setCapabilities() on the main thread did not finish in time", ETIMEDOUT);
    Pause();
  }
  RawCaps cur;
  int e = GetCaps(&cur);
  if (e == 0 && (mask & ~cur.prm)) {
    g_openWindows.fetch_sub(1, std::memory_order_seq_cst);
    throw Error("ERR_PRIVDROP_CAPABILITY_NOT_HELD",
                "cannot raise capabilities this thread does not hold in its permitted set: " + Names(mask & ~cur.prm) +
                    " (keep them permitted-only in the drop, e.g. capabilities: '" + Names(mask & ~cur.prm) +
                    "+p')",
                EPERM, "", "window");
  }
  WindowSlot* slot = e == 0 ? ClaimWindow(tid) : nullptr;
  if (slot == nullptr) {
    g_openWindows.fetch_sub(1, std::memory_order_seq_cst);
    if (e != 0) ThrowSystemError("ERR_PRIVDROP_SYSTEM", e, "capget", "window", "cannot read this thread's capabilities");
    throw Error("ERR_PRIVDROP_SYSTEM", "too many threads inside capability windows", EMFILE);
  }
  const uint64_t raised = mask & ~cur.eff;
  // The registry says "raised" before the kernel does, and after it no longer does (processState relies on it).
  slot->depth.fetch_add(1, std::memory_order_acq_rel);
  slot->raised.fetch_or(raised, std::memory_order_acq_rel);
  g_windowSeq.fetch_add(1, std::memory_order_acq_rel);
  if (raised != 0) {
    RawCaps up = cur;
    up.eff |= raised;
    if (int err = PutCaps("window-raise", up)) {
      slot->raised.fetch_and(~raised, std::memory_order_acq_rel);
      if (slot->depth.fetch_sub(1, std::memory_order_acq_rel) == 1) slot->tid.store(0, std::memory_order_release);
      g_windowSeq.fetch_add(1, std::memory_order_acq_rel);
      g_openWindows.fetch_sub(1, std::memory_order_seq_cst);
      ThrowSystemError("ERR_PRIVDROP_SYSTEM", err, "capset", "window", "cannot raise " + Names(raised));
    }
  }
  return raised;
}

void WindowLeave(uint64_t raised) {
  const int tid = GetTid();
  if (raised != 0) {
    RawCaps cur;
    int e = GetCaps(&cur);
    if (e == 0) {
      RawCaps down = cur;
      down.eff &= ~raised;
      e = PutCaps("window-lower", down);
    }
    RawCaps check;
    if (e == 0) e = GetCaps(&check);
    if (e != 0 || (check.eff & raised)) {
      char msg[512];
      int n = snprintf(msg, sizeof msg,
                       "privdrop: FATAL: withCapabilities() could not lower %s again on thread %d: %s. The process is "
                       "aborted rather than run on with the capability in effect (pid %d).\n",
                       Names(raised).c_str(), tid, e ? strerror(e) : "still effective", static_cast<int>(getpid()));
      if (n > 0) {
        ssize_t ignored = write(STDERR_FILENO, msg, std::min(static_cast<size_t>(n), sizeof msg - 1));
        (void)ignored;
      }
      abort();
    }
  }
  if (WindowSlot* slot = FindWindow(tid)) {
    slot->raised.fetch_and(~raised, std::memory_order_acq_rel);
    if (slot->depth.fetch_sub(1, std::memory_order_acq_rel) == 1) slot->tid.store(0, std::memory_order_release);
  }
  g_windowSeq.fetch_add(1, std::memory_order_acq_rel);
  g_openWindows.fetch_sub(1, std::memory_order_seq_cst);
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
