// The all-thread broadcast (see broadcast.h for the contract and the steps).
//
// Signal 33 is glibc's SIGSETXID: the only signal that also reaches Node's inspector thread,
// which blocks every real-time signal above it. privdrop's handler is installed only while a
// broadcast runs and the previous disposition (glibc's) is put back after, so glibc's own setxid
// broadcasts keep working and no chain of handlers can outlive a call. Our signals carry SI_QUEUE;
// glibc's handler ignores anything that is not SI_TKILL, so even a late signal of ours is harmless.
#include "broadcast.h"

#include "faults.h"
#include "platform.h"
#include "task_dir.h"

#include <fcntl.h>
#include <signal.h>
#include <linux/futex.h>
#include <sys/random.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <climits>
#include <cstdint>
#include <cstdlib>
#include <cstring>

namespace privdrop {
namespace {

constexpr int kSignal = 33;
constexpr int kMaxThreads = 16384;
constexpr int kIndexSize = 32768;  // open-addressing tid -> slot index, at most half full

enum SlotState : int { kPending = 0, kDone = 1, kFailed = 2, kVanished = 3, kUnsent = 4, kAlready = 5 };

struct Slot {
  std::atomic<int> tid{0};
  std::atomic<int> state{kPending};
  std::atomic<uint64_t> cookie{0};
  int err = 0;
  const char* step = nullptr;
};

// The kernel's struct sigaction for rt_sigaction (x86_64 and arm64 share this layout).
struct KernelSigaction {
  void* handler;
  unsigned long flags;
  void (*restorer)(void);
  uint64_t mask;
};

#ifndef SA_RESTORER
#define SA_RESTORER 0x04000000
#endif

Slot g_slots[kMaxThreads];
int g_slotCount = 0;
int g_index[kIndexSize];  // slot index + 1, 0 = empty
std::atomic<bool> g_active{false};
std::atomic<int> g_owner{0};  // the thread running a broadcast, 0 when none
// Signals queued and not yet answered: the futex word the calling thread sleeps on (as glibc's
// setxid does); the handler that brings it to 0 wakes it. 32-bit, as a futex needs.
std::atomic<int> g_outstanding{0};
static_assert(sizeof(std::atomic<int>) == sizeof(int), "futex word");
std::atomic<uint64_t> g_cookie{0};
std::atomic<ThreadOp> g_op{nullptr};
std::atomic<const void*> g_arg{nullptr};
std::atomic<const char*> g_name{nullptr};
KernelSigaction g_previous{};
std::atomic<bool> g_previousSet{false};
// The listing and status buffers live outside the stack: no allocation while signals are out.
alignas(8) char g_dents[32768];
char g_status[8192];

inline int RawTid() { return static_cast<int>(syscall(SYS_gettid)); }

void Chain(int sig, siginfo_t* info, void* ctx) {
  if (!g_previousSet.load(std::memory_order_acquire)) return;
  void* h = g_previous.handler;
  if (h == reinterpret_cast<void*>(SIG_DFL) || h == reinterpret_cast<void*>(SIG_IGN)) return;
  if (g_previous.flags & SA_SIGINFO) {
    reinterpret_cast<void (*)(int, siginfo_t*, void*)>(h)(sig, info, ctx);
  } else {
    reinterpret_cast<void (*)(int)>(h)(sig);
  }
}

void Handler(int sig, siginfo_t* info, void* ctx) {
  if (info != nullptr && info->si_code == SI_QUEUE && info->si_pid == getpid() &&
      g_active.load(std::memory_order_acquire)) {
    auto p = reinterpret_cast<uintptr_t>(info->si_value.sival_ptr);
    auto base = reinterpret_cast<uintptr_t>(&g_slots[0]);
    if (p >= base && p < base + sizeof(g_slots) && (p - base) % sizeof(Slot) == 0) {
      Slot* slot = reinterpret_cast<Slot*>(p);
      if (slot->cookie.load(std::memory_order_acquire) == g_cookie.load(std::memory_order_acquire) &&
          slot->tid.load(std::memory_order_acquire) == RawTid() &&
          slot->state.load(std::memory_order_acquire) == kPending) {
        int saved = errno;
        if (Injected(Hook("silent", g_name.load(std::memory_order_acquire)))) {  // test: a thread that never answers
          errno = saved;
          return;
        }
        const char* step = nullptr;
        ThreadOp op = g_op.load(std::memory_order_acquire);
        int r = op(g_arg.load(std::memory_order_acquire), &step);
        slot->err = r;
        slot->step = step;
        int expected = kPending;
        if (slot->state.compare_exchange_strong(expected, r == 0 ? kDone : kFailed, std::memory_order_acq_rel) &&
            g_outstanding.fetch_sub(1, std::memory_order_acq_rel) == 1) {
          syscall(SYS_futex, &g_outstanding, FUTEX_WAKE_PRIVATE, INT_MAX, nullptr, nullptr, 0);
        }
        errno = saved;
        return;
      }
    }
  }
  Chain(sig, info, ctx);
}

// Installs Handler for signal 33 and remembers what was there. A handler of ours still
// installed (left by a broadcast that timed out) keeps the disposition it had saved.
int Install() {
  KernelSigaction cur{};
  if (syscall(SYS_rt_sigaction, kSignal, nullptr, &cur, sizeof(uint64_t)) != 0) return errno;
  if (cur.handler == reinterpret_cast<void*>(&Handler)) return 0;
#if defined(__x86_64__)
  // x86_64 returns from a handler through the restorer; borrow glibc's.
  if (!(cur.flags & SA_RESTORER) || cur.restorer == nullptr) return ENOTSUP;
#endif
  g_previousSet.store(false, std::memory_order_release);
  g_previous = cur;
  g_previousSet.store(true, std::memory_order_release);
  KernelSigaction ours = cur;
  ours.handler = reinterpret_cast<void*>(&Handler);
  ours.flags = cur.flags | SA_SIGINFO | SA_ONSTACK | SA_RESTART;
  if (syscall(SYS_rt_sigaction, kSignal, &ours, nullptr, sizeof(uint64_t)) != 0) return errno;
  return 0;
}

// Puts the previous disposition back. Only called once no signal of ours can still arrive.
void Restore() {
  if (!g_previousSet.load(std::memory_order_acquire)) return;
  KernelSigaction cur{};
  if (syscall(SYS_rt_sigaction, kSignal, nullptr, &cur, sizeof(uint64_t)) != 0) return;
  if (cur.handler != reinterpret_cast<void*>(&Handler)) return;  // someone replaced ours meanwhile: leave theirs
  syscall(SYS_rt_sigaction, kSignal, &g_previous, nullptr, sizeof(uint64_t));
}

uint64_t NewCookie() {
  uint64_t c = 0;
  if (getrandom(&c, sizeof c, GRND_NONBLOCK) != static_cast<ssize_t>(sizeof c)) {
    c = static_cast<uint64_t>(NowMs() * 1e6) ^ (static_cast<uint64_t>(getpid()) << 32);
  }
  return c | 1;  // never 0, the value of an unused slot
}

inline unsigned IndexHash(int tid) { return (static_cast<uint32_t>(tid) * 2654435761u) & (kIndexSize - 1); }

// The index of tid's slot, or -1: O(1) (the table is at most half full).
int FindSlot(int tid) {
  for (unsigned h = IndexHash(tid);; h = (h + 1) & (kIndexSize - 1)) {
    int i = g_index[h];
    if (i == 0) return -1;
    if (g_slots[i - 1].tid.load(std::memory_order_relaxed) == tid) return i - 1;
  }
}

void IndexSlot(int tid, int slot) {
  unsigned h = IndexHash(tid);
  while (g_index[h] != 0) h = (h + 1) & (kIndexSize - 1);
  g_index[h] = slot + 1;
}

// Forgets the previous broadcast's slots (all answered, gone, or no longer accepted: new cookie).
void ResetSlots() {
  for (int i = 0; i < g_slotCount; i++) {
    int tid = g_slots[i].tid.load(std::memory_order_relaxed);
    for (unsigned h = IndexHash(tid); g_index[h] != 0; h = (h + 1) & (kIndexSize - 1)) g_index[h] = 0;
    g_slots[i].cookie.store(0, std::memory_order_relaxed);
    g_slots[i].tid.store(0, std::memory_order_relaxed);
  }
  g_slotCount = 0;
}

// Queues our signal for slot's thread (slot->state is kPending); counted in g_outstanding
// unless it could not be queued.
int Send(const char* phase, int pid, Slot* slot) {
  siginfo_t info;
  std::memset(&info, 0, sizeof info);
  info.si_signo = kSignal;
  info.si_code = SI_QUEUE;
  info.si_pid = pid;
  info.si_uid = getuid();
  info.si_value.sival_ptr = slot;
  return HookedOp(Hook("rt_tgsigqueueinfo", phase), [&] {
    g_outstanding.fetch_add(1, std::memory_order_acq_rel);
    if (syscall(SYS_rt_tgsigqueueinfo, pid, slot->tid.load(std::memory_order_relaxed), kSignal, &info) == 0) return 0;
    int err = errno;
    g_outstanding.fetch_sub(1, std::memory_order_acq_rel);
    return err;
  });
}

// A pending slot whose thread has exited (tgkill says ESRCH) will never answer: it is done.
void CheckVanished(int pid, Slot& s) {
  if (syscall(SYS_tgkill, pid, s.tid.load(std::memory_order_relaxed), 0) == 0 || errno != ESRCH) return;
  int expected = kPending;
  if (s.state.compare_exchange_strong(expected, kVanished, std::memory_order_acq_rel))
    g_outstanding.fetch_sub(1, std::memory_order_acq_rel);
}

// Sleeps until the last outstanding signal is answered, or at most `us` microseconds.
// Returns false when it woke without the count reaching 0 (timeout, or nothing outstanding).
bool SleepForAnswers(long us) {
  int out = g_outstanding.load(std::memory_order_acquire);
  if (out <= 0) {
    timespec pause{0, us * 1000};
    nanosleep(&pause, nullptr);
    return false;
  }
  timespec limit{0, us * 1000};
  syscall(SYS_futex, &g_outstanding, FUTEX_WAIT_PRIVATE, out, &limit, nullptr, 0);
  return g_outstanding.load(std::memory_order_acquire) == 0;
}

// How long the calling thread sleeps between checks for threads that exited or signals to resend.
constexpr long kCheckUs = 200;

// Whether thread `tid` already shows the target state (read from /proc, no allocation).
bool AlreadyThere(int dirFd, int tid, const StatusTarget& t) {
  if (t.fields == 0) return true;
  char path[32];
  char digits[16];
  int n = 0;
  for (int v = tid; v > 0 && n < 15; v /= 10) digits[n++] = static_cast<char>('0' + v % 10);
  int len = 0;
  while (n > 0) path[len++] = digits[--n];
  std::memcpy(path + len, "/status", 8);
  int fd = static_cast<int>(syscall(SYS_openat, dirFd, path, O_RDONLY | O_CLOEXEC));
  if (fd < 0) return false;
  ssize_t got = 0, r;
  while (got < static_cast<ssize_t>(sizeof g_status) - 1 &&
         (r = read(fd, g_status + got, sizeof g_status - 1 - static_cast<size_t>(got))) > 0) got += r;
  close(fd);
  g_status[got > 0 ? got : 0] = '\0';
  ThreadCreds shown;  // no groups: its vector stays empty, unallocated
  return ParseStatus(g_status, &shown, false) && FirstDifferingField(*t.want, shown, t.fields & ~kGroups) < 0;
}

// One pass over /proc/self/task: gives every thread not seen yet a slot and, unless it already
// shows the target state (passes after the first), a signal.
// Returns how many new threads it signalled, or -errno.
// *what names the failing call: "list-threads" or "send-signal".
int Pass(const char* phase, int dirFd, int pid, int self, uint64_t cookie, bool firstPass, const StatusTarget* target,
         const char** what) {
  *what = "list-threads";
  if (lseek(dirFd, 0, SEEK_SET) < 0) return -errno;
  int found = 0;
  for (;;) {
    long n = Hooked(Hook("getdents64", phase), [&] { return syscall(SYS_getdents64, dirFd, g_dents, sizeof g_dents); });
    if (n < 0) return -errno;
    if (n == 0) break;
    for (long off = 0; off < n;) {
      auto* d = reinterpret_cast<LinuxDirent64*>(g_dents + off);
      off += d->d_reclen;
      int tid = ParseTid(d->d_name);
      if (tid == 0 || tid == self || FindSlot(tid) >= 0) continue;
      if (g_slotCount >= kMaxThreads) return -EMFILE;
      const int index = g_slotCount++;
      Slot& slot = g_slots[index];
      slot.err = 0;
      slot.step = nullptr;
      slot.state.store(kPending, std::memory_order_relaxed);
      slot.tid.store(tid, std::memory_order_relaxed);
      slot.cookie.store(cookie, std::memory_order_release);
      IndexSlot(tid, index);
      if (!firstPass && target != nullptr && AlreadyThere(dirFd, tid, *target)) {
        slot.state.store(kAlready, std::memory_order_release);
        continue;
      }
      found++;
      int err = Send(phase, pid, &slot);
      if (err == ESRCH) slot.state.store(kVanished, std::memory_order_release);
      else if (err == EAGAIN) slot.state.store(kUnsent, std::memory_order_release);  // queue full: next round
      else if (err != 0) {
        slot.state.store(kUnsent, std::memory_order_release);  // never queued: nothing to wait for
        *what = "send-signal";
        return -err;
      }
    }
  }
  return found;
}

// After a failure: waits (bounded) for the threads already signalled, so that none is still
// running the operation when Broadcast returns.
void Drain(int pid, int deadlineMs) {
  const double until = NowMs() + deadlineMs;
  for (unsigned round = 0;; round++) {
    bool pending = false;
    for (int i = 0; i < g_slotCount; i++) {
      Slot& s = g_slots[i];
      if (s.state.load(std::memory_order_acquire) != kPending) continue;
      if (round > 0) CheckVanished(pid, s);
      pending = pending || s.state.load(std::memory_order_acquire) == kPending;
    }
    if (!pending || NowMs() > until) return;
    SleepForAnswers(kCheckUs);
  }
}

void Fail(BroadcastReport* r, int err, int tid, const char* step, bool mechanism) {
  r->err = err;
  r->failedTid = tid;
  r->failedStep = step;
  r->mechanism = mechanism;
}

}  // namespace

BroadcastReport Broadcast(const char* name, ThreadOp op, const void* arg, int taskDirFd, const StatusTarget* target,
                          int deadlineMs) {
  BroadcastReport report;
  const double start = NowMs();
  const int pid = getpid();
  const int self = RawTid();
  // One broadcast at a time: a window closing on a Worker broadcasts too (native/capset.cc).
  // The wait sleeps, so this thread still answers the broadcast it waits for.
  for (int expected = 0; !g_owner.compare_exchange_strong(expected, self, std::memory_order_acq_rel); expected = 0) {
    if (NowMs() - start > static_cast<double>(deadlineMs) * 10) {
      Fail(&report, EBUSY, expected, "another-broadcast", true);
      return report;
    }
    timespec pause{0, 50000};
    nanosleep(&pause, nullptr);
  }
  struct Release {
    ~Release() { g_owner.store(0, std::memory_order_release); }
  } release;
  const bool ownFd = taskDirFd < 0;
  int dirFd = ownFd ? static_cast<int>(syscall(SYS_openat, AT_FDCWD, "/proc/self/task", O_RDONLY | O_DIRECTORY | O_CLOEXEC))
                    : taskDirFd;
  if (dirFd < 0) {
    Fail(&report, errno, self, "open-/proc/self/task", true);
    return report;
  }
  if (int err = HookedOp(Hook("rt_sigaction", name), Install)) {
    Fail(&report, err, self, "install-handler", true);
    if (ownFd) close(dirFd);
    return report;
  }

  ResetSlots();
  g_outstanding.store(0, std::memory_order_release);  // no signal of an earlier broadcast counts here
  const uint64_t cookie = NewCookie();
  g_op.store(op, std::memory_order_relaxed);
  g_arg.store(arg, std::memory_order_relaxed);
  g_name.store(name, std::memory_order_relaxed);
  g_cookie.store(cookie, std::memory_order_relaxed);
  g_active.store(true, std::memory_order_seq_cst);

  // deadlineMs bounds the time without progress (no thread answering); a machine so loaded
  // that threads wait long for a CPU still finishes, within kMaxFactor times that overall.
  constexpr int kMaxFactor = 10;
  const double hardDeadline = start + static_cast<double>(deadlineMs) * kMaxFactor;
  double lastProgress = start;
  int answered = 0;
  bool finished = false;
  bool selfDone = false;
  while (!finished) {
    const char* passFailure = nullptr;
    int found = Pass(name, dirFd, pid, self, cookie, !selfDone, target, &passFailure);
    if (!selfDone) {
      // The calling thread's own share runs while the signalled threads run theirs.
      selfDone = true;
      const char* step = nullptr;
      if (int err = op(arg, &step)) Fail(&report, err, self, step, false);
    }
    if (found < 0 && report.err == 0) Fail(&report, -found, self, passFailure, true);
    if (report.err != 0) break;
    // Wait for every slot handed out so far: asleep on the futex until the last answer (or
    // kCheckUs), then look for threads that exited and signals that could not be queued.
    bool waiting = true;
    bool stalled = false;
    while (waiting) {
      waiting = false;
      int settled = 0;
      for (int i = 0; i < g_slotCount; i++) {
        Slot& s = g_slots[i];
        int st = s.state.load(std::memory_order_acquire);
        if (st == kUnsent) {
          s.state.store(kPending, std::memory_order_release);  // before the signal can arrive
          int e = Send(name, pid, &s);
          if (e == EAGAIN) s.state.store(kUnsent, std::memory_order_release);
          else if (e == ESRCH) s.state.store(kVanished, std::memory_order_release);
          else if (e != 0) { s.state.store(kUnsent, std::memory_order_release); Fail(&report, e, s.tid, "send-signal", true); break; }
        } else if (st == kPending && stalled) {
          // A thread that exited before it could answer is done. Only after a sleep in which
          // no thread answered: most threads answer within microseconds.
          CheckVanished(pid, s);
        }
        st = s.state.load(std::memory_order_acquire);
        if (st == kPending || st == kUnsent) waiting = true;
        else settled++;
      }
      if (report.err != 0) break;
      if (!waiting) break;
      const double now = NowMs();
      if (settled > answered) {
        answered = settled;
        lastProgress = now;
      }
      if (now - lastProgress > deadlineMs || now > hardDeadline) break;
      const int before = g_outstanding.load(std::memory_order_acquire);
      stalled = !SleepForAnswers(kCheckUs) && g_outstanding.load(std::memory_order_acquire) == before;
    }
    if (report.err != 0) break;
    if (waiting) {
      report.timedOut = true;
      Fail(&report, ETIMEDOUT, 0, "no-answer", true);
      for (int i = 0; i < g_slotCount; i++) {
        int st = g_slots[i].state.load(std::memory_order_acquire);
        if (st == kPending || st == kUnsent) { report.failedTid = g_slots[i].tid; break; }
      }
      break;
    }
    finished = (found == 0);
  }
  if (report.err != 0 && !report.timedOut) Drain(pid, deadlineMs);
  if (ownFd) close(dirFd);
  g_active.store(false, std::memory_order_seq_cst);

  // Put the previous handler back, unless a signal of ours may still be queued for a thread
  // that has not taken it (sent, never answered): then ours stays, inert (g_active is false, so
  // it only passes signals on), and the next broadcast reuses it.
  bool maybeQueued = false;
  report.threads = 1;
  for (int i = 0; i < g_slotCount; i++) {
    Slot& s = g_slots[i];
    int st = s.state.load(std::memory_order_acquire);
    if (st == kDone || st == kAlready) report.threads++;
    if (st == kPending) maybeQueued = true;
    if (st == kFailed && report.err == 0) Fail(&report, s.err, s.tid.load(std::memory_order_relaxed), s.step, false);
  }
  if (!maybeQueued) Restore();
  report.ok = report.err == 0;
  report.ms = NowMs() - start;
  return report;
}

}  // namespace privdrop
