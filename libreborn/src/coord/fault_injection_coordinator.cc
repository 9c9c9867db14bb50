#include "coord/fault_injection_coordinator.h"

#include <atomic>

#include "absl/strings/str_cat.h"
#include "coord/sv.h"

namespace reborn::coord {

void FaultInjectionCoordinator::SetDropAll(bool drop) {
  absl::MutexLock lock(&mu_);
  drop_all_ = drop;
}

void FaultInjectionCoordinator::DropNext(int n) {
  absl::MutexLock lock(&mu_);
  drop_next_ = n;
}

void FaultInjectionCoordinator::SetDelay(absl::Duration delay) {
  absl::MutexLock lock(&mu_);
  delay_ = delay;
}

void FaultInjectionCoordinator::SetFilter(Filter filter) {
  absl::MutexLock lock(&mu_);
  filter_ = std::move(filter);
}

void FaultInjectionCoordinator::SetReplyFilter(Filter filter) {
  absl::MutexLock lock(&mu_);
  reply_filter_ = std::move(filter);
}

void FaultInjectionCoordinator::SetMuteWatches(bool mute) { *mute_ = mute; }

int64_t FaultInjectionCoordinator::dropped() const {
  absl::MutexLock lock(&mu_);
  return dropped_;
}

absl::Status FaultInjectionCoordinator::Inject(std::string_view op,
                                               std::string_view path) {
  absl::Duration delay;
  Filter filter;
  {
    absl::MutexLock lock(&mu_);
    if (drop_all_ || drop_next_ > 0) {
      if (drop_next_ > 0) drop_next_--;
      dropped_++;
      return absl::UnavailableError(
          absl::StrCat("injected fault: ", Sv(op), " ", Sv(path), " dropped"));
    }
    delay = delay_;
    filter = filter_;
  }
  if (delay > absl::ZeroDuration()) absl::SleepFor(delay);
  if (filter) return filter(op, path);
  return absl::OkStatus();
}

absl::Status FaultInjectionCoordinator::LoseReply(std::string_view op,
                                                  std::string_view path) {
  Filter filter;
  {
    absl::MutexLock lock(&mu_);
    filter = reply_filter_;
  }
  return filter ? filter(op, path) : absl::OkStatus();
}

absl::StatusOr<std::string> FaultInjectionCoordinator::Create(
    std::string_view path, std::string_view data, CreateMode mode) {
  if (absl::Status s = Inject("create", path); !s.ok()) return s;
  return Reply("create", path, base_->Create(path, data, mode));
}

absl::StatusOr<NodeData> FaultInjectionCoordinator::Get(std::string_view path) {
  if (absl::Status s = Inject("get", path); !s.ok()) return s;
  return base_->Get(path);
}

absl::StatusOr<int64_t> FaultInjectionCoordinator::Set(std::string_view path,
                                                       std::string_view data,
                                                       int64_t version) {
  if (absl::Status s = Inject("set", path); !s.ok()) return s;
  return Reply("set", path, base_->Set(path, data, version));
}

absl::Status FaultInjectionCoordinator::Delete(std::string_view path,
                                               int64_t version) {
  if (absl::Status s = Inject("delete", path); !s.ok()) return s;
  return Reply("delete", path, base_->Delete(path, version));
}

absl::StatusOr<std::vector<std::string>> FaultInjectionCoordinator::Children(
    std::string_view path) {
  if (absl::Status s = Inject("children", path); !s.ok()) return s;
  return base_->Children(path);
}

absl::StatusOr<bool> FaultInjectionCoordinator::Exists(std::string_view path) {
  if (absl::Status s = Inject("exists", path); !s.ok()) return s;
  return base_->Exists(path);
}

absl::StatusOr<std::vector<CoordOpResult>> FaultInjectionCoordinator::Multi(
    const std::vector<CoordOp>& ops) {
  if (absl::Status s = Inject("multi", ops.empty() ? "" : ops[0].path);
      !s.ok()) {
    return s;
  }
  return Reply("multi", ops.empty() ? "" : ops[0].path, base_->Multi(ops));
}

absl::StatusOr<std::unique_ptr<Subscription>> FaultInjectionCoordinator::Watch(
    std::string_view path, WatchKind kind, WatchCallback callback) {
  if (absl::Status s = Inject("watch", path); !s.ok()) return s;
  return base_->Watch(
      path, kind,
      [mute = mute_, cb = std::move(callback)](const WatchEvent& e) {
        if (!*mute) cb(e);
      });
}

}  // namespace reborn::coord
