// dropPrivileges(): Drop() reads as its steps (drop.h). Each step is a function; the context
// carries what validation found to the steps after it. Every irreversible failure ends in Fatal().
#include "drop.h"

#include <fcntl.h>
#include <grp.h>
#include <linux/capability.h>
#include <linux/securebits.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <new>
#include <string>
#include <type_traits>

#include "broadcast.h"
#include "caps.h"
#include "debug_signal.h"
#include "error.h"
#include "fatal.h"
#include "faults.h"
#include "platform.h"
#include "session.h"
#include "status.h"
#include "thread_ops.h"

namespace privdrop {
namespace {

constexpr uint64_t Bit(unsigned cap) { return uint64_t{1} << cap; }

// Every error before the first irreversible step carries the step's name.
[[noreturn]] void Refuse(const char* step, const std::string& code, const std::string& what, int err = 0,
                         const std::string& syscall = "") {
  throw Error(code, what, err, syscall, step);
}

[[noreturn]] void RefuseSystem(const char* step, int err, const std::string& syscall, const std::string& what) {
  ThrowSystemError(kErrSystem, err, syscall, step, what);
}

// The checked chroot directory's descriptor, for the length of a drop.
struct ChrootDir {
  int fd = -1;
  ChrootDir() = default;
  ~ChrootDir() { if (fd >= 0) close(fd); }
  ChrootDir(const ChrootDir&) = delete;
  ChrootDir& operator=(const ChrootDir&) = delete;
};

// What validation learns and the later steps use.
struct Context {
  explicit Context(const DropPlan& p) : plan(p) {}
  const DropPlan& plan;
  TaskDir task;
  int pid = 0;
  ThreadCreds cur;                  // the main thread before the drop (every thread agrees)
  std::vector<gid_t> currentGroups; // getgroups(): the exact list now, for the rehearsal
  unsigned lastCap = 0;
  uint64_t known = 0;               // capabilities the kernel knows
  uint64_t trimMask = 0;            // dropped from the bounding set
  bool needUid = false, needGid = false, needGroups = false;
  bool setSecurebits = false;
  unsigned long newSecurebits = 0;
  bool useKeepcaps = false;
  ThreadCreds want;                 // what every thread must show at the end (its prm: the kept set)
  ChrootDir jail;                   // the chroot directory as checked: chroot() goes through it
  SharedKeyring keyring;            // the drop's one new session keyring (created after the rehearsal)
  bool keysRefused = KeyCallsRefused();  // this thread can make no key call (session.h)
};

// ---- validate: nothing here changes the process ---------------------------------------------

// A thread whose seccomp filters are not the calling thread's (another addon's or an LD_PRELOAD
// library's thread that installed one without SECCOMP_FILTER_FLAG_TSYNC) is refused: the rehearsal
// proves what a filter lets through only by making the calls, and a filter that kills or traps
// (SECCOMP_RET_KILL_*, SECCOMP_RET_TRAP) would kill that thread or the process while making them;
// one that checks arguments could refuse the transition's call after the rehearsal's passed. The
// kernel shows only the mode and the number of filters, so those are what is compared.
void CheckSeccomp(const ThreadCreds& self, const ThreadCreds& t) {
  if (t.seccomp == self.seccomp && t.seccompFilters == self.seccompFilters) return;
  auto filters = [](const ThreadCreds& x) {
    return x.seccomp == 1 ? std::string("strict mode") : x.seccomp <= 0 ? std::string("no filter")
           : x.seccompFilters < 0 ? std::string("filters") : std::to_string(x.seccompFilters) + " filter(s)";
  };
  Refuse(kStepValidate, kErrNotPermitted,
         "thread " + std::to_string(t.tid) + " has seccomp " + filters(t) + " but the main thread has " + filters(self) +
             ": a filter of that thread's own could refuse, trap or kill a call of the drop there (making the calls to find "
             "out could kill it), so the drop is refused; nothing was changed. Install seccomp filters for the whole "
             "process (before it starts threads, or with SECCOMP_FILTER_FLAG_TSYNC), or drop privileges before that "
             "thread installs its own",
         EPERM, "seccomp");
}

void Validate(Context& c) {
  const DropPlan& plan = c.plan;
  c.pid = getpid();
  PlatformInfo platform = Platform();
  if (!platform.broadcastSupported)
    Refuse(kStepValidate, kErrUnsupportedPlatform, "the all-thread broadcast needs glibc on x86_64 or arm64");
  if (!IsMainThread())
    Refuse(kStepValidate, kErrNotMainThread, "dropPrivileges() must be called on the process's main thread");
  LoadFault();
  if (plan.uid == 0)
    Refuse(kStepValidate, kErrInvalidArgument, "the target user is root (uid 0): nothing would be dropped");

  if (!c.task.Open()) RefuseSystem(kStepValidate, errno, "open", "cannot open /proc/self/task (is /proc mounted?)");
  // Every thread's state, from /proc: each must agree with the calling thread's, and none may
  // have a seccomp filter of its own (the rehearsal cannot tell what it would do, see below).
  std::vector<ThreadCreds> threads;
  int err = HookedOp("read-threads", [&] { return ReadThreads(c.task.fd(), &threads, kStepValidate); }, EIO);
  auto self = std::find_if(threads.begin(), threads.end(), [&](const ThreadCreds& t) { return t.tid == c.pid; });
  if (err == 0 && self == threads.end()) err = ESRCH;
  if (err != 0) RefuseSystem(kStepValidate, err, "read", "cannot read /proc/self/task/*/status");
  c.cur = *self;
  const ThreadCreds& cur = c.cur;
  for (const ThreadCreds& t : threads) {
    std::string a, b;
    std::string field = FirstDifference(cur, t, &a, &b);
    if (!field.empty())
      Refuse(kStepValidate, kErrInconsistentThreads,
             "the threads of this process already disagree before the drop: " + field + " is " + a +
                 " on the main thread but " + b + " on thread " + std::to_string(t.tid) +
                 " (something changed one thread's credentials; refusing to build on that)");
    CheckSeccomp(cur, t);
  }
  {
    int n = Hooked("getgroups", [] { return getgroups(0, nullptr); });
    if (n >= 0) {
      c.currentGroups.resize(static_cast<size_t>(n) + 1);
      n = getgroups(n, c.currentGroups.data());
    }
    if (n < 0) RefuseSystem(kStepValidate, errno, "getgroups", "cannot read the supplementary groups");
    c.currentGroups.resize(static_cast<size_t>(n));
  }

  c.lastCap = LastCap();
  c.known = c.lastCap >= 63 ? ~uint64_t{0} : Bit(c.lastCap + 1) - 1;
  const uint64_t keep = plan.capabilities.permitted;
  const uint64_t effective = plan.capabilities.effective;
  const uint64_t inheritable = plan.capabilities.inheritable | (plan.ambient ? keep : 0);
  const bool trim = plan.boundingSet == DropPlan::BoundingSet::Retained;
  if ((keep | effective | inheritable) & ~c.known)
    Refuse(kStepValidate, kErrInvalidCapabilities,
           "capability " + CapNames((keep | effective | inheritable) & ~c.known) + " is unknown to this kernel", EINVAL);
  if (effective & ~keep)
    Refuse(kStepValidate, kErrInvalidCapabilities, "effective capabilities must also be permitted: " + CapNames(effective & ~keep),
           EINVAL);
  if (keep & ~cur.prm)
    Refuse(kStepValidate, kErrCapabilityNotHeld,
           "cannot keep capabilities this process does not hold in its permitted set: " + CapNames(keep & ~cur.prm), EPERM);
  if (inheritable & ~(cur.prm | cur.inh))
    Refuse(kStepValidate, kErrCapabilityNotHeld,
           "cannot make inheritable capabilities this process does not hold: " + CapNames(inheritable & ~(cur.prm | cur.inh)),
           EPERM);
  if (trim && (inheritable & ~keep))
    Refuse(kStepValidate, kErrInvalidArgument,
           "inheritable capabilities outside the kept set would be dropped from the bounding set: " + CapNames(inheritable & ~keep));
  c.trimMask = trim ? (cur.bnd & ~keep & c.known) : 0;

  // What every thread must show at the end: the transition's target and what verify compares.
  c.want = cur;
  std::fill(c.want.uid, c.want.uid + 4, plan.uid);
  std::fill(c.want.gid, c.want.gid + 4, plan.gid);
  c.want.groups = SortedUnique(plan.groups);
  c.want.inh = inheritable;
  c.want.prm = keep;
  c.want.eff = effective;
  c.want.bnd = cur.bnd & ~c.trimMask;
  c.want.amb = plan.ambient ? keep : 0;
  c.want.nnp = (plan.noNewPrivileges || cur.nnp) ? 1 : 0;
  // The id steps run where the state must change.
  c.needUid = FirstDifferingField(cur, c.want, kUid) >= 0;
  c.needGid = FirstDifferingField(cur, c.want, kGid) >= 0;
  c.needGroups = FirstDifferingField(cur, c.want, kGroups) >= 0;

  const unsigned long secure = GetSecurebits();
  const unsigned long lockBits = SECBIT_NOROOT | SECBIT_NOROOT_LOCKED | SECBIT_NO_SETUID_FIXUP |
                                 SECBIT_NO_SETUID_FIXUP_LOCKED | SECBIT_KEEP_CAPS_LOCKED;
  c.newSecurebits = plan.lockSecurebits ? ((secure | lockBits) & ~static_cast<unsigned long>(SECBIT_KEEP_CAPS)) : secure;
  c.setSecurebits = c.newSecurebits != secure;
  const bool keepsAcrossSetuid = (c.newSecurebits & SECBIT_NO_SETUID_FIXUP) != 0;
  c.useKeepcaps = c.needUid && keep != 0 && !keepsAcrossSetuid;

  std::string missing;
  auto require = [&](unsigned cap, bool needed, const char* why) {
    if (needed && !(cur.prm & Bit(cap))) missing += std::string(missing.empty() ? "" : "; ") + CapNames(Bit(cap)) + " " + why;
  };
  require(CAP_SETUID, c.needUid, "to change the uid");
  require(CAP_SETGID, c.needGid || c.needGroups, "to change the gid and supplementary groups");
  require(CAP_SETPCAP, c.trimMask != 0, "to drop capabilities from the bounding set (or pass boundingSet: 'unchanged')");
  require(CAP_SETPCAP, c.setSecurebits, "to lock the securebits");
  require(CAP_SYS_CHROOT, !plan.chroot.empty(), "to chroot");
  const std::string notPermitted = kErrNotPermitted;
  if (!missing.empty())
    Refuse(kStepValidate, notPermitted,
           "this process lacks what the drop needs: " + missing + " (not in its permitted set, effective uid " +
               std::to_string(cur.uid[1]) + ", saved uid " + std::to_string(cur.uid[2]) +
               "); nothing was changed. Start it as root with its full capability sets, or with these capabilities "
               "in its permitted set (an effective uid of 0 regained later does not bring them back)",
           EPERM);
  if (c.setSecurebits && (secure & (SECBIT_NOROOT_LOCKED | SECBIT_NO_SETUID_FIXUP_LOCKED | SECBIT_KEEP_CAPS_LOCKED)))
    Refuse(kStepValidate, notPermitted, "the securebits are already partly locked to other values", EPERM);
  if (c.useKeepcaps && (secure & SECBIT_KEEP_CAPS_LOCKED) && !(secure & SECBIT_KEEP_CAPS))
    Refuse(kStepValidate, notPermitted, "keep-caps is locked off, so capabilities cannot survive the uid change", EPERM);
  if (plan.ambient && keep != 0 && (secure & SECBIT_NO_CAP_AMBIENT_RAISE))
    Refuse(kStepValidate, notPermitted, "SECBIT_NO_CAP_AMBIENT_RAISE is set: the ambient set cannot be raised", EPERM);

  if (!plan.chroot.empty()) {
    if (plan.chroot[0] != '/')
      Refuse(kStepValidate, kErrInvalidChroot, "the chroot directory must be an absolute path", EINVAL);
    // Opened once: the directory checked here is the one chroot() gets (fchdir, chroot(".")), so
    // a rename on its path in between cannot move the jail.
    c.jail.fd = Hooked("open-chroot", [&] { return open(plan.chroot.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC); });
    if (c.jail.fd < 0) {
      int e = errno;
      Refuse(kStepValidate, kErrInvalidChroot,
             "the chroot directory " + plan.chroot + " cannot be used: " + strerror(e), e, "open");
    }
    const char* call = "";
    if (int e = SearchAccessAt(c.jail.fd, &call))
      Refuse(kStepValidate, kErrInvalidChroot,
             "the chroot directory " + plan.chroot + " cannot be searched by this process (chroot() needs to): " + strerror(e), e, call);
  }
}

// ---- rehearse: every thread proves it can make each call, nothing changes -----------------------

BroadcastReport Rehearse(Context& c) {
  RehearsalPlan r;
  r.raise = c.cur.eff != c.cur.prm;  // euid not 0 (permitted kept, effective emptied), say
  r.raised = MakeCapData(c.cur.prm, c.cur.prm, c.cur.inh);
  r.keyring = true;
  r.keysRefused = c.keysRefused;
  r.setfsuid = c.cur.uid[3] != c.cur.uid[0];  // the keyring step's setfsuid to the real uid (session.h)
  r.capbsetDrop = c.trimMask != 0;
  r.securebits = c.setSecurebits;
  r.currentSecurebits = GetSecurebits();
  r.keepcaps = c.useKeepcaps;
  r.setgroups = c.needGroups;
  r.groups = c.currentGroups.data();
  r.ngroups = c.currentGroups.size();
  r.setresgid = c.needGid;
  r.setresuid = c.needUid;
  r.ambientRaise = c.want.amb != 0;
  r.noNewPrivs = c.plan.noNewPrivileges;
  const StatusTarget anyThread{};  // the rehearsal changes nothing visible
  BroadcastReport b = Broadcast(kStepRehearse, &RehearseOp, &r, c.task.fd(), &anyThread);
  if (b.ok) return b;
  const std::string where = " on thread " + std::to_string(b.failedTid);
  if (b.err == kRestoreFailed)
    FatalAfter("the rehearsal raised a thread's effective set to its permitted set and could not lower it again",
               "The threads no longer agree, so the process is aborted rather than return to JavaScript changed", kStepRehearse,
               0, b.failedTid, "capset");
  if (b.mechanism) {
    const char* call = b.timedOut ? "" : (b.failedStep && strcmp(b.failedStep, "install-handler") == 0) ? "rt_sigaction"
                                       : (b.failedStep && strcmp(b.failedStep, "list-threads") == 0)   ? "getdents64"
                                                                                                       : "rt_tgsigqueueinfo";
    Refuse(kStepRehearse, kErrThreadUnreachable,
           std::string("not every thread could be reached (") + (b.failedStep ? b.failedStep : "?") + where + "): " +
               strerror(b.err) + "; nothing was changed",
           b.err, call);
  }
  // The refused call as the message shows it, "prctl(PR_CAPBSET_DROP)"; as err.syscall, "prctl".
  const std::string call = b.failedStep ? b.failedStep : "?";
  Refuse(kStepRehearse, kErrNotPermitted,
         "thread " + std::to_string(b.failedTid) + " may not make " + call + ", which the drop makes on every thread: " +
             strerror(b.err) + " (a seccomp filter or a security module refuses it); nothing was changed",
         b.err, call.substr(0, call.find('(')));
}

// ---- the keyring: one new session keyring for every thread (root's keys stay behind) -------------

// Created and joined by this thread after every check, so a failure to create it is still a coded
// error; the other threads join it by name first thing in the transition. Where no thread can make
// a key call at all (the rehearsal checked every thread), no thread can reach root's keys: nothing
// to leave behind, and no keyctl to make.
void CreateKeyring(Context& c) {
  if (!c.keysRefused) c.keyring = CreateSharedSessionKeyring(c.cur.uid[3]);
}

// ---- chroot: the first irreversible step when asked for; process-wide, so the main thread only ----

void Chroot(Context& c) {
  const std::string& dir = c.plan.chroot;
  if (!(c.cur.eff & Bit(CAP_SYS_CHROOT))) {  // held in permitted (validated), not effective: raise it first
    CapData raise = MakeCapData(c.cur.prm, c.cur.prm, c.cur.inh);
    if (int e = RawCapset("capset-raise", raise)) Fatal(kStepChroot, e, c.pid, "capset (raise effective for chroot)");
  }
  if (int e = HookedErrno("fchdir", [&] { return fchdir(c.jail.fd); })) Fatal(kStepChroot, e, c.pid, "fchdir to the checked " + dir);
  if (int e = HookedErrno("chroot", [] { return chroot("."); })) Fatal(kStepChroot, e, c.pid, dir);
  if (int e = HookedErrno("chdir", [] { return chdir("/"); })) Fatal(kStepChroot, e, c.pid, "chdir(\"/\") after chroot");
}

// ---- transition: one signal per thread, the whole sequence in its handler ---------------------

BroadcastReport Transition(Context& c) {
  TransitionPlan t;
  t.keyring = &c.keyring;
  t.raise = MakeCapData(c.cur.prm, c.cur.prm, c.cur.inh);
  t.dropBounding = c.trimMask;
  t.lastCap = c.lastCap;
  t.setSecurebits = c.setSecurebits;
  t.securebits = c.newSecurebits;
  t.setKeepcaps = c.useKeepcaps;
  t.setGroups = c.needGroups;
  static_assert(std::is_same<gid_t, uint32_t>::value, "ThreadCreds holds gids as uint32_t");
  t.groups = c.want.groups.data();
  t.ngroups = c.want.groups.size();
  t.setGid = c.needGid;
  t.gid = c.plan.gid;
  t.setUid = c.needUid;
  t.uid = c.plan.uid;
  t.kept = MakeCapData(c.want.eff, c.want.prm, c.want.inh);
  t.ambient = c.want.amb;
  t.clearKeepcaps = c.useKeepcaps;
  t.noNewPrivileges = c.plan.noNewPrivileges;

  // A thread found after the first pass that already shows the final state was created by a
  // thread that had made the whole transition (one signal = the whole sequence, so no thread is
  // ever seen half-way): it needs no signal.
  const StatusTarget done{&c.want, kUid | kGid | kCapsAndNnp};
  // uid 0 is refused in validate, so the final state always differs from the old one.
  BroadcastReport b = Broadcast(kStepTransition, &TransitionOp, &t, c.task.fd(), &done);
  if (!b.ok) FatalBroadcast(kStepTransition, b);
  return b;
}

// ---- verify: every thread, as the kernel reports it ----------------------------------------------

int Verify(Context& c) {
  std::vector<ThreadCreds> after;
  if (int err = HookedOp("verify", [&] { return ReadThreads(c.task.fd(), &after); }, EIO))
    Fatal(kStepVerify, err, c.pid, "cannot read /proc/self/task/*/status");
  for (const ThreadCreds& t : after) {
    std::string expected, actual;
    std::string field = FirstDifference(c.want, t, &expected, &actual);
    if (!field.empty()) Fatal(kStepVerify, 0, t.tid, field + " is " + actual + ", expected " + expected);
  }
  return static_cast<int>(after.size());
}

// ---- regain-check: CERT POS37-C, root and dropped capabilities stay out of reach ------------------

bool CheckRegain(Context& c) {
  const ThreadCreds& w = c.want;
  const bool checkUid = !(w.prm & Bit(CAP_SETUID));  // unless cap_setuid was kept on purpose
  if (checkUid && PretendSuccess("regain-check", [] { return syscall(SYS_setresuid, -1, 0, -1); }) == 0)
    Fatal(kStepRegainCheck, 0, c.pid, "setresuid(-1, 0, -1) succeeded after the drop");
  uint64_t notKept = c.known & ~w.prm;
  if (notKept != 0) {
    unsigned probe = static_cast<unsigned>(__builtin_ctzll(notKept));
    CapData raise = MakeCapData(w.eff, w.prm | Bit(probe), w.inh);
    if (RawCapset("", raise) == 0) Fatal(kStepRegainCheck, 0, c.pid, "capset could raise " + CapNames(Bit(probe)) + " again");
  }
  return checkUid;
}

}  // namespace

DropResult Drop(const DropPlan& plan) {
  DropResult result;
  result.steps.reserve(6);
  result.broadcasts.reserve(2);
  const double t0 = NowMs();
  double t = t0;
  auto timed = [&](const char* name, int threads) {
    const double now = NowMs();
    result.steps.push_back({name, now - t, threads});
    t = now;
  };
  Context c(plan);
  const char* step = kStepValidate;

  try {
    Validate(c);
    timed(kStepValidate, 0);

    step = kStepRehearse;
    BroadcastReport rehearsal = Rehearse(c);
    result.broadcasts.push_back({kStepRehearse, rehearsal.ms, rehearsal.threads});
    timed(kStepRehearse, rehearsal.threads);

    CreateKeyring(c);
    result.sessionKeyring = c.keyring.serial != 0;
  } catch (const std::bad_alloc&) {
    throw Error(kErrSystem, "out of memory before the drop; nothing was changed", ENOMEM, "", step);
  }

  // ---- from here on, a failure never returns: not even an exception (out of memory while
  // verifying, say) may carry the process back to JavaScript half-dropped ----
  try {
    // Before any thread's uid changes: from then on every process of the target user may signal
    // this one, and Node's SIGUSR1 handler would open the inspector to it.
    if (plan.closeDebugSignal) {
      if (int e = CloseDebugSignal(&result.debugSignalClosed)) Fatal(kStepTransition, e, c.pid, "sigaction(SIGUSR1, SIG_IGN)");
    }
    if (!plan.chroot.empty()) {
      step = kStepChroot;
      Chroot(c);
      timed(kStepChroot, 1);
    }

    step = kStepTransition;
    BroadcastReport transition = Transition(c);
    result.broadcasts.push_back({kStepTransition, transition.ms, transition.threads});
    timed(kStepTransition, transition.threads);

    step = kStepVerify;
    result.threads = Verify(c);
    timed(kStepVerify, result.threads);

    step = kStepRegainCheck;
    result.regainChecked = CheckRegain(c);
    timed(kStepRegainCheck, 1);
  } catch (...) {
    Fatal(step, ENOMEM, c.pid, "an exception (out of memory?) after the first irreversible step");
  }

  result.ms = NowMs() - t0;
  return result;
}

}  // namespace privdrop
