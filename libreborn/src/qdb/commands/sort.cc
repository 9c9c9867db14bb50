// SORT / SORT_RO over the list, set and sorted-set types, following
// redis-server 7.0's sort.c step by step (option parsing, LIMIT clamping,
// the natural-order shortcuts of BY nosort, score conversion with strtod,
// the comparison rules and STORE).
#include "qdb/commands/sort.h"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <utility>

#include "qdb/commands/cmd_util.h"

namespace reborn::qdb {
namespace {

constexpr std::string_view kScoreError =
    "ERR One or more scores can't be converted into double";
// Redis keeps sets of up to this many integers in an intset, which it walks
// in numeric order.
constexpr size_t kIntsetMaxEntries = 512;

// The part of `s` a C string function sees (Redis uses strchr/strstr on the
// patterns and strcoll on the values).
std::string_view CString(std::string_view s) {
  const size_t nul = s.find('\0');
  return nul == std::string_view::npos ? s : s.substr(0, nul);
}

// compareStringObjects: binary, then by length.
int BinaryCompare(std::string_view a, std::string_view b) {
  const int c = a.compare(b);
  return c < 0 ? -1 : (c > 0 ? 1 : 0);
}

// strcoll in the C locale: byte order up to the first NUL.
int CollateCompare(std::string_view a, std::string_view b) {
  return BinaryCompare(CString(a), CString(b));
}

// Redis' strtod check: the whole C string must parse, no ERANGE, no NaN.
bool ParseSortScore(const std::string& s, double* out) {
  char* end = nullptr;
  errno = 0;
  *out = std::strtod(s.c_str(), &end);
  return end[0] == '\0' && errno != ERANGE && !std::isnan(*out);
}

struct SortItem {
  std::string element;
  double score = 0;
  std::optional<std::string> cmp;  // ALPHA BY: the value sorted by
};

// The values `pattern` gives for each element (nullopt where there is
// none). Storage failures are returned; wrong types read as missing.
absl::StatusOr<std::vector<std::optional<std::string>>> LookupPattern(
    EngineCore& core, uint8_t db, std::string_view pattern,
    const std::vector<const std::string*>& elements) {
  std::vector<std::optional<std::string>> out(elements.size());
  std::vector<std::string> string_keys;
  std::vector<size_t> string_slots;
  for (size_t i = 0; i < elements.size(); ++i) {
    PatternTarget t = ResolveSortPattern(pattern, *elements[i]);
    switch (t.kind) {
      case PatternTarget::Kind::kSelf:
        out[i] = *elements[i];
        break;
      case PatternTarget::Kind::kNone:
        break;
      case PatternTarget::Kind::kKey:
        if (t.field) {
          auto v = core.hashes().Get(db, t.key, *t.field);
          if (v.ok()) {
            out[i] = std::move(*v);
          } else if (!IsRedisError(v.status())) {
            return v.status();
          }
        } else {
          string_keys.push_back(std::move(t.key));
          string_slots.push_back(i);
        }
        break;
    }
  }
  if (!string_keys.empty()) {
    auto values = core.strings().MGet(db, string_keys);
    if (!values.ok()) return values.status();
    for (size_t j = 0; j < string_slots.size(); ++j) {
      out[string_slots[j]] = std::move((*values)[j]);
    }
  }
  return out;
}

// Replaces `dst` with a list of `items`, or deletes it when empty.
absl::Status StoreList(EngineCore& core, uint8_t db, std::string_view dst,
                       const std::vector<std::string>& items) {
  Keyspace& ks = core.keyspace();
  KeyLocks::Guard guard = ks.locks().Lock(db, dst);
  Txn txn(&ks);
  absl::StatusOr<std::optional<Metadata>> old = ks.LookupForWrite(txn, db, dst);
  if (!old.ok()) return old.status();
  if (!items.empty()) {
    Metadata meta;
    core.lists().PutAll(txn, db, dst, items, &meta);
    txn.PutMeta(db, dst, old->has_value() ? &**old : nullptr, meta);
  } else if (old->has_value()) {
    txn.DeleteKey(db, dst, **old);
  }
  return txn.Commit();
}

// Loads the elements of `key` in the type's natural order. `type` is
// nullopt for a missing key (an empty list).
absl::StatusOr<std::vector<std::string>> LoadElements(
    EngineCore& core, uint8_t db, std::string_view key,
    std::optional<DataType> type) {
  if (!type) return std::vector<std::string>{};
  switch (*type) {
    case DataType::kList:
      return core.lists().Range(db, key, 0, -1);
    case DataType::kSet:
      return core.sets().Members(db, key);
    case DataType::kZSet: {
      auto all = core.zsets().All(db, key, false);
      if (!all.ok()) return all.status();
      std::vector<std::string> out;
      if (*all) {
        out.reserve((*all)->size());
        for (ScoredMember& m : **all) out.push_back(std::move(m.member));
      }
      return out;
    }
    default:
      return WrongTypeError();
  }
}

// A set walked without sorting: small all-integer sets come in numeric
// order, as Redis' intsets do; others in storage order.
void IntsetOrder(std::vector<std::string>* members) {
  if (members->size() > kIntsetMaxEntries) return;
  std::vector<std::pair<int64_t, std::string*>> ints;
  ints.reserve(members->size());
  for (std::string& m : *members) {
    int64_t v;
    if (!ParseInt64(m, &v)) return;
    ints.emplace_back(v, &m);
  }
  std::sort(ints.begin(), ints.end(),
            [](const auto& a, const auto& b) { return a.first < b.first; });
  std::vector<std::string> sorted;
  sorted.reserve(ints.size());
  for (auto& [v, m] : ints) sorted.push_back(std::move(*m));
  *members = std::move(sorted);
}

void SortCommand(EngineCore& core, CommandContext& ctx, bool readonly) {
  SortOptions opt;
  if (std::string err = ParseSortOptions(ctx.args, readonly, &opt);
      !err.empty()) {
    return ctx.reply.Error(err);
  }
  WithDb(core, ctx, [&](uint8_t db) {
    const std::string& key = ctx.args[1];
    auto type = core.keys().Type(db, key);
    if (!type.ok()) return ReplyStatusError(ctx.reply, type.status());
    if (*type && **type != DataType::kList && **type != DataType::kSet &&
        **type != DataType::kZSet) {
      return ctx.reply.Error(kWrongTypeText);
    }
    auto loaded = LoadElements(core, db, key, *type);
    if (!loaded.ok()) return ReplyStatusError(ctx.reply, loaded.status());
    std::vector<std::string>& elements = *loaded;
    const bool is_set = *type && **type == DataType::kSet;
    if (opt.dontsort && is_set && opt.store) {
      // Redis sorts a set for STORE so replicas agree.
      opt.dontsort = false;
      opt.alpha = true;
      opt.by.reset();
    }
    if (opt.dontsort && is_set) IntsetOrder(&elements);

    const int64_t len = static_cast<int64_t>(elements.size());
    int64_t start = std::min(std::max<int64_t>(opt.limit_start, 0), len);
    const int64_t count = std::min(std::max<int64_t>(opt.limit_count, -1), len);
    int64_t end = count < 0 ? len : start + count - 1;
    if (start >= len) {
      start = len - 1;
      end = len - 2;
    }
    if (end >= len) end = len - 1;

    std::vector<SortItem> items;
    if (opt.dontsort && !is_set) {
      // Lists and sorted sets keep their order (reversed for DESC); only
      // the LIMIT range is loaded.
      if (opt.desc) std::reverse(elements.begin(), elements.end());
      for (int64_t i = start; i <= end; ++i) {
        items.push_back(SortItem{std::move(elements[i])});
      }
      end -= start;
      start = 0;
    } else {
      items.reserve(elements.size());
      for (std::string& e : elements) items.push_back(SortItem{std::move(e)});
    }

    bool conversion_error = false;
    if (!opt.dontsort) {
      std::vector<std::optional<std::string>> by_values;
      if (opt.by) {
        std::vector<const std::string*> refs;
        refs.reserve(items.size());
        for (const SortItem& it : items) refs.push_back(&it.element);
        auto v = LookupPattern(core, db, *opt.by, refs);
        if (!v.ok()) return ReplyStatusError(ctx.reply, v.status());
        by_values = std::move(*v);
      }
      for (size_t i = 0; i < items.size(); ++i) {
        const std::string* by_value = &items[i].element;
        if (opt.by) {
          if (!by_values[i]) continue;
          by_value = &*by_values[i];
        }
        if (opt.alpha) {
          if (opt.by) items[i].cmp = *by_value;
        } else if (!ParseSortScore(*by_value, &items[i].score)) {
          conversion_error = true;
        }
      }
      if (conversion_error) return ctx.reply.Error(kScoreError);
      const bool by = opt.by.has_value();
      const bool binary = opt.store.has_value();
      const bool alpha = opt.alpha;
      auto compare = [by, binary, alpha](const SortItem& a, const SortItem& b) {
        if (!alpha) {
          if (a.score > b.score) return 1;
          if (a.score < b.score) return -1;
          return BinaryCompare(a.element, b.element);
        }
        if (by) {
          if (!a.cmp || !b.cmp) {
            if (!a.cmp && !b.cmp) return 0;
            return !a.cmp ? -1 : 1;
          }
          return binary ? BinaryCompare(*a.cmp, *b.cmp)
                        : CollateCompare(*a.cmp, *b.cmp);
        }
        return binary ? BinaryCompare(a.element, b.element)
                      : CollateCompare(a.element, b.element);
      };
      const bool desc = opt.desc;
      std::stable_sort(items.begin(), items.end(),
                       [&compare, desc](const SortItem& a, const SortItem& b) {
                         const int c = compare(a, b);
                         return desc ? c > 0 : c < 0;
                       });
    }

    // The GET values of the output range, one vector per pattern.
    std::vector<const std::string*> range;
    for (int64_t i = start; i <= end; ++i) range.push_back(&items[i].element);
    std::vector<std::vector<std::optional<std::string>>> gets;
    for (const std::string& pattern : opt.gets) {
      auto v = LookupPattern(core, db, pattern, range);
      if (!v.ok()) return ReplyStatusError(ctx.reply, v.status());
      gets.push_back(std::move(*v));
    }
    const size_t per = opt.gets.empty() ? 1 : opt.gets.size();
    const size_t outputlen = per * range.size();
    if (!opt.store) {
      ctx.reply.ArrayHeader(outputlen);
      for (size_t i = 0; i < range.size(); ++i) {
        if (gets.empty()) ctx.reply.Bulk(*range[i]);
        for (const auto& g : gets) {
          if (g[i]) {
            ctx.reply.Bulk(*g[i]);
          } else {
            ctx.reply.Null();
          }
        }
      }
      return;
    }
    std::vector<std::string> out;
    out.reserve(outputlen);
    for (size_t i = 0; i < range.size(); ++i) {
      if (gets.empty()) out.push_back(*range[i]);
      for (auto& g : gets) out.push_back(g[i] ? std::move(*g[i]) : "");
    }
    if (absl::Status s = StoreList(core, db, *opt.store, out); !s.ok()) {
      return ReplyStatusError(ctx.reply, s);
    }
    ctx.reply.Integer(static_cast<int64_t>(outputlen));
  });
}

}  // namespace

std::string ParseSortOptions(const std::vector<std::string>& args,
                             bool readonly, SortOptions* out) {
  for (size_t j = 2; j < args.size(); ++j) {
    const size_t left = args.size() - j - 1;
    const std::string& a = args[j];
    if (EqualsIgnoreCase(a, "asc")) {
      out->desc = false;
    } else if (EqualsIgnoreCase(a, "desc")) {
      out->desc = true;
    } else if (EqualsIgnoreCase(a, "alpha")) {
      out->alpha = true;
    } else if (EqualsIgnoreCase(a, "limit") && left >= 2) {
      if (!ParseInt64(args[j + 1], &out->limit_start) ||
          !ParseInt64(args[j + 2], &out->limit_count)) {
        return std::string(kNotIntegerText);
      }
      j += 2;
    } else if (!readonly && EqualsIgnoreCase(a, "store") && left >= 1) {
      out->store = args[j + 1];
      ++j;
    } else if (EqualsIgnoreCase(a, "by") && left >= 1) {
      // A later BY replaces an earlier one.
      if (CString(args[j + 1]).find('*') == std::string_view::npos) {
        out->dontsort = true;
        out->by.reset();
      } else {
        out->by = args[j + 1];
      }
      ++j;
    } else if (EqualsIgnoreCase(a, "get") && left >= 1) {
      out->gets.push_back(args[j + 1]);
      ++j;
    } else {
      return std::string(kSyntaxText);
    }
  }
  return "";
}

PatternTarget ResolveSortPattern(std::string_view pattern,
                                 std::string_view element) {
  PatternTarget t;
  if (!pattern.empty() && pattern[0] == '#' &&
      (pattern.size() == 1 || pattern[1] == '\0')) {
    t.kind = PatternTarget::Kind::kSelf;
    return t;
  }
  const std::string_view c = CString(pattern);
  const size_t star = c.find('*');
  if (star == std::string_view::npos) return t;
  size_t fieldlen = 0;
  const size_t arrow = c.find("->", star + 1);
  if (arrow != std::string_view::npos && arrow + 2 < c.size()) {
    fieldlen = pattern.size() - arrow - 2;
    t.field = std::string(pattern.substr(arrow + 2));
  }
  const size_t postfix =
      pattern.size() - (star + 1) - (fieldlen ? fieldlen + 2 : 0);
  t.kind = PatternTarget::Kind::kKey;
  t.key.reserve(star + element.size() + postfix);
  t.key.append(pattern.substr(0, star));
  t.key.append(element);
  t.key.append(pattern.substr(star + 1, postfix));
  return t;
}

void RegisterSortCommands(EngineCore& core, CommandTable& table,
                          absl::Status* status) {
  EngineCore* c = &core;
  for (const auto& [name, readonly] :
       {std::pair<std::string_view, bool>{"sort", false}, {"sort_ro", true}}) {
    const bool ro = readonly;
    if (absl::Status s = table.Register(
            name, [c, ro](CommandContext& ctx) { SortCommand(*c, ctx, ro); });
        !s.ok()) {
      status->Update(s);
    }
  }
}

}  // namespace reborn::qdb
