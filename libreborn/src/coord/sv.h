#pragma once

#include <string_view>

#include "absl/strings/string_view.h"

namespace reborn::coord {

// Debian's abseil has its own string_view; this adapts std::string_view for
// absl::StrCat and friends.
inline absl::string_view Sv(std::string_view s) { return {s.data(), s.size()}; }

}  // namespace reborn::coord
