// Capability sets as three 64-bit masks, and libcap's text form of them.
#pragma once

#include <cstdint>
#include <string>

namespace privdrop {

struct CapMasks {
  uint64_t effective = 0;
  uint64_t permitted = 0;
  uint64_t inheritable = 0;
};

// cap_from_text. Throws Error ERR_PRIVDROP_INVALID_CAPABILITIES on bad text.
CapMasks CapsFromText(const std::string& text);
// cap_to_text: libcap's canonical text.
std::string CapsToText(const CapMasks& masks);
// cap_get_proc: the calling thread's sets.
CapMasks CapsOfCurrentThread();
// cap_get_pid. Throws ERR_PRIVDROP_SYSTEM (errno ESRCH...) on failure.
CapMasks CapsOfProcess(int pid);
// cap_set_proc on the calling thread only. Used by tests as the kernel oracle.
void SetCapsOfCurrentThread(const CapMasks& masks);
// cap_max_bits(): capabilities known to both the kernel and libcap.
unsigned CapMaxBits();
// cap_to_name: "cap_chown", or the number as text past libcap's table.
std::string CapName(unsigned index);
// "cap_net_raw,cap_sys_admin": CapName for each bit of mask, comma-separated.
std::string CapNames(uint64_t mask);
// The highest capability number this kernel knows (/proc/sys/kernel/cap_last_cap; the headers'
// CAP_LAST_CAP when unreadable).
unsigned LastCap();

}  // namespace privdrop
