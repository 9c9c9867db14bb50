#include "proxy/script_cache.h"

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_split.h"
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

std::string ScriptCache::LibraryName(std::string_view code) {
  // "#!<engine> name=<name> [...]" on the first line, as Redis parses it.
  if (!code.starts_with("#!")) return "";
  std::string_view line = code.substr(0, code.find('\n'));
  for (absl::string_view part :
       absl::StrSplit(absl::string_view(line.data(), line.size()), ' ',
                      absl::SkipEmpty())) {
    if (absl::StartsWith(part, "name=")) return std::string(part.substr(5));
  }
  return "";
}

void ScriptCache::RememberLibrary(std::string_view code) {
  std::string name = LibraryName(code);
  if (name.empty()) return;
  absl::MutexLock lock(&mu_);
  auto it = libraries_.find(name);
  if (it != libraries_.end()) {
    library_bytes_ -= it->second.size();
    libraries_.erase(it);
  }
  // Libraries are few and explicit: over the budget, the new one is not
  // remembered (nothing is evicted for it).
  if (library_bytes_ + code.size() > max_bytes_) return;
  library_bytes_ += code.size();
  libraries_.emplace(std::move(name), code);
}

void ScriptCache::ForgetLibrary(std::string_view name) {
  absl::MutexLock lock(&mu_);
  auto it = libraries_.find(std::string(name));
  if (it == libraries_.end()) return;
  library_bytes_ -= it->second.size();
  libraries_.erase(it);
}

void ScriptCache::ClearLibraries() {
  absl::MutexLock lock(&mu_);
  libraries_.clear();
  library_bytes_ = 0;
}

std::vector<std::string> ScriptCache::Libraries() const {
  absl::MutexLock lock(&mu_);
  std::vector<std::string> out;
  out.reserve(libraries_.size());
  for (const auto& [name, code] : libraries_) out.push_back(code);
  return out;
}

}  // namespace reborn::proxy
