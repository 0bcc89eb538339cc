// The failure path after the first irreversible step: one diagnostic line on stderr, then
// abort(). Never returns to JavaScript half-dropped.
#pragma once

#include <string>

#include "broadcast.h"

namespace privdrop {

// "privdrop: FATAL: <failed>, at step '<step>' on thread <tid>: <strerror(err)>; <detail>.
// <consequence> (pid <pid>).", then abort(). The form every such failure is reported in.
[[noreturn]] void FatalAfter(const char* failed, const char* consequence, const char* step, int err, int tid,
                             const std::string& detail);
// The drop's: "... the privilege drop failed after its first irreversible step, at step ...".
[[noreturn]] void Fatal(const char* step, int err, int tid, const std::string& detail);
// What failed in a broadcast, as a detail: the thread's failing call, a timeout, and how many
// threads were `done` ("done", "answered").
std::string BroadcastFailure(const BroadcastReport& r, const char* done);
// The drop's Fatal for a broadcast that failed.
[[noreturn]] void FatalBroadcast(const char* step, const BroadcastReport& r);
// Writes `line` to stderr and aborts: for the failures that have no step (FatalAfter's form).
[[noreturn]] void AbortWith(const std::string& line);

}  // namespace privdrop
