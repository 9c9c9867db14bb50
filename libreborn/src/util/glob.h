#pragma once

#include <string_view>

namespace reborn {

// Redis' glob-style matching (stringmatchlen): '*', '?', '[abc]', '[^a-z]'
// and '\' escapes. Used by KEYS, SCAN MATCH, CONFIG GET and PUBSUB patterns.
bool GlobMatch(std::string_view pattern, std::string_view text,
               bool nocase = false);

}  // namespace reborn
