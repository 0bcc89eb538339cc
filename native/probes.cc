#include "probes.h"

#include <dirent.h>
#include <grp.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <vector>

#include "broadcast.h"
#include "error.h"
#include "faults.h"
#include "platform.h"

namespace privdrop {
namespace {

int NoopOp(const void*, const char**) { return 0; }

}  // namespace

StepTiming ProbeBroadcast() {
  if (!IsMainThread()) throw Error(kErrNotMainThread, "broadcasts must start on the main thread");
  BroadcastReport r = Broadcast("probe", &NoopOp, nullptr);
  if (!r.ok)
    throw Error(kErrThreadUnreachable,
                std::string("probe broadcast failed on thread ") + std::to_string(r.failedTid) + ": " + strerror(r.err),
                r.err, "rt_tgsigqueueinfo", "probe");
  return {"probe", r.ms, r.threads};
}

StepTiming GlibcSetgroupsBroadcast() {
  int n = getgroups(0, nullptr);
  if (n < 0) ThrowSystemError(kErrSystem, errno, "getgroups", "", "cannot read the groups");
  std::vector<gid_t> list(static_cast<size_t>(n) + 1);
  n = getgroups(n, list.data());
  if (n < 0) ThrowSystemError(kErrSystem, errno, "getgroups", "", "cannot read the groups");
  const double t0 = NowMs();
  if (setgroups(static_cast<size_t>(n), list.data()) != 0)
    ThrowSystemError(kErrNotPermitted, errno, "setgroups", "", "cannot time glibc's setgroups broadcast");
  StepTiming t{"glibc-setgroups", NowMs() - t0, 0};
  DIR* dir = opendir("/proc/self/task");
  if (dir != nullptr) {
    while (dirent* d = readdir(dir)) t.threads += d->d_name[0] >= '0' && d->d_name[0] <= '9';
    closedir(dir);
  }
  return t;
}

}  // namespace privdrop
