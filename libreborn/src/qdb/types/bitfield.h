#pragma once

// BITFIELD's integer fields inside a string, as redis-server 7.0 reads and
// writes them: a field of `bits` bits (i1..i64, u1..u63) starts at bit
// `offset`, bit 0 being the most significant bit of byte 0 (SETBIT's
// order), and is stored most significant bit first. Signed fields are two's
// complement.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace reborn::qdb {

enum class BitFieldOverflow { kWrap, kSat, kFail };

struct BitFieldOp {
  enum class Kind { kGet, kSet, kIncrBy };
  Kind kind = Kind::kGet;
  bool is_signed = false;
  int bits = 0;         // 1..64 signed, 1..63 unsigned
  uint64_t offset = 0;  // in bits
  int64_t value = 0;    // SET's value or INCRBY's increment
  BitFieldOverflow overflow = BitFieldOverflow::kWrap;
};

// The field of `op` in `s`; bits past the end of `s` read as 0.
int64_t GetBitField(std::string_view s, const BitFieldOp& op);

// Runs SET or INCRBY of `op` on `s`, which must already hold the field's
// last bit. Returns SET's old value or INCRBY's new value, or nullopt when
// OVERFLOW FAIL refused it (nothing written). `changed` is set when the
// field's bits changed.
std::optional<int64_t> WriteBitField(std::string& s, const BitFieldOp& op,
                                     bool* changed);

// The string length a write of `ops` needs (0 when none writes): the byte
// holding the last bit any SET or INCRBY reaches, plus one.
uint64_t BitFieldBytesNeeded(const std::vector<BitFieldOp>& ops);

}  // namespace reborn::qdb
