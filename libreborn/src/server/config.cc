#include "server/config.h"

#include <algorithm>
#include <charconv>
#include <fstream>
#include <sstream>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "command/command_spec.h"
#include "net/server.h"
#include "resp/request_parser.h"
#include "server/keyspace_events.h"
#include "util/glob.h"
#include "util/repr.h"

namespace reborn::server {
namespace {

bool ParseInt(std::string_view text, int64_t* out) {
  auto [ptr, ec] =
      std::from_chars(text.data(), text.data() + text.size(), *out);
  return !text.empty() && ec == std::errc() && ptr == text.data() + text.size();
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && absl::ascii_isspace(static_cast<unsigned char>(s[0]))) {
    s.remove_prefix(1);
  }
  while (!s.empty() &&
         absl::ascii_isspace(static_cast<unsigned char>(s.back()))) {
    s.remove_suffix(1);
  }
  return s;
}

bool NeedsQuotes(std::string_view value) {
  if (value.empty()) return true;
  for (char ch : value) {
    const auto c = static_cast<unsigned char>(ch);
    if (c == '\\' || c == '"' || c == '\'' || !absl::ascii_isprint(c) ||
        absl::ascii_isspace(c)) {
      return true;
    }
  }
  return false;
}

// The words of `text` separated by spaces or tabs.
std::vector<std::string> Words(std::string_view text) {
  std::vector<std::string> words;
  size_t i = 0;
  while (i < text.size()) {
    while (i < text.size() && (text[i] == ' ' || text[i] == '\t')) ++i;
    const size_t begin = i;
    while (i < text.size() && text[i] != ' ' && text[i] != '\t') ++i;
    if (i > begin) words.emplace_back(text.substr(begin, i - begin));
  }
  return words;
}

constexpr std::string_view kOutputClasses[] = {"normal", "slave", "pubsub"};

absl::StatusOr<std::string> ParseOutputBufferLimit(std::string_view current,
                                                   std::string_view value) {
  std::vector<std::string> words = Words(ToLower(value));
  std::vector<std::string> have = Words(current);
  if (words.empty() || words.size() % 4 != 0) {
    return absl::InvalidArgumentError(
        "Wrong number of arguments in buffer limit configuration.");
  }
  for (size_t i = 0; i < words.size(); i += 4) {
    std::string cls = words[i] == "replica" ? "slave" : words[i];
    auto at =
        std::find(std::begin(kOutputClasses), std::end(kOutputClasses), cls);
    if (at == std::end(kOutputClasses)) {
      return absl::InvalidArgumentError(
          "Invalid client class specified in buffer limit configuration.");
    }
    auto hard = ParseMemory(words[i + 1]);
    auto soft = ParseMemory(words[i + 2]);
    int64_t seconds = 0;
    if (!hard.ok() || !soft.ok() || !ParseInt(words[i + 3], &seconds) ||
        seconds < 0) {
      return absl::InvalidArgumentError(
          "Error in hard, soft or soft_seconds setting in buffer limit "
          "configuration.");
    }
    const size_t slot = 4 * (at - std::begin(kOutputClasses));
    if (have.size() < slot + 4) have.resize(slot + 4, "0");
    have[slot] = cls;
    have[slot + 1] = std::to_string(*hard);
    have[slot + 2] = std::to_string(*soft);
    have[slot + 3] = std::to_string(seconds);
  }
  return absl::StrJoin(have, " ");
}

// Redis' pathIsBaseName, and no "." or "..": the file lands in `dir`.
absl::StatusOr<std::string> ParseFileName(std::string_view current,
                                          std::string_view value) {
  if (value.find_first_of("/\\") != std::string_view::npos || value == "." ||
      value == "..") {
    return absl::InvalidArgumentError(
        "dbfilename can't be a path, just a filename");
  }
  return std::string(value);
}

// Redis' bind: up to 16 addresses, given as one argument of
// space-separated words (or several words in a config file), shown joined
// by one space; "" is no address.
absl::StatusOr<std::string> ParseBind(std::string_view current,
                                      std::string_view value) {
  std::vector<std::string> words;
  if (!resp::SplitInlineArgs(value, &words)) {
    return absl::InvalidArgumentError("Unbalanced quotes in bind addresses");
  }
  if (words.size() > net::kMaxBindAddresses) {
    return absl::InvalidArgumentError("Too many bind addresses specified.");
  }
  if (words.size() == 1 && words[0].empty()) words.clear();
  return absl::StrJoin(words, " ");
}

// Redis' maxmemory-clients: a memory value, or a percentage of maxmemory
// ("10%", 0 to 100), shown as given ("10%") or as bytes.
absl::StatusOr<std::string> ParseMemoryOrPercent(std::string_view current,
                                                 std::string_view value) {
  if (absl::StatusOr<int64_t> bytes = ParseMemory(value); bytes.ok()) {
    return std::to_string(*bytes);
  }
  int64_t percent = 0;
  if (value.size() > 1 && value.back() == '%' &&
      ParseInt(value.substr(0, value.size() - 1), &percent) && percent >= 0) {
    if (percent > 100) {
      return absl::InvalidArgumentError(
          "percentage argument must be less or equal to 100");
    }
    return absl::StrCat(percent, "%");
  }
  return absl::InvalidArgumentError(
      "argument must be a memory or percent value");
}

// Redis' latency-tracking-info-percentiles: zero or more numbers from 0 to
// 100, kept as given.
absl::StatusOr<std::string> ParsePercentiles(std::string_view current,
                                             std::string_view value) {
  std::vector<std::string> words = Words(value);
  for (const std::string& w : words) {
    double v = 0;
    auto [ptr, ec] = std::from_chars(w.data(), w.data() + w.size(), v);
    if (ec != std::errc() || ptr != w.data() + w.size()) {
      return absl::InvalidArgumentError(
          "Invalid latency-tracking-info-percentiles parameters");
    }
    if (v < 0 || v > 100) {
      return absl::InvalidArgumentError(
          "latency-tracking-info-percentiles parameters should sit between "
          "[0.0,100.0]");
    }
  }
  return absl::StrJoin(words, " ");
}

}  // namespace

std::string FormatConfigValue(std::string_view value) {
  return NeedsQuotes(value) ? QuotedRepr(value) : std::string(value);
}

OutputBufferLimit OutputLimitOf(std::string_view value,
                                std::string_view client_class) {
  if (client_class == "replica") client_class = "slave";
  std::vector<std::string> words = Words(value);
  OutputBufferLimit limit;
  for (size_t i = 0; i + 3 < words.size(); i += 4) {
    if (words[i] != client_class) continue;
    ParseInt(words[i + 1], &limit.hard_bytes);
    ParseInt(words[i + 2], &limit.soft_bytes);
    ParseInt(words[i + 3], &limit.soft_seconds);
  }
  return limit;
}

absl::StatusOr<int64_t> ParseMemory(std::string_view text) {
  std::string t = ToLower(text);
  int64_t mul = 1;
  auto strip = [&](std::string_view suffix, int64_t m) {
    if (t.size() > suffix.size() &&
        std::string_view(t).substr(t.size() - suffix.size()) == suffix) {
      t.resize(t.size() - suffix.size());
      mul = m;
      return true;
    }
    return false;
  };
  strip("gb", 1024LL * 1024 * 1024) || strip("mb", 1024LL * 1024) ||
      strip("kb", 1024) || strip("g", 1000LL * 1000 * 1000) ||
      strip("m", 1000LL * 1000) || strip("k", 1000) || strip("b", 1);
  int64_t v = 0;
  if (!ParseInt(t, &v) || v < 0 || v > INT64_MAX / mul) {
    return absl::InvalidArgumentError("argument must be a memory value");
  }
  return v * mul;
}

Config::Config() {
  using T = Type;
  auto add = [this](std::string name, T type, std::string value, bool runtime,
                    int64_t min = 0, int64_t max = INT64_MAX,
                    std::vector<std::string> choices = {}) {
    Add(Directive{std::move(name), type, std::move(value), runtime, min, max,
                  std::move(choices)});
  };
  // A directive that names a file or a program (see Directive::protect).
  auto add_protected = [this](std::string name, std::string value, bool runtime,
                              Parser parse = nullptr) {
    Directive d{std::move(name), Type::kString, std::move(value), runtime};
    d.protect = true;
    d.parse = std::move(parse);
    Add(std::move(d));
  };
  const std::vector<std::string> kProtectedActions = {"no", "yes", "local"};
  // Network and clients.
  // Both rebind the listeners live, as in Redis 7 (QdbServerImpl).
  {
    Directive d{"bind", T::kString, "127.0.0.1"};
    d.parse = ParseBind;
    Add(std::move(d));
  }
  add("port", T::kInt, "6380", true, 0, 65535);
  add("io-threads", T::kInt, "0", false, 0, 128);
  add("tcp-backlog", T::kInt, "511", false, 1, 65535);
  add("maxclients", T::kInt, "10000", true, 1, 1000000);
  add("timeout", T::kInt, "0", true, 0, INT32_MAX);
  add("tcp-keepalive", T::kInt, "300", true, 0, INT32_MAX);
  add("requirepass", T::kString, "", true);
  // Without a password, refuse clients that are not on the loopback
  // interface (Redis' protected mode).
  add("protected-mode", T::kBool, "yes", true);
  // Whether clients may change protected configs: no, yes, or local
  // (loopback clients only). Redis 7's names and default.
  add("enable-protected-configs", T::kEnum, "no", false, 0, 0,
      kProtectedActions);
  add("enable-debug-command", T::kEnum, "no", false, 0, 0, kProtectedActions);
  // ACL (docs/security.md): the ACL file is a file name in `dir`, read at
  // start and by ACL LOAD, written by ACL SAVE; never a path.
  add_protected("aclfile", "", false,
                [](std::string_view,
                   std::string_view value) -> absl::StatusOr<std::string> {
                  if (value.find_first_of("/\\") != std::string_view::npos ||
                      value == "." || value == "..") {
                    return absl::InvalidArgumentError(
                        "aclfile can't be a path, just a filename in dir");
                  }
                  return std::string(value);
                });
  add("acllog-max-len", T::kInt, "128", true, 0, INT32_MAX);
  add("acl-pubsub-default", T::kEnum, "resetchannels", true, 0, 0,
      {"allchannels", "resetchannels"});
  // Password for the targets of SLOTSMGRT* (read at start).
  add("migrate-target-password", T::kString, "", false);
  // Keys bigger than these move in chunks of this size (read at start).
  add("migrate-chunk-members", T::kInt, "1000", false, 1, INT32_MAX);
  add("migrate-chunk-bytes", T::kMemory, "1048576", false, 1024);
  add("client-query-buffer-limit", T::kMemory, "1073741824", true, 1024 * 1024);
  add("proto-max-bulk-len", T::kMemory, "536870912", true, 1024 * 1024);
  add("proto-max-multibulk-len", T::kInt, "2147483647", true, 1, INT32_MAX);
  // Redis' syntax and defaults: "<class> <hard> <soft> <soft-seconds>" for
  // the classes normal, replica (shown as slave) and pubsub.
  {
    Directive d{"client-output-buffer-limit", T::kString,
                "normal 0 0 0 slave 268435456 67108864 60 pubsub 33554432 "
                "8388608 60"};
    d.parse = ParseOutputBufferLimit;
    Add(std::move(d));
  }
  // Keyspace notifications: Redis' class letters, shown normalised.
  {
    Directive d{"notify-keyspace-events", T::kString, ""};
    // Redis shows `n` only without `A` (KEAn reads back as AKE) but keeps
    // it: the stored value keeps it after the letters Redis shows.
    d.parse = [](std::string_view,
                 std::string_view value) -> absl::StatusOr<std::string> {
      absl::StatusOr<int> flags = ParseKeyspaceEvents(value);
      if (!flags.ok()) return flags.status();
      std::string stored = KeyspaceEventsString(*flags);
      if ((*flags & kNotifyAll) == kNotifyAll && (*flags & kNotifyNew)) {
        stored += 'n';
      }
      return stored;
    };
    d.show = [](const std::string& stored) {
      absl::StatusOr<int> flags = ParseKeyspaceEvents(stored);
      return flags.ok() ? KeyspaceEventsString(*flags) : stored;
    };
    Add(std::move(d));
  }
  // Process.
  add("daemonize", T::kEnum, "no", false, 0, 0, {"no"});
  add_protected("pidfile", "", false);
  add_protected("logfile", "", false);
  add("loglevel", T::kEnum, "notice", true, 0, 0,
      {"debug", "verbose", "notice", "warning"});
  add("databases", T::kInt, "16", false, 16, 16);
  add("hz", T::kInt, "10", true, 1, 500);
  // Storage.
  add_protected("dir", "./qdb-data", false);
  add("engine", T::kEnum, "rocksdb", false, 0, 0,
      {"rocksdb", "leveldb", "memory"});
  add("block-cache-size", T::kMemory, "268435456", true, 0);
  add("row-cache-size", T::kMemory, "0", false, 0);
  add("hot-cache-size", T::kMemory, "67108864", true, 0);
  // 8 MiB: see storage::Options::write_buffer_mb.
  add("write-buffer-size", T::kMemory, "8388608", false, 64 * 1024);
  add("sync-writes", T::kBool, "no", true);
  add("bloom-bits-per-key", T::kInt, "10", false, 0, 64);
  // Replication (docs/replication.md).
  add("replicaof", T::kString, "", false);  // "host port" at start
  AddAlias("slaveof", "replicaof");
  add("masterauth", T::kString, "", true);
  add("masteruser", T::kString, "", true);
  add("replica-read-only", T::kBool, "yes", true);
  add("replica-serve-stale-data", T::kBool, "yes", true);
  AddAlias("slave-serve-stale-data", "replica-serve-stale-data");
  add("repl-timeout", T::kInt, "60", true, 1, INT32_MAX);
  add("repl-ping-replica-period", T::kInt, "10", true, 1, INT32_MAX);
  add("repl-backlog-size", T::kMemory, "1048576", true, 16 * 1024);
  add("repl-diskless-sync", T::kBool, "no", true);
  add("min-replicas-to-write", T::kInt, "0", true, 0, INT32_MAX);
  add("min-replicas-max-lag", T::kInt, "10", true, 0, INT32_MAX);
  // Synchronous replication (a reborn extension, docs/replication.md): a
  // write is answered once this many replicas acknowledged it.
  add("repl-sync-replicas", T::kInt, "0", true, 0, INT32_MAX);
  add("repl-sync-timeout", T::kInt, "1000", true, 1, INT32_MAX);  // ms
  // SAVE/BGSAVE write an RDB export to dir/dbfilename.
  add_protected("dbfilename", "dump.rdb", true, ParseFileName);
  // An RDB file loaded at start-up, replacing all data, before serving.
  add_protected("rdb-import", "", false);
  // Accepted for compatibility with tools that read them (redis-benchmark
  // asks for "save" and "appendonly"); persistence is the storage engine's.
  add("save", T::kString, "", true);
  add("appendonly", T::kBool, "no", true);
  // Data lives on disk and its caches are bounded (block-cache-size,
  // write-buffer-size): over maxmemory, commands that may add data are
  // refused (OOM) whatever the policy, which picks LRU or LFU tracking for
  // OBJECT IDLETIME/FREQ; no key is ever evicted (docs/configuration.md).
  add("maxmemory", T::kMemory, "0", true, 0, INT64_MAX);
  // Client eviction (Redis 7): over this much memory in client buffers,
  // the biggest clients are closed (docs/configuration.md).
  {
    Directive d{"maxmemory-clients", T::kString, "0"};
    d.parse = ParseMemoryOrPercent;
    Add(std::move(d));
  }
  // Scripts (docs/scripting.md): after this many ms other clients get -BUSY;
  // lua-time-limit is the pre-7.0 name.
  add("busy-reply-threshold", T::kInt, "5000", true, 0, INT32_MAX);
  AddAlias("lua-time-limit", "busy-reply-threshold");
  add("maxmemory-policy", T::kEnum, "noeviction", true, 0, 0,
      {"volatile-lru", "volatile-lfu", "volatile-random", "volatile-ttl",
       "allkeys-lru", "allkeys-lfu", "allkeys-random", "noeviction"});
  {
    // qdb's own directives read at start (Directive::same_value_ok).
    absl::MutexLock lock(&mu_);
    for (const char* name :
         {"engine", "row-cache-size", "write-buffer-size", "bloom-bits-per-key",
          "migrate-target-password", "migrate-chunk-members",
          "migrate-chunk-bytes", "rdb-import"}) {
      directives_.at(name).same_value_ok = true;
    }
  }
  AddRedisTuning();
}

// Redis 7.0's tuning parameters (src/config.c, standardConfig table): the
// same names, aliases, defaults and ranges, so that clients, tools and
// Redis' own test suite can read and set them. QDB's layout on the storage
// engine has no listpacks, intsets, quicklists, stream nodes, lazy freeing,
// rehashing or defragmentation, so each of these is kept, returned by
// CONFIG GET and written by CONFIG REWRITE, and changes nothing
// (docs/configuration.md lists them).
void Config::AddRedisTuning() {
  using T = Type;
  constexpr int64_t kIntMax = INT32_MAX;  // Redis' INT_MAX
  constexpr int64_t kIntMin = INT32_MIN;
  constexpr int64_t kLongMax = INT64_MAX;  // LONG_MAX and LLONG_MAX (LP64)
  auto add = [this](std::string name, T type, std::string value,
                    int64_t min = 0, int64_t max = INT64_MAX,
                    std::vector<std::string> choices = {}) {
    Add(Directive{std::move(name), type, std::move(value), /*runtime=*/true,
                  min, max, std::move(choices)});
  };
  // Encodings of small values. Redis 7.0 renamed ziplist to listpack and
  // keeps the old names as aliases.
  add("hash-max-listpack-entries", T::kInt, "512", 0, kLongMax);
  AddAlias("hash-max-ziplist-entries", "hash-max-listpack-entries");
  add("hash-max-listpack-value", T::kMemory, "64", 0, kLongMax);
  AddAlias("hash-max-ziplist-value", "hash-max-listpack-value");
  add("list-max-listpack-size", T::kInt, "-2", kIntMin, kIntMax);
  AddAlias("list-max-ziplist-size", "list-max-listpack-size");
  add("list-compress-depth", T::kInt, "0", 0, kIntMax);
  add("set-max-intset-entries", T::kInt, "512", 0, kLongMax);
  add("zset-max-listpack-entries", T::kInt, "128", 0, kLongMax);
  AddAlias("zset-max-ziplist-entries", "zset-max-listpack-entries");
  add("zset-max-listpack-value", T::kMemory, "64", 0, kLongMax);
  AddAlias("zset-max-ziplist-value", "zset-max-listpack-value");
  add("stream-node-max-bytes", T::kMemory, "4096", 0, kLongMax);
  add("stream-node-max-entries", T::kInt, "100", 0, kLongMax);
  add("hll-sparse-max-bytes", T::kMemory, "3000", 0, kLongMax);
  // Memory management of an in-memory server.
  add("activerehashing", T::kBool, "yes");
  add("lazyfree-lazy-eviction", T::kBool, "no");
  add("lazyfree-lazy-expire", T::kBool, "no");
  add("lazyfree-lazy-server-del", T::kBool, "no");
  add("lazyfree-lazy-user-del", T::kBool, "no");
  add("lazyfree-lazy-user-flush", T::kBool, "no");
  add("replica-lazy-flush", T::kBool, "no");
  AddAlias("slave-lazy-flush", "replica-lazy-flush");
  add("activedefrag", T::kBool, "no");
  add("active-defrag-cycle-min", T::kInt, "1", 1, 99);
  add("active-defrag-cycle-max", T::kInt, "25", 1, 99);
  add("active-defrag-threshold-lower", T::kInt, "10", 0, 1000);
  add("active-defrag-threshold-upper", T::kInt, "100", 0, 1000);
  add("active-defrag-ignore-bytes", T::kMemory, "104857600", 1, kLongMax);
  add("active-defrag-max-scan-fields", T::kInt, "1000", 1, kLongMax);
  add("jemalloc-bg-thread", T::kBool, "yes");
  add("maxmemory-samples", T::kInt, "5", 1, kIntMax);
  add("maxmemory-eviction-tenacity", T::kInt, "10", 0, 100);
  add("lfu-log-factor", T::kInt, "10", 0, kIntMax);
  add("lfu-decay-time", T::kInt, "1", 0, kIntMax);
  add("active-expire-effort", T::kInt, "1", 1, 10);
  add("dynamic-hz", T::kBool, "yes");
  add("rdbcompression", T::kBool, "yes");
  add("oom-score-adj", T::kEnum, "no", 0, 0,
      {"no", "yes", "relative", "absolute"});
  add("tracking-table-max-keys", T::kInt, "1000000", 0, kLongMax);
  // Observability: the slow log and the latency monitor (CommandObserver).
  add("slowlog-log-slower-than", T::kInt, "10000", -1, kLongMax);
  add("slowlog-max-len", T::kInt, "128", 0, kLongMax);
  add("latency-monitor-threshold", T::kInt, "0", 0, kLongMax);
  add("latency-tracking", T::kBool, "yes");
  {
    Directive d{"latency-tracking-info-percentiles", T::kString, "50 99 99.9"};
    d.parse = ParsePercentiles;
    Add(std::move(d));
  }
  {
    // Hidden as in Redis: a full load sleeps this many microseconds after
    // each key (replica full sync, rdb-import; RdbLoadOptions).
    Directive d{"key-load-delay", T::kInt, "0", true, kIntMin, kIntMax};
    d.hidden = true;
    Add(std::move(d));
  }
  // Read at start in Redis; immutable here too.
  Add(Directive{"rdbchecksum", T::kBool, "yes", /*runtime=*/false});
  Add(Directive{"set-proc-title", T::kBool, "yes", /*runtime=*/false});
}

void Config::AddAlias(std::string alias, std::string name) {
  absl::MutexLock lock(&mu_);
  aliases_[std::move(alias)] = std::move(name);
}

std::string Config::Resolve(std::string_view name) const {
  std::string key = ToLower(name);
  auto it = aliases_.find(key);
  return it == aliases_.end() ? key : it->second;
}

void Config::Add(Directive d) {
  absl::MutexLock lock(&mu_);
  defaults_[d.name] = d.value;
  directives_[d.name] = std::move(d);
}

absl::StatusOr<std::string> Config::Normalise(const Directive& d,
                                              std::string_view value) const {
  switch (d.type) {
    case Type::kString:
      if (d.parse) return d.parse(d.value, value);
      return std::string(value);
    case Type::kBool: {
      std::string v = ToLower(value);
      if (v != "yes" && v != "no") {
        return absl::InvalidArgumentError("argument must be 'yes' or 'no'");
      }
      return v;
    }
    case Type::kEnum: {
      std::string v = ToLower(value);
      for (const auto& c : d.choices) {
        if (c == v) return v;
      }
      return absl::InvalidArgumentError(
          absl::StrCat("argument(s) must be one of the following: ",
                       absl::StrJoin(d.choices, ", ")));
    }
    case Type::kInt: {
      int64_t v;
      if (!ParseInt(value, &v)) {
        return absl::InvalidArgumentError(
            "argument couldn't be parsed into an integer");
      }
      if (v < d.min || v > d.max) {
        return absl::InvalidArgumentError(absl::StrCat(
            "argument must be between ", d.min, " and ", d.max, " inclusive"));
      }
      return std::to_string(v);
    }
    case Type::kMemory: {
      auto v = ParseMemory(value);
      if (!v.ok()) return v.status();
      if (*v < d.min || *v > d.max) {
        return absl::InvalidArgumentError(absl::StrCat(
            "argument must be between ", d.min, " and ", d.max, " inclusive"));
      }
      return std::to_string(*v);
    }
  }
  return absl::InternalError("unknown directive type");
}

absl::Status Config::CheckAccess(const Directive& d, Caller caller) const {
  if (caller == Caller::kStartup) return absl::OkStatus();
  if (!d.runtime) {
    return absl::FailedPreconditionError("can't set immutable config");
  }
  if (d.protect) {
    const std::string& allowed =
        directives_.at("enable-protected-configs").value;
    if (allowed != "yes" &&
        !(allowed == "local" && caller == Caller::kLocalClient)) {
      return absl::FailedPreconditionError("can't set protected config");
    }
  }
  return absl::OkStatus();
}

absl::Status Config::RunHooks(const std::string& key,
                              const std::string& value) {
  std::vector<Hook> hooks;
  {
    absl::MutexLock lock(&mu_);
    auto it = hooks_.find(key);
    if (it != hooks_.end()) hooks = it->second;
  }
  for (const Hook& hook : hooks) {
    if (absl::Status s = hook(value); !s.ok()) return s;
  }
  return absl::OkStatus();
}

absl::Status Config::Set(std::string_view name, std::string_view value,
                         Caller caller) {
  std::string ignored;
  return SetMany({{std::string(name), std::string(value)}}, caller, &ignored);
}

absl::Status Config::SetMany(
    const std::vector<std::pair<std::string, std::string>>& changes,
    Caller caller, std::string* failed_name) {
  struct Change {
    std::string key;
    std::string value;
    std::string previous;
  };
  std::vector<Change> applied;
  {
    absl::MutexLock lock(&mu_);
    auto check = [&]() -> absl::Status {
      for (const auto& [name, value] : changes) {
        std::string key = Resolve(name);
        *failed_name = ToLower(name);
        auto it = directives_.find(key);
        if (it == directives_.end()) {
          return absl::NotFoundError(
              absl::StrCat("unknown directive '", key, "'"));
        }
        if (absl::Status s = CheckAccess(it->second, caller); !s.ok()) {
          auto v = Normalise(it->second, value);
          if (!it->second.same_value_ok || !v.ok() || *v != it->second.value) {
            return s;
          }
        }
        for (const Change& c : applied) {
          if (c.key == key) {
            return absl::InvalidArgumentError("duplicate parameter");
          }
        }
        auto v = Normalise(it->second, value);
        if (!v.ok()) return v.status();
        applied.push_back({key, *std::move(v), it->second.value});
        it->second.value = applied.back().value;
      }
      return absl::OkStatus();
    };
    if (absl::Status s = check(); !s.ok()) {
      for (auto c = applied.rbegin(); c != applied.rend(); ++c) {
        directives_[c->key].value = c->previous;
      }
      return s;
    }
  }
  for (size_t i = 0; i < applied.size(); ++i) {
    // As Redis: a value set to what it was applies nothing.
    if (applied[i].value == applied[i].previous) continue;
    absl::Status s = RunHooks(applied[i].key, applied[i].value);
    if (s.ok()) continue;
    *failed_name = applied[i].key;
    // All or nothing: the earlier values come back, and their hooks see
    // them again (best effort: they accepted these values before).
    {
      absl::MutexLock lock(&mu_);
      for (auto c = applied.rbegin(); c != applied.rend(); ++c) {
        directives_[c->key].value = c->previous;
      }
    }
    for (size_t j = 0; j <= i; ++j) {
      if (applied[j].value == applied[j].previous) continue;
      RunHooks(applied[j].key, applied[j].previous).IgnoreError();
    }
    return s;
  }
  return absl::OkStatus();
}

std::string Config::GetString(std::string_view name) const {
  absl::MutexLock lock(&mu_);
  auto it = directives_.find(Resolve(name));
  return it == directives_.end() ? "" : it->second.value;
}

int64_t Config::GetInt(std::string_view name) const {
  int64_t v = 0;
  ParseInt(GetString(name), &v);
  return v;
}

bool Config::GetBool(std::string_view name) const {
  return GetString(name) == "yes";
}

bool Config::Has(std::string_view name) const {
  absl::MutexLock lock(&mu_);
  return directives_.find(Resolve(name)) != directives_.end();
}

std::string Config::Shown(const Directive& d) {
  return d.show ? d.show(d.value) : d.value;
}

std::vector<std::pair<std::string, std::string>> Config::Match(
    std::string_view pattern) const {
  absl::MutexLock lock(&mu_);
  std::vector<std::pair<std::string, std::string>> out;
  // As Redis' configGetCommand: a name without glob characters is looked
  // up as is, hidden directives included.
  const bool exact = pattern.find_first_of("*?[") == std::string_view::npos;
  for (const auto& [name, d] : directives_) {
    if (d.hidden && !exact) continue;
    if (GlobMatch(pattern, name, /*nocase=*/true))
      out.emplace_back(name, Shown(d));
  }
  // As Redis 7.0: an alias answers under the name asked, and a pattern
  // matches aliases too.
  for (const auto& [alias, name] : aliases_) {
    if (GlobMatch(pattern, alias, /*nocase=*/true)) {
      out.emplace_back(alias, Shown(directives_.at(name)));
    }
  }
  std::sort(out.begin(), out.end());
  return out;
}

void Config::OnChange(std::string_view name,
                      std::function<absl::Status(const std::string&)> hook) {
  absl::MutexLock lock(&mu_);
  hooks_[std::string(name)].push_back(std::move(hook));
}

std::string Config::config_file() const {
  absl::MutexLock lock(&mu_);
  return config_file_;
}

absl::Status Config::LoadArgs(const std::vector<std::string>& args) {
  size_t i = 0;
  if (i < args.size() && args[i].rfind("--", 0) != 0) {
    absl::Status s = LoadFile(args[i]);
    if (!s.ok()) return s;
    ++i;
  }
  // "--name v1 v2 --other v" -> lines "name v1 v2" and "other v", like
  // redis-server.
  std::string text;
  for (; i < args.size(); ++i) {
    if (args[i].rfind("--", 0) == 0) {
      if (!text.empty()) text.push_back('\n');
      text.append(args[i].substr(2));
    } else {
      if (text.empty()) {
        return absl::InvalidArgumentError(
            absl::StrCat("unexpected argument '", args[i], "'"));
      }
      // Quoted so that spaces and newlines survive the line split.
      text.push_back(' ');
      text.append(QuotedRepr(args[i]));
    }
  }
  return LoadText(text, "command line");
}

absl::Status Config::LoadFile(const std::string& path) {
  std::ifstream in(path);
  if (!in) {
    return absl::NotFoundError(
        absl::StrCat("Fatal error, can't open config file '", path, "'"));
  }
  std::stringstream buffer;
  buffer << in.rdbuf();
  {
    absl::MutexLock lock(&mu_);
    config_file_ = path;
  }
  return LoadText(buffer.str(), path);
}

absl::Status Config::LoadText(std::string_view text, std::string_view origin) {
  size_t line_no = 0;
  size_t pos = 0;
  while (pos <= text.size()) {
    size_t end = text.find('\n', pos);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(pos, end - pos);
    pos = end + 1;
    ++line_no;
    std::vector<std::string> words;
    std::string_view trimmed = Trim(line);
    if (trimmed.empty() || trimmed[0] == '#') continue;
    auto fail = [&](std::string_view why) {
      return absl::InvalidArgumentError(absl::StrCat(
          "*** FATAL CONFIG FILE ERROR *** Reading the configuration file (",
          std::string(origin), "), at line ", line_no, "\n>>> '",
          std::string(trimmed), "'\n", std::string(why)));
    };
    if (!resp::SplitInlineArgs(trimmed, &words) || words.empty()) {
      return fail("Unbalanced quotes in configuration line");
    }
    if (words.size() != 2 && !(words.size() == 1 && Has(words[0]))) {
      const std::string name = ToLower(words[0]);
      if (name != "save" && name != "replicaof" && name != "slaveof" &&
          name != "client-output-buffer-limit" && name != "bind") {
        return fail("Bad directive or wrong number of arguments");
      }
    }
    std::string value;
    for (size_t i = 1; i < words.size(); ++i) {
      if (i > 1) value.push_back(' ');
      value += words[i];
    }
    absl::Status s = Set(words[0], value, Caller::kStartup);
    if (!s.ok()) {
      if (absl::IsNotFound(s)) {
        return fail("Bad directive or wrong number of arguments");
      }
      return fail(std::string(s.message()));
    }
  }
  return absl::OkStatus();
}

absl::Status Config::Rewrite() const {
  std::string path = config_file();
  if (path.empty()) {
    return absl::FailedPreconditionError(
        "The server is running without a config file");
  }
  std::ifstream in(path);
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  absl::MutexLock lock(&mu_);
  std::map<std::string, bool, std::less<>> written;
  auto format = [](const Directive& d) {
    return absl::StrCat(d.name, " ", FormatConfigValue(Shown(d)));
  };
  for (auto& line : lines) {
    std::vector<std::string> words;
    std::string_view trimmed = Trim(line);
    if (trimmed.empty() || trimmed[0] == '#') continue;
    if (!resp::SplitInlineArgs(trimmed, &words) || words.empty()) continue;
    // An alias line is rewritten under the directive's own name (Redis).
    auto it = directives_.find(Resolve(words[0]));
    if (it == directives_.end()) continue;
    if (written[it->first]) {
      line = "# " + line;  // a duplicate: the first occurrence holds the value
      continue;
    }
    line = format(it->second);
    written[it->first] = true;
  }
  bool header = false;
  for (const auto& [name, d] : directives_) {
    if (written[name] || defaults_.at(name) == d.value) continue;
    if (!header) {
      lines.push_back("# Generated by CONFIG REWRITE");
      header = true;
    }
    lines.push_back(format(d));
  }
  std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    for (const auto& line : lines) out << line << "\n";
    if (!out.flush()) {
      return absl::InternalError(absl::StrCat("Rewriting config file: ", path));
    }
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    return absl::InternalError(absl::StrCat("Rewriting config file: ", path));
  }
  return absl::OkStatus();
}

}  // namespace reborn::server
