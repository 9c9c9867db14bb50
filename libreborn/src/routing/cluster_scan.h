#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "reborn/slot_table.h"

// SCAN over a whole cluster: the cursor format and the policy that turns one
// client SCAN call into backend calls. Pure (no I/O): the caller sends each
// Request and feeds the reply back, so reborn-proxy and the Client can share
// it. docs/proxy.md describes the cursor and the guarantee.
namespace reborn::routing {

// The 64-bit cursor a client sees. Bit 0 is the mode.
//
// Slot mode (bit 0 = 0; cursor 0 starts here): the keyspace is walked slot
// by slot with qdb-server's SLOTSSCAN.
//   bits 1..10   slot
//   bits 11..12  phase: index in the slot's server plan (source, target)
//   bits 13..20  low 8 bits of the slot's topology version when the slot's
//                walk began; another version at resume restarts the slot
//   bits 21..63  the SLOTSSCAN cursor (qdb-server's are below 2^40)
//
// Group mode (bit 0 = 1), for backends without SLOTSSCAN (redis-server):
// the serving groups one after the other with their own SCAN.
//   bits 1..10   index among SlotTable::ServingGroups()
//   bits 11..63  the group's SCAN cursor
struct ClusterScanCursor {
  static constexpr int kSlotBits = 10;
  static constexpr int kPhaseBits = 2;
  static constexpr int kVersionBits = 8;
  static constexpr int kSlotBackendShift =
      1 + kSlotBits + kPhaseBits + kVersionBits;  // 21
  static constexpr int kGroupBits = 10;
  static constexpr int kGroupBackendShift = 1 + kGroupBits;  // 11

  bool by_group = false;
  int slot = 0;
  int phase = 0;
  uint32_t version = 0;  // kVersionBits wide
  size_t group_index = 0;
  uint64_t backend = 0;

  // Redis' parse (strtoull, no leading space, nothing after the digits);
  // nullopt = "ERR invalid cursor". Every number decodes to some cursor.
  static std::optional<ClusterScanCursor> Parse(std::string_view text);
  static ClusterScanCursor Decode(uint64_t value);
  // False when `backend` does not fit in its mode's bits.
  bool Encode(uint64_t* out) const;
};

// SCAN's options as the client gave them, checked with Redis' errors.
struct ScanOptions {
  int64_t count = 10;
  std::string match;  // empty: none
  std::string type;   // empty: none
  bool filtered() const { return !match.empty() || !type.empty(); }
};
// args = {"SCAN", cursor, options...}; the options only.
absl::StatusOr<ScanOptions> ParseScanOptions(
    const std::vector<std::string>& args);

// The one slot every key matching the SCAN pattern `match` hashes to, or -1
// when the pattern can match keys of several slots. Known when the pattern
// has a non-empty {hash tag} and no glob metacharacter (* ? [ \) before the
// tag's closing brace, or no metacharacter at all (it matches one key).
int ScanPatternSlot(std::string_view match);

// One client SCAN call. Usage:
//   ClusterScan scan(options, cursor, max_steps);
//   while (auto req = scan.Next(*current_table)) reply = send(req);
//   scan.OnReply(reply) client_reply = scan.ClientReply();
// Next() must be given the table current *after* the previous reply arrived:
// the slot version check that keeps a migrating slot's keys from being
// missed relies on it (a key moves only after every proxy has published the
// migrate state).
//
// Cost: consecutive slots served by one group alone (no migration) are
// walked as one range, `SLOTSSCAN first cursor COUNT n ... SLOTS k`, which
// examines at most n records across the k slots and says in which slot it
// stopped; so a sparse or empty keyspace costs one backend call per run of
// a group's slots, not one per slot. A migrating slot is walked alone, its
// source then its target. A MATCH whose keys all hash to one slot
// (ScanPatternSlot) walks only that slot.
class ClusterScan {
 public:
  struct Request {
    std::string addr;  // the group's master
    std::vector<std::string> args;
  };

  // Backend calls per client call that let an empty keyspace end in one
  // call: every slot's source and target once.
  static constexpr int kMaxSteps = 2 * kSlotCount;

  ClusterScan(ScanOptions options, ClusterScanCursor cursor, int max_steps);

  // The next backend call, or nullopt when the batch is complete (COUNT
  // keys, the end, an error, or max_steps calls made).
  std::optional<Request> Next(const SlotTable& table);
  // The backend's raw reply to the last Request.
  void OnReply(std::string_view reply);

  // "*2 cursor [keys]" or an error.
  std::string ClientReply() const;
  // A backend answered that it has no SLOTSSCAN: the call went on in group
  // mode from the start (callers remember it to start there next time).
  bool fell_back_to_groups() const { return fell_back_; }
  // Slot walks begun again (topology changed, or the backend cursor was
  // gone); each repeats that slot's keys.
  int restarts() const { return restarts_; }
  // A backend refused the SLOTS option of SLOTSSCAN (a qdb-server from
  // before it): the rest of the call walked one slot per backend call.
  bool ranges_refused() const { return !ranges_; }

 private:
  // The slots a SLOTSSCAN ... SLOTS call walks, and their versions when it
  // was sent; its reply (the next slot and cursor) is applied by Settle()
  // against the table current after the reply.
  struct Range {
    int first = 0;
    int last = 0;
    std::vector<int64_t> versions;  // of first..last
    bool answered = false;
    int next_slot = 0;
    uint64_t next_cursor = 0;
  };

  // Moves the cursor past finished phases and slots, restarting a slot whose
  // version changed. False at the end of the keyspace (or of the one slot a
  // tagged MATCH needs).
  bool AdvanceSlots(const SlotTable& table);
  // Applies an answered range: moves the cursor to where the backend
  // stopped, or back to the first slot of the range whose version changed
  // since the call was sent (its keys, and the later ones', come again).
  void Settle(const SlotTable& table);
  // The last slot of the run of slots from cursor_.slot that one group
  // serves alone, within last_slot_; cursor_.slot if it is not served so.
  int RunEnd(const SlotTable& table) const;
  bool OnRangeReply(const std::vector<std::string_view>& elems, uint64_t next);
  std::vector<std::string> Filters() const;
  int64_t BackendCount() const;

  ScanOptions options_;
  ClusterScanCursor cursor_;
  int steps_left_;
  // The only slot the pattern can match (-1: all), and the last slot walked.
  int only_slot_ = -1;
  int last_slot_ = kSlotCount - 1;
  bool ranges_ = true;          // false once a backend refused SLOTS
  std::optional<Range> range_;  // the range call in flight or answered
  bool done_ = false;
  bool fell_back_ = false;
  int restarts_ = 0;
  std::string error_;  // a whole error reply, when set
  std::string keys_;   // raw bulk strings
  size_t key_count_ = 0;
};

}  // namespace reborn::routing
