#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "reborn/export.h"

namespace reborn {

// One decoded RESP2/RESP3 reply, as returned to embedders by
// QdbEngine::Execute() and Client::Execute().
struct REBORN_EXPORT Reply {
  enum class Type {
    kStatus,   // +OK
    kError,    // -ERR ...   (str holds the text without '-')
    kInteger,  // :1
    kString,   // $3 foo, and RESP3 verbatim strings / big numbers
    kNil,      // $-1, *-1, _
    kArray,    // *n
    kMap,      // %n (elements alternate key, value)
    kSet,      // ~n
    kPush,     // >n
    kDouble,   // ,1.5   (str holds the text as sent)
    kBool,     // #t / #f (integer holds 1 or 0)
  };

  Type type = Type::kNil;
  std::string str;
  int64_t integer = 0;
  std::vector<Reply> elements;

  bool is_error() const { return type == Type::kError; }
  bool is_nil() const { return type == Type::kNil; }

  static Reply Status(std::string_view s) {
    return Reply{Type::kStatus, std::string(s), 0, {}};
  }
  static Reply Error(std::string_view s) {
    return Reply{Type::kError, std::string(s), 0, {}};
  }
  static Reply Integer(int64_t v) { return Reply{Type::kInteger, {}, v, {}}; }
  static Reply String(std::string_view s) {
    return Reply{Type::kString, std::string(s), 0, {}};
  }
  static Reply Nil() { return Reply{}; }

  friend bool operator==(const Reply&, const Reply&) = default;
};

}  // namespace reborn
