// Facts about the running process that the TypeScript layer checks before a drop.
#pragma once

#include <string>

namespace privdrop {

struct PlatformInfo {
  bool glibc = false;          // built and running against glibc
  std::string libcVersion;     // gnu_get_libc_version(), or ""
  std::string arch;            // "x64", "arm64", ...
  bool broadcastSupported = false;  // the all-thread broadcast knows this arch's sigaction layout
};

PlatformInfo Platform();
int GetTid();
bool IsMainThread();
// prctl(PR_GET_SECUREBITS) of the calling thread.
unsigned long GetSecurebits();
// CLOCK_MONOTONIC in milliseconds, for step timings and deadlines. Async-signal-safe.
double NowMs();

}  // namespace privdrop
