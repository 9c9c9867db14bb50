#include "qdb/types/zsets.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <memory>

#include "absl/container/flat_hash_map.h"
#include "qdb/errors.h"
#include "qdb/numbers.h"

namespace reborn::qdb {
namespace {

using storage::Column;

std::string EncodeScore(double score) {
  char buf[sizeof(double)];
  std::memcpy(buf, &score, sizeof(double));
  return std::string(buf, sizeof(buf));
}

bool ParseLexItem(std::string_view s, std::string* out, bool* ex, bool* minus,
                  bool* plus) {
  *minus = *plus = false;
  if (s == "-") {
    *minus = true;
    return true;
  }
  if (s == "+") {
    *plus = true;
    return true;
  }
  if (s.empty() || (s[0] != '(' && s[0] != '[')) return false;
  *ex = s[0] == '(';
  out->assign(s.substr(1));
  return true;
}

}  // namespace

double DecodeScore(std::string_view v) {
  double d = 0;
  if (v.size() == sizeof(double)) std::memcpy(&d, v.data(), sizeof(double));
  return d;
}

bool LexRange::AboveMin(std::string_view m) const {
  if (min_inf) return true;
  if (min_is_max) return false;
  return min_ex ? m > min : m >= min;
}

bool LexRange::BelowMax(std::string_view m) const {
  if (max_inf) return true;
  if (max_is_min) return false;
  return max_ex ? m < max : m <= max;
}

bool ParseScoreBound(std::string_view s, double* v, bool* exclusive) {
  *exclusive = !s.empty() && s[0] == '(';
  if (*exclusive) s.remove_prefix(1);
  // strtod rules (Redis' zslParseRange): "inf", "+inf", "-inf" included,
  // and an empty string reads as 0.
  std::string buf(s);
  char* end = nullptr;
  const double d = std::strtod(buf.c_str(), &end);
  if (*end != '\0' || std::isnan(d)) return false;
  *v = d;
  return true;
}

bool ParseScoreRange(std::string_view min, std::string_view max,
                     ScoreRange* out) {
  return ParseScoreBound(min, &out->min, &out->min_ex) &&
         ParseScoreBound(max, &out->max, &out->max_ex);
}

bool ParseLexRange(std::string_view min, std::string_view max, LexRange* out) {
  bool minus, plus;
  if (!ParseLexItem(min, &out->min, &out->min_ex, &minus, &plus)) return false;
  out->min_inf = minus;
  out->min_is_max = plus;
  if (!ParseLexItem(max, &out->max, &out->max_ex, &minus, &plus)) return false;
  out->max_inf = plus;
  out->max_is_min = minus;
  return true;
}

absl::StatusOr<std::optional<Metadata>> ZSets::Get(uint8_t db,
                                                   std::string_view key) {
  return ks_.LookupOfType(db, key, DataType::kZSet);
}

absl::StatusOr<std::optional<Metadata>> ZSets::GetForWrite(
    Txn& txn, uint8_t db, std::string_view key) {
  return ks_.LookupOfTypeForWrite(txn, db, key, DataType::kZSet);
}

absl::Status ZSets::Walk(uint8_t db, std::string_view key, const Metadata& meta,
                         bool rev, std::optional<double> from,
                         const std::function<bool(ScoredMember&)>& fn,
                         const storage::Snapshot* snapshot) {
  const std::string prefix = MemberPrefix(db, key, meta.version);
  storage::ReadOptions ro;
  ro.snapshot = snapshot;
  ro.lower_bound = prefix;
  ro.upper_bound = PrefixEnd(prefix);
  std::unique_ptr<storage::Iterator> it =
      ks_.store().NewIterator(ro, Column::kScoreIndex);
  std::string target;
  if (from) {
    target = prefix;
    PutFixed64(&target, EncodeOrderedDouble(*from));
  }
  if (!rev) {
    if (from) {
      it->Seek(target);
    } else {
      it->SeekToFirst();
    }
  } else if (from) {
    it->Seek(PrefixEnd(target));
    if (it->Valid()) {
      it->Prev();
    } else {
      it->SeekToLast();
    }
  } else {
    it->SeekToLast();
  }
  ScoredMember m;
  const size_t head = prefix.size() + 8;
  while (it->Valid()) {
    std::string_view k = it->key();
    if (k.size() < head) return absl::DataLossError("corrupt score index");
    m.score = DecodeOrderedDouble(GetFixed64(k.data() + prefix.size()));
    m.member.assign(k.substr(head));
    if (!fn(m)) break;
    if (rev) {
      it->Prev();
    } else {
      it->Next();
    }
  }
  return it->status();
}

absl::Status ZSets::Select(uint8_t db, std::string_view key,
                           const Metadata& meta, const ZRangeSpec& spec,
                           std::vector<ScoredMember>* out) {
  if (spec.kind == ZRangeSpec::Kind::kRank) {
    const int64_t len = static_cast<int64_t>(meta.size);
    int64_t start = spec.start, stop = spec.stop;
    if (start < 0) start += len;
    if (stop < 0) stop += len;
    if (start < 0) start = 0;
    if (start > stop || start >= len) return absl::OkStatus();
    if (stop >= len) stop = len - 1;
    int64_t i = 0;
    return Walk(db, key, meta, spec.rev, std::nullopt, [&](ScoredMember& m) {
      if (i++ >= start) out->push_back(std::move(m));
      return i <= stop;
    });
  }
  if (spec.offset < 0 || spec.limit == 0) return absl::OkStatus();
  int64_t skip = spec.offset;
  auto take = [&](ScoredMember& m) {
    if (skip > 0) {
      --skip;
      return true;
    }
    out->push_back(std::move(m));
    return spec.limit < 0 || static_cast<int64_t>(out->size()) < spec.limit;
  };
  if (spec.kind == ZRangeSpec::Kind::kScore) {
    const ScoreRange& r = spec.score;
    if (r.min > r.max || (r.min == r.max && (r.min_ex || r.max_ex))) {
      return absl::OkStatus();
    }
    return Walk(db, key, meta, spec.rev, spec.rev ? r.max : r.min,
                [&](ScoredMember& m) {
                  if (!spec.rev) {
                    if (!r.AboveMin(m.score)) return true;
                    if (!r.BelowMax(m.score)) return false;
                  } else {
                    if (!r.BelowMax(m.score)) return true;
                    if (!r.AboveMin(m.score)) return false;
                  }
                  return take(m);
                });
  }
  const LexRange& r = spec.lex;
  return Walk(db, key, meta, spec.rev, std::nullopt, [&](ScoredMember& m) {
    if (!spec.rev) {
      if (!r.AboveMin(m.member)) return true;
      if (!r.BelowMax(m.member)) return false;
    } else {
      if (!r.BelowMax(m.member)) return true;
      if (!r.AboveMin(m.member)) return false;
    }
    return take(m);
  });
}

void ZSets::PutMember(Txn& txn, uint8_t db, std::string_view key,
                      uint64_t version, std::string_view member, double score) {
  txn.batch().Put(Column::kMembers, EncodeMemberKey(db, key, version, member),
                  EncodeScore(score));
  txn.batch().Put(Column::kScoreIndex,
                  EncodeScoreKey(db, key, version, score, member), "");
}

void ZSets::DeleteMember(Txn& txn, uint8_t db, std::string_view key,
                         uint64_t version, std::string_view member,
                         double score) {
  txn.batch().Delete(Column::kMembers,
                     EncodeMemberKey(db, key, version, member));
  txn.batch().Delete(Column::kScoreIndex,
                     EncodeScoreKey(db, key, version, score, member));
}

void ZSets::Finish(Txn& txn, uint8_t db, std::string_view key,
                   const Metadata* old, Metadata& meta) {
  if (meta.size == 0) {
    if (old) txn.DeleteKey(db, key, *old);
  } else {
    txn.PutMeta(db, key, old, meta);
  }
}

absl::StatusOr<ZAddResult> ZSets::Add(
    uint8_t db, std::string_view key, const ZAddOptions& opt,
    const std::vector<ScoredMember>& members) {
  KeyLocks::Guard guard = ks_.locks().Lock(db, key);
  Txn txn(&ks_);
  absl::StatusOr<std::optional<Metadata>> old = GetForWrite(txn, db, key);
  if (!old.ok()) return old.status();
  ZAddResult result;
  if (!*old && opt.xx) {
    if (absl::Status s = txn.Commit(); !s.ok()) return s;
    return result;
  }
  Metadata meta;
  if (*old) {
    meta = **old;
  } else {
    meta.type = DataType::kZSet;
    meta.version = ks_.NextVersion();
  }
  // Scores written earlier in this command (ZADD z 1 a 2 a).
  absl::flat_hash_map<std::string, double> pending;
  int64_t added = 0, updated = 0;
  for (const ScoredMember& sm : members) {
    std::optional<double> cur;
    if (auto p = pending.find(sm.member); p != pending.end()) {
      cur = p->second;
    } else if (*old) {
      std::string raw;
      absl::Status s = ks_.store().Get(
          storage::ReadOptions{}, Column::kMembers,
          EncodeMemberKey(db, key, meta.version, sm.member), &raw);
      if (s.ok()) {
        cur = DecodeScore(raw);
      } else if (!absl::IsNotFound(s)) {
        return s;
      }
    }
    double score = sm.score;
    if (cur) {
      if (opt.nx) continue;
      if (opt.incr) {
        score += *cur;
        if (std::isnan(score)) {
          return RedisError("ERR resulting score is not a number (NaN)");
        }
      }
      if ((opt.gt && score <= *cur) || (opt.lt && score >= *cur)) continue;
      result.score = score;
      if (score != *cur) {
        DeleteMember(txn, db, key, meta.version, sm.member, *cur);
        PutMember(txn, db, key, meta.version, sm.member, score);
        pending[sm.member] = score;
        ++updated;
      }
    } else {
      if (opt.xx) continue;
      PutMember(txn, db, key, meta.version, sm.member, score);
      pending[sm.member] = score;
      result.score = score;
      ++meta.size;
      ++added;
    }
  }
  if (added > 0 || updated > 0) {
    Finish(txn, db, key, old->has_value() ? &**old : nullptr, meta);
  }
  if (absl::Status s = txn.Commit(); !s.ok()) return s;
  result.changed = opt.ch ? added + updated : added;
  result.dirty = added + updated;
  return result;
}

absl::StatusOr<int64_t> ZSets::Rem(uint8_t db, std::string_view key,
                                   const std::vector<std::string>& members) {
  KeyLocks::Guard guard = ks_.locks().Lock(db, key);
  Txn txn(&ks_);
  absl::StatusOr<std::optional<Metadata>> old = GetForWrite(txn, db, key);
  if (!old.ok()) return old.status();
  int64_t removed = 0;
  if (*old) {
    Metadata meta = **old;
    absl::flat_hash_map<std::string_view, bool> seen;
    for (const std::string& m : members) {
      if (!seen.emplace(m, true).second) continue;
      std::string raw;
      absl::Status s =
          ks_.store().Get(storage::ReadOptions{}, Column::kMembers,
                          EncodeMemberKey(db, key, meta.version, m), &raw);
      if (absl::IsNotFound(s)) continue;
      if (!s.ok()) return s;
      DeleteMember(txn, db, key, meta.version, m, DecodeScore(raw));
      --meta.size;
      ++removed;
    }
    if (removed > 0) Finish(txn, db, key, &**old, meta);
  }
  if (absl::Status s = txn.Commit(); !s.ok()) return s;
  return removed;
}

absl::StatusOr<std::vector<std::optional<double>>> ZSets::Scores(
    uint8_t db, std::string_view key, const std::vector<std::string>& members) {
  absl::StatusOr<std::optional<Metadata>> meta = Get(db, key);
  if (!meta.ok()) return meta.status();
  std::vector<std::optional<double>> out(members.size());
  if (!*meta) return out;
  std::vector<std::string> keys;
  keys.reserve(members.size());
  for (const std::string& m : members) {
    keys.push_back(EncodeMemberKey(db, key, (*meta)->version, m));
  }
  std::vector<std::string> values;
  std::vector<absl::Status> st = ks_.store().MultiGet(
      storage::ReadOptions{}, Column::kMembers, keys, &values);
  for (size_t i = 0; i < members.size(); ++i) {
    if (st[i].ok()) {
      out[i] = DecodeScore(values[i]);
    } else if (!absl::IsNotFound(st[i])) {
      return st[i];
    }
  }
  return out;
}

absl::StatusOr<int64_t> ZSets::Card(uint8_t db, std::string_view key) {
  absl::StatusOr<std::optional<Metadata>> meta = Get(db, key);
  if (!meta.ok()) return meta.status();
  return *meta ? static_cast<int64_t>((*meta)->size) : 0;
}

absl::StatusOr<int64_t> ZSets::Count(uint8_t db, std::string_view key,
                                     const ScoreRange& range) {
  ZRangeSpec spec;
  spec.kind = ZRangeSpec::Kind::kScore;
  spec.score = range;
  absl::StatusOr<std::optional<std::vector<ScoredMember>>> r =
      Range(db, key, spec);
  if (!r.ok()) return r.status();
  return *r ? static_cast<int64_t>((*r)->size()) : 0;
}

absl::StatusOr<int64_t> ZSets::LexCount(uint8_t db, std::string_view key,
                                        const LexRange& range) {
  ZRangeSpec spec;
  spec.kind = ZRangeSpec::Kind::kLex;
  spec.lex = range;
  absl::StatusOr<std::optional<std::vector<ScoredMember>>> r =
      Range(db, key, spec);
  if (!r.ok()) return r.status();
  return *r ? static_cast<int64_t>((*r)->size()) : 0;
}

absl::StatusOr<std::optional<std::vector<ScoredMember>>> ZSets::Range(
    uint8_t db, std::string_view key, const ZRangeSpec& spec) {
  absl::StatusOr<std::optional<Metadata>> meta = Get(db, key);
  if (!meta.ok()) return meta.status();
  if (!*meta) return std::nullopt;
  std::vector<ScoredMember> out;
  if (absl::Status s = Select(db, key, **meta, spec, &out); !s.ok()) return s;
  return out;
}

absl::StatusOr<int64_t> ZSets::Store(uint8_t db, std::string_view dst,
                                     const std::vector<ScoredMember>& members) {
  KeyLocks::Guard guard = ks_.locks().Lock(db, dst);
  Txn txn(&ks_);
  absl::StatusOr<std::optional<Metadata>> old =
      ks_.LookupForWrite(txn, db, dst);
  if (!old.ok()) return old.status();
  Metadata meta;
  meta.type = DataType::kZSet;
  meta.version = ks_.NextVersion();
  for (const ScoredMember& m : members) {
    PutMember(txn, db, dst, meta.version, m.member, m.score);
  }
  meta.size = members.size();
  Finish(txn, db, dst, old->has_value() ? &**old : nullptr, meta);
  if (absl::Status s = txn.Commit(); !s.ok()) return s;
  return static_cast<int64_t>(meta.size);
}

absl::StatusOr<std::optional<int64_t>> ZSets::Rank(uint8_t db,
                                                   std::string_view key,
                                                   std::string_view member,
                                                   bool rev) {
  absl::StatusOr<std::optional<Metadata>> meta = Get(db, key);
  if (!meta.ok()) return meta.status();
  if (!*meta) return std::nullopt;
  std::string raw;
  absl::Status s =
      ks_.store().Get(storage::ReadOptions{}, Column::kMembers,
                      EncodeMemberKey(db, key, (*meta)->version, member), &raw);
  if (absl::IsNotFound(s)) return std::nullopt;
  if (!s.ok()) return s;
  int64_t rank = 0;
  bool found = false;
  s = Walk(db, key, **meta, rev, std::nullopt, [&](ScoredMember& m) {
    if (m.member == member) {
      found = true;
      return false;
    }
    ++rank;
    return true;
  });
  if (!s.ok()) return s;
  if (!found) return absl::DataLossError("zset score index out of sync");
  return rank;
}

absl::StatusOr<int64_t> ZSets::RemRange(uint8_t db, std::string_view key,
                                        const ZRangeSpec& spec) {
  KeyLocks::Guard guard = ks_.locks().Lock(db, key);
  Txn txn(&ks_);
  absl::StatusOr<std::optional<Metadata>> old = GetForWrite(txn, db, key);
  if (!old.ok()) return old.status();
  int64_t removed = 0;
  if (*old) {
    ZRangeSpec forward = spec;
    forward.rev = false;
    forward.offset = 0;
    forward.limit = -1;
    std::vector<ScoredMember> victims;
    if (absl::Status s = Select(db, key, **old, forward, &victims); !s.ok()) {
      return s;
    }
    Metadata meta = **old;
    if (victims.size() == meta.size) {
      txn.DeleteKey(db, key, **old);
    } else if (!victims.empty()) {
      for (const ScoredMember& m : victims) {
        DeleteMember(txn, db, key, meta.version, m.member, m.score);
      }
      meta.size -= victims.size();
      Finish(txn, db, key, &**old, meta);
    }
    removed = static_cast<int64_t>(victims.size());
  }
  if (absl::Status s = txn.Commit(); !s.ok()) return s;
  return removed;
}

absl::StatusOr<std::optional<std::vector<ScoredMember>>> ZSets::Pop(
    uint8_t db, std::string_view key, bool max, uint64_t count) {
  KeyLocks::Guard guard = ks_.locks().Lock(db, key);
  Txn txn(&ks_);
  absl::StatusOr<std::optional<Metadata>> old = GetForWrite(txn, db, key);
  if (!old.ok()) return old.status();
  if (!*old) {
    if (absl::Status s = txn.Commit(); !s.ok()) return s;
    return std::nullopt;
  }
  std::vector<ScoredMember> out;
  if (count > 0) {
    absl::Status s =
        Walk(db, key, **old, max, std::nullopt, [&](ScoredMember& m) {
          out.push_back(m);
          return out.size() < count;
        });
    if (!s.ok()) return s;
  }
  Metadata meta = **old;
  if (out.size() == meta.size) {
    txn.DeleteKey(db, key, **old);
  } else if (!out.empty()) {
    for (const ScoredMember& m : out) {
      DeleteMember(txn, db, key, meta.version, m.member, m.score);
    }
    meta.size -= out.size();
    Finish(txn, db, key, &**old, meta);
  }
  if (absl::Status s = txn.Commit(); !s.ok()) return s;
  return out;
}

absl::StatusOr<std::optional<std::vector<ScoredMember>>> ZSets::All(
    uint8_t db, std::string_view key, bool allow_sets) {
  absl::StatusOr<std::optional<Metadata>> meta = ks_.Lookup(db, key);
  if (!meta.ok()) return meta.status();
  if (!*meta) return std::nullopt;
  std::vector<ScoredMember> out;
  if ((*meta)->type == DataType::kSet && allow_sets) {
    const std::string prefix = MemberPrefix(db, key, (*meta)->version);
    storage::ReadOptions ro;
    ro.lower_bound = prefix;
    ro.upper_bound = PrefixEnd(prefix);
    std::unique_ptr<storage::Iterator> it =
        ks_.store().NewIterator(ro, Column::kMembers);
    for (it->SeekToFirst(); it->Valid(); it->Next()) {
      out.push_back({std::string(it->key().substr(prefix.size())), 1.0});
    }
    if (absl::Status s = it->status(); !s.ok()) return s;
    return out;
  }
  if ((*meta)->type != DataType::kZSet) return WrongTypeError();
  absl::Status s =
      Walk(db, key, **meta, false, std::nullopt, [&](ScoredMember& m) {
        out.push_back(std::move(m));
        return true;
      });
  if (!s.ok()) return s;
  return out;
}

absl::StatusOr<std::vector<ScoredMember>> ZSets::AllOf(
    uint8_t db, std::string_view key, const Metadata& meta,
    const storage::Snapshot* snapshot) {
  std::vector<ScoredMember> out;
  out.reserve(meta.size);
  absl::Status s = Walk(
      db, key, meta, false, std::nullopt,
      [&](ScoredMember& m) {
        out.push_back(std::move(m));
        return true;
      },
      snapshot);
  if (!s.ok()) return s;
  return out;
}

void ZSets::PutAll(Txn& txn, uint8_t db, std::string_view key,
                   const std::vector<ScoredMember>& members, Metadata* meta) {
  meta->type = DataType::kZSet;
  if (meta->version == 0) meta->version = ks_.NextVersion();
  meta->size += members.size();
  for (const ScoredMember& m : members) {
    PutMember(txn, db, key, meta->version, m.member, m.score);
  }
}

}  // namespace reborn::qdb
