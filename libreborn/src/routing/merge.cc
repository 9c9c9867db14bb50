#include "routing/merge.h"

#include <algorithm>
#include <map>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "resp/reply_parser.h"

namespace reborn::routing {

std::string ErrorReply(std::string_view text) {
  std::string out = "-";
  for (char c : text) out.push_back(c == '\r' || c == '\n' ? ' ' : c);
  out += "\r\n";
  return out;
}

std::string BulkReply(std::string_view s) {
  return absl::StrCat("$", s.size(), "\r\n",
                      absl::string_view(s.data(), s.size()), "\r\n");
}

bool SplitArray(std::string_view reply, std::vector<std::string_view>* out) {
  out->clear();
  if (reply.empty() || reply[0] != '*') return false;
  size_t eol = reply.find("\r\n");
  if (eol == std::string_view::npos) return false;
  int64_t n = 0;
  if (!absl::SimpleAtoi(absl::string_view(reply.data() + 1, eol - 1), &n)) {
    return false;
  }
  if (n < 0) return true;  // nil array: no elements
  resp::ReplyParser parser;
  size_t pos = eol + 2;
  for (int64_t i = 0; i < n; ++i) {
    int64_t len = parser.Measure(reply.substr(pos));
    if (len <= 0) return false;
    out->push_back(reply.substr(pos, static_cast<size_t>(len)));
    pos += static_cast<size_t>(len);
  }
  return true;
}

std::optional<int64_t> ParseIntegerReply(std::string_view reply) {
  if (reply.size() < 3 || reply[0] != ':') return std::nullopt;
  int64_t v = 0;
  if (!absl::SimpleAtoi(absl::string_view(reply.data() + 1, reply.size() - 3),
                        &v)) {
    return std::nullopt;
  }
  return v;
}

std::optional<std::string_view> ParseBulkReply(std::string_view reply) {
  if (reply.empty() || reply[0] != '$') return std::nullopt;
  size_t eol = reply.find("\r\n");
  if (eol == std::string_view::npos) return std::nullopt;
  int64_t n = 0;
  if (!absl::SimpleAtoi(absl::string_view(reply.data() + 1, eol - 1), &n) ||
      n < 0 || eol + 2 + static_cast<size_t>(n) > reply.size()) {
    return std::nullopt;
  }
  return reply.substr(eol + 2, static_cast<size_t>(n));
}

const std::string* FirstError(const std::vector<std::string>& parts) {
  for (const std::string& p : parts) {
    if (!p.empty() && p[0] == '-') return &p;
  }
  return nullptr;
}

std::string MergeMget(const std::vector<std::string>& parts,
                      const std::vector<std::vector<size_t>>& positions,
                      size_t total) {
  if (const std::string* err = FirstError(parts)) return *err;
  std::vector<std::string_view> slots(total);
  std::vector<std::string_view> elems;
  for (size_t i = 0; i < parts.size(); ++i) {
    if (!SplitArray(parts[i], &elems) || elems.size() != positions[i].size()) {
      return ErrorReply("ERR unexpected MGET reply from a backend");
    }
    for (size_t j = 0; j < elems.size(); ++j) slots[positions[i][j]] = elems[j];
  }
  std::string out = absl::StrCat("*", total, "\r\n");
  for (std::string_view e : slots) out.append(e);
  return out;
}

std::string MergeSplit(const SplitPlan& plan,
                       const std::vector<std::string>& parts) {
  switch (plan.merge) {
    case SplitMerge::kMget: {
      std::vector<std::vector<size_t>> positions;
      positions.reserve(plan.parts.size());
      for (const SplitPlan::Part& part : plan.parts) {
        positions.push_back(part.keys);
      }
      return MergeMget(parts, positions, plan.key_count);
    }
    case SplitMerge::kSum:
      return MergeSum(parts);
    case SplitMerge::kOk:
      return MergeOk(parts);
    case SplitMerge::kNone:
      break;
  }
  return parts.size() == 1 ? parts[0] : ErrorReply("ERR not a split command");
}

std::string MergeSum(const std::vector<std::string>& parts) {
  if (const std::string* err = FirstError(parts)) return *err;
  int64_t sum = 0;
  for (const std::string& p : parts) {
    auto v = ParseIntegerReply(p);
    if (!v) return ErrorReply("ERR unexpected reply from a backend");
    sum += *v;
  }
  return absl::StrCat(":", sum, "\r\n");
}

std::string MergeOk(const std::vector<std::string>& parts) {
  if (const std::string* err = FirstError(parts)) return *err;
  return "+OK\r\n";
}

std::string MergeSame(const std::vector<std::string>& parts) {
  if (const std::string* err = FirstError(parts)) return *err;
  return parts.empty() ? ErrorReply("ERR no group") : parts[0];
}

std::string MergeMinIntegers(const std::vector<std::string>& parts) {
  if (const std::string* err = FirstError(parts)) return *err;
  std::vector<int64_t> mins;
  std::vector<std::string_view> elems;
  for (size_t i = 0; i < parts.size(); ++i) {
    if (!SplitArray(parts[i], &elems) ||
        (i > 0 && elems.size() != mins.size())) {
      return ErrorReply("ERR unexpected reply from a backend");
    }
    if (i == 0) mins.assign(elems.size(), INT64_MAX);
    for (size_t j = 0; j < elems.size(); ++j) {
      auto v = ParseIntegerReply(elems[j]);
      if (!v) return ErrorReply("ERR unexpected reply from a backend");
      mins[j] = std::min(mins[j], *v);
    }
  }
  std::string out = absl::StrCat("*", mins.size(), "\r\n");
  for (int64_t v : mins) absl::StrAppend(&out, ":", v, "\r\n");
  return out;
}

std::string MergeArrays(const std::vector<std::string>& parts) {
  if (const std::string* err = FirstError(parts)) return *err;
  std::vector<std::string_view> all, elems;
  for (const std::string& p : parts) {
    if (!SplitArray(p, &elems)) {
      return ErrorReply("ERR unexpected reply from a backend");
    }
    all.insert(all.end(), elems.begin(), elems.end());
  }
  std::string out = absl::StrCat("*", all.size(), "\r\n");
  for (std::string_view e : all) out.append(e);
  return out;
}

std::string MergeDistinctArrays(const std::vector<std::string>& parts) {
  if (const std::string* err = FirstError(parts)) return *err;
  std::vector<std::string_view> all, elems;
  for (const std::string& p : parts) {
    if (!SplitArray(p, &elems)) {
      return ErrorReply("ERR unexpected reply from a backend");
    }
    for (std::string_view e : elems) {
      if (std::find(all.begin(), all.end(), e) == all.end()) all.push_back(e);
    }
  }
  std::string out = absl::StrCat("*", all.size(), "\r\n");
  for (std::string_view e : all) out.append(e);
  return out;
}

std::string MergeNumsubMax(const std::vector<std::string>& parts) {
  if (const std::string* err = FirstError(parts)) return *err;
  std::vector<std::string_view> first, elems;
  std::vector<int64_t> counts;
  for (size_t i = 0; i < parts.size(); ++i) {
    std::vector<std::string_view>& e = i == 0 ? first : elems;
    if (!SplitArray(parts[i], &e) || e.size() % 2 != 0 ||
        (i > 0 && e.size() != first.size())) {
      return ErrorReply("ERR unexpected reply from a backend");
    }
    if (i == 0) counts.assign(e.size() / 2, 0);
    for (size_t j = 0; j < counts.size(); ++j) {
      auto v = ParseIntegerReply(e[2 * j + 1]);
      if (!v) return ErrorReply("ERR unexpected reply from a backend");
      counts[j] = std::max(counts[j], *v);
    }
  }
  std::string out = absl::StrCat("*", first.size(), "\r\n");
  for (size_t j = 0; j < counts.size(); ++j) {
    out.append(first[2 * j]);
    absl::StrAppend(&out, ":", counts[j], "\r\n");
  }
  return out;
}

std::string MergeKeyspace(const std::vector<std::string>& parts) {
  // db -> (keys, expires, avg_ttl max)
  std::map<std::string, std::array<int64_t, 3>> dbs;
  for (const std::string& p : parts) {
    auto body = ParseBulkReply(p);
    if (!body) continue;
    for (absl::string_view line : absl::StrSplit(
             absl::string_view(body->data(), body->size()), "\r\n")) {
      size_t colon = line.find(':');
      // Only the keyspace lines ("db<n>:...") of what may be a whole INFO.
      int64_t db = 0;
      if (colon == absl::string_view::npos || !absl::StartsWith(line, "db") ||
          !absl::SimpleAtoi(line.substr(2, colon - 2), &db)) {
        continue;
      }
      auto& acc = dbs[std::string(line.substr(0, colon))];
      for (absl::string_view kv : absl::StrSplit(line.substr(colon + 1), ',')) {
        size_t eq = kv.find('=');
        if (eq == absl::string_view::npos) continue;
        int64_t v = 0;
        if (!absl::SimpleAtoi(kv.substr(eq + 1), &v)) continue;
        absl::string_view k = kv.substr(0, eq);
        if (k == "keys") acc[0] += v;
        if (k == "expires") acc[1] += v;
        if (k == "avg_ttl") acc[2] = std::max(acc[2], v);
      }
    }
  }
  std::string out = "# Keyspace\r\n";
  for (const auto& [db, v] : dbs) {
    absl::StrAppend(&out, db, ":keys=", v[0], ",expires=", v[1],
                    ",avg_ttl=", v[2], "\r\n");
  }
  return out;
}

std::optional<int64_t> SumInfoField(const std::vector<std::string>& parts,
                                    std::string_view field) {
  std::optional<int64_t> sum;
  const std::string prefix =
      absl::StrCat(absl::string_view(field.data(), field.size()), ":");
  for (const std::string& p : parts) {
    auto body = ParseBulkReply(p);
    if (!body) continue;
    for (absl::string_view line : absl::StrSplit(
             absl::string_view(body->data(), body->size()), "\r\n")) {
      if (!absl::StartsWith(line, prefix)) continue;
      int64_t v = 0;
      if (absl::SimpleAtoi(line.substr(prefix.size()), &v)) {
        sum = sum.value_or(0) + v;
      }
      break;
    }
  }
  return sum;
}

std::string BytesToHuman(uint64_t n) {
  static constexpr const char* kUnits[] = {"K", "M", "G", "T", "P"};
  if (n < 1024) return absl::StrCat(n, "B");
  double d = static_cast<double>(n) / 1024;
  size_t unit = 0;
  while (d >= 1024 && unit + 1 < std::size(kUnits)) {
    d /= 1024;
    ++unit;
  }
  return absl::StrFormat("%.2f%s", d, kUnits[unit]);
}

}  // namespace reborn::routing
