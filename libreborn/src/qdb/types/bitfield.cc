#include "qdb/types/bitfield.h"

#include <algorithm>
#include <limits>

namespace reborn::qdb {
namespace {

inline uint8_t ByteAt(std::string_view s, uint64_t i) {
  return i < s.size() ? static_cast<uint8_t>(s[i]) : 0;
}

uint64_t GetUnsigned(std::string_view s, uint64_t offset, int bits) {
  uint64_t value = 0;
  for (int j = 0; j < bits; ++j, ++offset) {
    const int bit = 7 - static_cast<int>(offset & 7);
    value = (value << 1) | ((ByteAt(s, offset >> 3) >> bit) & 1);
  }
  return value;
}

int64_t GetSigned(std::string_view s, uint64_t offset, int bits) {
  uint64_t value = GetUnsigned(s, offset, bits);
  // Sign-extend from the field's top bit.
  if (bits < 64 && (value & (uint64_t{1} << (bits - 1)))) {
    value |= ~uint64_t{0} << bits;
  }
  return static_cast<int64_t>(value);
}

void SetUnsigned(std::string& s, uint64_t offset, int bits, uint64_t value) {
  for (int j = 0; j < bits; ++j, ++offset) {
    const uint64_t bitval = (value >> (bits - 1 - j)) & 1;
    const int bit = 7 - static_cast<int>(offset & 7);
    auto& byte = reinterpret_cast<uint8_t&>(s[offset >> 3]);
    byte = static_cast<uint8_t>((byte & ~(1u << bit)) | (bitval << bit));
  }
}

// Redis' checkUnsignedBitfieldOverflow: 0 when value + incr fits `bits`
// unsigned bits, else 1 (too big) or -1 (below 0) with `*limit` set to the
// wrapped or saturated result (left alone for kFail).
int UnsignedOverflow(uint64_t value, int64_t incr, int bits,
                     BitFieldOverflow ow, uint64_t* limit) {
  const uint64_t max = bits == 64 ? std::numeric_limits<uint64_t>::max()
                                  : (uint64_t{1} << bits) - 1;
  const auto maxincr = static_cast<int64_t>(max - value);
  const auto minincr = static_cast<int64_t>(uint64_t{0} - value);
  auto wrap = [&] {
    const uint64_t mask = bits == 64 ? 0 : ~uint64_t{0} << bits;
    *limit = (value + static_cast<uint64_t>(incr)) & ~mask;
  };
  if (value > max || (incr > 0 && incr > maxincr)) {
    if (ow == BitFieldOverflow::kWrap) wrap();
    if (ow == BitFieldOverflow::kSat) *limit = max;
    return 1;
  }
  if (incr < 0 && incr < minincr) {
    if (ow == BitFieldOverflow::kWrap) wrap();
    if (ow == BitFieldOverflow::kSat) *limit = 0;
    return -1;
  }
  return 0;
}

// Redis' checkSignedBitfieldOverflow, with its wrap-around arithmetic done
// on unsigned integers.
int SignedOverflow(int64_t value, int64_t incr, int bits, BitFieldOverflow ow,
                   int64_t* limit) {
  const int64_t max = bits == 64 ? std::numeric_limits<int64_t>::max()
                                 : (int64_t{1} << (bits - 1)) - 1;
  const int64_t min = -max - 1;
  const auto maxincr = static_cast<int64_t>(static_cast<uint64_t>(max) -
                                            static_cast<uint64_t>(value));
  const auto minincr = static_cast<int64_t>(static_cast<uint64_t>(min) -
                                            static_cast<uint64_t>(value));
  auto wrap = [&] {
    uint64_t c = static_cast<uint64_t>(value) + static_cast<uint64_t>(incr);
    if (bits < 64) {
      const uint64_t msb = uint64_t{1} << (bits - 1);
      const uint64_t mask = ~uint64_t{0} << bits;
      c = (c & msb) ? (c | mask) : (c & ~mask);
    }
    *limit = static_cast<int64_t>(c);
  };
  if (value > max || (bits != 64 && incr > maxincr) ||
      (value >= 0 && incr > 0 && incr > maxincr)) {
    if (ow == BitFieldOverflow::kWrap) wrap();
    if (ow == BitFieldOverflow::kSat) *limit = max;
    return 1;
  }
  if (value < min || (bits != 64 && incr < minincr) ||
      (value < 0 && incr < 0 && incr < minincr)) {
    if (ow == BitFieldOverflow::kWrap) wrap();
    if (ow == BitFieldOverflow::kSat) *limit = min;
    return -1;
  }
  return 0;
}

}  // namespace

int64_t GetBitField(std::string_view s, const BitFieldOp& op) {
  if (op.is_signed) return GetSigned(s, op.offset, op.bits);
  return static_cast<int64_t>(GetUnsigned(s, op.offset, op.bits));
}

std::optional<int64_t> WriteBitField(std::string& s, const BitFieldOp& op,
                                     bool* changed) {
  const bool incr = op.kind == BitFieldOp::Kind::kIncrBy;
  *changed = false;
  if (op.is_signed) {
    const int64_t old = GetSigned(s, op.offset, op.bits);
    int64_t limit = 0;
    int64_t next;
    int overflow;
    if (incr) {
      overflow = SignedOverflow(old, op.value, op.bits, op.overflow, &limit);
      next = overflow ? limit
                      : static_cast<int64_t>(static_cast<uint64_t>(old) +
                                             static_cast<uint64_t>(op.value));
    } else {
      overflow = SignedOverflow(op.value, 0, op.bits, op.overflow, &limit);
      next = overflow ? limit : op.value;
    }
    if (overflow && op.overflow == BitFieldOverflow::kFail) return std::nullopt;
    SetUnsigned(s, op.offset, op.bits, static_cast<uint64_t>(next));
    *changed = old != next;
    return incr ? next : old;
  }
  const uint64_t old = GetUnsigned(s, op.offset, op.bits);
  uint64_t limit = 0;
  uint64_t next;
  int overflow;
  if (incr) {
    overflow = UnsignedOverflow(old, op.value, op.bits, op.overflow, &limit);
    next = overflow ? limit : old + static_cast<uint64_t>(op.value);
  } else {
    const auto v = static_cast<uint64_t>(op.value);
    overflow = UnsignedOverflow(v, 0, op.bits, op.overflow, &limit);
    next = overflow ? limit : v;
  }
  if (overflow && op.overflow == BitFieldOverflow::kFail) return std::nullopt;
  SetUnsigned(s, op.offset, op.bits, next);
  *changed = old != next;
  return static_cast<int64_t>(incr ? next : old);
}

uint64_t BitFieldBytesNeeded(const std::vector<BitFieldOp>& ops) {
  bool writes = false;
  uint64_t last_bit = 0;
  for (const BitFieldOp& op : ops) {
    if (op.kind == BitFieldOp::Kind::kGet) continue;
    writes = true;
    last_bit = std::max(last_bit, op.offset + op.bits - 1);
  }
  return writes ? (last_bit >> 3) + 1 : 0;
}

}  // namespace reborn::qdb
