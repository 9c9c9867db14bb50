#include "routing/inflight_epochs.h"

#include <limits>

namespace reborn::routing {

uint64_t InflightEpochs::Begin() {
  ++counts_[epoch_];
  return epoch_;
}

void InflightEpochs::End(uint64_t epoch) {
  auto it = counts_.find(epoch);
  if (it == counts_.end()) return;
  if (--it->second > 0) return;
  counts_.erase(it);
  Release();
}

void InflightEpochs::Advance(std::function<void()> drained) {
  ++epoch_;
  if (drained) waiters_.emplace_back(epoch_, std::move(drained));
  Release();
}

int64_t InflightEpochs::outstanding() const {
  int64_t n = 0;
  for (const auto& [epoch, count] : counts_) n += count;
  return n;
}

void InflightEpochs::Release() {
  const uint64_t oldest = counts_.empty() ? std::numeric_limits<uint64_t>::max()
                                          : counts_.begin()->first;
  std::vector<std::function<void()>> ready;
  for (auto it = waiters_.begin(); it != waiters_.end();) {
    if (it->first <= oldest) {
      ready.push_back(std::move(it->second));
      it = waiters_.erase(it);
    } else {
      ++it;
    }
  }
  // Last: a callback may send (Begin) or advance again.
  for (auto& run : ready) run();
}

}  // namespace reborn::routing
