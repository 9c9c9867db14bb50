#include "net/client_registry.h"

#include <algorithm>

namespace reborn::net {

bool ClientRegistry::Add(std::shared_ptr<ClientEntry> entry,
                         size_t max_clients) {
  absl::MutexLock lock(&mu_);
  if (max_clients > 0 && clients_.size() >= max_clients) {
    rejected_.fetch_add(1);
    return false;
  }
  total_connections_.fetch_add(1);
  clients_[entry->id] = std::move(entry);
  return true;
}

void ClientRegistry::Remove(uint64_t id) {
  absl::MutexLock lock(&mu_);
  clients_.erase(id);
}

std::shared_ptr<ClientEntry> ClientRegistry::Find(uint64_t id) const {
  absl::MutexLock lock(&mu_);
  auto it = clients_.find(id);
  return it == clients_.end() ? nullptr : it->second;
}

std::vector<std::shared_ptr<ClientEntry>> ClientRegistry::Snapshot() const {
  absl::MutexLock lock(&mu_);
  std::vector<std::shared_ptr<ClientEntry>> out;
  out.reserve(clients_.size());
  for (const auto& [id, entry] : clients_) out.push_back(entry);
  std::sort(out.begin(), out.end(),
            [](const auto& a, const auto& b) { return a->id < b->id; });
  return out;
}

size_t ClientRegistry::size() const {
  absl::MutexLock lock(&mu_);
  return clients_.size();
}

}  // namespace reborn::net
