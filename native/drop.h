// The privilege drop: validation, then the irreversible steps, then verification.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "caps.h"

namespace privdrop {

struct DropPlan {
  uint32_t uid = 0;
  uint32_t gid = 0;
  std::vector<uint32_t> groups;   // exact supplementary list to set
  CapMasks caps;                  // what to keep: permitted, effective, inheritable
  bool trimBounding = true;       // drop every capability not in caps.permitted from the bounding set
  bool ambient = false;           // raise caps.permitted into the ambient set
  bool noNewPrivs = false;
  bool lockSecurebits = false;
  std::string chroot;             // "" for none
};

struct BroadcastTiming {
  std::string name;
  double ms = 0;
  int threads = 0;
};

struct DropResult {
  int threads = 0;                // threads verified in /proc/self/task
  double ms = 0;
  std::vector<BroadcastTiming> broadcasts;
  bool regainChecked = false;     // false only when cap_setuid was kept on purpose
};

// Validates, then drops. Before the first irreversible step, throws Error and changes
// nothing. After it, any failure writes a diagnostic to stderr and aborts the process.
DropResult Drop(const DropPlan& plan);

// For benchmarks: one broadcast that changes nothing, and one glibc setgroups() broadcast
// of the current groups, each timed in milliseconds.
BroadcastTiming ProbeBroadcast();
BroadcastTiming GlibcSetgroupsBroadcast();

}  // namespace privdrop
