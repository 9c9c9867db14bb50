#include "qdb/access_clock.h"

#include <algorithm>
#include <limits>
#include <random>
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
  if (lfu_enabled_.load(std::memory_order_relaxed)) {
    const uint64_t before = e.owner.load(std::memory_order_relaxed);
    const bool owned = static_cast<uint32_t>(before >> 32) == p.fingerprint;
    // A key taking its entry is new to the clock: it starts at the initial
    // value, as a new Redis object does; later accesses count.
    int counter = kLfuInitValue;
    if (owned) {
      counter =
          DecayedCounter(e.lfu.load(std::memory_order_relaxed), now_seconds);
      // Redis' LFULogIncr: the higher the counter, the less likely a hit
      // raises it.
      if (counter < 255) {
        thread_local std::minstd_rand rng(std::random_device{}());
        const double base = std::max(0, counter - kLfuInitValue);
        const double p_incr =
            1.0 / (base * lfu_log_factor_.load(std::memory_order_relaxed) + 1);
        if (std::uniform_real_distribution<double>(0, 1)(rng) < p_incr) {
          ++counter;
        }
      }
    }
    e.lfu.store(LfuWord(counter, now_seconds), std::memory_order_relaxed);
  }
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

void AccessClock::SetLfu(bool enabled, int log_factor, int decay_minutes) {
  lfu_log_factor_.store(log_factor);
  lfu_decay_minutes_.store(decay_minutes);
  lfu_enabled_.store(enabled);
}

uint32_t AccessClock::LfuWord(int counter, int64_t now_seconds) {
  const uint32_t minutes = static_cast<uint32_t>(now_seconds / 60) & 0xFFFF;
  return (minutes << 8) | static_cast<uint32_t>(std::clamp(counter, 0, 255));
}

int AccessClock::DecayedCounter(uint32_t lfu, int64_t now_seconds) const {
  if (lfu == 0) return kLfuInitValue;
  const int counter = static_cast<int>(lfu & 0xFF);
  const uint32_t last = lfu >> 8;
  const uint32_t now = static_cast<uint32_t>(now_seconds / 60) & 0xFFFF;
  // Minutes elapsed, modulo 2^16 as Redis' LFUTimeElapsed.
  const uint32_t elapsed = now >= last ? now - last : 65535 - last + now;
  const int decay = lfu_decay_minutes_.load(std::memory_order_relaxed);
  const int64_t periods = decay > 0 ? elapsed / decay : 0;
  return periods > counter ? 0 : counter - static_cast<int>(periods);
}

int AccessClock::Frequency(uint8_t db, std::string_view key,
                           int64_t now_seconds) const {
  const Position p = Locate(db, key);
  const Entry& e = entries_[p.slot];
  const uint64_t owner = e.owner.load(std::memory_order_relaxed);
  if (static_cast<uint32_t>(owner >> 32) != p.fingerprint) return kLfuInitValue;
  return DecayedCounter(e.lfu.load(std::memory_order_relaxed), now_seconds);
}

void AccessClock::SetFrequency(uint8_t db, std::string_view key, int freq,
                               int64_t now_seconds) {
  const Position p = Locate(db, key);
  Entry& e = entries_[p.slot];
  const uint64_t owner = e.owner.load(std::memory_order_relaxed);
  if (static_cast<uint32_t>(owner >> 32) != p.fingerprint) {
    e.owner.store((uint64_t{p.fingerprint} << 32) | Seconds(now_seconds),
                  std::memory_order_relaxed);
  }
  e.lfu.store(LfuWord(freq, now_seconds), std::memory_order_relaxed);
}

}  // namespace reborn::qdb
