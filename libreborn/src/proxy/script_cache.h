#pragma once

#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/synchronization/mutex.h"

namespace reborn::proxy {

// The Lua script bodies the proxy saw (EVAL, EVAL_RO, SCRIPT LOAD), by SHA1,
// so an EVALSHA that meets NOSCRIPT — a group whose master changed, or a
// group that never got the script — is answered by loading the script there
// and running it again (docs/proxy.md, "Scripts"). Bounded: the bodies take
// at most `max_bytes`; the oldest go first. Shared by the I/O threads.
class ScriptCache {
 public:
  explicit ScriptCache(uint64_t max_bytes) : max_bytes_(max_bytes) {}

  bool enabled() const { return max_bytes_ > 0; }
  // Remembers `body`.
  void Remember(std::string_view body) ABSL_LOCKS_EXCLUDED(mu_);
  // The body whose SHA1 is `sha` (any case), if remembered.
  std::optional<std::string> Body(std::string_view sha) const
      ABSL_LOCKS_EXCLUDED(mu_);
  // SCRIPT FLUSH.
  void Clear() ABSL_LOCKS_EXCLUDED(mu_);
  uint64_t bytes() const ABSL_LOCKS_EXCLUDED(mu_);

  // Function libraries loaded through the proxy (FUNCTION LOAD that
  // succeeded), by the name in their `#!lua name=<lib>` line, for FCALL on
  // a group that lacks them. In the same byte budget as the scripts.
  void RememberLibrary(std::string_view code) ABSL_LOCKS_EXCLUDED(mu_);
  void ForgetLibrary(std::string_view name) ABSL_LOCKS_EXCLUDED(mu_);
  void ClearLibraries() ABSL_LOCKS_EXCLUDED(mu_);
  std::vector<std::string> Libraries() const ABSL_LOCKS_EXCLUDED(mu_);
  // The library name of FUNCTION LOAD's code ("" when there is none).
  static std::string LibraryName(std::string_view code);

 private:
  const uint64_t max_bytes_;
  mutable absl::Mutex mu_;
  absl::flat_hash_map<std::string, std::string> bodies_ ABSL_GUARDED_BY(mu_);
  std::deque<std::string> order_ ABSL_GUARDED_BY(mu_);  // oldest first
  uint64_t bytes_ ABSL_GUARDED_BY(mu_) = 0;
  absl::flat_hash_map<std::string, std::string> libraries_ ABSL_GUARDED_BY(mu_);
  uint64_t library_bytes_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace reborn::proxy
