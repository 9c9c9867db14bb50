#pragma once

// Which replica a failover promotes (a pure function, unit-tested).

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "agent/health.h"

namespace reborn::agent {

struct ReplicaCandidate {
  std::string addr;
  bool online = false;  // state in the topology
  ServerHealth health;  // this round's probe
  // When it was last seen replicating from the failed master with the link
  // up and no full sync running (InfinitePast: never).
  absl::Time last_in_sync = absl::InfinitePast();
};

// Eligible: online in the topology, reachable now, and either in sync with
// the failed master until it started failing (last_in_sync no earlier than
// `master_failing_since - grace`) or a master already (promoted by an
// earlier, unfinished failover). Among those the highest replication offset
// wins; ties keep the group's order. NotFound, naming why each candidate was
// refused, when none is eligible.
absl::StatusOr<std::string> ChooseReplica(
    const std::vector<ReplicaCandidate>& candidates,
    absl::Time master_failing_since, absl::Duration grace);

}  // namespace reborn::agent
