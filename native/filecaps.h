// File capabilities (the security.capability attribute), for `privdrop exec --permitted-only`:
// the kernel hands a capability to an exec'd program permitted-only through the program file's
// inheritable set (P'permitted |= P.inheritable & F.inheritable; effective only with F's effective bit).
#pragma once

#include <string>

#include "caps.h"

namespace privdrop {

struct FileCaps {
  bool present = false;  // false: the file has no capabilities (ENODATA)
  CapMasks masks;        // effective is the file's effective bit applied: empty, or permitted|inheritable
};

// cap_get_file. Throws ERR_PRIVDROP_SYSTEM for any failure but "no capabilities".
FileCaps CapsOfFile(const std::string& path);

}  // namespace privdrop
