// What a dropped process would otherwise keep sharing with the root session that started it:
// the controlling terminal (TIOCSTI injection into root's shell) and the session keyring; and
// the one pre-check that needs the kernel's own permission logic (chroot search access).
#pragma once

#include <cstdint>
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
// random name (KEYCTL_JOIN_SESSION_KEYRING creates a keyring of that name when none exists), and
// the others join it by name in the transition, before the uid change. The kernel makes the
// creator's REAL uid the new keyring's owner, but checks a joiner's Search right against its FS
// uid (find_keyring_by_name skips a keyring it may not search, and join then makes a keyring of
// its own): so the keyring grants Search to its owner only, and a thread whose fs uid is not the
// owner joins with setfsuid(owner) first (its own real uid: no privilege needed; the transition's
// setresuid resets the fs uid). Possessors (the joined threads) hold every right; nobody else
// holds any, not even View, so another process of the owner's uid never learns the name.
struct SharedKeyring {
  char name[64] = {0};
  long serial = 0;     // 0: this kernel has no keys (ENOSYS): there is no root keyring to leave
  uint32_t owner = 0;  // the creating thread's real uid: the keyring's owner
  bool joinAsOwner = false;  // the threads' fs uid is not the owner: each joins with setfsuid(owner)
};

// Creates and joins it on the calling thread, whose fs uid (every thread's) is `fsuid`. Throws Error (nothing changed) if it cannot be
// created; a failure after it was joined aborts (the calling thread's keyring changed).
SharedKeyring CreateSharedSessionKeyring(uint32_t fsuid);

// Async-signal-safe: true when this thread can make no key system call at all: keyctl with an
// unknown operation and READ, DESCRIBE and GET_KEYRING_ID of its session keyring, add_key and
// request_key are each refused with EPERM, EACCES or ENOSYS (a kernel without keys, or a seccomp
// filter that refuses the three calls whole, as the container runtimes' default profiles do).
// Such a thread cannot reach a key, and neither can any thread or program it starts (seccomp
// filters are inherited and never removed): there is no root keyring to leave behind.
bool KeyCallsRefused();

// Async-signal-safe: joins `k` on the calling thread (as its owner, see above); 0, or an errno
// (EBADE: joined another one).
int JoinSharedSessionKeyring(const SharedKeyring& k);


// 0 if this process, with its current effective credentials, can search (chdir into) the
// directory `path`, as chroot() will require; else an errno. `*syscall` names the failing call.
int SearchAccess(const std::string& path, const char** syscall);
// The same on an open directory descriptor (O_PATH is enough).
int SearchAccessAt(int dirFd, const char** syscall);

}  // namespace privdrop
