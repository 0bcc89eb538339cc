// Test-only fault injection. Compiled in only with PRIVDROP_FAULT_INJECTION (the
// privdrop_faults.node target); in the normal build every check is a constant false.
//
// PRIVDROP_FAULT=<name> makes the named step fail with EPERM on the main thread;
// <name>@thread makes it fail on exactly one other thread instead (the first other thread that
// reaches it), for steps run on every thread. Names: see the Security section of README.md.
#pragma once

#include <cerrno>

namespace privdrop {

#ifdef PRIVDROP_FAULT_INJECTION
// Reads PRIVDROP_FAULT once, before any broadcast.
void LoadFault();
// Async-signal-safe: compares with what LoadFault() stored.
bool Fault(const char* name);
// Fault("rt_tgsigqueueinfo", "transition") matches the name "rt_tgsigqueueinfo:transition".
bool Fault(const char* call, const char* phase);
#else
inline void LoadFault() {}
constexpr bool Fault(const char*) { return false; }
constexpr bool Fault(const char*, const char*) { return false; }
#endif

// A system call behind its fault hook, the hook evaluated once: `call`'s result, or -1 with
// errno EPERM when `name` is injected (thread_ops.cc's Raw and Prctl do the same per thread).
template <typename Call>
auto Hooked(const char* name, Call call) -> decltype(call()) {
  if (Fault(name)) {
    errno = EPERM;
    return -1;
  }
  return call();
}

// The same for a call that returns 0 or -1: 0, or the errno (EPERM when `name` is injected).
template <typename Call>
int HookedErrno(const char* name, Call call) {
  return Hooked(name, call) == 0 ? 0 : errno;
}

}  // namespace privdrop
