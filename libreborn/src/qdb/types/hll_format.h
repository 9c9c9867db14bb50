#pragma once

// Redis' HyperLogLog representation (redis-server 7.0), byte for byte, so an
// HLL moves between qdb and Redis as a plain string (GET/SET, DUMP/RESTORE)
// and counts the same on both sides.
//
// A value is a 16-byte header and the registers:
//   "HYLL" | encoding:u8 (0 dense, 1 sparse) | 3 zero bytes |
//   cached cardinality: u64 little endian, its top bit set = not valid
// 16384 registers of 6 bits each (P = 14), either
//  - dense: 12288 bytes, register i in bits 6i..6i+5 counted from the least
//    significant bit of byte 0 (a register may straddle two bytes), or
//  - sparse: a run-length code of opcodes covering all 16384 registers:
//      00xxxxxx        ZERO: xxxxxx+1 (1..64) registers are 0
//      01xxxxxx yyyyyyyy  XZERO: (xxxxxx<<8|yyyyyyyy)+1 (1..16384) zeros
//      1vvvvvxx        VAL: xx+1 (1..4) registers hold vvvvv+1 (1..32)
//    A sparse HLL becomes dense when a register needs a value above 32 or
//    the value would grow past hll-sparse-max-bytes.
//
// Elements are hashed with MurmurHash64A (seed 0xadc83b19): the low 14 bits
// pick the register, the register keeps the longest "0...01" run seen in the
// remaining 50 bits (1..51). The cardinality is Ertl's improved raw
// estimator ("New cardinality estimation algorithms for HyperLogLog
// sketches", arXiv:1702.01284), as Redis 7.0 computes it.

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace reborn::qdb::hll {

inline constexpr int kPrecision = 14;
inline constexpr int kRegisters = 1 << kPrecision;  // 16384
inline constexpr int kRegisterBits = 6;
inline constexpr int kRegisterMax = (1 << kRegisterBits) - 1;
// Bits of the hash left after the register index: runs are 1..kQ+1.
inline constexpr int kQ = 64 - kPrecision;
inline constexpr size_t kHeaderSize = 16;
inline constexpr size_t kDenseSize =
    kHeaderSize + (kRegisters * kRegisterBits + 7) / 8;
inline constexpr uint8_t kDense = 0;
inline constexpr uint8_t kSparse = 1;
inline constexpr int kSparseValMax = 32;
inline constexpr int64_t kDefaultSparseMaxBytes = 3000;

// One byte per register, the form unions are computed in.
using RawRegisters = std::array<uint8_t, kRegisters>;

// Redis' MurmurHash64A (the endian-neutral variant).
uint64_t MurmurHash64A(std::string_view data, uint64_t seed);

// The register an element hashes to and the run length it offers (1..51).
struct Pattern {
  int index;
  uint8_t count;
};
Pattern PatternOf(std::string_view element);

// Redis' isHLLObjectOrReply checks: magic, known encoding, a dense value of
// exactly kDenseSize bytes. The sparse opcodes are checked as they are read.
bool LooksValid(std::string_view value);

// The "INVALIDOBJ Corrupted HLL object detected" error.
absl::Status CorruptedError();
// "WRONGTYPE Key is not a valid HyperLogLog string value."
absl::Status NotHllError();

// A new HLL: sparse, all registers 0 (one XZERO opcode), cached cardinality 0.
std::string NewSparse();

inline uint8_t EncodingOf(std::string_view value) {
  return static_cast<uint8_t>(value[4]);
}

// The cached cardinality, nullopt when the cache is marked not valid.
std::optional<uint64_t> CachedCardinality(std::string_view value);
void SetCachedCardinality(std::string& value, uint64_t card);
void InvalidateCache(std::string& value);

// Dense register access on the register bytes (after the header).
uint8_t DenseGet(const uint8_t* registers, int index);
void DenseSet(uint8_t* registers, int index, uint8_t count);

// Raises register `index` to `count` if it is lower. Returns whether it
// changed; a sparse value may be rewritten as dense (see above). A sparse
// value whose opcodes end before `index` is corrupted. `value` must pass
// LooksValid().
absl::StatusOr<bool> SetRegister(std::string& value, int index, uint8_t count,
                                 int64_t sparse_max_bytes);
// SetRegister() for the register and run `element` hashes to.
absl::StatusOr<bool> Add(std::string& value, std::string_view element,
                         int64_t sparse_max_bytes);

// Rewrites a sparse value as dense (the header, cache included, is kept);
// a dense value is left as it is. Fails if the opcodes do not cover exactly
// 16384 registers.
absl::Status ToDense(std::string& value);

// max[i] = max(max[i], register i of `value`); fails on a corrupted sparse
// value.
absl::Status MergeInto(std::string_view value, RawRegisters& max);

// The estimated cardinality from the registers (the cache is not looked at);
// fails on a corrupted sparse value.
absl::StatusOr<uint64_t> Count(std::string_view value);
uint64_t CountRaw(const RawRegisters& registers);

// PFDEBUG DECODE: "z:N", "Z:N" and "v:VALUE,LEN" for each sparse opcode.
std::string DecodeSparse(std::string_view value);

// PFSELFTEST: register access and estimation error on 10 million elements,
// with a sparse and a dense HLL side by side. Empty on success, else the
// error reply text ("TESTFAILED ..."). `seed` feeds the random values.
std::string SelfTest(int64_t sparse_max_bytes, uint64_t seed);

}  // namespace reborn::qdb::hll
