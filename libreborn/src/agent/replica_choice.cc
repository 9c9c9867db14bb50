#include "agent/replica_choice.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace reborn::agent {

absl::StatusOr<std::string> ChooseReplica(
    const std::vector<ReplicaCandidate>& candidates,
    absl::Time master_failing_since, absl::Duration grace) {
  const ReplicaCandidate* best = nullptr;
  std::vector<std::string> refused;
  for (const ReplicaCandidate& c : candidates) {
    std::string why;
    if (!c.online) {
      why = "offline in the topology";
    } else if (!c.health.reachable) {
      why = absl::StrCat("unreachable (", c.health.error, ")");
    } else if (!c.health.is_master &&
               c.last_in_sync < master_failing_since - grace) {
      why = "not in sync with the master when it failed";
    }
    if (!why.empty()) {
      refused.push_back(absl::StrCat(c.addr, ": ", why));
      continue;
    }
    if (best == nullptr || c.health.offset > best->health.offset) best = &c;
  }
  if (best == nullptr) {
    return absl::NotFoundError(absl::StrCat(
        "no eligible replica",
        refused.empty()
            ? ""
            : absl::StrCat(" (", absl::StrJoin(refused, "; "), ")")));
  }
  return best->addr;
}

}  // namespace reborn::agent
