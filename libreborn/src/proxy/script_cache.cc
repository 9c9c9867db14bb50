#include "proxy/script_cache.h"

#include "absl/strings/ascii.h"
#include "scripting/sha1.h"

namespace reborn::proxy {

void ScriptCache::Remember(std::string_view body) {
  if (body.size() > max_bytes_) return;
  std::string sha = scripting::Sha1Hex(body);
  absl::MutexLock lock(&mu_);
  if (bodies_.contains(sha)) return;
  while (bytes_ + body.size() > max_bytes_ && !order_.empty()) {
    auto it = bodies_.find(order_.front());
    if (it != bodies_.end()) {
      bytes_ -= it->second.size();
      bodies_.erase(it);
    }
    order_.pop_front();
  }
  bytes_ += body.size();
  order_.push_back(sha);
  bodies_.emplace(std::move(sha), body);
}

std::optional<std::string> ScriptCache::Body(std::string_view sha) const {
  const std::string key = absl::AsciiStrToLower(std::string(sha));
  absl::MutexLock lock(&mu_);
  auto it = bodies_.find(key);
  if (it == bodies_.end()) return std::nullopt;
  return it->second;
}

void ScriptCache::Clear() {
  absl::MutexLock lock(&mu_);
  bodies_.clear();
  order_.clear();
  bytes_ = 0;
}

uint64_t ScriptCache::bytes() const {
  absl::MutexLock lock(&mu_);
  return bytes_;
}

}  // namespace reborn::proxy
