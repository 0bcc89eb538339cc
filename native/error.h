// A failure raised by the native core. binding.cc turns it into a PrivdropError.
#pragma once

#include <stdexcept>
#include <string>

#include "error_codes.h"

namespace privdrop {

class Error : public std::runtime_error {
 public:
  Error(std::string code, const std::string& message, int err = 0,
        std::string syscall = "", std::string step = "")
      : std::runtime_error(message),
        code_(std::move(code)),
        errno_(err),
        syscall_(std::move(syscall)),
        step_(std::move(step)) {}

  const std::string& code() const { return code_; }
  int err() const { return errno_; }
  const std::string& syscall() const { return syscall_; }
  const std::string& step() const { return step_; }

 private:
  std::string code_;
  int errno_;
  std::string syscall_;
  std::string step_;
};

// Throws Error with `code`, a message ending in strerror(err), and errno/syscall set.
[[noreturn]] void ThrowSystemError(const std::string& code, int err,
                                   const std::string& syscall,
                                   const std::string& step,
                                   const std::string& what);

}  // namespace privdrop
