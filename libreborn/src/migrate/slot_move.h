#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "absl/status/status.h"
#include "reborn/reply.h"
#include "reborn/topology.h"

// The pieces of one slot's move that need no Migrator: the slot-node
// transitions of its 2PC changes (online -> pre_migrate -> migrate ->
// online at the target, docs/migration.md) and the parsing of the source
// master's address and replies.
namespace reborn::migrate {

// Checks and edits one slot node of a change toward group gid; Aborted when
// the slot is not in the state the transition starts from (someone else
// changed it meanwhile).
std::function<absl::Status(SlotNode&)> ToPreMigrate(int gid);
std::function<absl::Status(SlotNode&)> ToMigrate(int gid);
std::function<absl::Status(SlotNode&)> ToOnline(int gid);

// In pre_migrate or migrate toward group gid.
bool MidwayTo(const SlotNode& s, int gid);

// "host:port" -> host, port; InvalidArgument otherwise.
absl::Status SplitHostPort(const std::string& addr, std::string* host,
                           int* port);

// [moved, left] of SLOTSMGRTTAGSLOTBATCH.
absl::Status ParsePair(const Reply& r, int64_t* a, int64_t* b);

}  // namespace reborn::migrate
