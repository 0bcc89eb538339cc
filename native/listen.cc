// BindTcp: the bind of listen(), in one synchronous call. See listen.h.
#include "listen.h"

#include <netdb.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace privdrop {

int BindTcp(const BindRequest& request) {
  if (request.port < 0 || request.port > 65535) return -EINVAL;
  addrinfo hints{};
  hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV | AI_PASSIVE;
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  const std::string port = std::to_string(request.port);
  if (getaddrinfo(request.address.c_str(), port.c_str(), &hints, &found) != 0 || found == nullptr) return -EINVAL;
  const int family = found->ai_family;
  int fd = socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    int e = errno;
    freeaddrinfo(found);
    return -e;
  }
  int on = 1;
  int err = 0;
  if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on) != 0) err = errno;
  if (err == 0 && request.ipv6Only && family == AF_INET6 && setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &on, sizeof on) != 0)
    err = errno;
  if (err == 0 && request.reusePort && setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &on, sizeof on) != 0) err = errno;
  if (err == 0 && bind(fd, found->ai_addr, found->ai_addrlen) != 0) err = errno;
  freeaddrinfo(found);
  if (err != 0) {
    close(fd);
    return -err;
  }
  return fd;
}

}  // namespace privdrop
