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

  struct Directive {
    std::string name;
    Type type = Type::kString;
    std::string value;    // normalised (memory as bytes, bools as yes/no)
    bool runtime = true;  // CONFIG SET allowed
    int64_t min = 0;
    int64_t max = INT64_MAX;
    std::vector<std::string> choices;  // kEnum
  };

  // Registers every qdb-server directive with its default.
  Config();

  // Parses redis-server style arguments: `[config-file] [--name value ...]`.
  absl::Status LoadArgs(const std::vector<std::string>& args);
  // Parses a config file: one `name value...` per line, '#' comments.
  absl::Status LoadFile(const std::string& path);
  // Parses config text (the body of a file); `origin` names it in errors.
  absl::Status LoadText(std::string_view text, std::string_view origin);

  // Validates, normalises and stores a value, then runs the change hook.
  // `startup` allows directives that CONFIG SET may not change.
  absl::Status Set(std::string_view name, std::string_view value,
                   bool startup = false);

  std::string GetString(std::string_view name) const;
  int64_t GetInt(std::string_view name) const;  // kInt, kMemory
  bool GetBool(std::string_view name) const;

  // Directives whose name matches a glob, sorted by name.
  std::vector<std::pair<std::string, std::string>> Match(
      std::string_view pattern) const;

  bool Has(std::string_view name) const;

  // Called after a successful Set() of `name` (also at startup). A non-OK
  // status from the hook is returned by Set() (the value stays changed only
  // if the hook accepted it).
  void OnChange(std::string_view name,
                std::function<absl::Status(const std::string&)> hook);

  // The file given at startup ("" if none); CONFIG REWRITE writes it.
  std::string config_file() const;
  // Rewrites the config file with the current values, keeping comments and
  // unknown lines, replacing known directives and appending changed ones.
  absl::Status Rewrite() const;

 private:
  void Add(Directive d);
  absl::StatusOr<std::string> Normalise(const Directive& d,
                                        std::string_view value) const;

  mutable absl::Mutex mu_;
  std::map<std::string, Directive, std::less<>> directives_
      ABSL_GUARDED_BY(mu_);
  std::map<std::string, std::string, std::less<>> defaults_
      ABSL_GUARDED_BY(mu_);
  std::map<std::string, std::function<absl::Status(const std::string&)>,
           std::less<>>
      hooks_ ABSL_GUARDED_BY(mu_);
  std::string config_file_ ABSL_GUARDED_BY(mu_);
};

// Parses "100", "1k", "1kb", "2mb", "1g", "1gb" like redis-server's memtoll.
absl::StatusOr<int64_t> ParseMemory(std::string_view text);

}  // namespace reborn::server
