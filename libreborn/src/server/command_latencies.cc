#include "server/command_latencies.h"

#include <mutex>

namespace reborn::server {

void CommandLatencies::Record(std::string_view full_name, int64_t us) {
  {
    std::shared_lock lock(mu_);
    auto it = by_name_.find(full_name);
    if (it != by_name_.end()) {
      it->second->Record(us);
      return;
    }
  }
  std::unique_lock lock(mu_);
  auto& h = by_name_[std::string(full_name)];
  if (h == nullptr) h = std::make_shared<LatencyHistogram>();
  h->Record(us);
}

std::vector<std::pair<std::string, std::shared_ptr<const LatencyHistogram>>>
CommandLatencies::All() const {
  std::shared_lock lock(mu_);
  std::vector<std::pair<std::string, std::shared_ptr<const LatencyHistogram>>>
      out;
  for (const auto& [name, h] : by_name_) out.emplace_back(name, h);
  return out;
}

std::shared_ptr<const LatencyHistogram> CommandLatencies::Find(
    std::string_view full_name) const {
  std::shared_lock lock(mu_);
  auto it = by_name_.find(full_name);
  return it == by_name_.end() ? nullptr : it->second;
}

void CommandLatencies::Reset() {
  std::unique_lock lock(mu_);
  by_name_.clear();
}

}  // namespace reborn::server
