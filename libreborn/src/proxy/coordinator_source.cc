#include <map>

#include "absl/base/thread_annotations.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/synchronization/mutex.h"
#include "nlohmann/json.hpp"
#include "reborn/coordinator.h"
#include "reborn/slot_table.h"
#include "spdlog/spdlog.h"

namespace reborn {
namespace {

// Reloads the whole topology on any event (watches are level hints). All
// coordinator callbacks run on the coordinator's single event thread, and
// Reload() is also called from Open(); `mu_` guards the published state and
// the listeners, which are called with the lock released. `reload_mu_`
// serialises reloads.
class CoordinatorSource : public SlotTableSource {
 public:
  CoordinatorSource(std::shared_ptr<Coordinator> coord,
                    CoordinatorSourceOptions options)
      : coord_(std::move(coord)), options_(std::move(options)) {
    root_ = absl::StrCat("/reborn/", options_.product);
  }

  absl::Status Start() {
    for (const char* dir : {"slots", "groups", "proxies", "actions"}) {
      absl::Status s = coord_->CreateRecursive(absl::StrCat(root_, "/", dir));
      if (!s.ok()) return s;
    }
    // Callbacks capture `this`: the destructor ends every subscription
    // first, which waits for a running callback. (Holding a shared_ptr in a
    // callback could run the destructor — and the coordinator's — on the
    // coordinator's own event thread.)
    auto reload = [this](const WatchEvent&) { Reload(); };
    for (const char* dir : {"slots", "groups", "actions"}) {
      auto sub = coord_->Watch(absl::StrCat(root_, "/", dir),
                               WatchKind::kChildren, reload);
      if (!sub.ok()) return sub.status();
      subs_.push_back(std::move(*sub));
    }
    session_ = coord_->AddSessionListener(
        [this](SessionState state) { OnSession(state); });
    absl::Status s = Register();
    if (!s.ok()) return s;
    Reload();
    return absl::OkStatus();
  }

  ~CoordinatorSource() override {
    session_.reset();
    subs_.clear();
    proxy_sub_.reset();
  }

  std::shared_ptr<const SlotTable> Current() const override {
    absl::MutexLock lock(&mu_);
    return table_;
  }
  bool online() const override {
    absl::MutexLock lock(&mu_);
    return session_ok_ && !fenced_ && table_ != nullptr;
  }
  int Subscribe(Listener listener) override {
    std::shared_ptr<const SlotTable> table;
    bool on;
    int id;
    {
      absl::MutexLock lock(&mu_);
      id = next_id_++;
      listeners_[id] = listener;
      table = table_;
      on = session_ok_ && !fenced_ && table_ != nullptr;
    }
    listener(table, on);
    return id;
  }
  void Unsubscribe(int id) override {
    absl::MutexLock lock(&mu_);
    listeners_.erase(id);
  }

 private:
  absl::Status Register() {
    if (options_.id.empty()) return absl::OkStatus();
    std::string path = absl::StrCat(root_, "/proxies/", options_.id);
    auto created =
        coord_->Create(path, options_.node_json, CreateMode::kEphemeral);
    if (!created.ok() && !absl::IsAlreadyExists(created.status())) {
      return created.status();
    }
    if (proxy_sub_ == nullptr) {
      auto sub = coord_->Watch(path, WatchKind::kData,
                               [this](const WatchEvent&) { Reload(); });
      if (sub.ok()) proxy_sub_ = std::move(*sub);
    }
    return absl::OkStatus();
  }

  void OnSession(SessionState state) {
    bool ok = state == SessionState::kConnected;
    if (ok) {
      absl::Status s = Register();  // a new session lost our ephemeral
      if (!s.ok())
        spdlog::warn("proxy re-registration failed: {}", s.ToString());
    }
    {
      absl::MutexLock lock(&mu_);
      session_ok_ = ok;
    }
    if (ok) {
      Reload();
    } else {
      spdlog::warn("coordinator session {}: going offline",
                   std::string(SessionStateName(state)));
      Notify();
    }
  }

  void Reload() {
    absl::MutexLock reload_lock(&reload_mu_);
    auto group_names = coord_->Children(absl::StrCat(root_, "/groups"));
    auto slot_names = coord_->Children(absl::StrCat(root_, "/slots"));
    if (!group_names.ok() || !slot_names.ok()) return;  // session trouble
    std::vector<std::string> groups;
    for (const auto& g : *group_names) {
      auto node = coord_->Get(absl::StrCat(root_, "/groups/", g));
      if (node.ok()) groups.push_back(node->data);
    }
    std::vector<std::string> slots(kSlotCount);
    for (const auto& name : *slot_names) {
      int i = std::atoi(name.c_str());
      if (i < 0 || i >= kSlotCount) continue;
      auto node = coord_->Get(absl::StrCat(root_, "/slots/", name));
      if (node.ok()) slots[i] = node->data;
    }
    bool fenced = false;
    if (!options_.id.empty()) {
      auto me = coord_->Get(absl::StrCat(root_, "/proxies/", options_.id));
      if (me.ok()) {
        auto j = nlohmann::json::parse(me->data, nullptr, false);
        fenced = j.is_object() && j.value("state", "") == "offline";
      }
    }
    auto table = SlotTable::FromTopologyNodes(groups, slots, ++version_);
    if (!table.ok()) {
      spdlog::warn("bad topology under {}: {}", root_,
                   table.status().ToString());
      return;
    }
    {
      absl::MutexLock lock(&mu_);
      table_ = *table;
      fenced_ = fenced;
    }
    Notify();
    AckActions();
  }

  // Acks every action not acked yet: the table published just before was
  // read after the action was written.
  void AckActions() {
    if (options_.id.empty()) return;
    auto actions = coord_->Children(absl::StrCat(root_, "/actions"));
    if (!actions.ok()) return;
    for (const auto& a : *actions) {
      std::string acks = absl::StrCat(root_, "/actions/", a, "/acks");
      std::string mine = absl::StrCat(acks, "/", options_.id);
      auto exists = coord_->Exists(mine);
      if (!exists.ok() || *exists) continue;
      (void)coord_->CreateRecursive(acks);
      (void)coord_->Create(mine, "", CreateMode::kPersistent);
    }
  }

  void Notify() {
    std::vector<Listener> listeners;
    std::shared_ptr<const SlotTable> table;
    bool on;
    {
      absl::MutexLock lock(&mu_);
      for (auto& [id, l] : listeners_) listeners.push_back(l);
      table = table_;
      on = session_ok_ && !fenced_ && table_ != nullptr;
    }
    for (auto& l : listeners) l(table, on);
  }

  std::shared_ptr<Coordinator> coord_;
  CoordinatorSourceOptions options_;
  std::string root_;
  std::vector<std::unique_ptr<Subscription>> subs_;
  std::unique_ptr<Subscription> proxy_sub_;
  std::unique_ptr<Subscription> session_;
  absl::Mutex reload_mu_;
  uint64_t version_ ABSL_GUARDED_BY(reload_mu_) = 0;
  mutable absl::Mutex mu_;
  std::shared_ptr<const SlotTable> table_ ABSL_GUARDED_BY(mu_);
  bool session_ok_ ABSL_GUARDED_BY(mu_) = true;
  bool fenced_ ABSL_GUARDED_BY(mu_) = false;
  int next_id_ ABSL_GUARDED_BY(mu_) = 1;
  std::map<int, Listener> listeners_ ABSL_GUARDED_BY(mu_);
};

}  // namespace

absl::StatusOr<std::shared_ptr<SlotTableSource>> OpenCoordinatorSource(
    std::shared_ptr<Coordinator> coordinator,
    CoordinatorSourceOptions options) {
  if (coordinator == nullptr || options.product.empty()) {
    return absl::InvalidArgumentError("a coordinator and a product are needed");
  }
  auto source =
      std::make_shared<CoordinatorSource>(std::move(coordinator), options);
  absl::Status s = source->Start();
  if (!s.ok()) return s;
  return std::shared_ptr<SlotTableSource>(source);
}

}  // namespace reborn
