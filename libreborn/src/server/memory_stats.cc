#include "server/memory_stats.h"

#include <malloc.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <string>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/time/clock.h"
#include "server/config.h"

namespace reborn::server {
namespace {

int64_t AllocatedBytes() {
  struct mallinfo2 mi = mallinfo2();
  return static_cast<int64_t>(mi.uordblks + mi.hblkhd);
}

// VmHWM of /proc/self/status, in bytes (0 when unreadable).
int64_t PeakRssBytes() {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (!absl::StartsWith(line, "VmHWM:")) continue;
    std::string_view rest = std::string_view(line).substr(6);
    while (!rest.empty() && (rest.front() == ' ' || rest.front() == '\t')) {
      rest.remove_prefix(1);
    }
    int64_t kb = 0;
    if (absl::SimpleAtoi(std::string(rest.substr(0, rest.find(" "))), &kb))
      return kb * 1024;
  }
  return 0;
}

}  // namespace

MemoryReading ReadProcessMemory() {
  MemoryReading r;
  r.used = AllocatedBytes();
  std::ifstream statm("/proc/self/statm");
  int64_t size = 0, resident = 0;
  statm >> size >> resident;
  r.rss = resident * sysconf(_SC_PAGESIZE);
  r.peak_rss = std::max(PeakRssBytes(), r.rss);
  return r;
}

std::string HumanBytes(int64_t n) {
  const char* units[] = {"B", "K", "M", "G", "T"};
  double v = static_cast<double>(n);
  int u = 0;
  while (v >= 1024 && u < 4) {
    v /= 1024;
    ++u;
  }
  char buf[32];
  std::snprintf(buf, sizeof(buf), u == 0 ? "%.0f%s" : "%.2f%s", v, units[u]);
  return buf;
}

bool MaxmemoryGate::Exceeded() {
  const int64_t limit = config_.GetInt("maxmemory");
  if (limit <= 0) return false;
  const int64_t now = absl::GetCurrentTimeNanos();
  if (now - read_at_ns_.load(std::memory_order_relaxed) > kRefreshNs) {
    used_.store(AllocatedBytes(), std::memory_order_relaxed);
    read_at_ns_.store(now, std::memory_order_relaxed);
  }
  return used_.load(std::memory_order_relaxed) > limit;
}

}  // namespace reborn::server
