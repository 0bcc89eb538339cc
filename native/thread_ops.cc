// The per-thread operations of a drop (see thread_ops.h). Everything here may run inside a
// signal handler: raw system calls, no allocation, errno left to the caller (the broadcast saves it).
#include "thread_ops.h"

#include <linux/securebits.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>

#include "faults.h"
#include "session.h"

namespace privdrop {
namespace {

constexpr uint64_t Bit(unsigned cap) { return uint64_t{1} << cap; }

int Prctl(const char* fault, long option, unsigned long a2, unsigned long a3 = 0) {
  if (Fault(fault)) return EPERM;
  return syscall(SYS_prctl, option, a2, a3, 0UL, 0UL) >= 0 ? 0 : errno;
}

int Raw(const char* fault, long nr, long a1, long a2 = 0, long a3 = 0) {
  if (Fault(fault)) return EPERM;
  return syscall(nr, a1, a2, a3) == 0 ? 0 : errno;
}

// ---- the transition's steps ---------------------------------------------------------------

using Step = int (*)(const TransitionPlan&);

int SessionKeyring(const TransitionPlan& p) {
  if (p.keyring == nullptr) return 0;
  if (Fault("session-keyring")) return EPERM;
  return JoinSharedSessionKeyring(*p.keyring);
}

int CapsetRaise(const TransitionPlan& p) { return RawCapset("capset-raise", p.raise); }

int CapbsetDrop(const TransitionPlan& p) {
  for (unsigned cap = 0; cap <= p.lastCap && cap < 64; cap++) {
    if (!(p.dropBounding & Bit(cap))) continue;
    if (int e = Prctl("capbset-drop", PR_CAPBSET_DROP, cap)) return e;
  }
  return 0;
}

int Securebits(const TransitionPlan& p) { return p.setSecurebits ? Prctl("securebits", PR_SET_SECUREBITS, p.securebits) : 0; }

int KeepcapsSet(const TransitionPlan& p) { return p.setKeepcaps ? Prctl("keepcaps-set", PR_SET_KEEPCAPS, 1) : 0; }

int Setgroups(const TransitionPlan& p) {
  return p.setGroups ? Raw("setgroups", SYS_setgroups, static_cast<long>(p.ngroups), reinterpret_cast<long>(p.groups)) : 0;
}

int Setresgid(const TransitionPlan& p) { return p.setGid ? Raw("setresgid", SYS_setresgid, p.gid, p.gid, p.gid) : 0; }

int Setresuid(const TransitionPlan& p) { return p.setUid ? Raw("setresuid", SYS_setresuid, p.uid, p.uid, p.uid) : 0; }

int CapsetFinal(const TransitionPlan& p) { return RawCapset("capset-final", p.kept); }

int AmbientClear(const TransitionPlan&) { return Prctl("ambient-clear", PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL); }

int AmbientRaise(const TransitionPlan& p) {
  for (unsigned cap = 0; cap < 64; cap++) {
    if (!(p.ambient & Bit(cap))) continue;
    if (int e = Prctl("ambient-raise", PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, cap)) return e;
  }
  return 0;
}

int KeepcapsClear(const TransitionPlan& p) { return p.clearKeepcaps ? Prctl("keepcaps-clear", PR_SET_KEEPCAPS, 0) : 0; }

int NoNewPrivs(const TransitionPlan& p) { return p.noNewPrivileges ? Prctl("no-new-privs", PR_SET_NO_NEW_PRIVS, 1) : 0; }

struct NamedStep {
  const char* name;
  Step run;
};

// The order matters: the bounding set, securebits and keep-caps need CAP_SETPCAP, gone after
// setresuid; the ids need CAP_SETGID/CAP_SETUID, raised first; capset-final re-raises effective,
// which the uid change emptied; the ambient set needs the kept sets first.
constexpr NamedStep kTransitionSteps[] = {
    {"session-keyring", &SessionKeyring},
    {"capset-raise", &CapsetRaise},   {"capbset-drop", &CapbsetDrop}, {"securebits", &Securebits},
    {"keepcaps-set", &KeepcapsSet},   {"setgroups", &Setgroups},      {"setresgid", &Setresgid},
    {"setresuid", &Setresuid},        {"capset-final", &CapsetFinal}, {"ambient-clear", &AmbientClear},
    {"ambient-raise", &AmbientRaise}, {"keepcaps-clear", &KeepcapsClear}, {"no-new-privs", &NoNewPrivs},
};

}  // namespace

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

int RawCapset(const char* fault, const CapData& c) {
  if (fault[0] != '\0' && Fault(fault)) return EPERM;
  CapData copy = c;  // the kernel may write the header back
  return syscall(SYS_capset, &copy.header, copy.data) == 0 ? 0 : errno;
}

namespace {

uint64_t Mask64(uint32_t lo, uint32_t hi) { return (static_cast<uint64_t>(hi) << 32) | lo; }

// The calling thread's state against x, with read-only calls; 0, kStateDiffers or an errno.
int CheckState(const ExpectedState& x, const CapData& caps, const char** step) {
  unsigned r = 0, e = 0, s = 0;
  if (syscall(SYS_getresuid, &r, &e, &s) != 0) { *step = "getresuid"; return errno; }
  unsigned fs = static_cast<unsigned>(syscall(SYS_setfsuid, -1L));  // -1 changes nothing, returns the fsuid
  if (r != x.uid[0] || e != x.uid[1] || s != x.uid[2] || fs != x.uid[3]) { *step = "Uid"; return kStateDiffers; }
  if (syscall(SYS_getresgid, &r, &e, &s) != 0) { *step = "getresgid"; return errno; }
  fs = static_cast<unsigned>(syscall(SYS_setfsgid, -1L));
  if (r != x.gid[0] || e != x.gid[1] || s != x.gid[2] || fs != x.gid[3]) { *step = "Gid"; return kStateDiffers; }
  gid_t groups[kMaxCheckedGroups];
  long n = syscall(SYS_getgroups, static_cast<long>(kMaxCheckedGroups), groups);
  if (n < 0 && errno != EINVAL) { *step = "getgroups"; return errno; }
  if (n < 0 || static_cast<size_t>(n) != x.ngroups) { *step = "Groups"; return kStateDiffers; }
  for (long i = 0; i < n; i++) {
    if (groups[i] != x.groups[i]) { *step = "Groups"; return kStateDiffers; }
  }
  const uint64_t inh = Mask64(caps.data[0].inheritable, caps.data[1].inheritable);
  const uint64_t prm = Mask64(caps.data[0].permitted, caps.data[1].permitted);
  const uint64_t eff = Mask64(caps.data[0].effective, caps.data[1].effective);
  if (inh != x.inh) { *step = "CapInh"; return kStateDiffers; }
  if (prm != x.prm) { *step = "CapPrm"; return kStateDiffers; }
  if (eff != x.eff) { *step = "CapEff"; return kStateDiffers; }
  uint64_t bnd = 0, amb = 0;
  for (unsigned cap = 0; cap <= x.lastCap && cap < 64; cap++) {
    long v = syscall(SYS_prctl, PR_CAPBSET_READ, static_cast<unsigned long>(cap), 0UL, 0UL, 0UL);
    if (v < 0) { *step = "prctl"; return errno; }
    if (v > 0) bnd |= Bit(cap);
  }
  if (bnd != x.bnd) { *step = "CapBnd"; return kStateDiffers; }
  // The ambient set is always within permitted and inheritable: only those bits can be set.
  for (unsigned cap = 0; cap < 64; cap++) {
    if (!(prm & inh & Bit(cap))) continue;
    long v = syscall(SYS_prctl, PR_CAP_AMBIENT, PR_CAP_AMBIENT_IS_SET, static_cast<unsigned long>(cap), 0UL, 0UL);
    if (v < 0) { *step = "prctl"; return errno; }
    if (v > 0) amb |= Bit(cap);
  }
  if (amb != x.amb) { *step = "CapAmb"; return kStateDiffers; }
  long nnp = syscall(SYS_prctl, PR_GET_NO_NEW_PRIVS, 0UL, 0UL, 0UL, 0UL);
  if (nnp < 0) { *step = "prctl"; return errno; }
  if (static_cast<int>(nnp) != x.nnp) { *step = "NoNewPrivs"; return kStateDiffers; }
  return 0;
}

}  // namespace

namespace {

// The calls of the rehearsal after capget (and the raise), in the transition's order.
int RehearseCalls(const RehearsalPlan* p, const char** step) {
  if (p->setfsuid) {
    int e = Fault("setfsuid", "rehearse") ? EPERM : syscall(SYS_setfsuid, -1L) != -1 ? 0 : errno;
    if (e) { *step = "setfsuid"; return e; }
  }
  if (p->setgroups) {
    int e = Fault("setgroups", "rehearse") ? EPERM
            : syscall(SYS_setgroups, static_cast<long>(p->ngroups), p->groups) == 0 ? 0 : errno;
    if (e) { *step = "setgroups"; return e; }
  }
  if (p->setresgid) {
    int e = Fault("setresgid", "rehearse") ? EPERM : syscall(SYS_setresgid, -1L, -1L, -1L) == 0 ? 0 : errno;
    if (e) { *step = "setresgid"; return e; }
  }
  if (p->setresuid) {
    int e = Fault("setresuid", "rehearse") ? EPERM : syscall(SYS_setresuid, -1L, -1L, -1L) == 0 ? 0 : errno;
    if (e) { *step = "setresuid"; return e; }
  }
  if (p->prctl) {
    int e = 0;
    if (Fault("prctl", "rehearse")) e = EPERM;
    else if (syscall(SYS_prctl, PR_CAPBSET_READ, 0UL, 0UL, 0UL, 0UL) < 0) e = errno;
    else if (syscall(SYS_prctl, PR_GET_KEEPCAPS, 0UL, 0UL, 0UL, 0UL) < 0) e = errno;
    else if (syscall(SYS_prctl, PR_GET_SECUREBITS, 0UL, 0UL, 0UL, 0UL) < 0) e = errno;
    else if (syscall(SYS_prctl, PR_CAP_AMBIENT, PR_CAP_AMBIENT_IS_SET, 0UL, 0UL, 0UL) < 0) e = errno;
    else if (syscall(SYS_prctl, PR_GET_NO_NEW_PRIVS, 0UL, 0UL, 0UL, 0UL) < 0) e = errno;
    if (e) { *step = "prctl"; return e; }
  }
  if (p->keyctl) {
    // KEYCTL_GET_KEYRING_ID (0) of KEY_SPEC_SESSION_KEYRING (-3), not creating one: the transition's keyctl.
    int e = Fault("keyctl", "rehearse") ? EPERM : syscall(SYS_keyctl, 0L, -3L, 0L, 0L, 0L) >= 0 ? 0 : errno;
    if (e != 0 && e != ENOSYS && e != ENOKEY) { *step = "keyctl"; return e; }
  }
  return 0;
}

}  // namespace

int RehearseOp(const void* a, const char** step) {
  const auto* p = static_cast<const RehearsalPlan*>(a);
  CapData cur{};
  cur.header.version = _LINUX_CAPABILITY_VERSION_3;
  int e = Fault("capset", "rehearse") ? EPERM : (syscall(SYS_capget, &cur.header, cur.data) == 0 ? 0 : errno);
  if (e) { *step = "capset"; return e; }
  if (p->expect.check) {
    if (int d = CheckState(p->expect, cur, step)) return d;
  }
  if ((e = RawCapset("", p->raise ? p->raised : cur)) != 0) { *step = "capset"; return e; }
  e = RehearseCalls(p, step);
  if (p->raise && RawCapset("capset-restore", cur) != 0) { *step = "capset-restore"; return kRestoreFailed; }
  return e;
}

int TransitionOp(const void* a, const char** step) {
  const auto& p = *static_cast<const TransitionPlan*>(a);
  for (const NamedStep& s : kTransitionSteps) {
    if (int e = s.run(p)) {
      *step = s.name;
      return e;
    }
  }
  return 0;
}

size_t TransitionStepCount() { return sizeof kTransitionSteps / sizeof kTransitionSteps[0]; }
const char* TransitionStepName(size_t i) { return i < TransitionStepCount() ? kTransitionSteps[i].name : nullptr; }

}  // namespace privdrop
