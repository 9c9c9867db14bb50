#pragma once

#include <string>
#include <string_view>

#include "absl/status/status.h"

namespace reborn::qdb {

// Engine operations report Redis-level failures (wrong type, bad argument,
// overflow) as kInvalidArgument or kFailedPrecondition whose message is
// redis-server's full error text ("WRONGTYPE ...", "ERR ..."). Every other
// code is a storage failure.
inline constexpr std::string_view kWrongTypeText =
    "WRONGTYPE Operation against a key holding the wrong kind of value";
inline constexpr std::string_view kNotIntegerText =
    "ERR value is not an integer or out of range";
inline constexpr std::string_view kSyntaxText = "ERR syntax error";

// Debian's abseil has its own string_view type.
inline absl::string_view ToAbsl(std::string_view s) {
  return absl::string_view(s.data(), s.size());
}

inline absl::Status WrongTypeError() {
  return absl::FailedPreconditionError(ToAbsl(kWrongTypeText));
}
// For commands with their own wrong-type text (LCS).
inline bool IsWrongType(const absl::Status& s) {
  return s.code() == absl::StatusCode::kFailedPrecondition &&
         s.message() == ToAbsl(kWrongTypeText);
}
// `text` is the full reply text, for example "ERR no such key".
inline absl::Status RedisError(std::string_view text) {
  return absl::InvalidArgumentError(ToAbsl(text));
}
inline bool IsRedisError(const absl::Status& s) {
  return s.code() == absl::StatusCode::kInvalidArgument ||
         s.code() == absl::StatusCode::kFailedPrecondition;
}

// The error reply for `s`: Redis-level errors keep their text; storage
// failures become "ERR storage error: ..." (and are logged once here).
std::string ErrorReplyText(const absl::Status& s);

}  // namespace reborn::qdb
