// reborn-proxy sessions: Pub/Sub. The client's subscriptions are held by
// PubSubLinks, which places each on the backends the topology names
// (docs/proxy.md, "Pub/Sub") and moves them when the topology changes. The
// proxy answers (un)subscribe itself, with the counts one server would give,
// so a client whose subscriptions span several backends sees one server.
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/strings/str_cat.h"
#include "command/command_table.h"
#include "proxy/session.h"
#include "routing/merge.h"

namespace reborn::proxy {
namespace {

// [kind, name, count] as Redis writes it (RESP2; RESP3 makes it a push).
std::string Confirmation(std::string_view kind, const std::string* name,
                         size_t count) {
  return absl::StrCat("*3\r\n", routing::BulkReply(kind),
                      name ? routing::BulkReply(*name) : std::string("$-1\r\n"),
                      ":", count, "\r\n");
}

}  // namespace

void Session::PubSub(const std::string& cmd, std::vector<std::string>& args) {
  const CommandSpec* spec = FindCommandSpec(cmd);
  if (spec == nullptr) return;
  if (!spec->ArityOk(args.size())) {
    ReplyError(WrongArityError(spec->name));
    return;
  }
  if (cmd == "ping") {  // RESP2 in subscribed mode
    Reply(absl::StrCat("*2\r\n$4\r\npong\r\n",
                       routing::BulkReply(args.size() > 1 ? args[1] : "")));
    return;
  }
  using Kind = PubSubLinks::Kind;
  Kind kind = PubSubLinks::kChannel;
  std::string_view verb = cmd;
  if (cmd == "psubscribe" || cmd == "punsubscribe") {
    kind = PubSubLinks::kPattern;
  } else if (cmd == "ssubscribe" || cmd == "sunsubscribe") {
    kind = PubSubLinks::kShard;
    // Shard channels hash like keys: one slot per command, as Redis
    // Cluster.
    absl::StatusOr<int> slot = KeysSlot(*spec, args);
    if (!slot.ok()) {
      ReplyError(std::string(slot.status().message()));
      return;
    }
  }
  const bool subscribe = cmd.find("unsub") == std::string::npos;
  if (pubsub_ == nullptr) {
    std::weak_ptr<Session> weak = weak_from_this();
    pubsub_ = std::make_shared<PubSubLinks>(worker_,
                                            [weak](std::string_view message) {
                                              if (auto self = weak.lock())
                                                self->Push(message);
                                            });
  }
  if (!watching_pubsub_table_) {
    watching_pubsub_table_ = true;
    worker_->WatchTable([weak = weak_from_this()] {
      auto self = weak.lock();
      if (!self || self->closed_) return false;
      if (self->pubsub_ != nullptr) self->pubsub_->Resync();
      return true;
    });
  }
  PubSubLinks& links = *pubsub_;
  auto count = [&links, kind] {
    return kind == PubSubLinks::kShard ? links.count(PubSubLinks::kShard)
                                       : links.count(PubSubLinks::kChannel) +
                                             links.count(PubSubLinks::kPattern);
  };
  std::vector<std::string> names(args.begin() + 1, args.end());
  if (subscribe) {
    // One confirmation per name, each with the count after it, as Redis;
    // they are released once the backends confirmed, so a PUBLISH the
    // client sends after reading them reaches it.
    auto confirmations =
        std::make_shared<std::vector<std::pair<PendingPtr, std::string>>>();
    for (const std::string& name : names) {
      links.Add(kind, name);
      PendingPtr p = NewPending();
      p->command = spec->name;
      p->kind = Resp3Kind::kPush;
      confirmations->emplace_back(p, Confirmation(verb, &name, count()));
    }
    UpdatePubSubState();
    links.Place(kind, names, [weak = weak_from_this(), confirmations] {
      auto self = weak.lock();
      if (!self || self->closed_) return;
      for (const auto& [p, reply] : *confirmations) self->Finish(p, reply);
    });
    return;
  }
  if (names.empty()) names = links.Names(kind);
  // Released once the backends confirmed: a PUBLISH the client sends after
  // reading them no longer counts it.
  auto confirmations =
      std::make_shared<std::vector<std::pair<PendingPtr, std::string>>>();
  auto confirm = [&](const std::string* name) {
    PendingPtr p = NewPending();
    p->command = spec->name;
    p->kind = Resp3Kind::kPush;
    confirmations->emplace_back(p, Confirmation(verb, name, count()));
  };
  if (names.empty()) confirm(nullptr);
  for (const std::string& name : names) {
    links.Remove(kind, name);
    confirm(&name);
  }
  UpdatePubSubState();
  links.Unplace(kind, names, [weak = weak_from_this(), confirmations] {
    auto self = weak.lock();
    if (!self || self->closed_) return;
    for (const auto& [p, reply] : *confirmations) self->Finish(p, reply);
  });
}

void Session::Push(std::string_view reply) {
  if (closed_) return;
  PendingPtr p = NewPending();
  p->command = "pubsub-message";
  p->kind = Resp3Kind::kPush;
  Finish(p, reply);
}

void Session::UpdatePubSubState() {
  const size_t channels = pubsub_ ? pubsub_->count(PubSubLinks::kChannel) : 0;
  const size_t patterns = pubsub_ ? pubsub_->count(PubSubLinks::kPattern) : 0;
  const size_t shard = pubsub_ ? pubsub_->count(PubSubLinks::kShard) : 0;
  entry_->sub.store(static_cast<int>(channels), std::memory_order_relaxed);
  entry_->psub.store(static_cast<int>(patterns), std::memory_order_relaxed);
  entry_->ssub.store(static_cast<int>(shard), std::memory_order_relaxed);
  in_pubsub_ = channels + patterns + shard > 0;
}

void Session::DropSubscriptions() {
  if (pubsub_ != nullptr) pubsub_->Clear();
  if (entry_ != nullptr) UpdatePubSubState();
}

}  // namespace reborn::proxy
