// libFuzzer target: qdb-server's config parser and the CONFIG SET/REWRITE
// round trip. Arbitrary config text must load or fail without crashing; a
// value that a directive accepts must come back unchanged from the line
// CONFIG REWRITE would write for it, and that line must be exactly one
// directive (no value can plant another).
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "server/config.h"

namespace {

constexpr std::string_view kDirectives[] = {
    "requirepass",
    "masterauth",
    "masteruser",
    "save",
    "dbfilename",
    "client-output-buffer-limit",
    "maxclients",
    "loglevel",
    "proto-max-bulk-len",
    "timeout",
    "replicaof",
    "enable-protected-configs",
    "dir",
    "appendonly",
    "repl-backlog-size",
    "notify-keyspace-events",
    "hash-max-ziplist-entries",
    "lua-time-limit",
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  std::string_view input(reinterpret_cast<const char*>(data + 1), size - 1);

  // 1. The input as a config file.
  {
    reborn::server::Config config;
    config.LoadText(input, "fuzz").IgnoreError();
  }

  // 2. The input as a value of one directive, written back and re-read.
  const std::string_view name =
      kDirectives[data[0] % (sizeof(kDirectives) / sizeof(kDirectives[0]))];
  reborn::server::Config config;
  if (!config.Set(name, input, reborn::server::Config::Caller::kStartup).ok()) {
    return 0;
  }
  const std::string stored = config.GetString(name);
  const std::string line =
      std::string(name) + " " + reborn::server::FormatConfigValue(stored);
  if (line.find('\n') != std::string::npos) __builtin_trap();
  reborn::server::Config reloaded;
  if (!reloaded.LoadText(line, "rewrite").ok()) __builtin_trap();
  if (reloaded.GetString(name) != stored) __builtin_trap();
  return 0;
}
