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
// answer never exceeds the real idle time: a tool that picks cold keys by it
// never takes a hot one. Like Redis after a restart (an RDB keeps no LRU
// clock under noeviction), every key starts idle at zero.
//
// Thread-safe and lock-free: each field is one atomic word.
class AccessClock {
 public:
  static constexpr size_t kSlots = size_t{1} << 20;  // 12 MiB

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

 private:
  struct Position {
    size_t slot;
    uint32_t fingerprint;
  };
  static Position Locate(uint8_t db, std::string_view key);
  // 0 marks an unused entry; 32 bits of unix seconds last until 2106.
  static uint32_t Seconds(int64_t seconds);

  int64_t start_seconds_;
  // Per entry: fingerprint << 32 | access time of the owner.
  std::unique_ptr<std::atomic<uint64_t>[]> owners_;
  // Per entry: the latest access time through it.
  std::unique_ptr<std::atomic<uint32_t>[]> latest_;
};

}  // namespace reborn::qdb
