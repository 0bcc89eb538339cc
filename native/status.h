// Every thread's credentials from /proc/self/task/*/status (the drop's "before" and its
// verification), and comparing them. ThreadCreds is the one type for a thread's credential state:
// what a thread shows, and what the drop, setCapabilities() and the broadcast expect it to show.
// Reading every thread allocates (not for signal handlers); ParseStatus without groups and
// FirstDifferingField do not.
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

// The compared fields, in the order a difference is reported; a bit set of them says what to compare.
enum CredField : unsigned {
  kUid = 1u << 0, kGid = 1u << 1, kGroups = 1u << 2,
  kInh = 1u << 3, kPrm = 1u << 4, kEff = 1u << 5, kBnd = 1u << 6, kAmb = 1u << 7, kNnp = 1u << 8,
};
constexpr int kCredFieldCount = 9;
constexpr unsigned kCapsAndNnp = kInh | kPrm | kEff | kBnd | kAmb | kNnp;
constexpr unsigned kAllCredFields = kUid | kGid | kGroups | kCapsAndNnp;

std::vector<uint32_t> SortedUnique(std::vector<uint32_t> v);

// Parses one status file's text into *c (all but tid). Without `groups` the Groups line is
// skipped and nothing is allocated (the broadcast reads a thread's status with it).
bool ParseStatus(const char* text, ThreadCreds* c, bool groups);

// One thread's credentials. dirFd is an open /proc/self/task. False with errno ENOENT or ESRCH
// when the thread is gone; false with another errno (EIO for a file it cannot parse) otherwise.
bool ReadThread(int dirFd, int tid, ThreadCreds* c);
// Every live thread into *out; one that exits between the listing and the read is left out.
// Returns 0, or the errno of a failure to read a thread: a verification never passes over a thread
// it could not read. Test build: fault "unreadable-status" (phase "") or
// "unreadable-status:<phase>" makes another thread's file unparsable.
int ReadThreads(int dirFd, std::vector<ThreadCreds>* out, const char* phase = "");

// The index (0 for kUid ... 8 for kNnp) of the first of `fields` in which a and b differ, or -1.
// Allocates nothing: the broadcast compares with it while its signals are out.
int FirstDifferingField(const ThreadCreds& a, const ThreadCreds& b, unsigned fields);

// The same over every field, by name ("Uid", "CapBnd", ...), or "" when they agree; *av and *bv
// get both values as text.
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
