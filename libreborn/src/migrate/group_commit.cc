#include "migrate/group_commit.h"

#include <algorithm>
#include <utility>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "reborn/slot.h"

namespace reborn::migrate {
namespace {

// "first-last:gid" of a slot_* change.
bool SlotRangeOf(const std::string& type, const std::string& target, int* a,
                 int* b) {
  if (type.rfind("slot_", 0) != 0) return false;
  size_t dash = target.find('-'), colon = target.find(':');
  return dash != std::string::npos && colon != std::string::npos &&
         dash < colon && absl::SimpleAtoi(target.substr(0, dash), a) &&
         absl::SimpleAtoi(target.substr(dash + 1, colon - dash - 1), b) &&
         *a <= *b;
}

}  // namespace

struct GroupCommit::Pending {
  std::string type;
  std::string target;
  Write write;
  absl::Status result;
  bool done = false;
};

absl::Status GroupCommit::Change(const std::string& type,
                                 const std::string& target, Write write) {
  Pending me{type, target, std::move(write), absl::OkStatus(), false};
  absl::MutexLock lock(&mu_);
  queue_.push_back(&me);
  while (!me.done) {
    if (leader_) {
      done_.Wait(&mu_);
      continue;
    }
    // Lead one change carrying every write queued so far.
    leader_ = true;
    std::vector<Pending*> batch;
    batch.swap(queue_);
    mu_.Unlock();
    std::string type = batch[0]->type, target = batch[0]->target;
    if (batch.size() > 1) {
      // One slot_* action whose target range covers every slot written
      // (docs/coordinator.md: proxies re-read that range).
      int lo = kSlotCount, hi = -1;
      for (Pending* p : batch) {
        int a = 0, b = 0;
        if (!SlotRangeOf(p->type, p->target, &a, &b)) {
          lo = kSlotCount;  // a full reload then
          break;
        }
        lo = std::min(lo, a);
        hi = std::max(hi, b);
      }
      type = lo <= hi ? "slot_batch" : "topology_batch";
      target = lo <= hi ? absl::StrCat(lo, "-", hi, ":0") : "";
    }
    auto r = topology_->ChangeOps(
        type, target,
        [&]() -> absl::StatusOr<std::vector<CoordOp>> {
          // One step's failed write does not stop the others'.
          std::vector<CoordOp> ops;
          for (Pending* p : batch) {
            auto w = p->write();
            p->result = w.status();
            if (w.ok()) ops.insert(ops.end(), w->begin(), w->end());
          }
          return ops;
        },
        options_);
    mu_.Lock();
    for (Pending* p : batch) {
      if (!r.ok() && p->result.ok()) p->result = r.status();
      p->done = true;
    }
    leader_ = false;
    done_.SignalAll();
  }
  return me.result;
}

}  // namespace reborn::migrate
