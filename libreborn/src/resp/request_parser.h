#pragma once

#include <cstddef>
#include <cstdint>
#include <limits>
#include <string>
#include <string_view>
#include <vector>

namespace reborn::resp {

// Limits that protect a server from hostile or broken clients. Defaults are
// redis-server's.
struct ParserLimits {
  // proto-max-bulk-len: the largest single argument.
  int64_t max_bulk_len = 512LL * 1024 * 1024;
  // The largest argument count of one multibulk command (Redis: INT_MAX).
  int64_t max_multibulk_len = 2147483647;
  // The longest inline command line, and the longest "*<n>" / "$<n>" header.
  size_t max_inline_len = 64 * 1024;
  // The memory the arguments of one command may take while it arrives,
  // each counted with kArgumentOverhead (client-query-buffer-limit): ten
  // million empty arguments are not free.
  size_t max_argument_bytes = std::numeric_limits<size_t>::max();
  // Set while a password is required and not yet given: a stranger may not
  // make the server buffer big requests (Redis' limits and texts).
  bool unauthenticated = false;
};

inline constexpr int64_t kUnauthenticatedMaxArgs = 10;
// What one argument costs besides its bytes: the std::string and its slot
// in the argument vector, rounded up for the allocator.
inline constexpr size_t kArgumentOverhead = 48;
inline constexpr int64_t kUnauthenticatedMaxBulk = 16384;

// A streaming parser for client requests (multibulk and inline commands). It
// does no I/O: the caller appends received bytes to a buffer and calls Parse()
// on the unconsumed part until it stops returning kCommand. Input may be split
// at any byte; partial progress is kept here, so a large argument arriving in
// many reads is not rescanned.
//
// Not thread-safe; one parser per connection.
class RequestParser {
 public:
  enum class Result {
    kNeedMore,  // all complete elements consumed; wait for more bytes
    kCommand,   // *args holds one command (possibly empty: skip it)
    kError,     // protocol error; error() has Redis' text; close after reply
  };

  explicit RequestParser(ParserLimits limits = {}) : limits_(limits) {}

  // Parses from the front of `input`. `*consumed` is set to the number of
  // bytes the caller must drop from its buffer, whatever the result.
  Result Parse(std::string_view input, size_t* consumed,
               std::vector<std::string>* args);

  // The error text (without '-') after kError, e.g.
  // "ERR Protocol error: invalid bulk length".
  const std::string& error() const { return error_; }

  const ParserLimits& limits() const { return limits_; }
  void set_limits(const ParserLimits& limits) { limits_ = limits; }

  // True while a multibulk command has been started but not completed.
  bool in_command() const { return multibulk_remaining_ > 0; }

 private:
  Result ParseInline(std::string_view input, size_t* consumed,
                     std::vector<std::string>* args);
  Result ParseMultibulk(std::string_view input, size_t* consumed,
                        std::vector<std::string>* args);
  Result Fail(std::string_view message);

  ParserLimits limits_;
  int64_t multibulk_remaining_ = 0;   // arguments still expected
  int64_t bulk_len_ = -1;             // length of the argument being read
  std::vector<std::string> pending_;  // [0, filled_) hold this command
  size_t filled_ = 0;
  size_t argument_bytes_ = 0;  // of [0, filled_), with kArgumentOverhead
  std::string error_;
};

// Splits an inline command line the way redis-server's sdssplitargs does
// (quotes, escapes). Returns false on unbalanced quotes.
bool SplitInlineArgs(std::string_view line, std::vector<std::string>* out);

}  // namespace reborn::resp
