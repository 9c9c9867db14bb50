#pragma once

// The rebalance planner behind `reborn-config slot rebalance` (docs/design.md
// §7, docs/migration.md): a pure function from the current topology to a list
// of slot moves, so that every group with a master owns a share of the 1024
// slots proportional to its weight (default 1: an even share), moving as few
// slots as possible.
//
// Quotas: 1024 * w / sum(w), rounded down, the remaining slots going to the
// largest fractional parts (ties: the group owning more slots now, then the
// lower id). A group with weight 0 or without a master gets 0 ("removed").
// Slots moved = sum over groups of max(0, owned - quota), which is the
// minimum. A donor gives its highest-numbered slots, receivers (by id) take
// them in slot order, so moves are few contiguous ranges.

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "reborn/export.h"
#include "reborn/topology.h"

namespace reborn {

struct REBORN_EXPORT RebalanceMove {
  int source = 0;  // group losing slots [from, to]
  int target = 0;  // group receiving them
  int from = 0;
  int to = 0;
  int count() const { return to - from + 1; }
};

struct REBORN_EXPORT RebalancePlan {
  std::map<int, int> before;         // group -> slots owned now
  std::map<int, int> after;          // group -> slots owned after the moves
  std::vector<RebalanceMove> moves;  // by slot
  int slots_moved = 0;
};

// `weights`: group -> weight (>= 0); groups not named weigh 1. Errors:
// InvalidArgument (negative weight, weight of an unknown group, all weights
// 0), FailedPrecondition (a slot offline or migrating; a group without a
// master owns slots).
REBORN_EXPORT absl::StatusOr<RebalancePlan> PlanRebalance(
    const std::vector<SlotNode>& slots, const std::vector<GroupNode>& groups,
    const std::map<int, double>& weights = {});

// "1=2,3=0.5" -> {1: 2, 3: 0.5}; "" -> {}.
REBORN_EXPORT absl::StatusOr<std::map<int, double>> ParseWeights(
    std::string_view text);

}  // namespace reborn
