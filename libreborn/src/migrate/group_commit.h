#pragma once

#include <functional>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "reborn/topology.h"

namespace reborn::migrate {

// Topology::ChangeOps with group commit: writes requested by concurrent
// migration steps while a change is under way go together into the next one
// (one 2PC round for all of them, each round costing every proxy and the
// coordinator).
//
// Synchronisation: `mu_` guards the queue of writes waiting for the next
// change and the leader flag; the leader runs the change without it, and
// the others wait on `done_`.
class GroupCommit {
 public:
  using Write = std::function<absl::StatusOr<std::vector<CoordOp>>()>;

  // `topology` must outlive the GroupCommit.
  GroupCommit(Topology* topology, const ChangeOptions& options)
      : topology_(topology), options_(options) {}
  GroupCommit(const GroupCommit&) = delete;
  GroupCommit& operator=(const GroupCommit&) = delete;

  // One change of action `type` on `target` carrying `write`'s ops, maybe
  // with other callers' writes: then the action is one slot_batch whose
  // target range covers every slot written ("first-last:0"), or a
  // topology_batch (a full reload) when a write is not a slot_* change.
  // Returns the error of this caller's write, else of the change.
  absl::Status Change(const std::string& type, const std::string& target,
                      Write write);

 private:
  struct Pending;

  Topology* const topology_;
  const ChangeOptions options_;
  absl::Mutex mu_;
  absl::CondVar done_;
  std::vector<Pending*> queue_ ABSL_GUARDED_BY(mu_);
  bool leader_ ABSL_GUARDED_BY(mu_) = false;
};

}  // namespace reborn::migrate
