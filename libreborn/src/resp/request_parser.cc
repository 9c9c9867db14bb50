#include "resp/request_parser.h"

#include <algorithm>
#include <charconv>
#include <cstring>

namespace reborn::resp {
namespace {

// Parses the decimal integer in [begin, end) like Redis' string2ll: optional
// '-', digits only, no leading '+' or spaces, no overflow.
bool ParseLongLong(std::string_view text, int64_t* value) {
  if (text.empty() || text.size() > 20) return false;
  const char* begin = text.data();
  const char* end = begin + text.size();
  auto [ptr, ec] = std::from_chars(begin, end, *value);
  return ec == std::errc() && ptr == end &&
         !(text.size() > 1 && text[0] == '0');
}

bool IsHexDigit(char c) { return std::isxdigit(static_cast<unsigned char>(c)); }

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return c - 'A' + 10;
}

bool IsSpace(char c) {
  return c == ' ' || c == '\n' || c == '\r' || c == '\t' || c == '\v' ||
         c == '\f';
}

}  // namespace

bool SplitInlineArgs(std::string_view line, std::vector<std::string>* out) {
  size_t i = 0;
  const size_t n = line.size();
  while (true) {
    while (i < n && IsSpace(line[i])) ++i;
    if (i >= n) return true;
    bool in_double = false;
    bool in_single = false;
    bool done = false;
    std::string current;
    while (!done) {
      if (in_double) {
        if (i >= n) return false;  // unterminated quotes
        if (line[i] == '\\' && i + 3 < n && line[i + 1] == 'x' &&
            IsHexDigit(line[i + 2]) && IsHexDigit(line[i + 3])) {
          current.push_back(static_cast<char>(HexValue(line[i + 2]) * 16 +
                                              HexValue(line[i + 3])));
          i += 3;
        } else if (line[i] == '\\' && i + 1 < n) {
          ++i;
          char c;
          switch (line[i]) {
            case 'n':
              c = '\n';
              break;
            case 'r':
              c = '\r';
              break;
            case 't':
              c = '\t';
              break;
            case 'b':
              c = '\b';
              break;
            case 'a':
              c = '\a';
              break;
            default:
              c = line[i];
              break;
          }
          current.push_back(c);
        } else if (line[i] == '"') {
          // The closing quote must be followed by a space or nothing.
          if (i + 1 < n && !IsSpace(line[i + 1])) return false;
          done = true;
        } else {
          current.push_back(line[i]);
        }
      } else if (in_single) {
        if (i >= n) return false;
        if (line[i] == '\\' && i + 1 < n && line[i + 1] == '\'') {
          ++i;
          current.push_back('\'');
        } else if (line[i] == '\'') {
          if (i + 1 < n && !IsSpace(line[i + 1])) return false;
          done = true;
        } else {
          current.push_back(line[i]);
        }
      } else {
        if (i >= n) {
          done = true;
          break;
        }
        switch (line[i]) {
          case ' ':
          case '\n':
          case '\r':
          case '\t':
          case '\0':
            done = true;
            break;
          case '"':
            in_double = true;
            break;
          case '\'':
            in_single = true;
            break;
          default:
            current.push_back(line[i]);
            break;
        }
      }
      if (i < n) ++i;
    }
    out->push_back(std::move(current));
  }
}

// Argument buffers up to this size are reused from command to command.
constexpr size_t kReusedArgCapacity = 64 * 1024;

RequestParser::Result RequestParser::Fail(std::string_view message) {
  error_ = "ERR Protocol error: ";
  error_.append(message);
  multibulk_remaining_ = 0;
  bulk_len_ = -1;
  filled_ = 0;
  return Result::kError;
}

RequestParser::Result RequestParser::Parse(std::string_view input,
                                           size_t* consumed,
                                           std::vector<std::string>* args) {
  *consumed = 0;
  if (multibulk_remaining_ == 0) {
    if (input.empty()) return Result::kNeedMore;
    if (input[0] != '*') return ParseInline(input, consumed, args);
  }
  return ParseMultibulk(input, consumed, args);
}

RequestParser::Result RequestParser::ParseInline(
    std::string_view input, size_t* consumed, std::vector<std::string>* args) {
  size_t newline = input.find('\n');
  if (newline == std::string_view::npos) {
    if (input.size() > limits_.max_inline_len) {
      return Fail("too big inline request");
    }
    return Result::kNeedMore;
  }
  std::string_view line = input.substr(0, newline);
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  *consumed = newline + 1;
  args->clear();
  if (!SplitInlineArgs(line, args)) {
    args->clear();
    return Fail("unbalanced quotes in request");
  }
  return Result::kCommand;
}

RequestParser::Result RequestParser::ParseMultibulk(
    std::string_view input, size_t* consumed, std::vector<std::string>* args) {
  size_t pos = 0;
  if (multibulk_remaining_ == 0) {
    size_t newline = input.find('\r');
    if (newline == std::string_view::npos) {
      if (input.size() > limits_.max_inline_len) {
        return Fail("too big mbulk count string");
      }
      return Result::kNeedMore;
    }
    if (newline + 1 >= input.size()) return Result::kNeedMore;  // no '\n' yet
    int64_t count = 0;
    if (!ParseLongLong(input.substr(1, newline - 1), &count) ||
        count > limits_.max_multibulk_len) {
      return Fail("invalid multibulk length");
    }
    if (limits_.unauthenticated && count > kUnauthenticatedMaxArgs) {
      return Fail("unauthenticated multibulk length");
    }
    pos = newline + 2;
    if (count <= 0) {
      *consumed = pos;
      args->clear();
      return Result::kCommand;  // empty command: the caller skips it
    }
    multibulk_remaining_ = count;
    filled_ = 0;
    argument_bytes_ = 0;
    pending_.reserve(static_cast<size_t>(std::min<int64_t>(count, 1024)));
  }

  while (multibulk_remaining_ > 0) {
    if (bulk_len_ < 0) {
      if (pos >= input.size()) break;
      size_t newline = input.find('\r', pos);
      if (newline == std::string_view::npos) {
        if (input.size() - pos > limits_.max_inline_len) {
          return Fail("too big bulk count string");
        }
        break;
      }
      if (newline + 1 >= input.size()) break;
      if (input[pos] != '$') {
        return Fail(std::string("expected '$', got '") + input[pos] + "'");
      }
      int64_t len = 0;
      if (!ParseLongLong(input.substr(pos + 1, newline - pos - 1), &len) ||
          len < 0 || len > limits_.max_bulk_len) {
        return Fail("invalid bulk length");
      }
      if (limits_.unauthenticated && len > kUnauthenticatedMaxBulk) {
        return Fail("unauthenticated bulk length");
      }
      bulk_len_ = len;
      pos = newline + 2;
    }
    size_t need = static_cast<size_t>(bulk_len_) + 2;
    if (argument_bytes_ + kArgumentOverhead + static_cast<size_t>(bulk_len_) >
        limits_.max_argument_bytes) {
      return Fail("too big request (client-query-buffer-limit)");
    }
    if (input.size() - pos < need) break;
    std::string_view arg = input.substr(pos, static_cast<size_t>(bulk_len_));
    if (filled_ < pending_.size() &&
        pending_[filled_].capacity() <= kReusedArgCapacity) {
      pending_[filled_].assign(arg);  // keeps its buffer
    } else if (filled_ < pending_.size()) {
      pending_[filled_] = std::string(arg);  // a big buffer is not kept
    } else {
      pending_.emplace_back(arg);
    }
    ++filled_;
    argument_bytes_ += kArgumentOverhead + static_cast<size_t>(bulk_len_);
    pos += need;
    bulk_len_ = -1;
    --multibulk_remaining_;
  }
  *consumed = pos;
  if (multibulk_remaining_ > 0) return Result::kNeedMore;
  pending_.resize(filled_);
  // The caller's previous arguments come back here, so their strings are
  // refilled by the command after next instead of allocated again.
  args->swap(pending_);
  return Result::kCommand;
}

}  // namespace reborn::resp
