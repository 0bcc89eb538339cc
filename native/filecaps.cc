#include "filecaps.h"

#include <sys/capability.h>

#include <cerrno>

#include "error.h"

namespace privdrop {

FileCaps CapsOfFile(const std::string& path) {
  FileCaps out;
  errno = 0;
  cap_t caps = cap_get_file(path.c_str());
  if (caps == nullptr) {
    if (errno == ENODATA || errno == ENOTSUP) return out;
    ThrowSystemError(kErrSystem, errno, "cap_get_file", "", "cannot read the file capabilities of " + path);
  }
  out.present = true;
  const cap_flag_t flags[3] = {CAP_EFFECTIVE, CAP_PERMITTED, CAP_INHERITABLE};
  uint64_t* masks[3] = {&out.masks.effective, &out.masks.permitted, &out.masks.inheritable};
  for (int f = 0; f < 3; f++) {
    for (unsigned bit = 0; bit < 64; bit++) {
      cap_flag_value_t v = CAP_CLEAR;
      if (cap_get_flag(caps, static_cast<cap_value_t>(bit), flags[f], &v) != 0) break;  // past libcap's bits
      if (v == CAP_SET) *masks[f] |= uint64_t{1} << bit;
    }
  }
  cap_free(caps);
  return out;
}

}  // namespace privdrop
