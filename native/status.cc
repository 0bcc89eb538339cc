// Every thread's credentials as the kernel reports them in /proc/self/task/*/status.
#include "status.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>

#include "faults.h"

namespace privdrop {

// A hand parser: this runs for every thread twice per drop, and in the broadcast (no groups).
bool ParseStatus(const char* text, ThreadCreds* c, bool groups) {
  int seen = 0;
  const char* p = text;
  auto ids = [](const char* v, uint32_t out[4]) {
    char* end = nullptr;
    for (int i = 0; i < 4; i++) {
      out[i] = static_cast<uint32_t>(strtoul(v, &end, 10));
      v = end;
    }
  };
  auto mask = [](const char* v) { return static_cast<uint64_t>(strtoull(v, nullptr, 16)); };
  auto is = [](const char* line, size_t len, const char* key) {
    const size_t n = strlen(key);
    return len == n && memcmp(line, key, n) == 0;
  };
  int optional = 0;  // Seccomp and Seccomp_filters come right after NoNewPrivs when the kernel has them
  while (*p && (seen < 9 || optional < 2)) {
    const char* eol = strchr(p, '\n');
    if (eol == nullptr) eol = p + strlen(p);
    const char* colon = static_cast<const char*>(memchr(p, ':', static_cast<size_t>(eol - p)));
    if (colon != nullptr) {
      const size_t len = static_cast<size_t>(colon - p);
      const char* v = colon + 1;
      if (is(p, len, "Uid")) { ids(v, c->uid); seen++; }
      else if (is(p, len, "Gid")) { ids(v, c->gid); seen++; }
      else if (is(p, len, "Groups") && !groups) seen++;
      else if (is(p, len, "Groups")) {
        char* end = nullptr;
        for (;;) {
          while (v < eol && (*v == ' ' || *v == '\t')) v++;
          if (v >= eol) break;
          c->groups.push_back(static_cast<uint32_t>(strtoul(v, &end, 10)));
          if (end == v) break;
          v = end;
        }
        // The kernel prints the list sorted: only an unsorted or repeated one needs the copy.
        if (std::adjacent_find(c->groups.begin(), c->groups.end(), std::greater_equal<uint32_t>()) != c->groups.end())
          c->groups = SortedUnique(c->groups);
        seen++;
      }
      else if (is(p, len, "CapInh")) { c->inh = mask(v); seen++; }
      else if (is(p, len, "CapPrm")) { c->prm = mask(v); seen++; }
      else if (is(p, len, "CapEff")) { c->eff = mask(v); seen++; }
      else if (is(p, len, "CapBnd")) { c->bnd = mask(v); seen++; }
      else if (is(p, len, "CapAmb")) { c->amb = mask(v); seen++; }
      else if (is(p, len, "NoNewPrivs")) { c->nnp = atoi(v); seen++; }
      else if (is(p, len, "Seccomp")) { c->seccomp = atoi(v); optional++; }
      else if (is(p, len, "Seccomp_filters")) { c->seccompFilters = atoi(v); optional++; }
      else if (seen == 9) break;  // past NoNewPrivs and not a Seccomp line: nothing more to read
    }
    p = *eol ? eol + 1 : eol;
  }
  return seen == 9;
}

namespace {

std::string Hex(uint64_t v) {
  char b[24];
  snprintf(b, sizeof b, "%016llx", static_cast<unsigned long long>(v));
  return b;
}

std::string Ids(const uint32_t v[4]) {
  return std::to_string(v[0]) + "," + std::to_string(v[1]) + "," + std::to_string(v[2]) + "," + std::to_string(v[3]);
}

}  // namespace

std::vector<uint32_t> SortedUnique(std::vector<uint32_t> v) {
  std::sort(v.begin(), v.end());
  v.erase(std::unique(v.begin(), v.end()), v.end());
  return v;
}

bool ReadThread(int dirFd, int tid, ThreadCreds* c) {
  char path[32];
  snprintf(path, sizeof path, "%d/status", tid);
  int fd = openat(dirFd, path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;  // errno: ENOENT or ESRCH when the thread is gone
  // A status file is about 1.5 KiB; a long Groups line can make it larger.
  char small[8192];
  std::string large;
  size_t got = 0;
  ssize_t n;
  // One read: a /proc status file is a single seq_file record, so a read with room for all of it
  // returns all of it (a short read is its end; no second read to see the 0). Only a file that
  // fills the buffer is read on.
  n = read(fd, small, sizeof small - 1);
  if (n < 0) { int e = errno; close(fd); errno = e; return false; }  // ESRCH: exited since the open
  if (n == 0) { close(fd); errno = ESRCH; return false; }
  got = static_cast<size_t>(n);
  small[got] = '\0';
  const char* text = small;
  if (got == sizeof small - 1) {
    large.assign(small, got);
    char buf[8192];
    while ((n = read(fd, buf, sizeof buf)) > 0) large.append(buf, static_cast<size_t>(n));
    text = large.c_str();
  }
  close(fd);
  c->tid = tid;
  if (ParseStatus(text, c, true)) return true;
  errno = EIO;  // a status file without every field: never taken for a thread that is gone
  return false;
}

int ReadThreads(int dirFd, std::vector<ThreadCreds>* out, const char* phase) {
  out->clear();
  out->reserve(64);
  int listFd = fcntl(dirFd, F_DUPFD_CLOEXEC, 0);
  if (listFd < 0) return errno;
  DIR* dir = fdopendir(listFd);
  if (dir == nullptr) { int e = errno; close(listFd); return e; }
  rewinddir(dir);
  const int self = static_cast<int>(syscall(SYS_gettid));
  int err = 0;
  while (dirent* d = readdir(dir)) {
    if (d->d_name[0] < '0' || d->d_name[0] > '9') continue;
    ThreadCreds c;
    const int tid = atoi(d->d_name);
    auto read = [&] { return ReadThread(dirFd, tid, &c) ? 0 : -1; };
    // Test build: another thread's status file reads as unparsable.
    if ((tid == self ? read() : Hooked(Hook("unreadable-status", phase), read, EIO)) == 0) {
      out->push_back(std::move(c));
    } else if (errno != ENOENT && errno != ESRCH) {
      err = errno;  // unreadable, not gone: the caller must not take the listing as complete
      break;
    }  // else: exited since the listing
  }
  closedir(dir);
  return err == 0 && out->empty() ? ENOENT : err;
}

std::string GroupsText(const std::vector<uint32_t>& g) {
  std::string s;
  for (uint32_t x : g) s += (s.empty() ? "" : ",") + std::to_string(x);
  return "[" + s + "]";
}

int FirstDifferingField(const ThreadCreds& a, const ThreadCreds& b, unsigned fields) {
  const bool same[kCredFieldCount] = {
      std::equal(a.uid, a.uid + 4, b.uid), std::equal(a.gid, a.gid + 4, b.gid), a.groups == b.groups,
      a.inh == b.inh, a.prm == b.prm, a.eff == b.eff, a.bnd == b.bnd, a.amb == b.amb, a.nnp == b.nnp,
  };
  for (int i = 0; i < kCredFieldCount; i++) {
    if ((fields & (1u << i)) && !same[i]) return i;
  }
  return -1;
}

std::string FirstDifference(const ThreadCreds& a, const ThreadCreds& b, std::string* av, std::string* bv) {
  // The text is built only for the field that differs (verify compares every thread).
  static constexpr const char* kNames[kCredFieldCount] = {"Uid", "Gid", "Groups", "CapInh", "CapPrm",
                                                          "CapEff", "CapBnd", "CapAmb", "NoNewPrivs"};
  const int i = FirstDifferingField(a, b, kAllCredFields);
  if (i < 0) return "";
  auto text = [i](const ThreadCreds& x) {
    const uint64_t masks[] = {x.inh, x.prm, x.eff, x.bnd, x.amb};
    return i == 0 ? Ids(x.uid) : i == 1 ? Ids(x.gid) : i == 2 ? GroupsText(x.groups)
           : i == 8 ? std::to_string(x.nnp) : Hex(masks[i - 3]);
  };
  *av = text(a);
  *bv = text(b);
  return kNames[i];
}

bool TaskDir::Open() {
  if (fd_ < 0) fd_ = Hooked("open-task", [] { return open("/proc/self/task", O_RDONLY | O_DIRECTORY | O_CLOEXEC); });
  return fd_ >= 0;
}

TaskDir::~TaskDir() {
  if (fd_ >= 0) close(fd_);
}

}  // namespace privdrop
