#include "routing/cluster_scan.h"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "command/key_finders.h"
#include "reborn/slot.h"
#include "routing/merge.h"

namespace reborn::routing {
namespace {

constexpr uint64_t Mask(int bits) { return (uint64_t{1} << bits) - 1; }

// The groups that hold slot `slot`'s keys, in the order they must be
// walked: a migrating slot's source first, then its target. Keys only move
// source -> target while the slot keeps one version, so a key not yet
// reached at the source when it moves is at the target for the whole
// target walk.
std::vector<int> SlotPlan(const TableSlot& s) {
  if (s.group_id == 0 || s.state == SlotState::kOffline) return {};
  if ((s.state == SlotState::kPreMigrate || s.state == SlotState::kMigrate) &&
      s.migrate_from != 0 && s.migrate_from != s.group_id) {
    return {s.migrate_from, s.group_id};
  }
  return {s.group_id};
}

// The group that serves slot `s` alone (a one-server plan), else 0.
int SoleGroup(const TableSlot& s) {
  const std::vector<int> plan = SlotPlan(s);
  return plan.size() == 1 ? plan[0] : 0;
}

// Redis' string2ll: optional '-', digits without leading zeros, in range.
bool ParseRedisInt(const std::string& v, int64_t* out) {
  const size_t first = (v.size() > 1 && v[0] == '-') ? 1 : 0;
  if (first >= v.size() || (v[first] == '0' && v.size() > 1)) return false;
  for (size_t i = first; i < v.size(); ++i) {
    if (!absl::ascii_isdigit(static_cast<unsigned char>(v[i]))) return false;
  }
  return absl::SimpleAtoi(v, out);
}

uint32_t VersionBits(const TableSlot& s) {
  return static_cast<uint32_t>(static_cast<uint64_t>(s.version) &
                               Mask(ClusterScanCursor::kVersionBits));
}

}  // namespace

std::optional<ClusterScanCursor> ClusterScanCursor::Parse(
    std::string_view text) {
  // Redis' parseScanCursorOrReply: strtoul, which also takes "" (0) and a
  // sign ("-1" wraps), but no leading space and nothing after the digits.
  // A NUL ends the number there, as strtoul on Redis' sds does.
  const std::string s(text);
  if (!s.empty() && std::isspace(static_cast<unsigned char>(s[0]))) {
    return std::nullopt;
  }
  errno = 0;
  char* end = nullptr;
  const uint64_t v = std::strtoull(s.c_str(), &end, 10);
  if (*end != '\0' || errno == ERANGE) return std::nullopt;
  return Decode(v);
}

ClusterScanCursor ClusterScanCursor::Decode(uint64_t v) {
  ClusterScanCursor c;
  c.by_group = (v & 1) != 0;
  if (c.by_group) {
    c.group_index = static_cast<size_t>((v >> 1) & Mask(kGroupBits));
    c.backend = v >> kGroupBackendShift;
    return c;
  }
  c.slot = static_cast<int>((v >> 1) & Mask(kSlotBits));
  c.phase = static_cast<int>((v >> (1 + kSlotBits)) & Mask(kPhaseBits));
  c.version = static_cast<uint32_t>((v >> (1 + kSlotBits + kPhaseBits)) &
                                    Mask(kVersionBits));
  c.backend = v >> kSlotBackendShift;
  return c;
}

bool ClusterScanCursor::Encode(uint64_t* out) const {
  if (by_group) {
    if (backend > Mask(64 - kGroupBackendShift) ||
        group_index > Mask(kGroupBits)) {
      return false;
    }
    *out = 1 | (uint64_t{group_index} << 1) | (backend << kGroupBackendShift);
    return true;
  }
  if (backend > Mask(64 - kSlotBackendShift) || slot < 0 ||
      slot >= kSlotCount || phase < 0 ||
      phase > static_cast<int>(Mask(kPhaseBits))) {
    return false;
  }
  *out =
      (uint64_t(slot) << 1) | (uint64_t(phase) << (1 + kSlotBits)) |
      (uint64_t{version & Mask(kVersionBits)} << (1 + kSlotBits + kPhaseBits)) |
      (backend << kSlotBackendShift);
  return true;
}

int ScanPatternSlot(std::string_view match) {
  // Empty is no filter here (ScanOptions); "*" has a wildcard.
  if (match.empty()) return -1;
  return PatternSlot(match);
}

absl::StatusOr<ScanOptions> ParseScanOptions(
    const std::vector<std::string>& args) {
  ScanOptions o;
  const auto syntax = [] {
    return absl::InvalidArgumentError("ERR syntax error");
  };
  for (size_t i = 2; i < args.size(); i += 2) {
    if (i + 1 >= args.size()) return syntax();
    const std::string& value = args[i + 1];
    if (absl::EqualsIgnoreCase(args[i], "count")) {
      if (!ParseRedisInt(value, &o.count)) {
        return absl::InvalidArgumentError(
            "ERR value is not an integer or out of range");
      }
      if (o.count < 1) return syntax();
    } else if (absl::EqualsIgnoreCase(args[i], "match")) {
      o.match = value;
    } else if (absl::EqualsIgnoreCase(args[i], "type")) {
      o.type = value;
    } else {
      return syntax();
    }
  }
  return o;
}

ClusterScan::ClusterScan(ScanOptions options, ClusterScanCursor cursor,
                         int max_steps)
    : options_(std::move(options)), cursor_(cursor), steps_left_(max_steps) {
  only_slot_ = ScanPatternSlot(options_.match);
  if (only_slot_ >= 0) {
    last_slot_ = only_slot_;
    // Cursor 0 (or any cursor before the slot) starts at the one slot the
    // pattern can match; a cursor after it is the end.
    if (!cursor_.by_group && cursor_.slot < only_slot_) {
      cursor_ = ClusterScanCursor{};
      cursor_.slot = only_slot_;
    }
  }
}

std::vector<std::string> ClusterScan::Filters() const {
  std::vector<std::string> out;
  // An empty pattern is no filter at all; Redis' "*" neither.
  if (!options_.match.empty() && options_.match != "*") {
    out.insert(out.end(), {"MATCH", options_.match});
  }
  if (!options_.type.empty()) out.insert(out.end(), {"TYPE", options_.type});
  return out;
}

// Unfiltered, a backend call asks for what the batch still lacks, so a batch
// is about COUNT keys; filtered, COUNT bounds the records each call examines
// (SCAN's meaning), so a sparse MATCH costs no more per call than at Redis.
int64_t ClusterScan::BackendCount() const {
  if (options_.filtered()) return options_.count;
  const int64_t missing = options_.count - static_cast<int64_t>(key_count_);
  return missing < 1 ? 1 : missing;
}

bool ClusterScan::AdvanceSlots(const SlotTable& table) {
  while (cursor_.slot <= last_slot_) {
    const TableSlot& s = table.slot(cursor_.slot);
    const bool begun = cursor_.phase != 0 || cursor_.backend != 0;
    if (!begun) {
      cursor_.version = VersionBits(s);
    } else if (cursor_.version != VersionBits(s)) {
      // The slot changed since its walk began (keys may have moved behind
      // the cursor): walk it again from its first server.
      ++restarts_;
      cursor_.phase = 0;
      cursor_.backend = 0;
      cursor_.version = VersionBits(s);
    }
    if (cursor_.phase < static_cast<int>(SlotPlan(s).size())) return true;
    ++cursor_.slot;
    cursor_.phase = 0;
    cursor_.backend = 0;
  }
  return false;
}

void ClusterScan::Settle(const SlotTable& table) {
  const Range r = *std::move(range_);
  range_.reset();
  if (!r.answered) return;  // refused or failed: the cursor did not move
  const int checked = std::min(r.next_slot, r.last);
  for (int x = r.first; x <= checked; ++x) {
    if (table.slot(x).version != r.versions[x - r.first]) {
      // Slot x changed while (or since) the call walked it: walk it again
      // from its first server; the slots before it are complete.
      ++restarts_;
      cursor_ = ClusterScanCursor{};
      cursor_.slot = x;
      return;
    }
  }
  cursor_ = ClusterScanCursor{};
  if (r.next_cursor == 0) {
    cursor_.slot = r.last + 1;  // the whole range is walked
    return;
  }
  cursor_.slot = r.next_slot;
  cursor_.backend = r.next_cursor;
  cursor_.version = static_cast<uint32_t>(
      static_cast<uint64_t>(r.versions[r.next_slot - r.first]) &
      Mask(ClusterScanCursor::kVersionBits));
}

int ClusterScan::RunEnd(const SlotTable& table) const {
  const int group = SoleGroup(table.slot(cursor_.slot));
  int end = cursor_.slot;
  if (group == 0 || !ranges_ || cursor_.phase != 0) return end;
  while (end < last_slot_ && SoleGroup(table.slot(end + 1)) == group) ++end;
  return end;
}

std::optional<ClusterScan::Request> ClusterScan::Next(const SlotTable& table) {
  if (done_ || !error_.empty()) return std::nullopt;
  if (range_) Settle(table);
  if (cursor_.by_group) {
    const std::vector<int> groups = table.ServingGroups();
    if (only_slot_ >= 0) {
      // Only the groups that hold the pattern's slot.
      const std::vector<int> plan = SlotPlan(table.slot(only_slot_));
      while (cursor_.group_index < groups.size() &&
             std::find(plan.begin(), plan.end(), groups[cursor_.group_index]) ==
                 plan.end()) {
        ++cursor_.group_index;
        cursor_.backend = 0;
      }
    }
    if (cursor_.group_index >= groups.size()) {
      done_ = true;
      return std::nullopt;
    }
  } else if (!AdvanceSlots(table)) {
    done_ = true;
    return std::nullopt;
  }
  if (key_count_ >= static_cast<size_t>(options_.count) || steps_left_ <= 0) {
    return std::nullopt;
  }
  --steps_left_;
  Request req;
  if (cursor_.by_group) {
    const TableGroup* g =
        table.group(table.ServingGroups()[cursor_.group_index]);
    req.addr = g->master;
    req.args = {"SCAN", absl::StrCat(cursor_.backend), "COUNT",
                absl::StrCat(BackendCount())};
  } else {
    const std::vector<int> plan = SlotPlan(table.slot(cursor_.slot));
    const TableGroup* g = table.group(plan[cursor_.phase]);
    if (g == nullptr) {  // Create() validates groups; be safe anyway
      error_ = ErrorReply("CLUSTERDOWN a slot's group is unknown");
      return std::nullopt;
    }
    req.addr = g->master;
    req.args = {"SLOTSSCAN", absl::StrCat(cursor_.slot),
                absl::StrCat(cursor_.backend), "COUNT",
                absl::StrCat(BackendCount())};
    const int end = RunEnd(table);
    if (end > cursor_.slot) {
      Range r;
      r.first = cursor_.slot;
      r.last = end;
      r.versions.reserve(static_cast<size_t>(end - cursor_.slot + 1));
      for (int x = r.first; x <= r.last; ++x) {
        r.versions.push_back(table.slot(x).version);
      }
      range_ = std::move(r);
    }
  }
  for (std::string& f : Filters()) req.args.push_back(std::move(f));
  if (range_) {
    req.args.insert(req.args.end(),
                    {"SLOTS", absl::StrCat(range_->last - range_->first + 1)});
  }
  return req;
}

// "*3 cursor [keys] :slot": the reply to a range call; the cursor moves in
// Settle(), once the table after the reply is known.
bool ClusterScan::OnRangeReply(const std::vector<std::string_view>& elems,
                               uint64_t next) {
  Range& r = *range_;
  std::optional<int64_t> slot;
  if (elems.size() != 3 || !(slot = ParseIntegerReply(elems[2])) ||
      *slot < r.first || *slot > r.last + 1 || (next != 0 && *slot > r.last) ||
      (next == 0 && *slot != r.last + 1)) {
    return false;
  }
  r.answered = true;
  r.next_slot = static_cast<int>(*slot);
  r.next_cursor = next;
  ClusterScanCursor probe;
  probe.backend = next;
  uint64_t ignored;
  if (!probe.Encode(&ignored)) {
    error_ = ErrorReply("ERR backend SCAN cursor too large");
  }
  return true;
}

void ClusterScan::OnReply(std::string_view reply) {
  if (range_ && reply.substr(0, 17) == "-ERR syntax error") {
    // A qdb-server without SLOTSSCAN's SLOTS option: one slot per call from
    // here on; the cursor did not move.
    ranges_ = false;
    return;
  }
  if (!reply.empty() && reply[0] == '-') {
    if (!cursor_.by_group &&
        absl::StrContains(absl::AsciiStrToLower(
                              absl::string_view(reply.data(), reply.size())),
                          "unknown command")) {
      // A redis-server group: no SLOTSSCAN. Start over by groups (what was
      // returned already may come again, which SCAN allows).
      fell_back_ = true;
      cursor_ = ClusterScanCursor{};
      cursor_.by_group = true;
      return;
    }
    if (!cursor_.by_group && cursor_.backend != 0 &&
        reply.substr(0, 19) == "-ERR invalid cursor") {
      // The server no longer knows the cursor (evicted, restarted, another
      // master since): walk the slot again.
      ++restarts_;
      cursor_.phase = 0;
      cursor_.backend = 0;
      return;
    }
    error_ = std::string(reply);
    return;
  }
  std::vector<std::string_view> elems;
  std::vector<std::string_view> keys;
  std::optional<std::string_view> next_text;
  uint64_t next = 0;
  if (!SplitArray(reply, &elems) || elems.size() != (range_ ? 3 : 2) ||
      !SplitArray(elems[1], &keys) || !(next_text = ParseBulkReply(elems[0])) ||
      !absl::SimpleAtoi(absl::string_view(next_text->data(), next_text->size()),
                        &next) ||
      (range_ && !OnRangeReply(elems, next))) {
    error_ = ErrorReply("ERR unexpected SCAN reply from a backend");
    return;
  }
  for (std::string_view k : keys) keys_.append(k);
  key_count_ += keys.size();
  if (range_) return;
  if (next != 0) {
    cursor_.backend = next;
    uint64_t ignored;
    if (!cursor_.Encode(&ignored)) {
      error_ = ErrorReply("ERR backend SCAN cursor too large");
    }
    return;
  }
  cursor_.backend = 0;
  if (cursor_.by_group) {
    ++cursor_.group_index;
  } else {
    ++cursor_.phase;  // checked against the table by the next Next()
  }
}

std::string ClusterScan::ClientReply() const {
  if (!error_.empty()) return error_;
  uint64_t value = 0;
  if (!done_) {
    ClusterScanCursor c = cursor_;
    // Slot 0 not begun would encode as 0, the end: its version bits are
    // ignored when nothing is begun, so set one.
    if (!c.by_group && c.slot == 0 && c.phase == 0 && c.backend == 0) {
      c.version = 1;
    }
    if (!c.Encode(&value)) {
      return ErrorReply("ERR backend SCAN cursor too large");
    }
  }
  std::string out = "*2\r\n" + BulkReply(absl::StrCat(value));
  absl::StrAppend(&out, "*", key_count_, "\r\n");
  out.append(keys_);
  return out;
}

}  // namespace reborn::routing
