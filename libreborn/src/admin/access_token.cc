#include "admin/access_token.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <random>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "net/auth_failures.h"

namespace reborn::admin {
namespace {

constexpr size_t kTokenBytes = 16;

absl::Status Errno(absl::string_view what, const std::string& path) {
  return absl::FailedPreconditionError(
      absl::StrCat(what, " ", path, ": ", std::strerror(errno)));
}

bool ReadRandom(unsigned char* out, size_t n) {
  int fd = ::open("/dev/urandom", O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  size_t got = 0;
  while (got < n) {
    ssize_t r = ::read(fd, out + got, n - got);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) break;
    got += static_cast<size_t>(r);
  }
  ::close(fd);
  return got == n;
}

}  // namespace

std::string GenerateToken() {
  unsigned char bytes[kTokenBytes];
  if (!ReadRandom(bytes, sizeof(bytes))) {
    std::random_device rd;  // getrandom() on Linux
    for (unsigned char& b : bytes) b = static_cast<unsigned char>(rd());
  }
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(2 * kTokenBytes);
  for (unsigned char b : bytes) {
    out.push_back(kHex[b >> 4]);
    out.push_back(kHex[b & 0xf]);
  }
  return out;
}

absl::StatusOr<std::string> LoadOrCreateTokenFile(const std::string& path,
                                                  bool* created) {
  *created = false;
  // A symlink is followed (mounted secrets are often symlinks); the file it
  // names is checked below.
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  bool create = false;
  if (fd < 0 && errno == ENOENT) {
    // O_EXCL: never through a symlink, never over a file created meanwhile.
    fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    create = fd >= 0;
    if (fd < 0 && errno == EEXIST) {  // another process won: read its token
      fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    } else if (fd < 0) {
      return Errno("cannot create token file", path);
    }
  }
  if (create) {
    std::string token = GenerateToken();
    std::string line = token + "\n";
    bool ok = ::write(fd, line.data(), line.size()) ==
                  static_cast<ssize_t>(line.size()) &&
              ::fsync(fd) == 0;
    ::close(fd);
    if (!ok) {
      ::unlink(path.c_str());
      return Errno("cannot write token file", path);
    }
    *created = true;
    return token;
  }
  if (fd < 0) return Errno("cannot open token file", path);
  struct stat st;
  if (::fstat(fd, &st) != 0) {
    absl::Status s = Errno("cannot stat token file", path);
    ::close(fd);
    return s;
  }
  if (!S_ISREG(st.st_mode) || (st.st_mode & 077) != 0) {
    ::close(fd);
    return absl::FailedPreconditionError(absl::StrCat(
        "token file ", path,
        S_ISREG(st.st_mode) ? " is readable by group or others (chmod 600 it)"
                            : " is not a regular file"));
  }
  std::string data;
  char buf[512];
  for (;;) {
    ssize_t r = ::read(fd, buf, sizeof(buf));
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) {
      absl::Status s = Errno("cannot read token file", path);
      ::close(fd);
      return s;
    }
    if (r == 0 || data.size() > 4096) break;
    data.append(buf, static_cast<size_t>(r));
  }
  ::close(fd);
  std::string token(absl::StripAsciiWhitespace(data));
  if (token.empty() || token.size() > 4096 ||
      token.find_first_of(" \t\r\n") != std::string::npos) {
    return absl::FailedPreconditionError(
        absl::StrCat("token file ", path, " must hold one token on one line"));
  }
  return token;
}

bool TokenEquals(absl::string_view a, absl::string_view b) {
  return net::PasswordMatches(std::string_view(a.data(), a.size()),
                              std::string_view(b.data(), b.size()));
}

bool BearerMatches(absl::string_view authorization, absl::string_view token) {
  constexpr absl::string_view kScheme = "bearer ";
  if (token.empty() || authorization.size() < kScheme.size() ||
      !absl::EqualsIgnoreCase(authorization.substr(0, kScheme.size()),
                              kScheme)) {
    return false;
  }
  return TokenEquals(
      absl::StripAsciiWhitespace(authorization.substr(kScheme.size())), token);
}

bool IsLoopbackHost(absl::string_view host) {
  if (absl::EqualsIgnoreCase(host, "localhost")) return true;
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  std::string h(host);
  in_addr v4;
  if (::inet_pton(AF_INET, h.c_str(), &v4) == 1) {
    return (ntohl(v4.s_addr) >> 24) == 127;
  }
  in6_addr v6;
  if (::inet_pton(AF_INET6, h.c_str(), &v6) == 1) {
    return std::memcmp(&v6, &in6addr_loopback, sizeof(v6)) == 0;
  }
  return false;
}

}  // namespace reborn::admin
