#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string_view>

namespace reborn::qdb {

// When keys were last accessed, for OBJECT IDLETIME and RESTORE IDLETIME.
//
// redis-server keeps a 24-bit LRU clock in every object; a disk store cannot
// write on every read, so QDB keeps the clock in memory only, in a fixed
// table of kSlots entries indexed by a hash of (physical db, key). An entry
// holds its owner (a 32-bit fingerprint of the last key that took it, and
// that key's access time) and the time of the latest access through it by
// any key. Keys that hash to one entry take it from each other; a key that
// does not own its entry reads as idle since that latest access, and a key
// whose entry was never used as idle since the start. So an IdleSeconds()
// answer does not exceed the real idle time (unless two keys of one entry
// share a fingerprint, one chance in 2^32): a tool that picks cold keys by
// it does not take a hot one. Like Redis after a restart (an RDB keeps no
// LRU clock under noeviction), every key starts idle at zero.
//
// With LFU tracking on (an allkeys-lfu/volatile-lfu maxmemory-policy), an
// entry also keeps its owner's access frequency as Redis does in an object's
// 24 LRU bits: an 8-bit logarithmic counter (lfu-log-factor) that decays by
// one every lfu-decay-time minutes, and the minute of its last decrement. A
// key that takes an entry starts at Redis' LFU_INIT_VAL (5); one that does
// not own its entry reads as that initial value.
//
// Thread-safe and lock-free: an entry is three atomic words in one cache
// line, so an access costs one cache miss.
class AccessClock {
 public:
  static constexpr size_t kSlots = size_t{1} << 20;  // 16 MiB

  explicit AccessClock(int64_t start_seconds);

  // Records an access to (db, key) at `now_seconds`.
  void Touch(uint8_t db, std::string_view key, int64_t now_seconds);
  // Records that (db, key) was last accessed `idle` seconds before
  // `now_seconds` (RESTORE IDLETIME). The entry's latest access stays, so
  // the keys it takes the entry from keep a lower bound.
  void SetIdle(uint8_t db, std::string_view key, int64_t idle,
               int64_t now_seconds);
  // Seconds since the last recorded access to (db, key), at least 0.
  int64_t IdleSeconds(uint8_t db, std::string_view key,
                      int64_t now_seconds) const;

  // LFU tracking (maxmemory-policy *-lfu) and its parameters; while off,
  // accesses leave the counters alone.
  void SetLfu(bool enabled, int log_factor, int decay_minutes);
  bool lfu_enabled() const { return lfu_enabled_.load(); }
  // OBJECT FREQ: the decayed counter of (db, key).
  int Frequency(uint8_t db, std::string_view key, int64_t now_seconds) const;
  // RESTORE ... FREQ: sets the counter of (db, key), taking its entry.
  void SetFrequency(uint8_t db, std::string_view key, int freq,
                    int64_t now_seconds);

  static constexpr int kLfuInitValue = 5;

 private:
  struct Position {
    size_t slot;
    uint32_t fingerprint;
  };
  // 16 bytes, aligned: four entries per cache line, none split.
  struct alignas(16) Entry {
    std::atomic<uint64_t> owner{0};   // fingerprint << 32 | access seconds
    std::atomic<uint32_t> latest{0};  // latest access seconds; 0 = unused
    std::atomic<uint32_t> lfu{0};     // decrement minute << 8 | counter
  };
  // The owner's counter after the decay since its last decrement.
  int DecayedCounter(uint32_t lfu, int64_t now_seconds) const;
  static uint32_t LfuWord(int counter, int64_t now_seconds);
  static Position Locate(uint8_t db, std::string_view key);
  // Unix seconds in 32 bits (until 2106); 0 is kept for "unused".
  static uint32_t Seconds(int64_t seconds);

  int64_t start_seconds_;
  std::atomic<bool> lfu_enabled_{false};
  std::atomic<int> lfu_log_factor_{10};
  std::atomic<int> lfu_decay_minutes_{1};
  std::unique_ptr<Entry[]> entries_;
};

}  // namespace reborn::qdb
