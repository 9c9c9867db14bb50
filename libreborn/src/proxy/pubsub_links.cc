#include "proxy/pubsub_links.h"

#include <algorithm>
#include <utility>

#include "command/command_spec.h"
#include "net/sync_client.h"
#include "proxy/proxy_impl.h"
#include "reborn/router.h"
#include "reborn/slot.h"
#include "routing/merge.h"
#include "spdlog/spdlog.h"

namespace reborn::proxy {
namespace {

constexpr std::array<const char*, PubSubLinks::kKinds> kSubscribe = {
    "SUBSCRIBE", "PSUBSCRIBE", "SSUBSCRIBE"};
constexpr std::array<const char*, PubSubLinks::kKinds> kUnsubscribe = {
    "UNSUBSCRIBE", "PUNSUBSCRIBE", "SUNSUBSCRIBE"};
// A failed link's subscriptions are placed again after this long (the
// backend connection's own backoff spaces the connects further).
constexpr std::chrono::milliseconds kRetryDelay{300};

constexpr std::string_view kKeyspacePrefix = "__keyspace@";
constexpr std::string_view kKeyeventPrefix = "__keyevent@";

bool IsConfirmation(std::string_view kind) {
  return kind == "subscribe" || kind == "unsubscribe" || kind == "psubscribe" ||
         kind == "punsubscribe" || kind == "ssubscribe" ||
         kind == "sunsubscribe";
}

// One character class of a glob pattern starting at pattern[*p] == '[':
// whether it accepts `c`; *p ends past the closing ']'. As Redis'
// stringmatchlen.
bool ClassAccepts(std::string_view pattern, size_t* p, char c) {
  size_t i = *p + 1;
  bool negate = i < pattern.size() && pattern[i] == '^';
  if (negate) ++i;
  bool match = false;
  while (i < pattern.size() && pattern[i] != ']') {
    if (pattern[i] == '\\' && i + 1 < pattern.size()) {
      ++i;
      match = match || pattern[i] == c;
    } else if (i + 2 < pattern.size() && pattern[i + 1] == '-') {
      char lo = std::min(pattern[i], pattern[i + 2]);
      char hi = std::max(pattern[i], pattern[i + 2]);
      match = match || (c >= lo && c <= hi);
      i += 2;
    } else {
      match = match || pattern[i] == c;
    }
    ++i;
  }
  *p = i + 1;
  return negate ? !match : match;
}

}  // namespace

PubSubLinks::PubSubLinks(Worker* worker, Deliver deliver)
    : worker_(worker), deliver_(std::move(deliver)) {}

PubSubLinks::~PubSubLinks() { Clear(); }

bool PubSubLinks::Add(Kind kind, const std::string& name) {
  return names_[kind].insert(name).second;
}

bool PubSubLinks::Remove(Kind kind, const std::string& name) {
  return names_[kind].erase(name) > 0;
}

bool PubSubLinks::empty() const {
  return names_[kChannel].empty() && names_[kPattern].empty() &&
         names_[kShard].empty();
}

std::vector<std::string> PubSubLinks::Names(Kind kind) const {
  return {names_[kind].begin(), names_[kind].end()};
}

bool PubSubLinks::PatternMayMatchPrefix(std::string_view pattern,
                                        std::string_view prefix) {
  size_t p = 0;
  for (char c : prefix) {
    if (p >= pattern.size()) return false;
    switch (pattern[p]) {
      case '*':
        return true;
      case '?':
        ++p;
        break;
      case '[':
        if (!ClassAccepts(pattern, &p, c)) return false;
        break;
      case '\\':
        if (p + 1 < pattern.size()) ++p;
        [[fallthrough]];
      default:
        if (pattern[p] != c) return false;
        ++p;
    }
  }
  return true;
}

bool PubSubLinks::IsKeyspaceName(Kind kind, std::string_view name) {
  switch (kind) {
    case kChannel:
      return name.starts_with(kKeyspacePrefix) ||
             name.starts_with(kKeyeventPrefix);
    case kPattern:
      return PatternMayMatchPrefix(name, kKeyspacePrefix) ||
             PatternMayMatchPrefix(name, kKeyeventPrefix);
    case kShard:
      return false;
  }
  return false;
}

std::vector<std::string> PubSubLinks::Targets(const SlotTable& table, Kind kind,
                                              const std::string& name) const {
  std::vector<std::string> out;
  auto add = [&out](const TableGroup* g) {
    if (g != nullptr && !g->master.empty() &&
        std::find(out.begin(), out.end(), g->master) == out.end()) {
      out.push_back(g->master);
    }
  };
  if (kind == kShard) {
    const TableSlot& slot = table.slot(SlotOf(name));
    if (slot.group_id == 0 || slot.state == SlotState::kOffline) return out;
    add(table.group(slot.group_id));
    // While the slot migrates (from pre_migrate on, where group_id is still
    // the source) both ends hold it: SPUBLISH goes to the source until every
    // proxy holds the slot's requests, then to the target.
    if (slot.state == SlotState::kPreMigrate ||
        slot.state == SlotState::kMigrate) {
      if (slot.migrate_from != 0) add(table.group(slot.migrate_from));
      if (slot.migrate_to != 0) add(table.group(slot.migrate_to));
    }
    return out;
  }
  std::vector<int> serving = table.ServingGroups();
  if (serving.empty()) return out;
  add(table.group(serving.front()));  // the designated group
  if (IsKeyspaceName(kind, name)) {
    for (int gid : serving) add(table.group(gid));
  }
  return out;
}

PubSubLinks::Link& PubSubLinks::LinkTo(const std::string& addr) {
  auto it = links_.find(addr);
  if (it != links_.end()) return it->second;
  Link& link = links_[addr];
  link.conn = worker_->Dedicated(addr);
  std::weak_ptr<PubSubLinks> weak = weak_from_this();
  link.conn->SetPushHandler([weak, addr, conn = link.conn.get()](
                                std::string_view reply, bool closed) {
    auto self = weak.lock();
    if (!self) return;
    auto it = self->links_.find(addr);
    // A reply of a link that was replaced meanwhile.
    if (it == self->links_.end() || it->second.conn.get() != conn) return;
    self->OnReply(it->first, reply, closed);
  });
  return link;
}

void PubSubLinks::Send(const std::string& addr, Link& link, Kind kind,
                       bool subscribe, const std::vector<std::string>& names,
                       std::function<void()> done) {
  std::vector<std::string> args;
  args.reserve(names.size() + 1);
  args.emplace_back(subscribe ? kSubscribe[kind] : kUnsubscribe[kind]);
  for (const std::string& n : names) {
    args.push_back(n);
    if (subscribe) {
      link.held[kind].insert(n);
    } else {
      link.held[kind].erase(n);
    }
  }
  link.waiters.push_back(Waiter{names.size(), std::move(done)});
  std::weak_ptr<PubSubLinks> weak = weak_from_this();
  // The callback runs only when the connection is in backoff (push mode
  // takes every reply): the link failed.
  link.conn->Send(
      net::EncodeCommand(args),
      [weak, addr, conn = link.conn.get()](std::string_view) {
        auto self = weak.lock();
        if (!self) return;
        auto it = self->links_.find(addr);
        if (it == self->links_.end() || it->second.conn.get() != conn) return;
        self->Failed(it->first);
      });
}

void PubSubLinks::OnReply(const std::string& addr, std::string_view reply,
                          bool closed) {
  if (closed) {
    Failed(addr);
    return;
  }
  Link& link = links_.at(addr);
  std::vector<std::string_view> elems;
  std::optional<std::string_view> kind;
  if (routing::SplitArray(reply, &elems) && !elems.empty()) {
    kind = routing::ParseBulkReply(elems[0]);
  }
  if (kind && IsConfirmation(*kind)) {
    if (link.waiters.empty()) return;
    Waiter& w = link.waiters.front();
    if (w.replies > 0) --w.replies;
    if (w.replies > 0) return;
  } else if (kind && elems.size() >= 3) {
    // A message: relayed while the client still holds the name (a message
    // that crossed the client's unsubscribe is dropped, as the client has
    // its confirmation already).
    std::optional<std::string_view> name = routing::ParseBulkReply(elems[1]);
    bool held = false;
    if (name && *kind == "message" && elems.size() == 3) {
      held = names_[kChannel].contains(std::string(*name));
    } else if (name && *kind == "pmessage" && elems.size() == 4) {
      held = names_[kPattern].contains(std::string(*name));
    } else if (name && *kind == "smessage" && elems.size() == 3) {
      held = names_[kShard].contains(std::string(*name));
    }
    if (held) deliver_(reply);
    return;
  } else if (link.waiters.empty()) {
    return;  // not ours to answer (an error without a request pending)
  }
  // A confirmation completed the oldest request, or the backend refused it
  // as a whole (an error reply).
  if (!kind) {
    spdlog::warn(
        "pubsub backend {}: {}", addr,
        std::string(reply.substr(0, std::min<size_t>(reply.size(), 200))));
  }
  std::function<void()> done = std::move(link.waiters.front().done);
  link.waiters.pop_front();
  if (done) done();
}

void PubSubLinks::Failed(const std::string& addr) {
  if (!links_.contains(addr)) return;
  // What the link held is lost with it; its waiters complete, and the
  // names are placed again by the retry.
  RetryLater();
  CloseLink(addr);
}

void PubSubLinks::RetryLater() {
  if (retry_armed_ || empty()) return;
  if (!retry_timer_) {
    retry_timer_ = std::make_unique<asio::steady_timer>(worker_->io());
  }
  retry_armed_ = true;
  retry_timer_->expires_after(kRetryDelay);
  retry_timer_->async_wait(
      [weak = weak_from_this()](const asio::error_code& ec) {
        auto self = weak.lock();
        if (!self || ec) return;
        self->retry_armed_ = false;
        self->Resync();
      });
}

void PubSubLinks::Place(Kind kind, const std::vector<std::string>& names,
                        std::function<void()> done) {
  const auto& table = worker_->table();
  if (table == nullptr) {
    done();
    return;
  }
  // Names per target address, each sent once (a name already held there
  // needs nothing).
  std::map<std::string, std::vector<std::string>> sends;
  for (const std::string& name : names) {
    for (const std::string& addr : Targets(*table, kind, name)) {
      auto it = links_.find(addr);
      if (it != links_.end() && it->second.held[kind].contains(name)) continue;
      std::vector<std::string>& batch = sends[addr];
      if (std::find(batch.begin(), batch.end(), name) == batch.end()) {
        batch.push_back(name);
      }
    }
  }
  auto barrier = std::make_shared<Barrier>();
  barrier->count = sends.size() + 1;
  barrier->done = std::move(done);
  auto arrive = [barrier] {
    if (--barrier->count == 0 && barrier->done) barrier->done();
  };
  for (const auto& [addr, batch] : sends) {
    Send(addr, LinkTo(addr), kind, true, batch, arrive);
  }
  arrive();
}

void PubSubLinks::Unplace(Kind kind, const std::vector<std::string>& names,
                          std::function<void()> done) {
  auto barrier = std::make_shared<Barrier>();
  barrier->done = std::move(done);
  auto arrive = [barrier] {
    if (--barrier->count == 0 && barrier->done) barrier->done();
  };
  for (auto& [addr, link] : links_) {
    std::vector<std::string> batch;
    for (const std::string& name : names) {
      if (link.held[kind].contains(name) &&
          std::find(batch.begin(), batch.end(), name) == batch.end()) {
        batch.push_back(name);
      }
    }
    if (batch.empty()) continue;
    ++barrier->count;
    // A link left holding nothing is closed once its backend confirmed.
    Send(addr, link, kind, false, batch,
         [weak = weak_from_this(), addr, arrive] {
           if (auto self = weak.lock()) {
             auto it = self->links_.find(addr);
             if (it != self->links_.end() && it->second.waiters.empty() &&
                 std::all_of(it->second.held.begin(), it->second.held.end(),
                             [](const auto& held) { return held.empty(); })) {
               self->CloseLink(addr);
             }
           }
           arrive();
         });
  }
  arrive();
}

void PubSubLinks::Resync() {
  const uint64_t generation = ++resync_generation_;
  const auto& table = worker_->table();
  if (table == nullptr || empty()) {
    Prune();
    return;
  }
  auto barrier = std::make_shared<Barrier>();
  std::weak_ptr<PubSubLinks> weak = weak_from_this();
  barrier->done = [weak, generation] {
    auto self = weak.lock();
    if (self && self->resync_generation_ == generation) self->Prune();
  };
  auto arrive = [barrier] {
    if (--barrier->count == 0 && barrier->done) barrier->done();
  };
  for (int k = 0; k < kKinds; ++k) {
    const Kind kind = static_cast<Kind>(k);
    std::vector<std::string> names(names_[k].begin(), names_[k].end());
    ++barrier->count;
    Place(kind, names, arrive);
  }
  arrive();
}

void PubSubLinks::Prune() {
  const auto& table = worker_->table();
  std::vector<std::string> drop;
  for (auto& [addr, link] : links_) {
    std::array<std::vector<std::string>, kKinds> extra;
    bool keeps = false;
    for (int k = 0; k < kKinds; ++k) {
      for (const std::string& name : link.held[k]) {
        bool wanted = false;
        if (table != nullptr && names_[k].contains(name)) {
          std::vector<std::string> targets =
              Targets(*table, static_cast<Kind>(k), name);
          wanted =
              std::find(targets.begin(), targets.end(), addr) != targets.end();
        }
        keeps = keeps || wanted;
        if (!wanted) extra[k].push_back(name);
      }
    }
    if (!keeps) {
      drop.push_back(addr);  // closing it drops what it holds
      continue;
    }
    for (int k = 0; k < kKinds; ++k) {
      if (!extra[k].empty()) {
        Send(addr, link, static_cast<Kind>(k), false, extra[k], {});
      }
    }
  }
  for (const std::string& addr : drop) CloseLink(addr);
}

void PubSubLinks::CloseLink(const std::string& addr) {
  auto it = links_.find(addr);
  if (it == links_.end()) return;
  std::deque<Waiter> waiters = std::move(it->second.waiters);
  // Closed from the loop, not here: this may run inside the connection's
  // own push handler. Its replies meanwhile find no link and are dropped.
  asio::post(worker_->io(), [conn = std::move(it->second.conn)] {
    conn->SetPushHandler(nullptr);
    conn->Close();
  });
  links_.erase(it);
  for (Waiter& w : waiters) {
    if (w.done) w.done();
  }
}

void PubSubLinks::Clear() {
  ++resync_generation_;
  for (auto& names : names_) names.clear();
  while (!links_.empty()) CloseLink(links_.begin()->first);
  if (retry_timer_) retry_timer_->cancel();
  retry_armed_ = false;
}

}  // namespace reborn::proxy
