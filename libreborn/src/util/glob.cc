#include "util/glob.h"

#include <cctype>

namespace reborn {
namespace {

char Fold(char c, bool nocase) {
  return nocase ? static_cast<char>(std::tolower(static_cast<unsigned char>(c)))
                : c;
}

// Recursion depth is bounded by the number of '*' in the pattern (and by
// 1000); consecutive stars are collapsed, like Redis does. `skip_longer`:
// Redis 7's cut of the backtracking (stringmatchlen_impl): once the rest of
// the pattern after a '*' matches nowhere in the rest of the text, no
// earlier '*' can help by matching more, so every level gives up at once
// instead of trying all ways ("a*a*a*...b" is otherwise exponential).
bool Match(std::string_view p, std::string_view s, bool nocase, int depth,
           bool* skip_longer) {
  if (depth > 1000) return false;
  while (!p.empty() && !s.empty()) {
    switch (p[0]) {
      case '*': {
        while (p.size() > 1 && p[1] == '*') p.remove_prefix(1);
        if (p.size() == 1) return true;
        for (size_t i = 0; i < s.size(); ++i) {
          if (Match(p.substr(1), s.substr(i), nocase, depth + 1, skip_longer)) {
            return true;
          }
          if (*skip_longer) return false;
        }
        *skip_longer = true;
        return false;
      }
      case '?':
        break;
      case '[': {
        p.remove_prefix(1);
        bool negate = !p.empty() && p[0] == '^';
        if (negate) p.remove_prefix(1);
        bool matched = false;
        while (!p.empty() && p[0] != ']') {
          if (p[0] == '\\' && p.size() >= 2) {
            p.remove_prefix(1);
            if (Fold(p[0], nocase) == Fold(s[0], nocase)) matched = true;
          } else if (p.size() >= 3 && p[1] == '-') {
            char lo = Fold(p[0], nocase);
            char hi = Fold(p[2], nocase);
            if (lo > hi) std::swap(lo, hi);
            char c = Fold(s[0], nocase);
            if (c >= lo && c <= hi) matched = true;
            p.remove_prefix(2);
          } else if (Fold(p[0], nocase) == Fold(s[0], nocase)) {
            matched = true;
          }
          p.remove_prefix(1);
        }
        if (p.empty()) return false;  // Redis: unterminated class never matches
        if (negate) matched = !matched;
        if (!matched) return false;
        break;
      }
      case '\\':
        if (p.size() >= 2) p.remove_prefix(1);
        [[fallthrough]];
      default:
        if (Fold(p[0], nocase) != Fold(s[0], nocase)) return false;
        break;
    }
    p.remove_prefix(1);
    s.remove_prefix(1);
    if (s.empty()) {
      while (!p.empty() && p[0] == '*') p.remove_prefix(1);
      break;
    }
  }
  if (s.empty()) {
    while (!p.empty() && p[0] == '*') p.remove_prefix(1);
  }
  return p.empty() && s.empty();
}

}  // namespace

bool GlobMatch(std::string_view pattern, std::string_view text, bool nocase) {
  bool skip_longer = false;
  return Match(pattern, text, nocase, 0, &skip_longer);
}

}  // namespace reborn
