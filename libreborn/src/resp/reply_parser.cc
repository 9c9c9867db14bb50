#include "resp/reply_parser.h"

#include <charconv>

#include "resp/reply_writer.h"

namespace reborn::resp {
namespace {

constexpr int kMaxDepth = 64;

bool ParseInt(std::string_view text, int64_t* value) {
  if (text.empty()) return false;
  auto [ptr, ec] =
      std::from_chars(text.data(), text.data() + text.size(), *value);
  return ec == std::errc() && ptr == text.data() + text.size();
}

}  // namespace

ReplyParser::Result ReplyParser::Parse(std::string_view input, size_t* consumed,
                                       Reply* out) const {
  *consumed = 0;
  int64_t used = ParseOne(input, out, 0);
  if (used < 0) return Result::kError;
  if (used == 0) return Result::kNeedMore;
  *consumed = static_cast<size_t>(used);
  return Result::kReply;
}

int64_t ReplyParser::Measure(std::string_view input) const {
  return ParseOne(input, nullptr, 0);
}

int64_t ReplyParser::ParseOne(std::string_view input, Reply* out,
                              int depth) const {
  if (depth > kMaxDepth) return -1;
  // No line may be longer than the longest bulk (plus room for a header):
  // a status or big number over it could not be sent on as a bulk, and a
  // peer that never ends a line is corrupt, not slow.
  const uint64_t max_line = static_cast<uint64_t>(max_bulk_len_) + 32;
  size_t eol = input.find("\r\n");
  if (eol == std::string_view::npos) return input.size() > max_line ? -1 : 0;
  if (eol == 0) return -1;
  char type = input[0];
  std::string_view line = input.substr(1, eol - 1);
  int64_t header_len = static_cast<int64_t>(eol + 2);
  switch (type) {
    case '+':
    case '-':
    case ',':
    case '(':
      if (line.size() > static_cast<uint64_t>(max_bulk_len_)) return -1;
      if (out) {
        out->type = type == '+'   ? Reply::Type::kStatus
                    : type == '-' ? Reply::Type::kError
                    : type == ',' ? Reply::Type::kDouble
                                  : Reply::Type::kString;
        out->str.assign(line);
        out->elements.clear();
      }
      return header_len;
    case ':': {
      int64_t v;
      if (!ParseInt(line, &v)) return -1;
      if (out) *out = Reply::Integer(v);
      return header_len;
    }
    case '#':
      if (line != "t" && line != "f") return -1;
      if (out) *out = Reply{Reply::Type::kBool, {}, line == "t" ? 1 : 0, {}};
      return header_len;
    case '_':
      if (out) *out = Reply::Nil();
      return header_len;
    case '$':
    case '=':
    case '!': {
      int64_t len;
      if (!ParseInt(line, &len) || len < -1 || len > max_bulk_len_) return -1;
      if (len == -1) {
        if (out) *out = Reply::Nil();
        return header_len;
      }
      int64_t total = header_len + len + 2;
      if (static_cast<int64_t>(input.size()) < total) return 0;
      if (out) {
        std::string_view body = input.substr(header_len, len);
        if (type == '=' && body.size() >= 4) body.remove_prefix(4);  // "txt:"
        *out = type == '!' ? Reply::Error(body) : Reply::String(body);
      }
      return total;
    }
    case '*':
    case '%':
    case '~':
    case '>': {
      int64_t n;
      // Counts beyond what any sane reply holds are corruption (and would
      // overflow below).
      if (!ParseInt(line, &n) || n < -1 || n > (int64_t{1} << 32)) return -1;
      if (n == -1) {
        if (out) *out = Reply::Nil();
        return header_len;
      }
      int64_t count = type == '%' ? 2 * n : n;
      if (out) {
        out->type = type == '*'   ? Reply::Type::kArray
                    : type == '%' ? Reply::Type::kMap
                    : type == '~' ? Reply::Type::kSet
                                  : Reply::Type::kPush;
        out->str.clear();
        out->elements.clear();
        out->elements.reserve(
            static_cast<size_t>(std::min<int64_t>(count, 4096)));
      }
      int64_t pos = header_len;
      for (int64_t i = 0; i < count; ++i) {
        Reply* child = nullptr;
        if (out) child = &out->elements.emplace_back();
        int64_t used = ParseOne(input.substr(pos), child, depth + 1);
        if (used <= 0) return used;
        pos += used;
      }
      return pos;
    }
    default:
      return -1;
  }
}

namespace {

void Encode(const Reply& reply, ReplyWriter& w) {
  switch (reply.type) {
    case Reply::Type::kStatus:
      w.SimpleString(reply.str);
      break;
    case Reply::Type::kError:
      w.Error(reply.str);
      break;
    case Reply::Type::kInteger:
      w.Integer(reply.integer);
      break;
    case Reply::Type::kString:
      w.Bulk(reply.str);
      break;
    case Reply::Type::kNil:
      w.Null();
      break;
    case Reply::Type::kBool:
      w.Bool(reply.integer != 0);
      break;
    case Reply::Type::kDouble:
      if (w.protocol() >= 3) {
        w.Raw(",");
        w.Raw(reply.str);
        w.Raw("\r\n");
      } else {
        w.Bulk(reply.str);
      }
      break;
    case Reply::Type::kArray:
    case Reply::Type::kMap:
    case Reply::Type::kSet:
    case Reply::Type::kPush:
      if (reply.type == Reply::Type::kMap) {
        w.MapHeader(reply.elements.size() / 2);
      } else if (reply.type == Reply::Type::kSet) {
        w.SetHeader(reply.elements.size());
      } else if (reply.type == Reply::Type::kPush) {
        w.PushHeader(reply.elements.size());
      } else {
        w.ArrayHeader(reply.elements.size());
      }
      for (const auto& e : reply.elements) Encode(e, w);
      break;
  }
}

}  // namespace

std::string EncodeReply(const Reply& reply, int protocol) {
  std::string out;
  ReplyWriter w(&out, protocol);
  Encode(reply, w);
  return out;
}

}  // namespace reborn::resp
