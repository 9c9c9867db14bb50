#pragma once

#include <string_view>

namespace reborn::qdb {

// Redis' glob matching (stringmatchlen): * ? [abc] [^a-z] and \x escapes.
bool GlobMatch(std::string_view pattern, std::string_view text,
               bool nocase = false);

}  // namespace reborn::qdb
