#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <string_view>

namespace reborn::server {

// INFO errorstats and total_error_replies: every error reply counted under
// its prefix (the first word, "ERR", "WRONGTYPE", "NOPERM"...), as
// redis-server does. Errors are rare, so a mutex is cheap enough here.
class ErrorStats {
 public:
  // At most this many distinct prefixes; past it tracking stops until
  // CONFIG RESETSTAT (a client can make up prefixes: the table is bounded).
  static constexpr size_t kMaxPrefixes = 128;

  // `message`: the error text without '-' or CRLF ("ERR syntax error").
  void Count(std::string_view message);
  uint64_t total() const;
  // The "# Errorstats" section body: errorstat_<PREFIX>:count=N lines.
  void AppendInfo(std::string* out) const;
  void Reset();

  // The prefix Redis files `message` under: the text before the first
  // space within its first 31 characters, otherwise "ERR".
  static std::string_view Prefix(std::string_view message);

 private:
  mutable std::mutex mu_;
  uint64_t total_ = 0;
  bool enabled_ = true;
  std::map<std::string, uint64_t, std::less<>> counts_;
};

}  // namespace reborn::server
