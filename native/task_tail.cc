// The last thread of the process, read from a kept /proc/self/task (see task_tail.h).
#include "task_tail.h"

#include <fcntl.h>
#include <sched.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>

#include "faults.h"
#include "platform.h"
#include "task_dir.h"

namespace privdrop {
namespace {

constexpr int kLockDeadlineMs = 1000;

struct KeptDir {
  std::atomic<int> fd{-1};
  dev_t dev = 0;
  ino_t ino = 0;
};
KeptDir g_tailDir, g_sweepDir;
std::atomic<int> g_lock{0};  // one reader of g_tailDir at a time (readers share its position)

// The last tail read, for windows that open later: any thread alive before a window raised
// anything will do as its tail. A sequence lock: odd while written.
std::atomic<uint32_t> g_cacheSeq{0};
std::atomic<int> g_cacheIndex{0}, g_cacheTid{0};
std::atomic<uint64_t> g_cacheIno{0};

bool Lock() {
  const double start = NowMs();
  for (int spins = 0;; spins++) {
    int expected = 0;
    if (g_lock.compare_exchange_weak(expected, 1, std::memory_order_acquire)) return true;
    if (spins < 16) {
      sched_yield();
      continue;
    }
    if (NowMs() - start > kLockDeadlineMs) return false;
    timespec pause{0, 20000};
    nanosleep(&pause, nullptr);
  }
}

void Unlock() { g_lock.store(0, std::memory_order_release); }

int OpenKept(KeptDir* d) {
  if (d->fd.load(std::memory_order_acquire) >= 0) return 0;
  int fd = static_cast<int>(syscall(SYS_openat, AT_FDCWD, "/proc/self/task", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (fd < 0) return errno;
  struct stat st;
  if (fstat(fd, &st) != 0) {
    int e = errno;
    close(fd);
    return e;
  }
  d->dev = st.st_dev;
  d->ino = st.st_ino;
  d->fd.store(fd, std::memory_order_release);
  return 0;
}

// Lists the threads from position `index` to the end (every getdents64 until it returns 0, so
// that the kernel keeps no "where the last read stopped" for the next one). Returns how many
// there were, the first and the last; or -errno.
int ListFrom(int fd, int index, TaskTail* first, TaskTail* last) {
  if (lseek(fd, 2 + index, SEEK_SET) < 0) return -errno;  // 0 and 1 are "." and ".."
  alignas(8) char buf[2048];
  int count = 0;
  for (;;) {
    long n = syscall(SYS_getdents64, fd, buf, sizeof buf);
    if (n < 0) return -errno;
    if (n == 0) return count;
    for (long off = 0; off < n;) {
      auto* d = reinterpret_cast<LinuxDirent64*>(buf + off);
      off += d->d_reclen;
      int tid = ParseTid(d->d_name);
      if (tid == 0) continue;
      TaskTail t;
      t.valid = true;
      t.index = index + count;
      t.tid = tid;
      t.ino = d->d_ino;
      if (count == 0) *first = t;
      *last = t;
      count++;
    }
  }
}

void Remember(const TaskTail& t) {
  g_cacheSeq.fetch_add(1, std::memory_order_seq_cst);
  g_cacheIndex.store(t.index, std::memory_order_seq_cst);
  g_cacheTid.store(t.tid, std::memory_order_seq_cst);
  g_cacheIno.store(t.ino, std::memory_order_seq_cst);
  g_cacheSeq.fetch_add(1, std::memory_order_seq_cst);
}

bool Remembered(TaskTail* out) {
  uint32_t s1 = g_cacheSeq.load(std::memory_order_seq_cst);
  if (s1 == 0 || (s1 & 1)) return false;
  out->index = g_cacheIndex.load(std::memory_order_seq_cst);
  out->tid = g_cacheTid.load(std::memory_order_seq_cst);
  out->ino = g_cacheIno.load(std::memory_order_seq_cst);
  out->valid = true;
  return g_cacheSeq.load(std::memory_order_seq_cst) == s1;
}

// Whether the kept descriptor still is the directory it was opened as (a slow path only).
bool SameDir(const KeptDir& d) {
  struct stat st;
  int fd = d.fd.load(std::memory_order_acquire);
  return fd >= 0 && fstat(fd, &st) == 0 && st.st_dev == d.dev && st.st_ino == d.ino;
}

}  // namespace

int OpenTaskDirs() {
  if (!Lock()) return ETIMEDOUT;
  int e = OpenKept(&g_tailDir);
  if (e == 0) e = OpenKept(&g_sweepDir);
  Unlock();
  return e;
}

int SweepTaskDir() {
  // Called by the one running broadcast only. A descriptor closed and reused behind our back is
  // replaced by a fresh one (or -1, which makes the broadcast fail: the caller then aborts).
  if (!SameDir(g_sweepDir)) {
    g_sweepDir.fd.store(-1, std::memory_order_release);
    if (OpenKept(&g_sweepDir) != 0) return -1;
  }
  return g_sweepDir.fd.load(std::memory_order_acquire);
}

namespace {

int ListTail(TaskTail* out, bool fresh) {
  if (!fresh && Remembered(out)) return 0;
  if (int e = OpenTaskDirs()) return e;
  if (!Lock()) return ETIMEDOUT;
  TaskTail first, last;
  int fd = g_tailDir.fd.load(std::memory_order_acquire);
  int n = ListFrom(fd, 0, &first, &last);
  Unlock();
  if (n < 0) return -n;
  if (n == 0) return ENOENT;  // this thread at least is there: not /proc/self/task any more
  Remember(last);
  *out = last;
  return 0;
}

}  // namespace

int ReadTail(TaskTail* out, bool fresh) {
  return HookedOp("window-tail", [&] { return ListTail(out, fresh); });
}

bool StillLast(const TaskTail& tail) {
  if (!tail.valid || !Lock()) return false;
  TaskTail first, last;
  int n = ListFrom(g_tailDir.fd.load(std::memory_order_acquire), tail.index, &first, &last);
  Unlock();
  return n == 1 && first.tid == tail.tid && first.ino == tail.ino;
}

}  // namespace privdrop
