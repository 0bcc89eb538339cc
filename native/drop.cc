// dropPrivileges(): validate everything first, then the irreversible steps, then verify.
// Order and reasons: shared threads.md §5. Every irreversible failure ends in Fatal().
#include "drop.h"

#include <dirent.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/capability.h>
#include <linux/securebits.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <string>

#include "broadcast.h"
#include "error.h"
#include "faults.h"
#include "platform.h"
#include "session.h"

namespace privdrop {
namespace {

constexpr uint64_t Bit(unsigned cap) { return uint64_t{1} << cap; }

double NowMs() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<double>(ts.tv_sec) * 1e3 + static_cast<double>(ts.tv_nsec) / 1e6;
}

// ---- per-thread operations (run inside the signal handler: raw syscalls only) ----------

struct CapData {
  __user_cap_header_struct header;
  __user_cap_data_struct data[2];
};

CapData MakeCapData(uint64_t effective, uint64_t permitted, uint64_t inheritable) {
  CapData c{};
  c.header.version = _LINUX_CAPABILITY_VERSION_3;
  c.header.pid = 0;
  c.data[0].effective = static_cast<uint32_t>(effective);
  c.data[1].effective = static_cast<uint32_t>(effective >> 32);
  c.data[0].permitted = static_cast<uint32_t>(permitted);
  c.data[1].permitted = static_cast<uint32_t>(permitted >> 32);
  c.data[0].inheritable = static_cast<uint32_t>(inheritable);
  c.data[1].inheritable = static_cast<uint32_t>(inheritable >> 32);
  return c;
}

// Each call names itself, so that a test build can make exactly that call fail.
int Capset(const char* fault, const CapData& c) {
  if (Fault(fault)) return EPERM;
  CapData copy = c;  // the kernel may write the header back
  return syscall(SYS_capset, &copy.header, copy.data) == 0 ? 0 : errno;
}

int Prctl(const char* fault, long option, unsigned long a2, unsigned long a3 = 0) {
  if (Fault(fault)) return EPERM;
  return syscall(SYS_prctl, option, a2, a3, 0UL, 0UL) >= 0 ? 0 : errno;
}

int NoopOp(const void*, const char** step) {
  if (Fault("noop")) { *step = "noop (injected fault)"; return EPERM; }
  return 0;
}

// While still privileged: raise effective to permitted (setuid and friends need it on every
// thread), trim the bounding set, and arrange for permitted to survive the uid change.
struct PrepareArgs {
  const SharedKeyring* keyring;  // every thread joins the drop's one new session keyring
  CapData raise;
  uint64_t dropBounding;
  unsigned lastCap;
  bool setSecurebits;
  unsigned long securebits;
  bool setKeepcaps;
};

int PrepareOp(const void* a, const char** step) {
  const auto* p = static_cast<const PrepareArgs*>(a);
  if (int e = Fault("session-keyring") ? EPERM : JoinSharedSessionKeyring(*p->keyring)) { *step = "keyctl(KEYCTL_JOIN_SESSION_KEYRING)"; return e; }
  if (int e = Capset("capset-raise", p->raise)) { *step = "capset (raise effective)"; return e; }
  for (unsigned cap = 0; cap <= p->lastCap && cap < 64; cap++) {
    if (!(p->dropBounding & Bit(cap))) continue;
    if (int e = Prctl("capbset-drop", PR_CAPBSET_DROP, cap)) { *step = "prctl(PR_CAPBSET_DROP)"; return e; }
  }
  if (p->setSecurebits) {
    if (int e = Prctl("securebits", PR_SET_SECUREBITS, p->securebits)) { *step = "prctl(PR_SET_SECUREBITS)"; return e; }
  }
  if (p->setKeepcaps) {
    if (int e = Prctl("keepcaps-set", PR_SET_KEEPCAPS, 1)) { *step = "prctl(PR_SET_KEEPCAPS, 1)"; return e; }
  }
  return 0;
}

// After the uid change: exactly the retained sets, the ambient set, keep-caps off, no_new_privs.
struct FinalArgs {
  CapData caps;
  uint64_t ambient;
  bool clearKeepcaps;
  bool noNewPrivs;
};

int FinalOp(const void* a, const char** step) {
  const auto* f = static_cast<const FinalArgs*>(a);
  if (int e = Capset("capset-final", f->caps)) { *step = "capset (retained set)"; return e; }
  if (int e = Prctl("ambient-clear", PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL)) { *step = "prctl(PR_CAP_AMBIENT_CLEAR_ALL)"; return e; }
  for (unsigned cap = 0; cap < 64; cap++) {
    if (!(f->ambient & Bit(cap))) continue;
    if (int e = Prctl("ambient-raise", PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, cap)) { *step = "prctl(PR_CAP_AMBIENT_RAISE)"; return e; }
  }
  if (f->clearKeepcaps) {
    if (int e = Prctl("keepcaps-clear", PR_SET_KEEPCAPS, 0)) { *step = "prctl(PR_SET_KEEPCAPS, 0)"; return e; }
  }
  if (f->noNewPrivs) {
    if (int e = Prctl("no-new-privs", PR_SET_NO_NEW_PRIVS, 1)) { *step = "prctl(PR_SET_NO_NEW_PRIVS)"; return e; }
  }
  return 0;
}

// ---- reading every thread's credentials from /proc -------------------------------------

struct ThreadCreds {
  int tid = 0;
  uint32_t uid[4] = {0, 0, 0, 0};
  uint32_t gid[4] = {0, 0, 0, 0};
  std::vector<uint32_t> groups;  // sorted, unique
  uint64_t inh = 0, prm = 0, eff = 0, bnd = 0, amb = 0;
  int nnp = 0;
};

std::vector<uint32_t> SortedUnique(std::vector<uint32_t> v) {
  std::sort(v.begin(), v.end());
  v.erase(std::unique(v.begin(), v.end()), v.end());
  return v;
}

// Parses the fields the drop compares out of one status file (a hand parser: this runs for
// every thread twice per drop).
bool ParseStatus(const std::string& text, ThreadCreds* c) {
  int seen = 0;
  const char* p = text.c_str();
  auto ids = [](const char* v, uint32_t out[4]) {
    char* end = nullptr;
    for (int i = 0; i < 4; i++) {
      out[i] = static_cast<uint32_t>(strtoul(v, &end, 10));
      v = end;
    }
  };
  auto mask = [](const char* v) { return static_cast<uint64_t>(strtoull(v, nullptr, 16)); };
  while (*p) {
    const char* eol = strchr(p, '\n');
    if (eol == nullptr) eol = p + strlen(p);
    const char* colon = static_cast<const char*>(memchr(p, ':', static_cast<size_t>(eol - p)));
    if (colon != nullptr) {
      const std::string key(p, static_cast<size_t>(colon - p));
      const char* v = colon + 1;
      if (key == "Uid") { ids(v, c->uid); seen++; }
      else if (key == "Gid") { ids(v, c->gid); seen++; }
      else if (key == "Groups") {
        char* end = nullptr;
        for (;;) {
          while (v < eol && (*v == ' ' || *v == '\t')) v++;
          if (v >= eol) break;
          c->groups.push_back(static_cast<uint32_t>(strtoul(v, &end, 10)));
          if (end == v) break;
          v = end;
        }
        c->groups = SortedUnique(c->groups);
        seen++;
      }
      else if (key == "CapInh") { c->inh = mask(v); seen++; }
      else if (key == "CapPrm") { c->prm = mask(v); seen++; }
      else if (key == "CapEff") { c->eff = mask(v); seen++; }
      else if (key == "CapBnd") { c->bnd = mask(v); seen++; }
      else if (key == "CapAmb") { c->amb = mask(v); seen++; }
      else if (key == "NoNewPrivs") { c->nnp = atoi(v); seen++; }
    }
    p = *eol ? eol + 1 : eol;
  }
  return seen == 9;
}

// One thread's credentials; false if it is gone.
bool ReadThread(int dirFd, int tid, ThreadCreds* c) {
  int fd = openat(dirFd, (std::to_string(tid) + "/status").c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  std::string text;
  char buf[4096];
  ssize_t n;
  while ((n = read(fd, buf, sizeof buf)) > 0) text.append(buf, static_cast<size_t>(n));
  close(fd);
  c->tid = tid;
  return ParseStatus(text, c);
}

// Every live thread; one that exits between the listing and the read is left out.
// dirFd is /proc/self/task, opened before any chroot (the jail usually has no /proc).
std::vector<ThreadCreds> ReadThreads(int dirFd, int* err) {
  std::vector<ThreadCreds> out;
  *err = 0;
  int listFd = fcntl(dirFd, F_DUPFD_CLOEXEC, 0);
  if (listFd < 0) { *err = errno; return out; }
  DIR* dir = fdopendir(listFd);
  if (dir == nullptr) { *err = errno; close(listFd); return out; }
  rewinddir(dir);
  while (dirent* d = readdir(dir)) {
    if (d->d_name[0] < '0' || d->d_name[0] > '9') continue;
    ThreadCreds c;
    if (ReadThread(dirFd, atoi(d->d_name), &c)) out.push_back(std::move(c));  // else: exited since the listing
  }
  closedir(dir);
  if (out.empty() && *err == 0) *err = ENOENT;
  return out;
}

// What a thread with credentials c shows in the fields a broadcast can compare.
StatusTarget TargetOf(const ThreadCreds& c) {
  StatusTarget t;
  t.inh = c.inh;
  t.prm = c.prm;
  t.eff = c.eff;
  t.bnd = c.bnd;
  t.amb = c.amb;
  t.nnp = c.nnp;
  return t;
}

// The target, when the operation visibly changes a thread that has not run it yet; else null
// (then every thread found is signalled, however long threads keep being created).
const StatusTarget* VisibleChange(const ThreadCreds& before, const StatusTarget& t) {
  bool visible = before.inh != t.inh || before.prm != t.prm || before.eff != t.eff || before.bnd != t.bnd ||
                 before.amb != t.amb || before.nnp != t.nnp;
  return visible ? &t : nullptr;
}

// The checked chroot directory's descriptor, for the length of a drop.
struct ChrootDir {
  int fd = -1;
  ChrootDir() = default;
  ~ChrootDir() { if (fd >= 0) close(fd); }
  ChrootDir(const ChrootDir&) = delete;
  ChrootDir& operator=(const ChrootDir&) = delete;
};

// Owns the /proc/self/task descriptor for the length of a drop.
class TaskDir {
 public:
  TaskDir() : fd_(Fault("open-task") ? (errno = EPERM, -1) : open("/proc/self/task", O_RDONLY | O_DIRECTORY | O_CLOEXEC)) {}
  ~TaskDir() { if (fd_ >= 0) close(fd_); }
  TaskDir(const TaskDir&) = delete;
  TaskDir& operator=(const TaskDir&) = delete;
  int fd() const { return fd_; }

 private:
  int fd_;
};

std::string Hex(uint64_t v) {
  char b[24];
  snprintf(b, sizeof b, "%016llx", static_cast<unsigned long long>(v));
  return b;
}

std::string Ids(const uint32_t v[4]) {
  return std::to_string(v[0]) + "," + std::to_string(v[1]) + "," + std::to_string(v[2]) + "," + std::to_string(v[3]);
}

std::string GroupsText(const std::vector<uint32_t>& g) {
  std::string s;
  for (uint32_t x : g) s += (s.empty() ? "" : ",") + std::to_string(x);
  return "[" + s + "]";
}

// The first field in which a and b differ, or "" when they agree.
std::string FirstDifference(const ThreadCreds& a, const ThreadCreds& b, std::string* av, std::string* bv) {
  auto diff = [&](const char* name, const std::string& x, const std::string& y) -> std::string {
    if (x == y) return "";
    *av = x;
    *bv = y;
    return name;
  };
  std::string d;
  if (!(d = diff("Uid", Ids(a.uid), Ids(b.uid))).empty()) return d;
  if (!(d = diff("Gid", Ids(a.gid), Ids(b.gid))).empty()) return d;
  if (!(d = diff("Groups", GroupsText(a.groups), GroupsText(b.groups))).empty()) return d;
  if (!(d = diff("CapInh", Hex(a.inh), Hex(b.inh))).empty()) return d;
  if (!(d = diff("CapPrm", Hex(a.prm), Hex(b.prm))).empty()) return d;
  if (!(d = diff("CapEff", Hex(a.eff), Hex(b.eff))).empty()) return d;
  if (!(d = diff("CapBnd", Hex(a.bnd), Hex(b.bnd))).empty()) return d;
  if (!(d = diff("CapAmb", Hex(a.amb), Hex(b.amb))).empty()) return d;
  return diff("NoNewPrivs", std::to_string(a.nnp), std::to_string(b.nnp));
}

// "cap_net_raw,cap_sys_admin": libcap's names for the bits of mask.
std::string CapNames(uint64_t mask) {
  std::string s;
  for (unsigned cap = 0; cap < 64; cap++) {
    if (!(mask & Bit(cap))) continue;
    s += s.empty() ? "" : ",";
    s += CapName(cap);
  }
  return s;
}

unsigned LastCap() {
  std::ifstream f("/proc/sys/kernel/cap_last_cap");
  unsigned v = 0;
  if (f >> v && v < 64) return v;
  return CAP_LAST_CAP;
}

// ---- failure paths ---------------------------------------------------------------------

[[noreturn]] void Fatal(const char* step, int err, int tid, const std::string& detail) {
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

[[noreturn]] void FatalBroadcast(const char* name, const BroadcastReport& r) {
  std::string detail = std::string(r.failedStep ? r.failedStep : "?") +
                       (r.timedOut ? " (a thread did not answer within the deadline)" : "") + ", " +
                       std::to_string(r.threads) + " threads answered";
  Fatal(name, r.err, r.failedTid, detail);
}

[[noreturn]] void NotPermitted(const std::string& what) {
  throw Error("ERR_PRIVDROP_NOT_PERMITTED", what, EPERM, "", "validate");
}

}  // namespace

DropResult Drop(const DropPlan& plan) {
  DropResult result;
  const double t0 = NowMs();
  const int pid = getpid();

  // ---- 1. validation: nothing below changes the process until the prepare broadcast ----
  PlatformInfo platform = Platform();
  if (!platform.broadcastSupported)
    throw Error("ERR_PRIVDROP_UNSUPPORTED_PLATFORM", "the all-thread broadcast needs glibc on x86_64 or arm64");
  if (!IsMainThread())
    throw Error("ERR_PRIVDROP_NOT_MAIN_THREAD", "dropPrivileges() must be called on the process's main thread");
  LoadFault();
  if (plan.uid == 0) throw Error("ERR_PRIVDROP_INVALID_ARGUMENT", "the target user is root (uid 0): nothing would be dropped");

  TaskDir task;
  if (task.fd() < 0) ThrowSystemError("ERR_PRIVDROP_SYSTEM", errno, "open", "validate", "cannot open /proc/self/task (is /proc mounted?)");
  int err = 0;
  std::vector<ThreadCreds> before = ReadThreads(task.fd(), &err);
  if (Fault("read-threads")) err = EIO;
  if (err != 0) ThrowSystemError("ERR_PRIVDROP_SYSTEM", err, "read", "validate", "cannot read /proc/self/task/*/status");
  auto mainIt = std::find_if(before.begin(), before.end(), [&](const ThreadCreds& c) { return c.tid == pid; });
  if (mainIt == before.end()) throw Error("ERR_PRIVDROP_SYSTEM", "the main thread is missing from /proc/self/task", ESRCH);
  const ThreadCreds cur = *mainIt;
  for (const ThreadCreds& t : before) {
    std::string a, b;
    std::string field = FirstDifference(cur, t, &a, &b);
    if (!field.empty())
      throw Error("ERR_PRIVDROP_INCONSISTENT_THREADS",
                  "the threads of this process already disagree before the drop: " + field + " is " + a +
                      " on the main thread but " + b + " on thread " + std::to_string(t.tid) +
                      " (something changed one thread's credentials; refusing to build on that)",
                  0, "", "validate");
  }

  const unsigned lastCap = LastCap();
  const uint64_t known = lastCap >= 63 ? ~uint64_t{0} : Bit(lastCap + 1) - 1;
  const uint64_t keep = plan.caps.permitted;
  const uint64_t effective = plan.caps.effective;
  const uint64_t inheritable = plan.caps.inheritable | (plan.ambient ? keep : 0);
  if ((keep | effective | inheritable) & ~known)
    throw Error("ERR_PRIVDROP_INVALID_CAPABILITIES",
                "capability " + CapNames((keep | effective | inheritable) & ~known) + " is unknown to this kernel", EINVAL);
  if (effective & ~keep)
    throw Error("ERR_PRIVDROP_INVALID_CAPABILITIES",
                "effective capabilities must also be permitted: " + CapNames(effective & ~keep), EINVAL);
  if (keep & ~cur.prm)
    throw Error("ERR_PRIVDROP_CAPABILITY_NOT_HELD",
                "cannot keep capabilities this process does not hold in its permitted set: " + CapNames(keep & ~cur.prm),
                EPERM, "", "validate");
  if (inheritable & ~(cur.prm | cur.inh))
    throw Error("ERR_PRIVDROP_CAPABILITY_NOT_HELD",
                "cannot make inheritable capabilities this process does not hold: " + CapNames(inheritable & ~(cur.prm | cur.inh)),
                EPERM, "", "validate");
  if (plan.trimBounding && (inheritable & ~keep))
    throw Error("ERR_PRIVDROP_INVALID_ARGUMENT",
                "inheritable capabilities outside the kept set would be dropped from the bounding set: " + CapNames(inheritable & ~keep));

  const unsigned long secure = GetSecurebits();
  const unsigned long lockBits = SECBIT_NOROOT | SECBIT_NOROOT_LOCKED | SECBIT_NO_SETUID_FIXUP |
                                 SECBIT_NO_SETUID_FIXUP_LOCKED | SECBIT_KEEP_CAPS_LOCKED;
  const unsigned long newSecure = plan.lockSecurebits ? ((secure | lockBits) & ~static_cast<unsigned long>(SECBIT_KEEP_CAPS)) : secure;
  const bool setSecurebits = newSecure != secure;
  const std::vector<uint32_t> groups = SortedUnique(plan.groups);
  const bool needUid = !(cur.uid[0] == plan.uid && cur.uid[1] == plan.uid && cur.uid[2] == plan.uid && cur.uid[3] == plan.uid);
  const bool needGid = !(cur.gid[0] == plan.gid && cur.gid[1] == plan.gid && cur.gid[2] == plan.gid && cur.gid[3] == plan.gid);
  const bool needGroups = groups != cur.groups;
  const uint64_t trimMask = plan.trimBounding ? (cur.bnd & ~keep & known) : 0;
  const bool keepsAcrossSetuid = (newSecure & SECBIT_NO_SETUID_FIXUP) != 0;
  const bool useKeepcaps = needUid && keep != 0 && !keepsAcrossSetuid;

  std::string missing;
  auto require = [&](unsigned cap, bool needed, const char* why) {
    if (needed && !(cur.prm & Bit(cap))) missing += std::string(missing.empty() ? "" : "; ") + CapNames(Bit(cap)) + " " + why;
  };
  require(CAP_SETUID, needUid, "to change the uid");
  require(CAP_SETGID, needGid || needGroups, "to change the gid and supplementary groups");
  require(CAP_SETPCAP, trimMask != 0, "to drop capabilities from the bounding set (or pass boundingSet: 'unchanged')");
  require(CAP_SETPCAP, setSecurebits, "to lock the securebits");
  require(CAP_SYS_CHROOT, !plan.chroot.empty(), "to chroot");
  if (!missing.empty()) NotPermitted("this process lacks what the drop needs: " + missing);
  if (setSecurebits && (secure & (SECBIT_NOROOT_LOCKED | SECBIT_NO_SETUID_FIXUP_LOCKED | SECBIT_KEEP_CAPS_LOCKED)))
    NotPermitted("the securebits are already partly locked to other values");
  if (useKeepcaps && (secure & SECBIT_KEEP_CAPS_LOCKED) && !(secure & SECBIT_KEEP_CAPS))
    NotPermitted("keep-caps is locked off, so capabilities cannot survive the uid change");
  if (plan.ambient && keep != 0 && (secure & SECBIT_NO_CAP_AMBIENT_RAISE))
    NotPermitted("SECBIT_NO_CAP_AMBIENT_RAISE is set: the ambient set cannot be raised");

  // The directory checked here is the one chroot() gets: through this descriptor (fchdir, then
  // chroot(".")), so a rename on its path in between cannot move the jail.
  ChrootDir jail;
  if (!plan.chroot.empty()) {
    if (plan.chroot[0] != '/') throw Error("ERR_PRIVDROP_INVALID_CHROOT", "the chroot directory must be an absolute path", EINVAL, "", "validate");
    jail.fd = Fault("open-chroot") ? (errno = EPERM, -1) : open(plan.chroot.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (jail.fd < 0) {
      int e = errno;
      throw Error("ERR_PRIVDROP_INVALID_CHROOT",
                  "the chroot directory " + plan.chroot + " cannot be used: " + strerror(e), e, "open", "validate");
    }
    const char* call = "";
    if (int e = SearchAccessAt(jail.fd, &call)) {
      throw Error("ERR_PRIVDROP_INVALID_CHROOT",
                  "the chroot directory " + plan.chroot + " cannot be searched by this process (chroot() needs to): " + strerror(e), e,
                  call, "validate");
    }
  }

  // Prove that every thread answers before anything changes.
  StatusTarget anyThread;
  anyThread.any = true;
  BroadcastReport noop = Broadcast("noop", &NoopOp, nullptr, task.fd(), &anyThread);
  result.broadcasts.push_back({"noop", noop.ms, noop.threads});
  if (!noop.ok)
    throw Error("ERR_PRIVDROP_THREAD_UNREACHABLE",
                std::string("not every thread answered the no-op broadcast (") + (noop.failedStep ? noop.failedStep : "?") +
                    " on thread " + std::to_string(noop.failedTid) + "): " + strerror(noop.err) + "; nothing was changed",
                noop.err, "rt_tgsigqueueinfo", "noop-broadcast");

  // One new session keyring for every thread (root's keys stay behind). Created (and joined by
  // this thread) last, after every check: a failure to create it is still a coded error.
  const SharedKeyring keyring = Fault("create-keyring") ? (ThrowSystemError("ERR_PRIVDROP_SYSTEM", EPERM, "keyctl", "validate", "cannot create a new session keyring for the drop"), SharedKeyring{})
                                                      : CreateSharedSessionKeyring();

  // ---- 2. irreversible steps: from here on, a failure never returns -------------------
  PrepareArgs prepare{};
  prepare.keyring = &keyring;
  prepare.raise = MakeCapData(cur.prm, cur.prm, cur.inh);
  prepare.dropBounding = trimMask;
  prepare.lastCap = lastCap;
  prepare.setSecurebits = setSecurebits;
  prepare.securebits = newSecure;
  prepare.setKeepcaps = useKeepcaps;
  ThreadCreds afterPrepare = cur;
  afterPrepare.eff = cur.prm;
  afterPrepare.bnd = cur.bnd & ~trimMask;
  StatusTarget prepared = TargetOf(afterPrepare);
  BroadcastReport r = Broadcast("prepare", &PrepareOp, &prepare, task.fd(), VisibleChange(cur, prepared));
  result.broadcasts.push_back({"prepare", r.ms, r.threads});
  if (!r.ok) FatalBroadcast("prepare-broadcast", r);

  if (!plan.chroot.empty()) {
    if (Fault("fchdir") || fchdir(jail.fd) != 0) Fatal("fchdir", Fault("fchdir") ? EPERM : errno, pid, plan.chroot);
    if (Fault("chroot") || chroot(".") != 0) Fatal("chroot", Fault("chroot") ? EPERM : errno, pid, plan.chroot);
    if (Fault("chdir") || chdir("/") != 0) Fatal("chdir", Fault("chdir") ? EPERM : errno, pid, "chdir(\"/\") after chroot");
  }
  // glibc broadcasts these three to every thread itself (and aborts if the threads disagree).
  if (needGroups) {
    std::vector<gid_t> list(groups.begin(), groups.end());
    if (Fault("setgroups") || setgroups(list.size(), list.data()) != 0)
      Fatal("setgroups", Fault("setgroups") ? EPERM : errno, pid, GroupsText(groups));
  }
  if (needGid && (Fault("setresgid") || setresgid(plan.gid, plan.gid, plan.gid) != 0))
    Fatal("setresgid", Fault("setresgid") ? EPERM : errno, pid, std::to_string(plan.gid));
  if (needUid && (Fault("setresuid") || setresuid(plan.uid, plan.uid, plan.uid) != 0))
    Fatal("setresuid", Fault("setresuid") ? EPERM : errno, pid, std::to_string(plan.uid));

  FinalArgs fin{};
  fin.caps = MakeCapData(effective, keep, inheritable);
  fin.ambient = plan.ambient ? keep : 0;
  fin.clearKeepcaps = useKeepcaps;
  fin.noNewPrivs = plan.noNewPrivs;
  // What every thread must show at the end: the final broadcast's target and what is verified.
  ThreadCreds want = cur;
  for (int i = 0; i < 4; i++) { want.uid[i] = plan.uid; want.gid[i] = plan.gid; }
  want.groups = groups;
  want.inh = inheritable;
  want.prm = keep;
  want.eff = effective;
  want.bnd = cur.bnd & ~trimMask;
  want.amb = plan.ambient ? keep : 0;
  want.nnp = (plan.noNewPrivs || cur.nnp) ? 1 : 0;
  StatusTarget finished = TargetOf(want);
  ThreadCreds beforeFinal;
  const bool selfRead = ReadThread(task.fd(), pid, &beforeFinal);
  r = Broadcast("final", &FinalOp, &fin, task.fd(), selfRead ? VisibleChange(beforeFinal, finished) : nullptr);
  result.broadcasts.push_back({"final", r.ms, r.threads});
  if (!r.ok) FatalBroadcast("final-broadcast", r);

  // ---- 3. verification: every thread, as the kernel reports it -------------------------
  std::vector<ThreadCreds> after = ReadThreads(task.fd(), &err);
  if (Fault("verify")) err = EIO;
  if (err != 0) Fatal("verify", err, pid, "cannot read /proc/self/task/*/status");
  for (const ThreadCreds& t : after) {
    std::string expected, actual;
    std::string field = FirstDifference(want, t, &expected, &actual);
    if (!field.empty()) Fatal("verify", 0, t.tid, field + " is " + actual + ", expected " + expected);
  }
  result.threads = static_cast<int>(after.size());

  // CERT POS37-C: an attempt to regain root must fail (unless cap_setuid was kept on purpose).
  result.regainChecked = !(keep & Bit(CAP_SETUID));
  if (result.regainChecked) {
    bool regained = syscall(SYS_setresuid, -1, 0, -1) == 0 || Fault("regain-check");
    if (regained) Fatal("regain-check", 0, pid, "setresuid(-1, 0, -1) succeeded after the drop");
  }
  uint64_t notKept = known & ~keep;
  if (notKept != 0) {
    unsigned probe = static_cast<unsigned>(__builtin_ctzll(notKept));
    CapData raise = MakeCapData(effective, keep | Bit(probe), inheritable);
    if (Capset("", raise) == 0) Fatal("regain-check", 0, pid, "capset could raise " + CapNames(Bit(probe)) + " again");
  }

  result.ms = NowMs() - t0;
  return result;
}

BroadcastTiming ProbeBroadcast() {
  if (!IsMainThread()) throw Error("ERR_PRIVDROP_NOT_MAIN_THREAD", "broadcasts must start on the main thread");
  BroadcastReport r = Broadcast("noop", &NoopOp, nullptr);
  if (!r.ok)
    throw Error("ERR_PRIVDROP_THREAD_UNREACHABLE",
                std::string("no-op broadcast failed on thread ") + std::to_string(r.failedTid) + ": " + strerror(r.err),
                r.err, "rt_tgsigqueueinfo", "noop-broadcast");
  return {"noop", r.ms, r.threads};
}

BroadcastTiming GlibcSetgroupsBroadcast() {
  int n = getgroups(0, nullptr);
  if (n < 0) ThrowSystemError("ERR_PRIVDROP_SYSTEM", errno, "getgroups", "", "cannot read the groups");
  std::vector<gid_t> list(static_cast<size_t>(n) + 1);
  n = getgroups(n, list.data());
  if (n < 0) ThrowSystemError("ERR_PRIVDROP_SYSTEM", errno, "getgroups", "", "cannot read the groups");
  const double t0 = NowMs();
  if (setgroups(static_cast<size_t>(n), list.data()) != 0)
    ThrowSystemError("ERR_PRIVDROP_NOT_PERMITTED", errno, "setgroups", "", "cannot time glibc's setgroups broadcast");
  BroadcastTiming t{"glibc-setgroups", NowMs() - t0, 0};
  DIR* dir = opendir("/proc/self/task");
  if (dir != nullptr) {
    while (dirent* d = readdir(dir)) t.threads += d->d_name[0] >= '0' && d->d_name[0] <= '9';
    closedir(dir);
  }
  return t;
}

}  // namespace privdrop
