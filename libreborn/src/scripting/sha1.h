#pragma once

#include <string>
#include <string_view>

namespace reborn::scripting {

// The lower-case hex SHA1 of `data` (script names, redis.sha1hex()).
std::string Sha1Hex(std::string_view data);

}  // namespace reborn::scripting
