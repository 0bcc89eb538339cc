// Broadcast probes for tests and the benchmark (npm run bench): they change nothing.
#pragma once

#include "drop.h"

namespace privdrop {

// One broadcast of an operation that does nothing, timed; its threads = threads that answered.
StepTiming ProbeBroadcast();
// One glibc setxid broadcast (setgroups() of the current groups), timed: the benchmark's baseline.
StepTiming GlibcSetgroupsBroadcast();

}  // namespace privdrop
