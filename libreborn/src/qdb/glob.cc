#include "qdb/glob.h"

#include <cctype>
#include <string>
#include <utility>

namespace reborn::qdb {
namespace {

// A port of redis-server 7.0's stringmatchlen_impl, including its recursion
// limit for pathological patterns.
bool Match(const char* pattern, int plen, const char* str, int slen,
           bool nocase, int* skip_longer_matches, int nesting) {
  if (nesting > 1000) return false;
  while (plen && slen) {
    switch (pattern[0]) {
      case '*':
        while (plen && pattern[1] == '*') {
          pattern++;
          plen--;
        }
        if (plen == 1) return true;
        while (slen) {
          if (Match(pattern + 1, plen - 1, str, slen, nocase,
                    skip_longer_matches, nesting + 1)) {
            return true;
          }
          if (*skip_longer_matches) return false;
          str++;
          slen--;
        }
        *skip_longer_matches = 1;
        return false;
      case '?':
        str++;
        slen--;
        break;
      case '[': {
        pattern++;
        plen--;
        bool negate = pattern[0] == '^';
        if (negate) {
          pattern++;
          plen--;
        }
        bool match = false;
        while (true) {
          if (pattern[0] == '\\' && plen >= 2) {
            pattern++;
            plen--;
            if (pattern[0] == str[0]) match = true;
          } else if (pattern[0] == ']') {
            break;
          } else if (plen == 0) {
            pattern--;
            plen++;
            break;
          } else if (plen >= 3 && pattern[1] == '-') {
            int start = static_cast<unsigned char>(pattern[0]);
            int end = static_cast<unsigned char>(pattern[2]);
            int c = static_cast<unsigned char>(str[0]);
            if (start > end) std::swap(start, end);
            if (nocase) {
              start = std::tolower(start);
              end = std::tolower(end);
              c = std::tolower(c);
            }
            pattern += 2;
            plen -= 2;
            if (c >= start && c <= end) match = true;
          } else {
            if (!nocase) {
              if (pattern[0] == str[0]) match = true;
            } else {
              if (std::tolower(static_cast<unsigned char>(pattern[0])) ==
                  std::tolower(static_cast<unsigned char>(str[0]))) {
                match = true;
              }
            }
          }
          pattern++;
          plen--;
        }
        if (negate) match = !match;
        if (!match) return false;
        str++;
        slen--;
        break;
      }
      case '\\':
        if (plen >= 2) {
          pattern++;
          plen--;
        }
        [[fallthrough]];
      default:
        if (!nocase) {
          if (pattern[0] != str[0]) return false;
        } else {
          if (std::tolower(static_cast<unsigned char>(pattern[0])) !=
              std::tolower(static_cast<unsigned char>(str[0]))) {
            return false;
          }
        }
        str++;
        slen--;
        break;
    }
    pattern++;
    plen--;
    if (slen == 0) {
      while (*pattern == '*') {
        pattern++;
        plen--;
      }
      break;
    }
  }
  return plen == 0 && slen == 0;
}

}  // namespace

bool GlobMatch(std::string_view pattern, std::string_view text, bool nocase) {
  // Like Redis' sds strings, the copies are NUL-terminated: the matcher
  // peeks one byte past the end.
  const std::string p(pattern);
  const std::string t(text);
  int skip = 0;
  return Match(p.c_str(), static_cast<int>(p.size()), t.c_str(),
               static_cast<int>(t.size()), nocase, &skip, 0);
}

}  // namespace reborn::qdb
