#include "exec.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>

#include "debug_signal.h"
#include "error.h"

namespace privdrop {
namespace {

std::vector<char*> CArray(const std::vector<std::string>& v) {
  std::vector<char*> out;
  out.reserve(v.size() + 1);
  for (const std::string& s : v) out.push_back(const_cast<char*>(s.c_str()));
  out.push_back(nullptr);
  return out;
}

}  // namespace

void Exec(const std::string& file, const std::vector<std::string>& argv,
          const std::vector<std::string>& env, const std::vector<int>& keepFds) {
  if (argv.empty()) throw Error(kErrInvalidArgument, "argv must hold at least the program name");
  std::vector<int> fds = {0, 1, 2};
  fds.insert(fds.end(), keepFds.begin(), keepFds.end());
  // Node marks 0-2 close-on-exec at start-up; a kept fd must survive the exec.
  for (int fd : fds) {
    int flags = fcntl(fd, F_GETFD);
    if (flags < 0) {
      if (errno == EBADF && fd <= 2) continue;  // a closed stdio fd stays closed
      ThrowSystemError(kErrExecFailed, errno, "fcntl", "exec", "cannot keep fd " + std::to_string(fd));
    }
    if ((flags & FD_CLOEXEC) && fcntl(fd, F_SETFD, flags & ~FD_CLOEXEC) < 0)
      ThrowSystemError(kErrExecFailed, errno, "fcntl", "exec", "cannot keep fd " + std::to_string(fd));
  }
  std::vector<char*> cargv = CArray(argv);
  std::vector<char*> cenv = CArray(env);
  ResetDebugSignalForExec();
  execve(file.c_str(), cargv.data(), cenv.data());
  int err = errno;
  ThrowSystemError(err == ENOENT ? kErrCommandNotFound : kErrExecFailed, err, "execve", "exec",
                   "cannot execute " + file);
}

}  // namespace privdrop
