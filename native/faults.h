// Test-only fault injection. Compiled in only with PRIVDROP_FAULT_INJECTION (the
// privdrop_faults.node target); in the normal build every check is a constant false.
//
// PRIVDROP_FAULT=<name> makes the named step fail with EPERM on the main thread;
// <name>@thread makes it fail on exactly one other thread instead (the first other thread that
// reaches it), for steps run on every thread. Names: see the Security section of README.md.
#pragma once

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

}  // namespace privdrop
