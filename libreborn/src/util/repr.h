#pragma once

#include <string>
#include <string_view>

namespace reborn {

// `s` in double quotes as Redis' sdscatrepr writes it: \\, \", \n, \r, \t,
// \a, \b escaped, other bytes outside printable ASCII as \xNN. MONITOR lines
// and CONFIG REWRITE values use it (resp::SplitInlineArgs reads it back).
std::string QuotedRepr(std::string_view s);

}  // namespace reborn
