#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <vector>

#include "command/command_spec.h"

namespace reborn::server {

// Per-command counters for INFO commandstats, indexed by the command's place
// in the spec table. Relaxed atomics: hot path, any thread.
class CommandStats {
 public:
  struct Counters {
    std::atomic<uint64_t> calls{0};
    std::atomic<uint64_t> usec{0};
    std::atomic<uint64_t> failed{0};
    std::atomic<uint64_t> rejected{0};
  };

  CommandStats() : counters_(AllCommandSpecs().size()) {}

  Counters& For(const CommandSpec& spec) {
    return counters_[static_cast<size_t>(&spec - AllCommandSpecs().data())];
  }
  const Counters& For(const CommandSpec& spec) const {
    return counters_[static_cast<size_t>(&spec - AllCommandSpecs().data())];
  }
  void Reset() {
    for (auto& c : counters_) {
      c.calls = 0;
      c.usec = 0;
      c.failed = 0;
      c.rejected = 0;
    }
  }

 private:
  std::vector<Counters> counters_;
};

}  // namespace reborn::server
