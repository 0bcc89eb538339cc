// execve in place for the CLI launcher (Node 20 has no process.execve).
#pragma once

#include <string>
#include <vector>

namespace privdrop {

// Clears FD_CLOEXEC on keepFds (0-2 are always kept), then execve(file, argv, env).
// file is a path; PATH search is the caller's. Returns only by throwing Error.
void Exec(const std::string& file, const std::vector<std::string>& argv,
          const std::vector<std::string>& env, const std::vector<int>& keepFds);

}  // namespace privdrop
