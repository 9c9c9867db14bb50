#include "qdb/types/hll_format.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <random>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "qdb/errors.h"

namespace reborn::qdb::hll {
namespace {

constexpr uint64_t kHashSeed = 0xadc83b19ULL;
constexpr double kAlphaInf = 0.721347520444481703680;  // 0.5 / ln(2)
constexpr int kZeroMaxLen = 64;
constexpr int kValMaxLen = 4;
constexpr int kXZeroMaxLen = 16384;

// Sparse opcodes (see the header).
inline bool IsZero(uint8_t b) { return (b & 0xc0) == 0; }
inline bool IsXZero(uint8_t b) { return (b & 0xc0) == 0x40; }
inline bool IsVal(uint8_t b) { return (b & 0x80) != 0; }
inline int ZeroLen(uint8_t b) { return (b & 0x3f) + 1; }
inline int XZeroLen(uint8_t b0, uint8_t b1) {
  return (((b0 & 0x3f) << 8) | b1) + 1;
}
inline int ValValue(uint8_t b) { return ((b >> 2) & 0x1f) + 1; }
inline int ValLen(uint8_t b) { return (b & 0x3) + 1; }
inline uint8_t ValByte(int value, int len) {
  return static_cast<uint8_t>(((value - 1) << 2 | (len - 1)) | 0x80);
}
inline uint8_t ZeroByte(int len) { return static_cast<uint8_t>(len - 1); }
inline void AppendXZero(std::string& out, int len) {
  const int l = len - 1;
  out.push_back(static_cast<char>((l >> 8) | 0x40));
  out.push_back(static_cast<char>(l & 0xff));
}

inline uint8_t At(std::string_view s, size_t i) {
  // Redis reads one byte past a truncated XZERO (the sds terminator, 0).
  return i < s.size() ? static_cast<uint8_t>(s[i]) : 0;
}

uint8_t* RegistersOf(std::string& value) {
  return reinterpret_cast<uint8_t*>(value.data()) + kHeaderSize;
}
const uint8_t* RegistersOf(std::string_view value) {
  return reinterpret_cast<const uint8_t*>(value.data()) + kHeaderSize;
}

// Walks the sparse opcodes of `value`, calling fn(first_register, run,
// register_value) for each (value 0 for ZERO/XZERO). False when the runs
// overflow or do not end exactly at kRegisters.
template <typename Fn>
bool ForEachSparseRun(std::string_view value, Fn fn) {
  int idx = 0;
  size_t p = kHeaderSize;
  const size_t end = value.size();
  while (p < end) {
    const uint8_t b = At(value, p);
    int run, reg = 0;
    if (IsZero(b)) {
      run = ZeroLen(b);
      p += 1;
    } else if (IsXZero(b)) {
      run = XZeroLen(b, At(value, p + 1));
      p += 2;
    } else {
      run = ValLen(b);
      reg = ValValue(b);
      p += 1;
    }
    // Checked before adding: a long corrupted value cannot overflow idx.
    if (run + idx > kRegisters) return false;
    fn(idx, run, reg);
    idx += run;
  }
  return idx == kRegisters;
}

using Histogram = std::array<int, 64>;

double Sigma(double x) {
  if (x == 1.) return std::numeric_limits<double>::infinity();
  double z_prime;
  double y = 1;
  double z = x;
  do {
    x *= x;
    z_prime = z;
    z += x * y;
    y += y;
  } while (z_prime != z);
  return z;
}

double Tau(double x) {
  if (x == 0. || x == 1.) return 0.;
  double z_prime;
  double y = 1.0;
  double z = 1 - x;
  do {
    x = std::sqrt(x);
    z_prime = z;
    y *= 0.5;
    z -= std::pow(1 - x, 2) * y;
  } while (z_prime != z);
  return z / 3;
}

// The estimate from the register histogram; the operations and their order
// are Redis' so that the result is the same to the last bit.
uint64_t Estimate(const Histogram& histo) {
  const double m = kRegisters;
  double z = m * Tau((m - histo[kQ + 1]) / m);
  for (int j = kQ; j >= 1; --j) {
    z += histo[j];
    z *= 0.5;
  }
  z += m * Sigma(histo[0] / m);
  return static_cast<uint64_t>(std::llround(kAlphaInf * m * m / z));
}

void DenseHistogram(const uint8_t* registers, Histogram& histo) {
  for (int i = 0; i < kRegisters; ++i) ++histo[DenseGet(registers, i)];
}

}  // namespace

uint64_t MurmurHash64A(std::string_view data, uint64_t seed) {
  constexpr uint64_t m = 0xc6a4a7935bd1e995ULL;
  constexpr int r = 47;
  const auto* p = reinterpret_cast<const uint8_t*>(data.data());
  const size_t len = data.size();
  uint64_t h = seed ^ (static_cast<uint64_t>(len) * m);
  const uint8_t* end = p + (len - (len & 7));
  for (; p != end; p += 8) {
    uint64_t k = 0;
    for (int i = 7; i >= 0; --i) k = (k << 8) | p[i];  // little endian
    k *= m;
    k ^= k >> r;
    k *= m;
    h ^= k;
    h *= m;
  }
  const size_t tail = len & 7;
  if (tail > 0) {
    for (size_t i = tail; i-- > 0;) h ^= static_cast<uint64_t>(p[i]) << (8 * i);
    h *= m;
  }
  h ^= h >> r;
  h *= m;
  h ^= h >> r;
  return h;
}

Pattern PatternOf(std::string_view element) {
  uint64_t hash = MurmurHash64A(element, kHashSeed);
  const int index = static_cast<int>(hash & (kRegisters - 1));
  hash >>= kPrecision;
  hash |= uint64_t{1} << kQ;  // the run ends by bit kQ at the latest
  uint8_t count = 1;
  for (uint64_t bit = 1; (hash & bit) == 0; bit <<= 1) ++count;
  return {index, count};
}

bool LooksValid(std::string_view value) {
  if (value.size() < kHeaderSize) return false;
  if (value.substr(0, 4) != "HYLL") return false;
  const uint8_t encoding = EncodingOf(value);
  if (encoding > kSparse) return false;
  if (encoding == kDense && value.size() != kDenseSize) return false;
  return true;
}

absl::Status CorruptedError() {
  return RedisError("INVALIDOBJ Corrupted HLL object detected");
}

absl::Status NotHllError() {
  return absl::FailedPreconditionError(
      "WRONGTYPE Key is not a valid HyperLogLog string value.");
}

std::string NewSparse() {
  std::string value("HYLL", 4);
  value.push_back(static_cast<char>(kSparse));
  value.append(11, '\0');  // unused bytes, cached cardinality 0 (valid)
  for (int left = kRegisters; left > 0; left -= kXZeroMaxLen) {
    AppendXZero(value, std::min(left, kXZeroMaxLen));
  }
  return value;
}

std::optional<uint64_t> CachedCardinality(std::string_view value) {
  if (static_cast<uint8_t>(value[15]) & 0x80) return std::nullopt;
  uint64_t card = 0;
  for (int i = 7; i >= 0; --i) {
    card = (card << 8) | static_cast<uint8_t>(value[8 + i]);
  }
  return card;
}

void SetCachedCardinality(std::string& value, uint64_t card) {
  for (int i = 0; i < 8; ++i) {
    value[8 + i] = static_cast<char>((card >> (8 * i)) & 0xff);
  }
}

void InvalidateCache(std::string& value) {
  value[15] = static_cast<char>(static_cast<uint8_t>(value[15]) | 0x80);
}

uint8_t DenseGet(const uint8_t* registers, int index) {
  const size_t byte = static_cast<size_t>(index) * kRegisterBits / 8;
  const unsigned fb = (static_cast<unsigned>(index) * kRegisterBits) & 7;
  const unsigned b0 = registers[byte];
  // The last register ends in the last byte: there is no next byte to read.
  const unsigned b1 =
      byte + 1 < kDenseSize - kHeaderSize ? registers[byte + 1] : 0;
  return static_cast<uint8_t>(((b0 >> fb) | (b1 << (8 - fb))) & kRegisterMax);
}

void DenseSet(uint8_t* registers, int index, uint8_t count) {
  const size_t byte = static_cast<size_t>(index) * kRegisterBits / 8;
  const unsigned fb = (static_cast<unsigned>(index) * kRegisterBits) & 7;
  const unsigned v = count;
  registers[byte] = static_cast<uint8_t>(
      (registers[byte] & ~(kRegisterMax << fb)) | (v << fb));
  if (byte + 1 < kDenseSize - kHeaderSize) {
    const unsigned fb8 = 8 - fb;
    registers[byte + 1] = static_cast<uint8_t>(
        (registers[byte + 1] & ~(kRegisterMax >> fb8)) | (v >> fb8));
  }
}

absl::Status ToDense(std::string& value) {
  if (EncodingOf(value) == kDense) return absl::OkStatus();
  std::string dense(kDenseSize, '\0');
  // The header moves along, the cached cardinality included.
  std::memcpy(dense.data(), value.data(), kHeaderSize);
  dense[4] = static_cast<char>(kDense);
  uint8_t* registers = RegistersOf(dense);
  const bool ok = ForEachSparseRun(value, [&](int first, int run, int reg) {
    if (reg == 0) return;
    for (int i = first; i < first + run; ++i) {
      DenseSet(registers, i, static_cast<uint8_t>(reg));
    }
  });
  if (!ok) return CorruptedError();
  value = std::move(dense);
  return absl::OkStatus();
}

namespace {

// The sparse part of SetRegister (Redis' hllSparseSet): edits the opcode
// that covers `index` in place, splitting it as needed, then merges equal
// adjacent VAL opcodes near the edit. Returns nullopt when the value must be
// promoted to dense instead.
absl::StatusOr<std::optional<bool>> SparseSet(std::string& value, int index,
                                              uint8_t count,
                                              int64_t sparse_max_bytes) {
  if (count > kSparseValMax) return std::nullopt;
  // Step 1: find the opcode covering `index`.
  size_t p = kHeaderSize;
  size_t end = value.size();
  int64_t first = 0;
  int64_t span = 0;
  std::optional<size_t> prev;
  while (p < end) {
    const uint8_t b = At(value, p);
    size_t oplen = 1;
    if (IsZero(b)) {
      span = ZeroLen(b);
    } else if (IsVal(b)) {
      span = ValLen(b);
    } else {
      span = XZeroLen(b, At(value, p + 1));
      oplen = 2;
    }
    if (index <= first + span - 1) break;
    prev = p;
    p += oplen;
    first += span;
  }
  if (span == 0 || p >= end) return CorruptedError();

  const uint8_t op = At(value, p);
  const bool is_zero = IsZero(op);
  const bool is_xzero = IsXZero(op);
  const bool is_val = !is_zero && !is_xzero;
  const int runlen =
      is_zero ? ZeroLen(op)
              : (is_xzero ? XZeroLen(op, At(value, p + 1)) : ValLen(op));

  // Step 2: the cases that rewrite one byte, then the general split.
  bool in_place = false;
  if (is_val) {
    if (ValValue(op) >= count) return std::optional<bool>(false);
    if (runlen == 1) in_place = true;
  }
  if (is_zero && runlen == 1) in_place = true;
  if (in_place) {
    value[p] = static_cast<char>(ValByte(count, 1));
  } else {
    std::string seq;
    const int64_t last = first + span - 1;
    auto zeros = [&seq](int64_t len) {
      if (len > kZeroMaxLen) {
        AppendXZero(seq, static_cast<int>(len));
      } else {
        seq.push_back(static_cast<char>(ZeroByte(static_cast<int>(len))));
      }
    };
    if (is_zero || is_xzero) {
      if (index != first) zeros(index - first);
      seq.push_back(static_cast<char>(ValByte(count, 1)));
      if (index != last) zeros(last - index);
    } else {
      const int cur = ValValue(op);
      if (index != first) {
        seq.push_back(static_cast<char>(ValByte(cur, index - first)));
      }
      seq.push_back(static_cast<char>(ValByte(count, 1)));
      if (index != last) {
        seq.push_back(static_cast<char>(ValByte(cur, last - index)));
      }
    }
    // Step 3: put the sequence in place of the opcode.
    const size_t oldlen = is_xzero ? 2 : 1;
    const int64_t delta =
        static_cast<int64_t>(seq.size()) - static_cast<int64_t>(oldlen);
    const int64_t new_size = static_cast<int64_t>(value.size()) + delta;
    if (delta > 0 && new_size > sparse_max_bytes) return std::nullopt;
    std::string next;
    if (p + oldlen < end) next = value.substr(p + oldlen);
    value.resize(p);
    value += seq;
    value += next;
    // A truncated trailing XZERO counted two bytes: Redis' length
    // arithmetic drops the last byte written.
    value.resize(static_cast<size_t>(new_size));
    end = value.size();
  }

  // Step 4: merge equal adjacent VAL opcodes, up to 5 opcodes from the one
  // before the edit.
  p = prev ? *prev : kHeaderSize;
  int scan = 5;
  while (p < end && scan-- > 0) {
    const uint8_t b = At(value, p);
    if (IsXZero(b)) {
      p += 2;
      continue;
    }
    if (IsZero(b)) {
      p += 1;
      continue;
    }
    if (p + 1 < end && IsVal(At(value, p + 1))) {
      const uint8_t b2 = At(value, p + 1);
      const int v1 = ValValue(b);
      if (v1 == ValValue(b2)) {
        const int len = ValLen(b) + ValLen(b2);
        if (len <= kValMaxLen) {
          value[p + 1] = static_cast<char>(ValByte(v1, len));
          value.erase(p, 1);
          end = value.size();
          continue;  // try to merge the result with the next one too
        }
      }
    }
    ++p;
  }
  InvalidateCache(value);
  return std::optional<bool>(true);
}

}  // namespace

absl::StatusOr<bool> SetRegister(std::string& value, int index, uint8_t count,
                                 int64_t sparse_max_bytes) {
  if (EncodingOf(value) == kSparse) {
    absl::StatusOr<std::optional<bool>> r =
        SparseSet(value, index, count, sparse_max_bytes);
    if (!r.ok()) return r.status();
    if (r->has_value()) return **r;
    // Promotion: a register must change, so the dense set below does.
    if (absl::Status s = ToDense(value); !s.ok()) return s;
  }
  uint8_t* registers = RegistersOf(value);
  if (count <= DenseGet(registers, index)) return false;
  DenseSet(registers, index, count);
  return true;
}

absl::StatusOr<bool> Add(std::string& value, std::string_view element,
                         int64_t sparse_max_bytes) {
  const Pattern pat = PatternOf(element);
  return SetRegister(value, pat.index, pat.count, sparse_max_bytes);
}

absl::Status MergeInto(std::string_view value, RawRegisters& max) {
  if (EncodingOf(value) == kDense) {
    const uint8_t* registers = RegistersOf(value);
    for (int i = 0; i < kRegisters; ++i) {
      max[i] = std::max(max[i], DenseGet(registers, i));
    }
    return absl::OkStatus();
  }
  const bool ok = ForEachSparseRun(value, [&](int first, int run, int reg) {
    for (int i = first; i < first + run; ++i) {
      max[i] = std::max(max[i], static_cast<uint8_t>(reg));
    }
  });
  return ok ? absl::OkStatus() : CorruptedError();
}

absl::StatusOr<uint64_t> Count(std::string_view value) {
  Histogram histo{};
  if (EncodingOf(value) == kDense) {
    DenseHistogram(RegistersOf(value), histo);
  } else {
    const bool ok = ForEachSparseRun(
        value, [&](int, int run, int reg) { histo[reg] += run; });
    if (!ok) return CorruptedError();
  }
  return Estimate(histo);
}

uint64_t CountRaw(const RawRegisters& registers) {
  Histogram histo{};
  for (uint8_t r : registers) ++histo[r & 63];
  return Estimate(histo);
}

std::string DecodeSparse(std::string_view value) {
  std::string out;
  size_t p = kHeaderSize;
  while (p < value.size()) {
    const uint8_t b = At(value, p);
    if (IsZero(b)) {
      absl::StrAppend(&out, "z:", ZeroLen(b), " ");
      p += 1;
    } else if (IsXZero(b)) {
      absl::StrAppend(&out, "Z:", XZeroLen(b, At(value, p + 1)), " ");
      p += 2;
    } else {
      absl::StrAppend(&out, "v:", ValValue(b), ",", ValLen(b), " ");
      p += 1;
    }
  }
  if (!out.empty()) out.pop_back();
  return out;
}

std::string SelfTest(int64_t sparse_max_bytes, uint64_t seed) {
  std::mt19937_64 rng(seed);
  // Test 1: every register keeps what was stored and leaves its neighbours
  // alone.
  std::string dense = NewSparse();
  if (!ToDense(dense).ok()) return "TESTFAILED cannot make a dense HLL";
  uint8_t* registers = RegistersOf(dense);
  std::vector<uint8_t> expected(kRegisters);
  for (int cycle = 0; cycle < 1000; ++cycle) {
    for (int i = 0; i < kRegisters; ++i) {
      expected[i] = static_cast<uint8_t>(rng() & kRegisterMax);
      DenseSet(registers, i, expected[i]);
    }
    for (int i = 0; i < kRegisters; ++i) {
      const uint8_t got = DenseGet(registers, i);
      if (got != expected[i]) {
        return absl::StrFormat("TESTFAILED Register %d should be %d but is %d",
                               i, expected[i], got);
      }
    }
  }
  // Test 2: the estimate stays within 6 standard errors, and a sparse and a
  // dense HLL fed the same elements agree.
  std::memset(registers, 0, kDenseSize - kHeaderSize);
  std::string sparse = NewSparse();
  const double relerr = 1.04 / std::sqrt(static_cast<double>(kRegisters));
  int64_t checkpoint = 1;
  const uint64_t base = rng();
  for (int64_t j = 1; j <= 10000000; ++j) {
    const uint64_t ele = static_cast<uint64_t>(j) ^ base;
    char bytes[8];
    std::memcpy(bytes, &ele, 8);
    const std::string_view element(bytes, 8);
    const Pattern pat = PatternOf(element);
    if (pat.count > DenseGet(registers, pat.index)) {
      DenseSet(registers, pat.index, pat.count);
    }
    if (!Add(sparse, element, sparse_max_bytes).ok()) {
      return "TESTFAILED sparse HLL reported corrupted";
    }
    if (j != checkpoint) continue;
    if (j < sparse_max_bytes / 2 && EncodingOf(sparse) != kSparse) {
      return "TESTFAILED sparse encoding not used";
    }
    absl::StatusOr<uint64_t> dense_card = Count(dense);
    absl::StatusOr<uint64_t> sparse_card = Count(sparse);
    if (!dense_card.ok() || !sparse_card.ok() || *dense_card != *sparse_card) {
      return "TESTFAILED dense/sparse disagree";
    }
    int64_t abserr = checkpoint - static_cast<int64_t>(*dense_card);
    if (abserr < 0) abserr = -abserr;
    uint64_t maxerr = static_cast<uint64_t>(std::ceil(relerr * 6 * checkpoint));
    // At 10 a collision is likely enough to give a false failure.
    if (j == 10) maxerr = 1;
    if (abserr > static_cast<int64_t>(maxerr)) {
      return absl::StrFormat("TESTFAILED Too big error. card:%d abserr:%d",
                             checkpoint, abserr);
    }
    checkpoint *= 10;
  }
  return "";
}

}  // namespace reborn::qdb::hll
