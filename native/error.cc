#include "error.h"

#include <cstring>

namespace privdrop {

void ThrowSystemError(const std::string& code, int err, const std::string& syscall,
                      const std::string& step, const std::string& what) {
  throw Error(code, what + ": " + syscall + " failed: " + std::strerror(err), err, syscall, step);
}

}  // namespace privdrop
