#pragma once

#include <atomic>
#include <cstdint>
#include <string>

namespace reborn::server {

class Config;

// The process' memory as INFO memory, MEMORY STATS and maxmemory see it.
// used: what the allocator has handed out (glibc mallinfo2, Redis'
// used_memory); rss: resident pages; peak_rss: the high-water mark.
struct MemoryReading {
  int64_t used = 0;
  int64_t rss = 0;
  int64_t peak_rss = 0;
};
MemoryReading ReadProcessMemory();

// "1.50M", as Redis' used_memory_human.
std::string HumanBytes(int64_t n);

// maxmemory (docs/configuration.md): a disk store cannot free memory by
// deleting keys, its data is on disk and its caches are bounded, so over
// the limit commands that may grow memory (deny-oom) are refused under
// every maxmemory-policy, which only picks what OBJECT tracks (LRU or LFU).
// The allocator reading behind Exceeded() is refreshed at most every
// kRefreshNs, since mallinfo2 walks every arena. Thread-safe.
class MaxmemoryGate {
 public:
  explicit MaxmemoryGate(const Config& config) : config_(config) {}
  bool Exceeded();

 private:
  static constexpr int64_t kRefreshNs = 10'000'000;
  const Config& config_;
  std::atomic<int64_t> used_{0};
  std::atomic<int64_t> read_at_ns_{0};
};

inline constexpr char kOomError[] =
    "OOM command not allowed when used memory > 'maxmemory'.";

}  // namespace reborn::server
