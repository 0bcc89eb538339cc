// Reading /proc/self/task with raw getdents64, for the broadcast and the windows' thread tail:
// no allocation, async-signal-safe.
#pragma once

#include <cstdint>

namespace privdrop {

// The kernel's struct linux_dirent64 (getdents64(2)); glibc declares none.
struct LinuxDirent64 {
  uint64_t d_ino;
  int64_t d_off;
  unsigned short d_reclen;
  unsigned char d_type;
  char d_name[1];
};

// A /proc/self/task entry's thread id, or 0 for anything else ("." and "..").
inline int ParseTid(const char* name) {
  if (name[0] < '1' || name[0] > '9') return 0;
  long v = 0;
  for (const char* c = name; *c; c++) {
    if (*c < '0' || *c > '9' || v > 0x3fffffff) return 0;
    v = v * 10 + (*c - '0');
  }
  return static_cast<int>(v);
}

}  // namespace privdrop
