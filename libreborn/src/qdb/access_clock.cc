#include "qdb/access_clock.h"

#include <algorithm>
#include <limits>
#include <utility>

#include "absl/hash/hash.h"

namespace reborn::qdb {

AccessClock::AccessClock(int64_t start_seconds)
    : start_seconds_(start_seconds),
      entries_(std::make_unique<Entry[]>(kSlots)) {}

AccessClock::Position AccessClock::Locate(uint8_t db, std::string_view key) {
  const uint64_t h =
      absl::Hash<std::pair<uint8_t, std::string_view>>{}({db, key});
  return {static_cast<size_t>(h & (kSlots - 1)),
          static_cast<uint32_t>(h >> 32)};
}

uint32_t AccessClock::Seconds(int64_t seconds) {
  return static_cast<uint32_t>(
      std::clamp<int64_t>(seconds, 1, std::numeric_limits<uint32_t>::max()));
}

void AccessClock::Touch(uint8_t db, std::string_view key, int64_t now_seconds) {
  const Position p = Locate(db, key);
  Entry& e = entries_[p.slot];
  const uint32_t now = Seconds(now_seconds);
  const uint64_t owner = (uint64_t{p.fingerprint} << 32) | now;
  // Most reads of a hot key find its entry current: skipping the stores
  // keeps readers on several threads from taking the cache line from each
  // other.
  if (e.owner.load(std::memory_order_relaxed) != owner) {
    e.owner.store(owner, std::memory_order_relaxed);
  }
  if (e.latest.load(std::memory_order_relaxed) < now) {
    e.latest.store(now, std::memory_order_relaxed);
  }
}

void AccessClock::SetIdle(uint8_t db, std::string_view key, int64_t idle,
                          int64_t now_seconds) {
  const Position p = Locate(db, key);
  const int64_t back = idle >= now_seconds ? 0 : now_seconds - idle;
  entries_[p.slot].owner.store((uint64_t{p.fingerprint} << 32) | Seconds(back),
                               std::memory_order_relaxed);
}

int64_t AccessClock::IdleSeconds(uint8_t db, std::string_view key,
                                 int64_t now_seconds) const {
  const Position p = Locate(db, key);
  const Entry& e = entries_[p.slot];
  const uint64_t owner = e.owner.load(std::memory_order_relaxed);
  int64_t since;
  if (owner != 0 && static_cast<uint32_t>(owner >> 32) == p.fingerprint) {
    since = static_cast<uint32_t>(owner);
  } else {
    const uint32_t latest = e.latest.load(std::memory_order_relaxed);
    since = latest == 0 ? start_seconds_ : latest;
  }
  return std::max<int64_t>(0, now_seconds - since);
}

}  // namespace reborn::qdb
