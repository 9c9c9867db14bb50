#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "qdb/keyspace.h"

namespace reborn::qdb {

struct ScoreRange {
  double min = 0, max = 0;
  bool min_ex = false, max_ex = false;
  bool AboveMin(double s) const { return min_ex ? s > min : s >= min; }
  bool BelowMax(double s) const { return max_ex ? s < max : s <= max; }
};

// Redis' lex range: "-" and "+" are the infinities.
struct LexRange {
  std::string min, max;
  bool min_ex = false, max_ex = false;
  bool min_inf = false, max_inf = false;        // "-" / "+"
  bool min_is_max = false, max_is_min = false;  // "+" as min, "-" as max
  bool AboveMin(std::string_view m) const;
  bool BelowMax(std::string_view m) const;
};

// Parsers with Redis' rules ("(1.5", "-inf"; "[a", "(a", "-", "+").
bool ParseScoreBound(std::string_view s, double* v, bool* exclusive);
bool ParseScoreRange(std::string_view min, std::string_view max,
                     ScoreRange* out);
bool ParseLexRange(std::string_view min, std::string_view max, LexRange* out);

// The score of a zset member record (members column value).
double DecodeScore(std::string_view v);

struct ScoredMember {
  std::string member;
  double score = 0;
  bool operator==(const ScoredMember&) const = default;
};

struct ZAddOptions {
  bool nx = false, xx = false, gt = false, lt = false, ch = false;
  bool incr = false;
};

struct ZAddResult {
  int64_t changed = 0;  // added (+ updated with CH)
  int64_t dirty = 0;    // added + updated, whatever CH (Redis' server.dirty)
  // INCR: the new score, or nullopt if the condition prevented the update.
  std::optional<double> score;
};

// Which members a range query selects.
struct ZRangeSpec {
  enum class Kind { kRank, kScore, kLex };
  Kind kind = Kind::kRank;
  bool rev = false;
  int64_t start = 0, stop = -1;    // kRank
  ScoreRange score;                // kScore
  LexRange lex;                    // kLex
  int64_t offset = 0, limit = -1;  // kScore/kLex LIMIT; -1 = no limit
};

// The sorted-set type. Each member has a members-column record (member ->
// 8 raw bytes of the double) and a score-index record (ordered score +
// member -> ""), so score and rank queries walk the index in order without
// loading the set (docs/encoding.md).
//
// Databases are physical; the caller holds Keyspace::layout_mu() shared.
// Writers take the key locks they need and commit one batch. Thread-safe.
// Pop() returns nullopt when the key is absent, for blocking wrappers.
class ZSets {
 public:
  explicit ZSets(Keyspace& keyspace) : ks_(keyspace) {}

  absl::StatusOr<ZAddResult> Add(uint8_t db, std::string_view key,
                                 const ZAddOptions& options,
                                 const std::vector<ScoredMember>& members);
  absl::StatusOr<int64_t> Rem(uint8_t db, std::string_view key,
                              const std::vector<std::string>& members);
  absl::StatusOr<std::vector<std::optional<double>>> Scores(
      uint8_t db, std::string_view key,
      const std::vector<std::string>& members);
  absl::StatusOr<int64_t> Card(uint8_t db, std::string_view key);
  absl::StatusOr<int64_t> Count(uint8_t db, std::string_view key,
                                const ScoreRange& range);
  absl::StatusOr<int64_t> LexCount(uint8_t db, std::string_view key,
                                   const LexRange& range);
  // nullopt when the key (WRONGTYPE aside) is absent.
  absl::StatusOr<std::optional<std::vector<ScoredMember>>> Range(
      uint8_t db, std::string_view key, const ZRangeSpec& spec);
  // Replaces `dst` with `members` (deletes it when empty); returns the size.
  absl::StatusOr<int64_t> Store(uint8_t db, std::string_view dst,
                                const std::vector<ScoredMember>& members);
  absl::StatusOr<std::optional<int64_t>> Rank(uint8_t db, std::string_view key,
                                              std::string_view member,
                                              bool rev);
  // ZREMRANGEBY*: spec.rev and LIMIT are ignored.
  absl::StatusOr<int64_t> RemRange(uint8_t db, std::string_view key,
                                   const ZRangeSpec& spec);
  absl::StatusOr<std::optional<std::vector<ScoredMember>>> Pop(
      uint8_t db, std::string_view key, bool max, uint64_t count);
  // Every member in score order; nullopt if absent. Sets count as zsets
  // with score 1 when `allow_sets` (ZUNION and friends).
  absl::StatusOr<std::optional<std::vector<ScoredMember>>> All(
      uint8_t db, std::string_view key, bool allow_sets);
  // Every member of one zset version in score order (DUMP, OBJECT ENCODING).
  // Read from `snapshot` if given.
  absl::StatusOr<std::vector<ScoredMember>> AllOf(
      uint8_t db, std::string_view key, const Metadata& meta,
      const storage::Snapshot* snapshot = nullptr);
  // Writes `members` (unique) as a new zset version into `txn` and fills
  // `meta` (type, version, size). Used by RESTORE. A `meta` with a version
  // already set is appended to (chunked restores; members new to it).
  void PutAll(Txn& txn, uint8_t db, std::string_view key,
              const std::vector<ScoredMember>& members, Metadata* meta);

 private:
  absl::StatusOr<std::optional<Metadata>> Get(uint8_t db, std::string_view key);
  absl::StatusOr<std::optional<Metadata>> GetForWrite(Txn& txn, uint8_t db,
                                                      std::string_view key);
  // Walks the score index of one version in order (reverse when `rev`),
  // starting at the first entry >= `from` (<= when rev) if given; stops
  // when `fn` returns false.
  absl::Status Walk(uint8_t db, std::string_view key, const Metadata& meta,
                    bool rev, std::optional<double> from,
                    const std::function<bool(ScoredMember&)>& fn,
                    const storage::Snapshot* snapshot = nullptr);
  absl::Status Select(uint8_t db, std::string_view key, const Metadata& meta,
                      const ZRangeSpec& spec, std::vector<ScoredMember>* out);
  void PutMember(Txn& txn, uint8_t db, std::string_view key, uint64_t version,
                 std::string_view member, double score);
  void DeleteMember(Txn& txn, uint8_t db, std::string_view key,
                    uint64_t version, std::string_view member, double score);
  void Finish(Txn& txn, uint8_t db, std::string_view key, const Metadata* old,
              Metadata& meta);

  Keyspace& ks_;
};

}  // namespace reborn::qdb
