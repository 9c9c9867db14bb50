// The rebalance planner: quotas by weight, minimal moves, contiguous ranges.

#include "reborn/rebalance.h"

#include <algorithm>
#include <cmath>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "reborn/slot.h"

namespace reborn {

absl::StatusOr<std::map<int, double>> ParseWeights(std::string_view text) {
  std::map<int, double> out;
  if (text.empty()) return out;
  std::vector<std::string> items = absl::StrSplit(std::string(text), ',');
  for (const std::string& item : items) {
    std::vector<std::string> kv = absl::StrSplit(item, '=');
    int gid = 0;
    double w = 0;
    if (kv.size() != 2 || !absl::SimpleAtoi(kv[0], &gid) ||
        !absl::SimpleAtod(kv[1], &w)) {
      return absl::InvalidArgumentError(
          absl::StrCat("bad weight '", item, "' (want gid=weight)"));
    }
    out[gid] = w;
  }
  return out;
}

absl::StatusOr<RebalancePlan> PlanRebalance(
    const std::vector<SlotNode>& slots, const std::vector<GroupNode>& groups,
    const std::map<int, double>& weights) {
  std::map<int, double> weight;  // every group
  std::map<int, bool> has_master;
  for (const GroupNode& g : groups) {
    has_master[g.id] = g.master() != nullptr;
    weight[g.id] = 1;
  }
  for (const auto& [gid, w] : weights) {
    if (!weight.contains(gid)) {
      return absl::InvalidArgumentError(
          absl::StrCat("weight for group ", gid, ", which does not exist"));
    }
    if (!(w >= 0) || std::isinf(w)) {
      return absl::InvalidArgumentError(
          absl::StrCat("weight of group ", gid, " must be >= 0"));
    }
    weight[gid] = w;
  }
  double total = 0;
  for (auto& [gid, w] : weight) {
    if (!has_master[gid]) w = 0;
    total += w;
  }
  if (total <= 0) {
    return absl::InvalidArgumentError(
        "no group with a master and a weight above 0");
  }

  RebalancePlan plan;
  std::map<int, std::vector<int>> owned;  // group -> its slots, ascending
  for (auto& [gid, w] : weight) owned[gid];
  for (const SlotNode& s : slots) {
    if (s.state == SlotState::kPreMigrate || s.state == SlotState::kMigrate) {
      return absl::FailedPreconditionError(absl::StrCat(
          "slot ", s.id, " is migrating; finish or cancel that first"));
    }
    if (s.state != SlotState::kOnline || s.group_id == 0) {
      return absl::FailedPreconditionError(absl::StrCat(
          "slot ", s.id, " is offline; assign slots with range-set first"));
    }
    if (!weight.contains(s.group_id)) {
      return absl::FailedPreconditionError(
          absl::StrCat("slot ", s.id, " belongs to group ", s.group_id,
                       ", which does not exist"));
    }
    owned[s.group_id].push_back(s.id);
  }
  for (auto& [gid, list] : owned) {
    std::sort(list.begin(), list.end());
    plan.before[gid] = static_cast<int>(list.size());
    if (!list.empty() && !has_master[gid]) {
      return absl::FailedPreconditionError(absl::StrCat(
          "group ", gid, " owns slots but has no master to move them from"));
    }
  }

  // Quotas by the largest remainder.
  const int n = static_cast<int>(slots.size());
  std::map<int, int> quota;
  struct Rest {
    double frac;
    int owned;
    int gid;
  };
  std::vector<Rest> rests;
  int given = 0;
  for (const auto& [gid, w] : weight) {
    double exact = n * w / total;
    int q = static_cast<int>(std::floor(exact));
    quota[gid] = q;
    given += q;
    if (w > 0) rests.push_back({exact - q, plan.before[gid], gid});
  }
  std::sort(rests.begin(), rests.end(), [](const Rest& a, const Rest& b) {
    if (a.frac != b.frac) return a.frac > b.frac;
    if (a.owned != b.owned) return a.owned > b.owned;
    return a.gid < b.gid;
  });
  for (size_t i = 0; given < n && i < rests.size(); ++i, ++given) {
    quota[rests[i].gid]++;
  }

  // Donors give their highest slots; receivers take them in slot order.
  std::vector<std::pair<int, int>> donated;  // (slot, source)
  for (const auto& [gid, list] : owned) {
    int extra = static_cast<int>(list.size()) - quota[gid];
    for (int i = static_cast<int>(list.size()) - extra;
         extra > 0 && i < static_cast<int>(list.size()); ++i) {
      donated.push_back({list[i], gid});
    }
  }
  std::sort(donated.begin(), donated.end());
  size_t next = 0;
  for (const auto& [gid, list] : owned) {
    int need = quota[gid] - static_cast<int>(list.size());
    for (; need > 0 && next < donated.size(); --need, ++next) {
      auto [slot, source] = donated[next];
      if (!plan.moves.empty()) {
        RebalanceMove& last = plan.moves.back();
        if (last.source == source && last.target == gid &&
            last.to + 1 == slot) {
          last.to = slot;
          continue;
        }
      }
      plan.moves.push_back({source, gid, slot, slot});
    }
  }
  std::sort(plan.moves.begin(), plan.moves.end(),
            [](const RebalanceMove& a, const RebalanceMove& b) {
              return a.from < b.from;
            });
  for (const RebalanceMove& m : plan.moves) plan.slots_moved += m.count();
  plan.after = quota;
  return plan;
}

}  // namespace reborn
