#include "caps.h"

#include <sys/capability.h>

#include <linux/capability.h>

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <memory>
#include <type_traits>

#include "error.h"

namespace privdrop {
namespace {

// Everything libcap hands out is released with cap_free.
struct CapFree {
  void operator()(void* p) const { cap_free(p); }
};
using CapPtr = std::unique_ptr<std::remove_pointer<cap_t>::type, CapFree>;
using CapText = std::unique_ptr<char, CapFree>;

constexpr cap_flag_t kFlags[3] = {CAP_EFFECTIVE, CAP_PERMITTED, CAP_INHERITABLE};

uint64_t* MaskFor(CapMasks& m, cap_flag_t flag) {
  switch (flag) {
    case CAP_EFFECTIVE: return &m.effective;
    case CAP_PERMITTED: return &m.permitted;
    default: return &m.inheritable;
  }
}

uint64_t MaskOf(const CapMasks& m, cap_flag_t flag) {
  switch (flag) {
    case CAP_EFFECTIVE: return m.effective;
    case CAP_PERMITTED: return m.permitted;
    default: return m.inheritable;
  }
}

CapMasks ToMasks(cap_t caps) {
  CapMasks m;
  for (cap_flag_t flag : kFlags) {
    uint64_t* mask = MaskFor(m, flag);
    for (unsigned bit = 0; bit < 64; bit++) {
      cap_flag_value_t v = CAP_CLEAR;
      if (cap_get_flag(caps, static_cast<cap_value_t>(bit), flag, &v) != 0) break;  // past libcap's bits
      if (v == CAP_SET) *mask |= uint64_t{1} << bit;
    }
  }
  return m;
}

CapPtr FromMasks(const CapMasks& m) {
  CapPtr caps(cap_init());
  if (!caps) ThrowSystemError(kErrSystem, errno, "cap_init", "", "cannot allocate a capability set");
  for (cap_flag_t flag : kFlags) {
    uint64_t mask = MaskOf(m, flag);
    for (unsigned bit = 0; bit < 64; bit++) {
      if (!(mask & (uint64_t{1} << bit))) continue;
      cap_value_t value = static_cast<cap_value_t>(bit);
      if (cap_set_flag(caps.get(), flag, 1, &value, CAP_SET) != 0)
        throw Error(kErrInvalidCapabilities,
                    "capability number " + std::to_string(bit) + " is beyond what libcap can represent", EINVAL);
    }
  }
  return caps;
}

}  // namespace

CapMasks CapsFromText(const std::string& text) {
  errno = 0;
  CapPtr caps(cap_from_text(text.c_str()));
  if (!caps) {
    int err = errno ? errno : EINVAL;
    throw Error(kErrInvalidCapabilities, "invalid capability text", err, "cap_from_text");
  }
  return ToMasks(caps.get());
}

std::string CapsToText(const CapMasks& masks) {
  CapPtr caps = FromMasks(masks);
  CapText text(cap_to_text(caps.get(), nullptr));
  if (!text) ThrowSystemError(kErrSystem, errno, "cap_to_text", "", "cannot format capabilities");
  return std::string(text.get());
}

CapMasks CapsOfCurrentThread() {
  CapPtr caps(cap_get_proc());
  if (!caps) ThrowSystemError(kErrSystem, errno, "cap_get_proc", "", "cannot read this thread's capabilities");
  return ToMasks(caps.get());
}

CapMasks CapsOfProcess(int pid) {
  CapPtr caps(cap_get_pid(pid));
  if (!caps) ThrowSystemError(kErrSystem, errno, "cap_get_pid", "",
                              "cannot read the capabilities of process " + std::to_string(pid));
  return ToMasks(caps.get());
}

void SetCapsOfCurrentThread(const CapMasks& masks) {
  CapPtr caps = FromMasks(masks);
  if (cap_set_proc(caps.get()) != 0)
    ThrowSystemError(kErrSystem, errno, "cap_set_proc", "", "cannot set this thread's capabilities");
}

unsigned CapMaxBits() { return cap_max_bits(); }

std::string CapName(unsigned index) {
  CapText name(cap_to_name(static_cast<cap_value_t>(index)));
  if (!name) ThrowSystemError(kErrSystem, errno, "cap_to_name", "", "cannot name capability");
  return std::string(name.get());
}

std::string CapNames(uint64_t mask) {
  std::string s;
  for (unsigned cap = 0; cap < 64; cap++) {
    if (!(mask & (uint64_t{1} << cap))) continue;
    s += s.empty() ? "" : ",";
    s += CapName(cap);
  }
  return s;
}

// Read with open()/read(), not std::ifstream: iostreams would link libstdc++'s locale machinery
// into the static prebuild, and its start-up code would run at every dlopen.
unsigned LastCap() {
  int fd = open("/proc/sys/kernel/cap_last_cap", O_RDONLY | O_CLOEXEC);
  if (fd < 0) return CAP_LAST_CAP;
  char text[16];
  ssize_t n = read(fd, text, sizeof text - 1);
  close(fd);
  unsigned v = 0;
  ssize_t i = 0;
  for (; i < n && text[i] >= '0' && text[i] <= '9' && v < 1000; i++) v = v * 10 + static_cast<unsigned>(text[i] - '0');
  return i > 0 && v < 64 ? v : CAP_LAST_CAP;
}

}  // namespace privdrop
