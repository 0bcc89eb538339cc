// Reading every thread's credentials from /proc/self/task/*/status (the drop's "before" and
// its verification), and comparing them. Not for signal handlers: this allocates.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace privdrop {

struct ThreadCreds {
  int tid = 0;
  uint32_t uid[4] = {0, 0, 0, 0};
  uint32_t gid[4] = {0, 0, 0, 0};
  std::vector<uint32_t> groups;  // sorted, unique
  uint64_t inh = 0, prm = 0, eff = 0, bnd = 0, amb = 0;
  int nnp = 0;
  int seccomp = -1;              // Seccomp: 0 none, 1 strict, 2 filter; -1 when the kernel does not say
  int seccompFilters = -1;       // Seccomp_filters: how many filters (Linux 5.9 and later); -1 when absent
};

std::vector<uint32_t> SortedUnique(std::vector<uint32_t> v);

// One thread's credentials. dirFd is an open /proc/self/task. False with errno ENOENT or ESRCH
// when the thread is gone; false with another errno (EIO for a file it cannot parse) otherwise.
bool ReadThread(int dirFd, int tid, ThreadCreds* c);
// Every live thread; one that exits between the listing and the read is left out. Any other
// failure to read a thread sets *err: a verification never passes over a thread it could not read.
// Test build: fault "unreadable-status" (phase "") or "unreadable-status:<phase>" makes another
// thread's file unparsable.
std::vector<ThreadCreds> ReadThreads(int dirFd, int* err, const char* phase = "");

// The first field in which a and b differ ("Uid", "CapBnd", ...), or "" when they agree;
// *av and *bv get both values as text.
std::string FirstDifference(const ThreadCreds& a, const ThreadCreds& b, std::string* av, std::string* bv);

std::string GroupsText(const std::vector<uint32_t>& g);

// Owns an open /proc/self/task for the length of a drop (opened before any chroot: the jail
// usually has no /proc). Open() returns false (errno set) when it cannot be opened.
class TaskDir {
 public:
  TaskDir() = default;
  bool Open();
  ~TaskDir();
  TaskDir(const TaskDir&) = delete;
  TaskDir& operator=(const TaskDir&) = delete;
  int fd() const { return fd_; }

 private:
  int fd_ = -1;
};

}  // namespace privdrop
