#include "identity.h"

#include <grp.h>
#include <pwd.h>
#include <unistd.h>

#include <cerrno>
#include <vector>

#include "error.h"

namespace privdrop {
namespace {

// getpw*_r / getgr*_r with a buffer that grows on ERANGE. `syscall` names the function `call`
// makes, for the error (getpwnam_r, getpwuid_r, getgrnam_r or getgrgid_r).
template <typename Entry, typename Call>
bool Lookup(Call call, const char* syscall, Entry* entry, std::vector<char>* buf, const std::string& what) {
  buf->resize(1024);
  for (;;) {
    Entry* result = nullptr;
    int err = call(entry, buf->data(), buf->size(), &result);
    if (err == ERANGE && buf->size() < (1u << 24)) {
      buf->resize(buf->size() * 2);
      continue;
    }
    if (result != nullptr) return true;
    // ENOENT, ESRCH, EBADF and EPERM are how various NSS modules say "no such entry".
    if (err == 0 || err == ENOENT || err == ESRCH || err == EBADF || err == EPERM) return false;
    ThrowSystemError(kErrSystem, err, syscall, "resolve", "cannot look up " + what);
  }
}

UserEntry FromPasswd(const passwd& pw) {
  UserEntry u;
  u.found = true;
  u.name = pw.pw_name ? pw.pw_name : "";
  u.uid = pw.pw_uid;
  u.gid = pw.pw_gid;
  u.dir = pw.pw_dir ? pw.pw_dir : "";
  u.shell = pw.pw_shell ? pw.pw_shell : "";
  return u;
}

GroupEntry FromGroup(const group& gr) {
  GroupEntry g;
  g.found = true;
  g.name = gr.gr_name ? gr.gr_name : "";
  g.gid = gr.gr_gid;
  return g;
}

}  // namespace

UserEntry LookupUserByName(const std::string& name) {
  passwd pw{};
  std::vector<char> buf;
  auto call = [&](passwd* e, char* b, size_t n, passwd** r) { return getpwnam_r(name.c_str(), e, b, n, r); };
  return Lookup(call, "getpwnam_r", &pw, &buf, "user " + name) ? FromPasswd(pw) : UserEntry{};
}

UserEntry LookupUserById(uint32_t uid) {
  passwd pw{};
  std::vector<char> buf;
  auto call = [&](passwd* e, char* b, size_t n, passwd** r) { return getpwuid_r(uid, e, b, n, r); };
  return Lookup(call, "getpwuid_r", &pw, &buf, "uid " + std::to_string(uid)) ? FromPasswd(pw) : UserEntry{};
}

GroupEntry LookupGroupByName(const std::string& name) {
  group gr{};
  std::vector<char> buf;
  auto call = [&](group* e, char* b, size_t n, group** r) { return getgrnam_r(name.c_str(), e, b, n, r); };
  return Lookup(call, "getgrnam_r", &gr, &buf, "group " + name) ? FromGroup(gr) : GroupEntry{};
}

GroupEntry LookupGroupById(uint32_t gid) {
  group gr{};
  std::vector<char> buf;
  auto call = [&](group* e, char* b, size_t n, group** r) { return getgrgid_r(gid, e, b, n, r); };
  return Lookup(call, "getgrgid_r", &gr, &buf, "gid " + std::to_string(gid)) ? FromGroup(gr) : GroupEntry{};
}

std::vector<uint32_t> GroupListOf(const std::string& user, uint32_t gid) {
  int n = 64;
  for (int attempt = 0; attempt < 16; attempt++) {
    std::vector<gid_t> groups(static_cast<size_t>(n));
    int count = n;
    if (getgrouplist(user.c_str(), gid, groups.data(), &count) >= 0) {
      return std::vector<uint32_t>(groups.begin(), groups.begin() + count);
    }
    n = count > n ? count : n * 2;  // count now holds the number needed
  }
  throw Error(kErrSystem, "getgrouplist did not settle for user " + user, ERANGE, "getgrouplist", "resolve");
}

}  // namespace privdrop
