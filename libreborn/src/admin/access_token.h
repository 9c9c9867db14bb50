#pragma once

// The dashboard's access token: generated, stored in a file readable only by
// its owner, and compared in constant time. Changes over the REST API need
// `Authorization: Bearer <token>` (rest_server.h).

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace reborn::admin {

// 32 hex characters (128 bits) from the kernel's random source.
std::string GenerateToken();

// The token stored in `path` (surrounding whitespace removed). When the file
// does not exist, a new token is generated and written to it, created with
// mode 0600; `*created` says which happened. A file that is empty, not a
// regular file, or readable by group or others is refused.
absl::StatusOr<std::string> LoadOrCreateTokenFile(const std::string& path,
                                                  bool* created);

// Whether `a` equals `b`, in a time that depends only on their lengths (not
// on where they first differ).
bool TokenEquals(absl::string_view a, absl::string_view b);

// Whether an `Authorization` header value is "Bearer <token>" (the scheme
// case-insensitive), compared in constant time.
bool BearerMatches(absl::string_view authorization, absl::string_view token);

// Whether `host` (a name or a numeric address, IPv6 with or without
// brackets) is a loopback address: localhost, 127.0.0.0/8 or ::1.
bool IsLoopbackHost(absl::string_view host);

}  // namespace reborn::admin
