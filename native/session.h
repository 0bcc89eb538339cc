// What a dropped process would otherwise keep sharing with the root session that started it:
// the controlling terminal (TIOCSTI injection into root's shell) and the session keyring; and
// the one pre-check that needs the kernel's own permission logic (chroot search access).
#pragma once

#include <string>

namespace privdrop {

struct TerminalHandle {
  int fd = -1;          // /dev/tty, opened before the drop (there may be no /dev after a chroot); -1: none
  bool leader = false;  // this process leads its session: giving the terminal up hangs up the foreground job
};

// Opens the controlling terminal, if the process has one (O_NOCTTY, close-on-exec). Changes nothing.
TerminalHandle OpenControllingTerminal();

// Gives the controlling terminal up (TIOCNOTTY) and proves it is gone (TIOCGSID fails), then
// closes the handle. A session leader ignores the SIGHUP the kernel sends its foreground job for
// the duration of the call. Called after the drop: any failure writes a diagnostic and aborts.
void ReleaseControllingTerminal(const TerminalHandle& t);

// Closes the handle without giving the terminal up (keepTerminal, or a drop that threw).
void CloseTerminalHandle(const TerminalHandle& t);

// One new session keyring for every thread of a drop. The session keyring is per-thread
// credential state, so each thread must join it itself: the calling thread creates it with a
// random name (KEYCTL_JOIN_SESSION_KEYRING creates a keyring of that name when none exists) and
// lets its owner (root, still) search it, which is what joining by name requires of the other
// threads (find_keyring_by_name checks Search permission and skips it otherwise, making each
// thread a keyring of its own). They join it in the transition, before the uid change.
struct SharedKeyring {
  char name[64] = {0};
  long serial = 0;  // 0: this kernel has no keys (ENOSYS): there is no root keyring to leave
};

// Creates and joins it on the calling thread. Throws Error (nothing changed) if it cannot be
// created; a failure after it was joined aborts (the calling thread's keyring changed).
SharedKeyring CreateSharedSessionKeyring();

// Async-signal-safe: joins `k` on the calling thread; 0, or an errno (EBADE: joined another one).
int JoinSharedSessionKeyring(const SharedKeyring& k);


// 0 if this process, with its current effective credentials, can search (chdir into) the
// directory `path`, as chroot() will require; else an errno. `*syscall` names the failing call.
int SearchAccess(const std::string& path, const char** syscall);
// The same on an open directory descriptor (O_PATH is enough).
int SearchAccessAt(int dirFd, const char** syscall);

}  // namespace privdrop
