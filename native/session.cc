#include "session.h"

#include <fcntl.h>
#include <linux/capability.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/random.h>
#include <sys/syscall.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "error.h"
#include "fatal.h"
#include "faults.h"
#include "thread_ops.h"

namespace privdrop {
namespace {

constexpr long kKeyctlGetKeyringId = 0;        // KEYCTL_GET_KEYRING_ID (linux/keyctl.h)
constexpr long kKeyctlJoinSessionKeyring = 1;  // KEYCTL_JOIN_SESSION_KEYRING
constexpr long kKeyctlSetperm = 5;             // KEYCTL_SETPERM
constexpr long kKeySpecSessionKeyring = -3;    // KEY_SPEC_SESSION_KEYRING
// Possessor: everything; owner (the creator's real uid): search, to join by name. Nothing else.
constexpr unsigned long kSharedKeyringPerm = 0x3f000000UL | 0x00080000UL;

[[noreturn]] void FatalTerminal(const char* what, int err) {
  AbortWith(std::string("privdrop: FATAL: the privileges were dropped but the controlling terminal could not be given up (") +
            what + ": " + strerror(err) + "); aborting rather than return with root's terminal still attached (pid " +
            std::to_string(getpid()) + ").\n");
}

[[noreturn]] void FatalKeyring(const char* what, int err) {
  AbortWith(std::string("privdrop: FATAL: the calling thread joined a new session keyring but ") + what + " failed: " +
            strerror(err) + "; aborting rather than go on with threads in different keyrings (pid " +
            std::to_string(getpid()) + ").\n");
}

}  // namespace

TerminalHandle OpenControllingTerminal() {
  TerminalHandle t;
  // ENXIO (no controlling terminal) and any other failure mean: nothing to give up. A process
  // that cannot open /dev/tty cannot name its terminal to TIOCSTI through it either, but it may
  // still hold it on fd 0-2: TIOCGSID on those tells whether it is our controlling terminal.
  t.fd = open("/dev/tty", O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (t.fd < 0) {
    for (int fd = 0; fd <= 2 && t.fd < 0; fd++) {
      pid_t sid = 0;
      unsigned ptn = 0;
      // TIOCGSID answers on a pty master whatever the session: skip masters (TIOCGPTN works only there).
      if (ioctl(fd, TIOCGPTN, &ptn) != 0 && ioctl(fd, TIOCGSID, &sid) == 0) t.fd = fcntl(fd, F_DUPFD_CLOEXEC, 3);
    }
  }
  t.leader = getsid(0) == getpid();
  return t;
}

void ReleaseControllingTerminal(const TerminalHandle& t) {
  if (t.fd < 0) return;
  struct sigaction ignore {}, old {};
  ignore.sa_handler = SIG_IGN;
  sigemptyset(&ignore.sa_mask);
  // A session leader giving up its terminal makes the kernel send SIGHUP and SIGCONT to the
  // terminal's foreground process group, which usually includes this process.
  if (t.leader && sigaction(SIGHUP, &ignore, &old) != 0) FatalTerminal("sigaction(SIGHUP)", errno);
  int rc = ioctl(t.fd, TIOCNOTTY);
  int err = errno;
  if (t.leader) sigaction(SIGHUP, &old, nullptr);
  if (rc != 0 && err != ENOTTY && err != EIO) FatalTerminal("ioctl(TIOCNOTTY)", err);
  // Proof: TIOCGSID only answers for the caller's own controlling terminal (EIO: hung up).
  pid_t sid = 0;
  if (ioctl(t.fd, TIOCGSID, &sid) == 0) FatalTerminal("ioctl(TIOCGSID) still answers after TIOCNOTTY", EBUSY);
  close(t.fd);
}

void CloseTerminalHandle(const TerminalHandle& t) {
  if (t.fd >= 0) close(t.fd);
}

SharedKeyring CreateSharedSessionKeyring(uint32_t fsuid) {
  SharedKeyring k;
  uint64_t nonce = 0;
  if (getrandom(&nonce, sizeof nonce, GRND_NONBLOCK) != static_cast<ssize_t>(sizeof nonce)) {
    timespec ts{};
    clock_gettime(CLOCK_MONOTONIC, &ts);
    nonce = static_cast<uint64_t>(ts.tv_nsec) ^ (static_cast<uint64_t>(ts.tv_sec) << 20);
  }
  snprintf(k.name, sizeof k.name, "privdrop:%d:%016llx", static_cast<int>(getpid()), static_cast<unsigned long long>(nonce));
  // KEYCTL_SETPERM asks the caller's fs uid to be the owner (or CAP_SYS_ADMIN): this thread makes
  // both calls as the owner, its real uid, and then takes its own fs uid and capabilities back
  // (a change of fs uid to or from 0 raises or drops the file-system capabilities in effective).
  k.owner = static_cast<uint32_t>(getuid());
  const bool asOwner = fsuid != k.owner;
  k.joinAsOwner = asOwner;
  CapData caps{};
  caps.header.version = _LINUX_CAPABILITY_VERSION_3;
  if (asOwner) {
    if (syscall(SYS_capget, &caps.header, caps.data) != 0)
      ThrowSystemError(kErrSystem, errno, "capget", "validate", "cannot read this thread's capabilities");
    syscall(SYS_setfsuid, static_cast<long>(k.owner));
  }
  long serial = Hooked("create-keyring",
                       [&] { return syscall(SYS_keyctl, kKeyctlJoinSessionKeyring, reinterpret_cast<long>(k.name), 0L, 0L, 0L); });
  int err = serial < 0 ? errno : 0;
  if (serial < 0) {
    if (asOwner) {
      syscall(SYS_setfsuid, static_cast<long>(fsuid));
      if (syscall(SYS_setfsuid, -1L) != static_cast<long>(fsuid) || RawCapset("", caps) != 0)
        FatalKeyring("putting the fs uid and capabilities back after keyctl(KEYCTL_JOIN_SESSION_KEYRING) failed", EPERM);
    }
    if (err == ENOSYS) return SharedKeyring{};
    ThrowSystemError(kErrSystem, err, "keyctl", "validate",
                     "cannot create a new session keyring for the drop (for the real uid " + std::to_string(k.owner) +
                         ", whose key quota it is charged to)");
  }
  k.serial = serial;
  if (syscall(SYS_keyctl, kKeyctlSetperm, serial, kSharedKeyringPerm, 0L, 0L) != 0) {
    FatalKeyring("keyctl(KEYCTL_SETPERM) on the new session keyring", errno);
  }
  if (asOwner) {
    syscall(SYS_setfsuid, static_cast<long>(fsuid));
    if (syscall(SYS_setfsuid, -1L) != static_cast<long>(fsuid)) FatalKeyring("setfsuid back to this thread's fs uid", EPERM);
    if (int e = RawCapset("", caps)) FatalKeyring("capset back to this thread's capabilities", e);
  }
  return k;
}

namespace {
bool Refused(long r) { return r < 0 && (errno == EPERM || errno == EACCES || errno == ENOSYS); }
}  // namespace

bool KeyCallsRefused() {
  const int saved = errno;
  // Each call, if the kernel ran it, answers without changing anything: an unknown operation
  // (EOPNOTSUPP), a zero-length read or description of the session keyring, its id without
  // creating one, and add_key/request_key with no key type (EFAULT).
  const bool refused = Refused(syscall(SYS_keyctl, 0x7fffffffL, 0L, 0L, 0L, 0L)) &&
                       Refused(syscall(SYS_keyctl, 11L /* READ */, kKeySpecSessionKeyring, 0L, 0L, 0L)) &&
                       Refused(syscall(SYS_keyctl, 6L /* DESCRIBE */, kKeySpecSessionKeyring, 0L, 0L, 0L)) &&
                       Refused(syscall(SYS_keyctl, kKeyctlGetKeyringId, kKeySpecSessionKeyring, 0L, 0L, 0L)) &&
                       Refused(syscall(SYS_add_key, 0L, 0L, 0L, 0L, kKeySpecSessionKeyring)) &&
                       Refused(syscall(SYS_request_key, 0L, 0L, 0L, 0L));
  errno = saved;
  return refused;
}

int JoinSharedSessionKeyring(const SharedKeyring& k) {
  if (k.serial == 0) return 0;
  if (k.joinAsOwner) {  // setfsuid only then: a filter may refuse it where the drop never needs it
    syscall(SYS_setfsuid, static_cast<long>(k.owner));
    if (syscall(SYS_setfsuid, -1L) != static_cast<long>(k.owner)) return EPERM;  // setfsuid reports no error itself
  }
  long serial = syscall(SYS_keyctl, kKeyctlJoinSessionKeyring, reinterpret_cast<long>(k.name), 0L, 0L, 0L);
  if (serial < 0) return errno;
  // 0: it already was this thread's session keyring (the kernel returns 0 then, not the serial).
  if (serial != 0 && serial != k.serial) return EBADE;  // found another keyring of that name: never expected
  long now = syscall(SYS_keyctl, kKeyctlGetKeyringId, kKeySpecSessionKeyring, 0L, 0L, 0L);
  return now == k.serial ? 0 : EBADE;
}

int SearchAccess(const std::string& path, const char** syscall) {
  *syscall = "open";
  int fd = open(path.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return errno;
  int err = SearchAccessAt(fd, syscall);
  close(fd);
  return err;
}

int SearchAccessAt(int dirFd, const char** syscall) {
  *syscall = "faccessat";
  // The same check chroot() and fchdir() make (MAY_EXEC on the directory), with the effective
  // ids and capabilities (AT_EACCESS), on the directory that was opened.
  return faccessat(dirFd, "", X_OK, AT_EACCESS | AT_EMPTY_PATH) == 0 ? 0 : errno;
}

}  // namespace privdrop
