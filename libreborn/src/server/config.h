#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"

namespace reborn::server {

// The directives of qdb-server, shared by the config file, `--name value`
// command-line overrides and CONFIG GET/SET/REWRITE, with redis-server's
// conventions: booleans are yes/no, memory sizes take k/kb/m/mb/g/gb.
//
// Thread-safe: one mutex guards values and change hooks; hooks run outside
// the lock.
class Config {
 public:
  enum class Type { kString, kInt, kBool, kMemory, kEnum };

  // Who asks for a change: protected configs (see Directive::protect) may be
  // set at startup always, by clients only as `enable-protected-configs`
  // allows (Redis 7: no | yes | local, local meaning loopback clients).
  enum class Caller { kStartup, kClient, kLocalClient };

  // Turns a requested value into the stored one, given the current one
  // (directives such as client-output-buffer-limit change one class of a
  // compound value), or says why it is refused.
  using Parser = std::function<absl::StatusOr<std::string>(
      std::string_view current, std::string_view value)>;

  struct Directive {
    std::string name;
    Type type = Type::kString;
    std::string value;    // normalised (memory as bytes, bools as yes/no)
    bool runtime = true;  // CONFIG SET allowed
    int64_t min = 0;
    int64_t max = INT64_MAX;
    std::vector<std::string> choices;  // kEnum
    // Names a file or a program, or decides what a client may reach:
    // read-only to clients unless enable-protected-configs allows it.
    bool protect = false;
    // qdb's own directives read at start (engine, cache sizes, ...): no
    // Redis directive to mirror, so CONFIG SET to the current value is a
    // no-op that succeeds, and CONFIG GET * output can be set back as
    // Redis' can; another value is refused as immutable. Redis' immutable
    // directives refuse any CONFIG SET, as Redis does.
    bool same_value_ok = false;
    // Left out of CONFIG GET patterns, shown when asked by its exact name
    // (Redis' HIDDEN_CONFIG: knobs for tests).
    bool hidden = false;
    Parser parse;  // kString only; null takes the value as given
    // What CONFIG GET and CONFIG REWRITE show of the value; null shows it as
    // stored (notify-keyspace-events stores more than Redis shows).
    std::function<std::string(const std::string&)> show;
  };

  // Registers every qdb-server directive with its default.
  Config();

  // Parses redis-server style arguments: `[config-file] [--name value ...]`.
  absl::Status LoadArgs(const std::vector<std::string>& args);
  // Parses a config file: one `name value...` per line, '#' comments.
  absl::Status LoadFile(const std::string& path);
  // Parses config text (the body of a file); `origin` names it in errors.
  absl::Status LoadText(std::string_view text, std::string_view origin);

  // Validates, normalises and stores a value, then runs the change hooks.
  // kStartup allows directives that CONFIG SET may not change. Errors:
  // NotFound (unknown name), FailedPrecondition (immutable or protected),
  // InvalidArgument (bad value), or what a hook returned.
  absl::Status Set(std::string_view name, std::string_view value,
                   Caller caller = Caller::kClient);
  // CONFIG SET of several directives at once: all or nothing. Every name
  // and value is checked before any is stored; if a hook refuses one, the
  // ones already applied get their previous values back (and their hooks
  // run again). On error `*failed_name` names the directive at fault.
  absl::Status SetMany(
      const std::vector<std::pair<std::string, std::string>>& changes,
      Caller caller, std::string* failed_name);

  std::string GetString(std::string_view name) const;
  int64_t GetInt(std::string_view name) const;  // kInt, kMemory
  bool GetBool(std::string_view name) const;

  // Directives (and aliases, under their own name) whose name matches a
  // glob, sorted by name.
  std::vector<std::pair<std::string, std::string>> Match(
      std::string_view pattern) const;

  bool Has(std::string_view name) const;

  // Called after a successful Set() of `name` to a value other than the one
  // it had (also at startup); several
  // hooks of one name run in the order they were added. A non-OK status
  // from a hook is returned by Set() (the value stays changed only if every
  // hook accepted it).
  void OnChange(std::string_view name,
                std::function<absl::Status(const std::string&)> hook);

  // The file given at startup ("" if none); CONFIG REWRITE writes it.
  std::string config_file() const;
  // Rewrites the config file with the current values, keeping comments and
  // unknown lines, replacing known directives and appending changed ones.
  // Values are quoted and escaped as redis.conf does (FormatConfigValue), so
  // no value can add a line or a directive.
  absl::Status Rewrite() const;

 private:
  using Hook = std::function<absl::Status(const std::string&)>;

  void Add(Directive d);
  // Redis 7.0's encoding and memory tuning parameters (no-ops here).
  void AddRedisTuning();
  // `alias` names directive `name` in Set, Get*, Has, Match and config
  // files (Redis' ziplist names for the listpack ones, slave-* ones).
  void AddAlias(std::string alias, std::string name);
  // The directive a (lower-cased) name or alias stands for.
  std::string Resolve(std::string_view name) const
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::StatusOr<std::string> Normalise(const Directive& d,
                                        std::string_view value) const;
  // The value as CONFIG GET and REWRITE show it (Directive::show).
  static std::string Shown(const Directive& d);
  // Whether `caller` may change `d` (immutable, protected).
  absl::Status CheckAccess(const Directive& d, Caller caller) const
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::Status RunHooks(const std::string& key, const std::string& value);

  mutable absl::Mutex mu_;
  std::map<std::string, Directive, std::less<>> directives_
      ABSL_GUARDED_BY(mu_);
  std::map<std::string, std::string, std::less<>> defaults_
      ABSL_GUARDED_BY(mu_);
  // alias -> directive name
  std::map<std::string, std::string, std::less<>> aliases_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, std::vector<Hook>, std::less<>> hooks_
      ABSL_GUARDED_BY(mu_);
  std::string config_file_ ABSL_GUARDED_BY(mu_);
};

// Parses "100", "1k", "1kb", "2mb", "1g", "1gb" like redis-server's memtoll.
absl::StatusOr<int64_t> ParseMemory(std::string_view text);

// A value as a config file line holds it: as is when it needs no quoting,
// else in double quotes with redis.conf's escapes (\n, \", \\, \xNN), the
// form resp::SplitInlineArgs reads back (Redis' sdscatrepr).
std::string FormatConfigValue(std::string_view value);

// The limits of one client class of client-output-buffer-limit.
struct OutputBufferLimit {
  int64_t hard_bytes = 0;  // 0 = none
  int64_t soft_bytes = 0;  // 0 = none
  int64_t soft_seconds = 0;
};
// Reads the class (normal, replica/slave, pubsub) from a normalised
// client-output-buffer-limit value.
OutputBufferLimit OutputLimitOf(std::string_view value,
                                std::string_view client_class);

}  // namespace reborn::server
