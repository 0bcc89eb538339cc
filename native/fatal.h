// The failure path after the first irreversible step: one diagnostic line on stderr, then
// abort(). Never returns to JavaScript half-dropped.
#pragma once

#include <string>

#include "broadcast.h"

namespace privdrop {

// "privdrop: FATAL: ... at step '<step>' on thread <tid>: <strerror(err)>; <detail>. ..."
[[noreturn]] void Fatal(const char* step, int err, int tid, const std::string& detail);
// The same for a broadcast that failed: names the thread, its failing call and how many answered.
[[noreturn]] void FatalBroadcast(const char* step, const BroadcastReport& r);

}  // namespace privdrop
