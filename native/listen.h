// A TCP socket bound synchronously, for listen(): the bind is the only step that needs
// cap_net_bind_service, so it must happen while the capability window is open, and Node's own
// listen(port, host) binds only after an asynchronous lookup (after the window has closed).
#pragma once

#include <string>

namespace privdrop {

struct BindRequest {
  std::string address;  // a numeric IPv4 or IPv6 address (with %scope for link-local), resolved beforehand
  int port = 0;
  bool ipv6Only = false;
  bool reusePort = false;
};

// socket + SO_REUSEADDR (as libuv) + options + bind. Returns the bound, not yet listening,
// close-on-exec descriptor, or -errno (EINVAL for an address that is not numeric).
int BindTcp(const BindRequest& request);

}  // namespace privdrop
