#include "migrate/group_scheduler.h"

#include <vector>

#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace reborn::migrate {

bool GroupScheduler::Free(const std::set<int>& sources, int target) {
  if (busy_targets_.contains(target)) return false;
  for (int s : sources) {
    if (busy_sources_.contains(s)) return false;
  }
  // No cycle of moves (1->2, 2->3, 3->1): a store sending a batch holds its
  // key stripes while the SLOTSRESTORE it sent waits for the target's, so a
  // cycle of stores would wait on each other until the server timeout.
  std::set<int> seen;
  std::vector<int> todo = {target};
  while (!todo.empty()) {
    int g = todo.back();
    todo.pop_back();
    if (sources.contains(g)) return false;
    if (!seen.insert(g).second) continue;
    for (const auto& [from, to] : busy_edges_) {
      if (from == g) todo.push_back(to);
    }
  }
  return true;
}

absl::Status GroupScheduler::Acquire(const std::set<int>& sources, int target) {
  absl::MutexLock lock(&mu_);
  while (!Free(sources, target)) {
    mu_.Unlock();
    absl::SleepFor(absl::Milliseconds(20));
    mu_.Lock();
  }
  for (int s : sources) {
    busy_sources_.insert(s);
    busy_edges_.insert({s, target});
  }
  busy_targets_.insert(target);
  return absl::OkStatus();
}

void GroupScheduler::Release(const std::set<int>& sources, int target) {
  absl::MutexLock lock(&mu_);
  for (int s : sources) {
    busy_sources_.erase(busy_sources_.find(s));
    busy_edges_.erase(busy_edges_.find({s, target}));
  }
  busy_targets_.erase(busy_targets_.find(target));
}

}  // namespace reborn::migrate
