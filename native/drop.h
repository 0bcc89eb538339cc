// The privilege drop: named steps, in this order (docs/design.md, "The drop, step by step"):
//   validate      check everything that can be checked, changing nothing
//   rehearse      every thread makes the harmless form of each system call the transition makes
//   chroot        chroot + chdir("/") on the calling thread (process-wide)       } irreversible
//   transition    ONE signal per thread; each runs the whole per-thread sequence  } from here on
//   verify        every /proc/self/task/*/status shows exactly what was asked
//   regain-check  uid 0 and a dropped capability cannot be regained
// Before chroot (or transition, without a chroot) a failure throws Error with step() set to
// the step's name and nothing changed; from it on, a failure writes a diagnostic and aborts.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "caps.h"

namespace privdrop {

constexpr const char* kStepValidate = "validate";
constexpr const char* kStepRehearse = "rehearse";
constexpr const char* kStepChroot = "chroot";
constexpr const char* kStepTransition = "transition";
constexpr const char* kStepVerify = "verify";
constexpr const char* kStepRegainCheck = "regain-check";

// The same names and meanings as the TypeScript options (lib/drop/index.ts DropOptions).
struct DropPlan {
  enum class BoundingSet { Retained, Unchanged };
  uint32_t uid = 0;
  uint32_t gid = 0;
  std::vector<uint32_t> groups;   // exact supplementary list to set
  CapMasks capabilities;          // what to keep: permitted, effective, inheritable
  BoundingSet boundingSet = BoundingSet::Retained;  // Retained: drop every capability not in capabilities.permitted
  bool ambient = false;           // raise capabilities.permitted into the ambient set
  bool noNewPrivileges = false;
  bool lockSecurebits = false;
  std::string chroot;             // "" for none
  bool closeDebugSignal = false;  // ignore SIGUSR1 before any uid changes (debug_signal.h): not keepDebugSignals
};

struct StepTiming {
  std::string name;
  double ms = 0;
  int threads = 0;                // threads that ran the step (broadcasts, verify); 0 for one-thread steps
};

struct DropResult {
  int threads = 0;                // threads verified in /proc/self/task
  double ms = 0;
  std::vector<StepTiming> broadcasts;  // rehearse, transition
  std::vector<StepTiming> steps;       // every step above that ran, in order
  bool regainChecked = false;     // false only when cap_setuid was kept on purpose
  bool debugSignalClosed = false; // Node's SIGUSR1 handler was replaced by SIG_IGN
  bool sessionKeyring = false;    // every thread joined a new session keyring (false: no thread can make a key call)
};

// Validates, then drops. Before the first irreversible step, throws Error and changes
// nothing. After it, any failure writes a diagnostic to stderr and aborts the process.
DropResult Drop(const DropPlan& plan);

}  // namespace privdrop
