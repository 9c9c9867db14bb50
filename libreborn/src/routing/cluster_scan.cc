#include "routing/cluster_scan.h"

#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
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
    : options_(std::move(options)), cursor_(cursor), steps_left_(max_steps) {}

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
  while (cursor_.slot < kSlotCount) {
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

std::optional<ClusterScan::Request> ClusterScan::Next(const SlotTable& table) {
  if (done_ || !error_.empty()) return std::nullopt;
  if (cursor_.by_group) {
    const std::vector<int> groups = table.ServingGroups();
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
  }
  for (std::string& f : Filters()) req.args.push_back(std::move(f));
  return req;
}

void ClusterScan::OnReply(std::string_view reply) {
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
  if (!SplitArray(reply, &elems) || elems.size() != 2 ||
      !SplitArray(elems[1], &keys) || !(next_text = ParseBulkReply(elems[0])) ||
      !absl::SimpleAtoi(absl::string_view(next_text->data(), next_text->size()),
                        &next)) {
    error_ = ErrorReply("ERR unexpected SCAN reply from a backend");
    return;
  }
  for (std::string_view k : keys) keys_.append(k);
  key_count_ += keys.size();
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
