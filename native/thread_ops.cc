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

// A raw call behind its fault hook (faults.h): 0 or an errno value.
int Prctl(const char* fault, long option, unsigned long a2, unsigned long a3 = 0) {
  return HookedErrno(fault, [&] { return syscall(SYS_prctl, option, a2, a3, 0UL, 0UL); });
}

int Raw(const char* fault, long nr, long a1, long a2 = 0, long a3 = 0) {
  return HookedErrno(fault, [&] { return syscall(nr, a1, a2, a3); });
}

// ---- the transition's steps ---------------------------------------------------------------

using Step = int (*)(const TransitionPlan&);

int SessionKeyring(const TransitionPlan& p) {
  return p.keyring ? HookedOp("session-keyring", [&] { return JoinSharedSessionKeyring(*p.keyring); }) : 0;
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
  CapData copy = c;  // the kernel may write the header back
  return HookedErrno(fault, [&] { return syscall(SYS_capset, &copy.header, copy.data); });
}

namespace {

// A proving call's result: 0 when the kernel ran it (it succeeded, or refused the argument with
// `proof`, which it checks only after a filter let the call through); else the errno.
int Proved(long r, int proof) { return r >= 0 || errno == proof ? 0 : errno; }

using RehearsalStep = int (*)(const RehearsalPlan&, const char** call);

int RehearseKeyring(const RehearsalPlan& p, const char** call) {
  if (!p.keyring) return 0;
  // Either every thread can reach no key at all (no keyring step), or every thread joins one.
  const bool refused = KeyCallsRefused();
  if (refused != p.keysRefused) {
    *call = refused ? "keyctl (refused on this thread whole, not on the calling thread)"
                    : "keyctl (allowed on this thread, refused whole on the calling thread)";
    return EPERM;
  }
  if (refused) return 0;
  // A bad name pointer: EFAULT from copying it, after the filter. No keys in this kernel (ENOSYS): no keyring step.
  long r = syscall(SYS_keyctl, 1L /* JOIN_SESSION_KEYRING */, 1L, 0L, 0L, 0L);
  if (r < 0 && errno == ENOSYS) return 0;
  if (int e = Proved(r, EFAULT)) return e;
  *call = "keyctl(KEYCTL_SETPERM)";  // a permission bit that does not exist: EINVAL before any lookup
  if (int e = Proved(syscall(SYS_keyctl, 5L /* SETPERM */, 0L, 0x40000000L, 0L, 0L), EINVAL)) return e;
  *call = "keyctl(KEYCTL_GET_KEYRING_ID)";  // of the session keyring, not creating one: changes nothing
  long id = syscall(SYS_keyctl, 0L /* GET_KEYRING_ID */, -3L /* KEY_SPEC_SESSION_KEYRING */, 0L, 0L, 0L);
  return id >= 0 || errno == ENOKEY ? 0 : errno;
}

int RehearseSetfsuid(const RehearsalPlan& p, const char**) {
  // -1 is no uid: it changes nothing and returns the fs uid
  return p.setfsuid && syscall(SYS_setfsuid, -1L) == -1 ? errno : 0;
}

int RehearseCapbsetDrop(const RehearsalPlan& p, const char**) {
  return p.capbsetDrop ? Proved(syscall(SYS_prctl, PR_CAPBSET_DROP, 1000UL, 0UL, 0UL, 0UL), EINVAL) : 0;
}

int RehearseSecurebits(const RehearsalPlan& p, const char**) {
  // No argument is refused after the filter: the current bits, a no-op.
  return p.securebits ? Proved(syscall(SYS_prctl, PR_SET_SECUREBITS, p.currentSecurebits, 0UL, 0UL, 0UL), 0) : 0;
}

int RehearseKeepcaps(const RehearsalPlan& p, const char**) {
  return p.keepcaps ? Proved(syscall(SYS_prctl, PR_SET_KEEPCAPS, 2UL, 0UL, 0UL, 0UL), EINVAL) : 0;
}

int RehearseSetgroups(const RehearsalPlan& p, const char**) {
  return p.setgroups && syscall(SYS_setgroups, static_cast<long>(p.ngroups), p.groups) != 0 ? errno : 0;
}

int RehearseSetresgid(const RehearsalPlan& p, const char**) {
  return p.setresgid && syscall(SYS_setresgid, -1L, -1L, -1L) != 0 ? errno : 0;
}

int RehearseSetresuid(const RehearsalPlan& p, const char**) {
  return p.setresuid && syscall(SYS_setresuid, -1L, -1L, -1L) != 0 ? errno : 0;
}

int RehearseAmbientClear(const RehearsalPlan&, const char**) {
  return Proved(syscall(SYS_prctl, PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 1UL, 0UL, 0UL), EINVAL);
}

int RehearseAmbientRaise(const RehearsalPlan& p, const char**) {
  return p.ambientRaise ? Proved(syscall(SYS_prctl, PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, 1000UL, 0UL, 0UL), EINVAL) : 0;
}

int RehearseNoNewPrivs(const RehearsalPlan& p, const char**) {
  return p.noNewPrivs ? Proved(syscall(SYS_prctl, PR_SET_NO_NEW_PRIVS, 0UL, 0UL, 0UL, 0UL), EINVAL) : 0;
}

struct NamedRehearsal {
  const char* name;  // the transition step it stands for (and its fault name, "<name>:rehearse")
  const char* call;  // the refused call as the error names it (the keyring step names its later calls itself)
  RehearsalStep run;
};

// The transition's steps after capset-raise, in its order (capset-final is capset-raise's call).
constexpr NamedRehearsal kRehearsalSteps[] = {
    {"session-keyring", "keyctl(KEYCTL_JOIN_SESSION_KEYRING)", &RehearseKeyring},
    {"setfsuid", "setfsuid", &RehearseSetfsuid},
    {"capbset-drop", "prctl(PR_CAPBSET_DROP)", &RehearseCapbsetDrop},
    {"securebits", "prctl(PR_SET_SECUREBITS)", &RehearseSecurebits},
    {"keepcaps", "prctl(PR_SET_KEEPCAPS)", &RehearseKeepcaps},
    {"setgroups", "setgroups", &RehearseSetgroups},
    {"setresgid", "setresgid", &RehearseSetresgid},
    {"setresuid", "setresuid", &RehearseSetresuid},
    {"ambient-clear", "prctl(PR_CAP_AMBIENT_CLEAR_ALL)", &RehearseAmbientClear},
    {"ambient-raise", "prctl(PR_CAP_AMBIENT_RAISE)", &RehearseAmbientRaise},
    {"no-new-privs", "prctl(PR_SET_NO_NEW_PRIVS)", &RehearseNoNewPrivs},
};

}  // namespace

int RehearseOp(const void* a, const char** step) {
  const auto& p = *static_cast<const RehearsalPlan*>(a);
  CapData cur{};
  cur.header.version = _LINUX_CAPABILITY_VERSION_3;
  *step = "capset";
  int e = HookedErrno(Hook("capset", "rehearse"), [&] { return syscall(SYS_capget, &cur.header, cur.data); });
  if (e == 0) e = RawCapset("", p.raise ? p.raised : cur);
  if (e) return e;
  for (const NamedRehearsal& s : kRehearsalSteps) {
    *step = s.call;
    if ((e = HookedOp(Hook(s.name, "rehearse"), [&] { return s.run(p, step); }))) break;
  }
  if (p.raise && RawCapset("capset-restore", cur) != 0) { *step = "capset"; return kRestoreFailed; }
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
