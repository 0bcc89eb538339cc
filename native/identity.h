// User and group resolution through NSS (getpwnam_r, getgrnam_r, getgrouplist).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace privdrop {

struct UserEntry {
  bool found = false;
  std::string name;
  uint32_t uid = 0;
  uint32_t gid = 0;
  std::string dir;
  std::string shell;
};

struct GroupEntry {
  bool found = false;
  std::string name;
  uint32_t gid = 0;
};

// found=false when NSS has no such entry. Throws ERR_PRIVDROP_SYSTEM when NSS fails.
UserEntry LookupUserByName(const std::string& name);
UserEntry LookupUserById(uint32_t uid);
GroupEntry LookupGroupByName(const std::string& name);
GroupEntry LookupGroupById(uint32_t gid);
// getgrouplist(user, gid): what initgroups() would set, gid included.
std::vector<uint32_t> GroupListOf(const std::string& user, uint32_t gid);

}  // namespace privdrop
