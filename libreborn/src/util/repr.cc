#include "util/repr.h"

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"

namespace reborn {

std::string QuotedRepr(std::string_view s) {
  std::string out = "\"";
  for (char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    switch (c) {
      case '\\':
      case '"':
        out.push_back('\\');
        out.push_back(ch);
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      case '\a':
        out += "\\a";
        break;
      case '\b':
        out += "\\b";
        break;
      default:
        if (absl::ascii_isprint(c)) {
          out.push_back(ch);
        } else {
          absl::StrAppend(&out, "\\x", absl::Hex(c, absl::kZeroPad2));
        }
    }
  }
  out.push_back('"');
  return out;
}

}  // namespace reborn
