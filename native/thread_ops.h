// The per-thread operations of a drop: what every thread runs, on itself, from the broadcast's
// signal handler (the calling thread runs them directly). Raw, async-signal-safe system calls
// only: no allocation, no libcap, no glibc set*id wrapper (those broadcast on their own), no
// exceptions. Each operation reads a plan prepared (and allocated) before the broadcast.
//
// The transition is a table of steps (kTransitionSteps in thread_ops.cc) run in order; adding a
// step is one function, one table row, and whatever fields it needs in TransitionPlan. Each step's
// name is also its fault-injection name (PRIVDROP_FAULT=<name> or <name>@thread) and the name the
// diagnostic gives when it fails on a thread.
#pragma once

#include <linux/capability.h>
#include <sys/types.h>

#include <cstddef>
#include <cstdint>

namespace privdrop {

struct SharedKeyring;  // session.h

struct CapData {
  __user_cap_header_struct header;
  __user_cap_data_struct data[2];
};

CapData MakeCapData(uint64_t effective, uint64_t permitted, uint64_t inheritable);

// capset on the calling thread; `fault` names the call for fault injection ("" for none).
int RawCapset(const char* fault, const CapData& c);

// The rehearsal: on every thread, each kind of call the transition will make, in a form that
// changes nothing, so that a thread a seccomp filter or a security module stops gives a coded
// error while nothing has changed yet. A filter sees the option and operation numbers, so each
// prctl option and keyctl operation is made, not just "a prctl": with an argument the kernel
// refuses with EINVAL (or EFAULT) only after the filter has let the call through, which proves the
// filter allows it; any other error is the refusal. The threads' state itself was compared in
// validate, from /proc.
struct RehearsalPlan {
  // The transition's calls run with effective raised to permitted (its capset-raise), so the
  // rehearsal's do too (setgroups needs CAP_SETGID effective even to set the same list, and
  // PR_CAPBSET_DROP reaches its EINVAL only with CAP_SETPCAP): raised first, each thread's own
  // sets put back last, even after a failure.
  bool raise = false;
  CapData raised{};
  bool keyring = true;               // keyctl JOIN_SESSION_KEYRING (EFAULT), SETPERM (EINVAL), GET_KEYRING_ID
  bool keysRefused = false;          // the calling thread can make no key call (session.h KeyCallsRefused):
                                     // every thread must be the same, and then there is no keyring step
  bool setfsuid = false;             // setfsuid(-1): the keyring step's setfsuid (session.h)
  bool capbsetDrop = false;          // prctl(PR_CAPBSET_DROP, not a capability): EINVAL
  bool securebits = false;           // prctl(PR_SET_SECUREBITS, the current bits): succeeds, changes nothing
  unsigned long currentSecurebits = 0;
  bool keepcaps = false;             // prctl(PR_SET_KEEPCAPS, 2): EINVAL
  bool setgroups = false;            // setgroups to the list the process has now
  const gid_t* groups = nullptr;
  size_t ngroups = 0;
  bool setresgid = false;            // setresgid(-1, -1, -1)
  bool setresuid = false;            // setresuid(-1, -1, -1)
  bool ambientRaise = false;         // prctl(PR_CAP_AMBIENT, RAISE, not a capability): EINVAL
  bool noNewPrivs = false;           // prctl(PR_SET_NO_NEW_PRIVS, 0): EINVAL
  // prctl(PR_CAP_AMBIENT, CLEAR_ALL, 1): EINVAL, always (the transition always clears ambient)
};

// RehearseOp's result when a thread's effective set could not be put back after the rehearsal
// raised it: the rehearsal then changed something, and the drop aborts.
constexpr int kRestoreFailed = -2;

// ThreadOp (broadcast.h) over a RehearsalPlan. *step names the refused call as the error shows it
// ("prctl(PR_CAPBSET_DROP)", "keyctl(KEYCTL_JOIN_SESSION_KEYRING)", "setgroups", ...). Fault
// names: "<transition step>:rehearse" (capset, session-keyring, setfsuid, capbset-drop, ...).
int RehearseOp(const void* plan, const char** step);

// The whole drop on one thread, in this order (each step skipped when the plan does not need it):
//   session-keyring keyctl(KEYCTL_JOIN_SESSION_KEYRING, name): the drop's one new session keyring
//                   (before the uid change: joining by name needs the owner's, root's, Search right)
//   capset-raise    capset: effective = permitted (setuid & co. and PR_CAPBSET_DROP need it)
//   capbset-drop    prctl(PR_CAPBSET_DROP) for each capability not kept
//   securebits      prctl(PR_SET_SECUREBITS) (lockSecurebits)
//   keepcaps-set    prctl(PR_SET_KEEPCAPS, 1): permitted survives the uid change
//   setgroups       raw setgroups
//   setresgid       raw setresgid
//   setresuid       raw setresuid
//   capset-final    capset to exactly the kept sets (re-raising effective)
//   ambient-clear   prctl(PR_CAP_AMBIENT_CLEAR_ALL)
//   ambient-raise   prctl(PR_CAP_AMBIENT_RAISE) for each kept capability (ambient)
//   keepcaps-clear  prctl(PR_SET_KEEPCAPS, 0)
//   no-new-privs    prctl(PR_SET_NO_NEW_PRIVS, 1) (noNewPrivileges)
struct TransitionPlan {
  const SharedKeyring* keyring = nullptr;  // null or serial 0: no keyring step (a kernel without keys)
  CapData raise{};
  uint64_t dropBounding = 0;         // capabilities to drop from the bounding set
  unsigned lastCap = 0;
  bool setSecurebits = false;
  unsigned long securebits = 0;
  bool setKeepcaps = false;
  bool setGroups = false;
  const gid_t* groups = nullptr;
  size_t ngroups = 0;
  bool setGid = false;
  gid_t gid = 0;
  bool setUid = false;
  uid_t uid = 0;
  CapData kept{};
  uint64_t ambient = 0;              // capabilities to raise into the ambient set
  bool clearKeepcaps = false;
  bool noNewPrivileges = false;
};

// ThreadOp (broadcast.h) over a TransitionPlan.
int TransitionOp(const void* plan, const char** step);

// The step names of the transition, in order (for documentation and tests).
size_t TransitionStepCount();
const char* TransitionStepName(size_t i);

}  // namespace privdrop
