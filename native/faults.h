// Test-only fault injection. Compiled in only with PRIVDROP_FAULT_INJECTION (the
// privdrop_faults.node target); in the normal build every hook is a constant "not injected".
//
// PRIVDROP_FAULT=<name> makes the named call fail on the main thread; <name>@thread makes it fail
// on exactly one other thread instead (the first other thread that reaches it), for calls made on
// every thread. A hook with a phase is named "<name>:<phase>". Names: docs/design.md, "What happens
// when a step fails".
//
// Every hook goes through the wrappers below, each evaluating it once, before the call it stands
// for: an injected fault skips the call.
#pragma once

#include <cerrno>

namespace privdrop {

#ifdef PRIVDROP_FAULT_INJECTION
// Reads PRIVDROP_FAULT once, before any broadcast.
void LoadFault();
namespace detail {
// Async-signal-safe: compares with what LoadFault() stored. Only Injected() calls these.
bool Fault(const char* name);
bool Fault(const char* call, const char* phase);  // matches "<call>:<phase>"
}  // namespace detail
#else
inline void LoadFault() {}
#endif

// A hook's name: "<name>", or "<name>:<phase>" when phase is neither null nor "".
struct Hook {
  const char* name;
  const char* phase = nullptr;
  constexpr Hook(const char* n) : name(n) {}  // NOLINT: a plain name is a hook
  constexpr Hook(const char* n, const char* p) : name(n), phase(p) {}
};

// `err` when `hook` is injected on this thread, else 0: for a hook with no call of its own.
#ifdef PRIVDROP_FAULT_INJECTION
inline int Injected(Hook h, int err = EPERM) {
  const bool on = h.phase != nullptr && h.phase[0] != '\0' ? detail::Fault(h.name, h.phase) : detail::Fault(h.name);
  return on ? err : 0;
}
#else
constexpr int Injected(Hook, int = EPERM) { return 0; }
#endif

// A call that returns -1 and sets errno on failure (a system call, open, getgroups): its result,
// or -1 with errno `err` when injected.
template <typename Call>
auto Hooked(Hook hook, Call call, int err = EPERM) -> decltype(call()) {
  if (int e = Injected(hook, err)) {
    errno = e;
    return -1;
  }
  return call();
}

// The same call, as 0 or its errno value (a negative result is a failure: prctl may return more than 0).
template <typename Call>
int HookedErrno(Hook hook, Call call, int err = EPERM) {
  return Hooked(hook, call, err) < 0 ? errno : 0;
}

// An operation that returns 0 or an errno value itself (a ThreadOp step, a read of every thread):
// its result, or `err` when injected.
template <typename Op>
int HookedOp(Hook hook, Op op, int err = EPERM) {
  if (int e = Injected(hook, err)) return e;
  return op();
}

// A call whose success is the failure being checked for (regain-check's setresuid): 0, as if it
// had succeeded, when injected; else its result.
template <typename Call>
auto PretendSuccess(Hook hook, Call call) -> decltype(call()) {
  return Injected(hook) ? 0 : call();
}

}  // namespace privdrop
