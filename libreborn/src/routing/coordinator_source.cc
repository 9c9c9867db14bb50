#include <algorithm>
#include <array>
#include <atomic>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/synchronization/mutex.h"
#include "nlohmann/json.hpp"
#include "reborn/coordinator.h"
#include "reborn/slot_table.h"
#include "reborn/topology.h"
#include "routing/backend_health.h"
#include "spdlog/spdlog.h"

namespace reborn {
namespace {

using Clock = std::chrono::steady_clock;

// Follows the topology: a full read at start and after session changes, then
// only the nodes each new action names (watches are level hints). All
// coordinator callbacks run on the coordinator's single event thread, and
// Reload() is also called from Start() and the retry thread; `mu_` guards
// the published state, the lease and the listeners, which are called with
// the lock released. `reload_mu_` serialises reads and guards the cached
// nodes.
//
// The lease (registered sources): online while the last successful contact
// with the coordinator — a full read, or the probe of our own node made
// every lease/10 — started less than `lease_` ago. A suspended session does
// not end it; an expired one does, at once, until the new session has our
// node again and a full read made after that succeeded. The lease thread
// tells the listeners when it runs out.
class CoordinatorSource : public SlotTableSource {
 public:
  CoordinatorSource(std::shared_ptr<Coordinator> coord,
                    CoordinatorSourceOptions options)
      : coord_(std::move(coord)),
        options_(std::move(options)),
        paths_(coord_.get(), options_.product) {
    root_ = absl::StrCat("/reborn/", options_.product);
    if (!options_.id.empty()) {
      lease_ = absl::ToChronoMilliseconds(
          options_.lease.value_or(coord_->session_timeout() * 2 / 3));
      probe_interval_ = std::clamp<std::chrono::milliseconds>(
          lease_ / 10, std::chrono::milliseconds(20),
          std::chrono::milliseconds(1000));
      // Advertised, so a change that fences this proxy waits it out.
      auto j = nlohmann::json::parse(options_.node_json, nullptr, false);
      if (j.is_object()) {
        j["lease_ms"] = lease_.count();
        options_.node_json = j.dump();
      }
    }
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
    const std::pair<const char*, std::function<void()>> watched[] = {
        {"slots", [this] { Reload(); }},
        {"groups", [this] { OnGroups(); }},
        {"actions", [this] { OnActions(); }},
        {"proxies", [this] { ReadProxies(); }}};
    for (const auto& [dir, on_change] : watched) {
      auto sub =
          coord_->Watch(absl::StrCat(root_, "/", dir), WatchKind::kChildren,
                        [on_change](const WatchEvent&) { on_change(); });
      if (!sub.ok()) return sub.status();
      subs_.push_back(std::move(*sub));
    }
    session_ = coord_->AddSessionListener(
        [this](SessionState state) { OnSession(state); });
    absl::Status s = Register();
    if (!s.ok()) return s;
    ReadProxies();
    Reload();
    retry_thread_ = std::thread([this] { RetryLoop(); });
    if (lease_.count() > 0)
      lease_thread_ = std::thread([this] { LeaseLoop(); });
    if (!options_.id.empty() &&
        options_.health_interval > absl::ZeroDuration()) {
      BackendHealthOptions h;
      h.path = absl::StrCat(root_, "/proxy_views/", options_.id);
      h.interval = options_.health_interval;
      h.down_after = options_.health_down_after;
      h.password = options_.health_password;
      health_ = std::make_unique<BackendHealthReporter>(
          coord_.get(),
          [this] {
            std::vector<std::string> masters;
            if (auto table = Current()) {
              for (const TableGroup& g : table->groups()) {
                if (!g.master.empty()) masters.push_back(g.master);
              }
            }
            return masters;
          },
          std::move(h));
    }
    return absl::OkStatus();
  }

  ~CoordinatorSource() override {
    health_.reset();
    {
      absl::MutexLock lock(&retry_mu_);
      stop_ = true;
    }
    if (retry_thread_.joinable()) retry_thread_.join();
    {
      absl::MutexLock lock(&mu_);
      lease_stop_ = true;
    }
    if (lease_thread_.joinable()) lease_thread_.join();
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
    return OnlineLocked();
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
      on = OnlineLocked();
    }
    listener(table, on);
    return id;
  }
  void Unsubscribe(int id) override {
    absl::MutexLock lock(&mu_);
    listeners_.erase(id);
  }
  std::vector<std::string> ProxyAddrs() const override {
    absl::MutexLock lock(&mu_);
    return proxy_addrs_;
  }

 private:
  bool OnlineLocked() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    if (table_ == nullptr || fenced_ || expired_) return false;
    if (lease_.count() <= 0) return connected_;
    return Clock::now() < contact_ + lease_;
  }

  absl::Status Register() {
    if (options_.id.empty()) return absl::OkStatus();
    uint64_t epoch;
    {
      absl::MutexLock lock(&mu_);
      epoch = epoch_;
    }
    std::string path = absl::StrCat(root_, "/proxies/", options_.id);
    auto created =
        coord_->Create(path, options_.node_json, CreateMode::kEphemeral);
    if (!created.ok() && !absl::IsAlreadyExists(created.status())) {
      return created.status();
    }
    {
      absl::MutexLock lock(&mu_);
      if (epoch == epoch_) registered_epoch_ = epoch;
    }
    if (proxy_sub_ == nullptr) {
      auto sub = coord_->Watch(path, WatchKind::kData,
                               [this](const WatchEvent&) { OnProxyNode(); });
      if (sub.ok()) proxy_sub_ = std::move(*sub);
    }
    return absl::OkStatus();
  }

  void OnSession(SessionState state) {
    bool ok = state == SessionState::kConnected;
    {
      absl::MutexLock lock(&mu_);
      connected_ = ok;
      if (state == SessionState::kExpired || state == SessionState::kClosed) {
        // Our node is gone: changes no longer wait for us.
        expired_ = true;
        ++epoch_;
      }
    }
    if (ok) {
      spdlog::info("coordinator session connected: reading the topology");
      absl::Status s = Register();  // a new session lost our ephemeral
      if (!s.ok()) {
        spdlog::warn("proxy re-registration failed: {}", s.ToString());
        retry_ = true;  // the retry loop registers again
      }
      Reload();
      return;
    }
    if (state == SessionState::kSuspended && lease_.count() > 0) {
      int64_t left = 0;
      {
        absl::MutexLock lock(&mu_);
        if (contact_ != Clock::time_point::min()) {
          left = std::chrono::duration_cast<std::chrono::milliseconds>(
                     contact_ + lease_ - Clock::now())
                     .count();
        }
      }
      spdlog::warn(
          "coordinator session suspended: serving on the last table for at "
          "most {} ms more (the lease from the last contact)",
          std::max<int64_t>(left, 0));
    } else {
      spdlog::warn("coordinator session {}: going offline",
                   std::string(SessionStateName(state)));
    }
    Notify();
  }

  // A successful contact that started at `start`, in session `epoch`; with
  // `registered`, a full read that began with our node in place (which ends
  // an expiry).
  // `notify`: tell the listeners when that brings us back online (a full
  // read publishes its table right after, and notifies then).
  void Contact(Clock::time_point start, uint64_t epoch, bool registered,
               bool notify) {
    {
      absl::MutexLock lock(&mu_);
      if (epoch != epoch_) return;  // the session expired meanwhile
      const bool was_online = OnlineLocked();
      if (registered) expired_ = false;
      if (!expired_) contact_ = std::max(contact_, start);
      if (!notify || was_online || !OnlineLocked()) return;
    }
    Notify();  // back within the lease
  }

  // Where a contact starts: the session epoch and whether we are
  // registered in it.
  std::pair<uint64_t, bool> ContactStart() {
    absl::MutexLock lock(&mu_);
    return {epoch_, options_.id.empty() || registered_epoch_ == epoch_};
  }

  // The lease's contact between full reads: our own node, which also says
  // whether we were fenced.
  void Probe() {
    if (options_.id.empty()) return;
    const Clock::time_point start = Clock::now();
    const uint64_t epoch = ContactStart().first;
    auto me = coord_->Get(absl::StrCat(root_, "/proxies/", options_.id));
    if (!me.ok()) {
      if (absl::IsNotFound(me.status())) retry_ = true;  // register again
      return;
    }
    auto j = nlohmann::json::parse(me->data, nullptr, false);
    const std::string state = j.is_object() ? j.value("state", "") : "";
    if (state == "offline" || state == "mark_offline") {
      OnProxyNode();  // fenced (the watch may not have told us yet)
      return;
    }
    // Not a way back after an expiry: that takes a full read.
    Contact(start, epoch, /*registered=*/false, /*notify=*/true);
  }

  // Tells the listeners when the lease runs out.
  void LeaseLoop() {
    absl::MutexLock lock(&mu_);
    bool was_online = OnlineLocked();
    while (!lease_stop_) {
      Clock::time_point wake = Clock::now() + std::chrono::milliseconds(200);
      if (was_online) wake = std::min(wake, contact_ + lease_);
      mu_.AwaitWithTimeout(
          absl::Condition(&lease_stop_),
          absl::FromChrono(std::max(wake - Clock::now(), Clock::duration{})));
      if (lease_stop_) break;
      const bool on = OnlineLocked();
      if (was_online && !on && !expired_ && !fenced_ && table_ != nullptr) {
        spdlog::warn(
            "no contact with the coordinator for {} ms (the lease): going "
            "offline",
            std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() -
                                                                  contact_)
                .count());
        mu_.Unlock();
        Notify();
        mu_.Lock();
      }
      was_online = on;
    }
  }

  // Everything from scratch: at start, after a session change and when
  // slots are created or deleted.
  void Reload() {
    absl::MutexLock reload_lock(&reload_mu_);
    if (!ContactStart().second) (void)Register();  // after an expiry
    ReadProxies();  // their states change without a children event
    const Clock::time_point start = Clock::now();
    const auto [epoch, registered] = ContactStart();
    auto slot_names = coord_->Children(absl::StrCat(root_, "/slots"));
    auto action_names = coord_->Children(absl::StrCat(root_, "/actions"));
    if (!slot_names.ok() || !action_names.ok() || !ReadGroups()) {
      retry_ = true;
      return;
    }
    for (int i = 0; i < kSlotCount; ++i) SetSlot(i, "");
    for (const auto& name : *slot_names) {
      int i = std::atoi(name.c_str());
      if (i < 0 || i >= kSlotCount) continue;
      auto node = coord_->Get(absl::StrCat(root_, "/slots/", name));
      if (node.ok()) SetSlot(i, node->data, node->version);
    }
    loaded_ = true;
    ReadFencing();
    // Only a read that began with our node in place brings us back after an
    // expiry: changes made before it did not wait for us.
    Contact(start, epoch, registered, /*notify=*/false);
    if (!Publish()) return;
    for (const auto& a : *action_names) {
      if (ActionIsNewer(a, last_action_)) last_action_ = a;
    }
    AckActions(*action_names, /*maybe_acked=*/true);
  }

  // A new action: re-reads only what it names — the slot range of a slot_*
  // action (its target is "first-last:gid"), the groups for group and server
  // actions — so a 2PC round costs a few reads, not one per slot. Anything
  // else falls back to a full reload.
  void OnActions() {
    {
      absl::MutexLock reload_lock(&reload_mu_);
      if (loaded_ && ApplyNewActions()) return;
    }
    Reload();
  }

  // False when a full reload is needed.
  bool ApplyNewActions() ABSL_EXCLUSIVE_LOCKS_REQUIRED(reload_mu_) {
    auto names = coord_->Children(absl::StrCat(root_, "/actions"));
    if (!names.ok()) {  // session trouble, or one lost request
      retry_ = true;
      return true;
    }
    std::vector<std::string> fresh;
    for (const auto& a : *names) {
      if (ActionIsNewer(a, last_action_)) fresh.push_back(a);
    }
    if (fresh.empty()) return true;  // a prune
    std::sort(fresh.begin(), fresh.end(), ActionIsOlder);
    bool groups_changed = false;
    std::vector<std::pair<int, int>> ranges;
    for (const auto& a : fresh) {
      auto node = coord_->Get(absl::StrCat(root_, "/actions/", a));
      if (absl::IsNotFound(node.status())) continue;  // pruned already
      if (!node.ok()) return false;
      auto action = DecodeAction(node->data);
      if (!action.ok()) return false;
      std::pair<int, int> range;
      if (SlotRangeOf(*action, &range)) {
        ranges.push_back(range);
      } else if (absl::StartsWith(action->type, "group_") ||
                 absl::StartsWith(action->type, "server_")) {
        groups_changed = true;
      } else {
        return false;
      }
    }
    if (groups_changed && !ReadGroups()) return false;
    for (const auto& [first, last] : ranges) {
      for (int i = first; i <= last; ++i) {
        auto node = coord_->Get(paths_.SlotPath(i));
        if (node.ok()) {
          SetSlot(i, node->data, node->version);
        } else if (absl::IsNotFound(node.status())) {
          SetSlot(i, "");
        } else {
          return false;
        }
      }
    }
    if (!Publish()) return false;
    last_action_ = fresh.back();
    AckActions(fresh, /*maybe_acked=*/false);
    return true;
  }

  // A group was created or deleted.
  // The online proxies' client addresses (the Redis Cluster face); on a
  // failed read the last list stays.
  void ReadProxies() {
    auto names = coord_->Children(absl::StrCat(root_, "/proxies"));
    if (!names.ok()) return;
    std::vector<std::string> addrs;
    for (const auto& name : *names) {
      auto node = coord_->Get(absl::StrCat(root_, "/proxies/", name));
      if (!node.ok()) continue;
      auto info = DecodeProxy(node->data);
      if (info.ok() && info->state == ProxyState::kOnline &&
          !info->addr.empty()) {
        addrs.push_back(info->addr);
      }
    }
    std::sort(addrs.begin(), addrs.end());
    absl::MutexLock lock(&mu_);
    proxy_addrs_ = std::move(addrs);
  }

  void OnGroups() {
    absl::MutexLock reload_lock(&reload_mu_);
    if (loaded_ && ReadGroups()) (void)Publish();
  }

  // Our own node changed (fencing).
  void OnProxyNode() {
    absl::MutexLock reload_lock(&reload_mu_);
    ReadFencing();
    if (loaded_) (void)Publish();
  }

  // Topology::Change fences a silent proxy with mark_offline; an operator
  // may set offline. Read at a full reload and when our node changes, not on
  // every action: a fence is followed by a full session timeout before the
  // topology moves on, time enough for the node's watch.
  void ReadFencing() ABSL_EXCLUSIVE_LOCKS_REQUIRED(reload_mu_) {
    node_fenced_ = false;
    if (options_.id.empty()) return;
    auto me = coord_->Get(absl::StrCat(root_, "/proxies/", options_.id));
    if (!me.ok()) return;
    auto j = nlohmann::json::parse(me->data, nullptr, false);
    const std::string state = j.is_object() ? j.value("state", "") : "";
    node_fenced_ = state == "offline" || state == "mark_offline";
  }

  bool ReadGroups() ABSL_EXCLUSIVE_LOCKS_REQUIRED(reload_mu_) {
    auto names = coord_->Children(absl::StrCat(root_, "/groups"));
    if (!names.ok()) return false;
    std::vector<std::string> groups;
    for (const auto& g : *names) {
      auto node = coord_->Get(absl::StrCat(root_, "/groups/", g));
      if (node.ok()) {
        groups.push_back(node->data);
      } else if (!absl::IsNotFound(node.status())) {
        return false;
      }
    }
    groups_ = std::move(groups);
    return true;
  }

  // Builds and publishes a table from the cached nodes.
  bool Publish() ABSL_EXCLUSIVE_LOCKS_REQUIRED(reload_mu_) {
    auto table = BuildTable();
    if (!table.ok()) {
      spdlog::warn("bad topology under {}: {}", root_,
                   table.status().ToString());
      return false;
    }
    {
      absl::MutexLock lock(&mu_);
      table_ = *table;
      fenced_ = node_fenced_;
    }
    Notify();
    return true;
  }

  // Slot nodes are parsed as they are read: rebuilding the table from 1024
  // JSON nodes took 0.7 ms, on every proxy for every 2PC round.
  void SetSlot(int i, std::string_view text, int64_t version = 0)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(reload_mu_) {
    auto slot = SlotTable::ParseSlotNode(text);
    if (slot.ok()) {
      slots_[i] = *slot;
      slots_[i].version = version;
      bad_slots_.erase(i);
    } else {
      slots_[i] = TableSlot{};
      bad_slots_[i] = std::string(slot.status().message());
    }
  }

  absl::StatusOr<std::shared_ptr<const SlotTable>> BuildTable()
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(reload_mu_) {
    if (!bad_slots_.empty()) {
      const auto& [slot, error] = *bad_slots_.begin();
      return absl::InvalidArgumentError(
          absl::StrCat("slot ", slot, ": ", error));
    }
    std::vector<TableGroup> groups;
    for (const std::string& text : groups_) {
      auto group = SlotTable::ParseGroupNode(text);
      if (!group.ok()) return group.status();
      groups.push_back(*std::move(group));
    }
    return SlotTable::Create(std::move(groups), slots_, ++version_);
  }

  // "first-last:gid" of a slot_* action.
  static bool SlotRangeOf(const ActionInfo& action,
                          std::pair<int, int>* range) {
    if (!absl::StartsWith(action.type, "slot_")) return false;
    std::vector<std::string> parts =
        absl::StrSplit(action.target, absl::ByAnyChar("-:"));
    if (parts.size() != 3 || !absl::SimpleAtoi(parts[0], &range->first) ||
        !absl::SimpleAtoi(parts[1], &range->second)) {
      return false;
    }
    return range->first >= 0 && range->first <= range->second &&
           range->second < kSlotCount;
  }

  // Sequential names have a fixed width per backend; order by length first
  // anyway.
  static bool ActionIsOlder(const std::string& a, const std::string& b) {
    return a.size() != b.size() ? a.size() < b.size() : a < b;
  }
  static bool ActionIsNewer(const std::string& a, const std::string& than) {
    return ActionIsOlder(than, a);
  }

  // Acks `actions`: the table published just before was read after they
  // were written. After a full reload most of them are acked already, and
  // a create that fails is still a logged transaction on ZooKeeper, so
  // those are checked first; new actions are acked straight away.
  void AckActions(const std::vector<std::string>& actions, bool maybe_acked) {
    if (options_.id.empty()) return;
    for (const auto& a : actions) {
      if (maybe_acked) {
        auto exists = coord_->Exists(
            absl::StrCat(root_, "/actions/", a, "/acks/", options_.id));
        if (exists.ok() && *exists) continue;
      }
      absl::Status s = paths_.AckAction(a, options_.id);
      if (!s.ok() && !absl::IsNotFound(s)) retry_ = true;  // NotFound: pruned
    }
  }

  // A read or an ack that failed without a session event (a lost request,
  // a timeout) would wait for the next change; instead the whole topology
  // is read again (and every pending action acked) a moment later.
  // It also probes for the lease.
  void RetryLoop() {
    absl::MutexLock lock(&retry_mu_);
    Clock::time_point next_probe = Clock::now() + probe_interval_;
    while (!stop_) {
      retry_mu_.AwaitWithTimeout(
          absl::Condition(&stop_),
          absl::FromChrono(std::min<std::chrono::milliseconds>(
              probe_interval_, std::chrono::milliseconds(200))));
      if (stop_) break;
      const bool retry = retry_.exchange(false);
      const bool probe = lease_.count() > 0 && Clock::now() >= next_probe;
      if (!retry && !probe) continue;
      retry_mu_.Unlock();
      if (retry) {
        Reload();
      } else {
        Probe();
      }
      next_probe = Clock::now() + probe_interval_;
      retry_mu_.Lock();
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
      on = OnlineLocked();
    }
    for (auto& l : listeners) l(table, on);
  }

  std::shared_ptr<Coordinator> coord_;
  CoordinatorSourceOptions options_;
  absl::Mutex retry_mu_;
  bool stop_ ABSL_GUARDED_BY(retry_mu_) = false;
  std::atomic<bool> retry_{false};
  std::thread retry_thread_;
  std::thread lease_thread_;
  std::unique_ptr<BackendHealthReporter> health_;
  // 0: no lease (unregistered: offline while suspended).
  std::chrono::milliseconds lease_{0};
  std::chrono::milliseconds probe_interval_{200};
  std::string root_;
  Topology paths_;  // node paths, and acks
  std::vector<std::unique_ptr<Subscription>> subs_;
  std::unique_ptr<Subscription> proxy_sub_;
  std::unique_ptr<Subscription> session_;
  absl::Mutex reload_mu_;
  uint64_t version_ ABSL_GUARDED_BY(reload_mu_) = 0;
  // The topology nodes as last read: groups as text, slots parsed (with the
  // errors of the nodes that did not parse, by slot).
  std::vector<std::string> groups_ ABSL_GUARDED_BY(reload_mu_);
  std::array<TableSlot, kSlotCount> slots_ ABSL_GUARDED_BY(reload_mu_){};
  std::map<int, std::string> bad_slots_ ABSL_GUARDED_BY(reload_mu_);
  std::string last_action_ ABSL_GUARDED_BY(reload_mu_);  // newest applied
  bool loaded_ ABSL_GUARDED_BY(reload_mu_) = false;
  bool node_fenced_ ABSL_GUARDED_BY(reload_mu_) = false;  // ReadFencing()
  mutable absl::Mutex mu_;
  std::shared_ptr<const SlotTable> table_ ABSL_GUARDED_BY(mu_);
  std::vector<std::string> proxy_addrs_ ABSL_GUARDED_BY(mu_);
  bool connected_ ABSL_GUARDED_BY(mu_) = true;  // the last session event
  bool expired_ ABSL_GUARDED_BY(mu_) = false;   // until back after expiry
  uint64_t epoch_ ABSL_GUARDED_BY(mu_) = 0;     // bumped on every expiry
  uint64_t registered_epoch_ ABSL_GUARDED_BY(mu_) = UINT64_MAX;
  // When the last successful contact started.
  Clock::time_point contact_ ABSL_GUARDED_BY(mu_) = Clock::time_point::min();
  bool lease_stop_ ABSL_GUARDED_BY(mu_) = false;
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
