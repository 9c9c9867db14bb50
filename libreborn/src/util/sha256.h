#pragma once

#include <string>
#include <string_view>

namespace reborn {

// SHA-256 of `data` as 64 lower-case hex digits: the form Redis keeps ACL
// passwords in (ACL GETUSER, `#<hash>` rules, the ACL file).
std::string Sha256Hex(std::string_view data);

}  // namespace reborn
