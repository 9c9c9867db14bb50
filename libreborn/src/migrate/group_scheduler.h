#pragma once

#include <set>
#include <utility>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"

namespace reborn::migrate {

// Which migration steps may run at once: a step waits until no other
// running step uses its source groups as a source or its target group as a
// target, and while it would close a cycle of moves (1->2, 2->3, 3->1): a
// store sending a batch holds its key stripes while the SLOTSRESTORE it sent
// waits for the target's, so a cycle of stores would wait on each other
// until the server timeout. Slots of 1->3 and 2->4, or 1->2 and 2->3, move
// concurrently; 1->3 and 1->4 take turns.
//
// Synchronisation: `mu_` guards the busy groups and edges.
class GroupScheduler {
 public:
  GroupScheduler() = default;
  GroupScheduler(const GroupScheduler&) = delete;
  GroupScheduler& operator=(const GroupScheduler&) = delete;

  // Waits until a step from `sources` to `target` may run, then marks its
  // groups busy until Release() with the same arguments.
  absl::Status Acquire(const std::set<int>& sources, int target);
  void Release(const std::set<int>& sources, int target);

 private:
  bool Free(const std::set<int>& sources, int target)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  absl::Mutex mu_;
  std::multiset<int> busy_sources_ ABSL_GUARDED_BY(mu_);
  std::multiset<int> busy_targets_ ABSL_GUARDED_BY(mu_);
  std::multiset<std::pair<int, int>> busy_edges_ ABSL_GUARDED_BY(mu_);
};

}  // namespace reborn::migrate
