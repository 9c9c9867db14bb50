#include "server/tracking.h"

#include <algorithm>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "command/key_flags.h"

namespace reborn::server {
namespace {

// CLIENT LIST flag bits (net::ClientEntry::tracking).
constexpr uint32_t kFlagOn = 1;
constexpr uint32_t kFlagBroken = 2;
constexpr uint32_t kFlagBcast = 4;

void AppendBulk(std::string* out, std::string_view s) {
  absl::StrAppend(out, "$", s.size(), "\r\n");
  out->append(s);
  out->append("\r\n");
}

// The value of a default-mode invalidation: an array of one key.
std::string KeyArray(std::string_view key) {
  std::string out = "*1\r\n";
  AppendBulk(&out, key);
  return out;
}

// The nil of a flush, in the tracking client's protocol (Redis uses
// shared.null[c->resp] even when the message goes to a redirect target).
std::string_view NilFor(int protocol) {
  return protocol >= 3 ? "_\r\n" : "$-1\r\n";
}

bool Overlaps(std::string_view a, std::string_view b) {
  const size_t n = std::min(a.size(), b.size());
  return a.substr(0, n) == b.substr(0, n);
}

}  // namespace

void Tracking::UpdateBusyLocked() {
  busy_.store(tracking_.size() + table_.size() + prefixes_.size(),
              std::memory_order_relaxed);
}

void Tracking::PublishFlagsLocked(uint64_t id, const Client* client) {
  std::shared_ptr<net::ClientEntry> entry = clients_.Find(id);
  if (entry == nullptr) return;
  uint32_t flags = 0;
  int64_t redirect = -1;
  if (client != nullptr) {
    flags = kFlagOn | (client->broken ? kFlagBroken : 0) |
            (client->bcast ? kFlagBcast : 0);
    redirect = static_cast<int64_t>(client->redirect);
  }
  entry->tracking.store(flags, std::memory_order_relaxed);
  entry->redirect.store(redirect, std::memory_order_relaxed);
}

void Tracking::ClientSubcommand(std::string_view sub, CommandContext& ctx) {
  if (sub == "tracking") {
    Enable(ctx);
  } else if (sub == "caching") {
    Caching(ctx);
  } else if (sub == "getredir") {
    absl::MutexLock lock(&mu_);
    auto it = tracking_.find(ctx.session.id);
    ctx.reply.Integer(
        it == tracking_.end() ? -1 : static_cast<int64_t>(it->second.redirect));
  } else {
    Info(ctx);
  }
}

// CLIENT TRACKING on|off [REDIRECT id] [BCAST] [PREFIX p]... [OPTIN]
// [OPTOUT] [NOLOOP], checked in redis-server's order with its texts.
void Tracking::Enable(CommandContext& ctx) {
  const auto& args = ctx.args;
  int64_t redirect = 0;
  bool bcast = false, optin = false, optout = false, noloop = false;
  std::vector<std::string> prefixes;
  for (size_t j = 3; j < args.size(); ++j) {
    const bool more = j + 1 < args.size();
    if (EqualsIgnoreCase(args[j], "redirect") && more) {
      ++j;
      if (redirect != 0) {
        ctx.reply.Error(
            "ERR A client can only redirect to a single other client");
        return;
      }
      if (!absl::SimpleAtoi(args[j], &redirect)) {
        ctx.reply.Error("ERR value is not an integer or out of range");
        return;
      }
      if (redirect <= 0 ||
          clients_.Find(static_cast<uint64_t>(redirect)) == nullptr) {
        ctx.reply.Error(
            "ERR The client ID you want redirect to does not exist");
        return;
      }
    } else if (EqualsIgnoreCase(args[j], "bcast")) {
      bcast = true;
    } else if (EqualsIgnoreCase(args[j], "optin")) {
      optin = true;
    } else if (EqualsIgnoreCase(args[j], "optout")) {
      optout = true;
    } else if (EqualsIgnoreCase(args[j], "noloop")) {
      noloop = true;
    } else if (EqualsIgnoreCase(args[j], "prefix") && more) {
      prefixes.push_back(args[++j]);
    } else {
      ctx.reply.Error("ERR syntax error");
      return;
    }
  }
  const uint64_t id = ctx.session.id;
  if (EqualsIgnoreCase(args[2], "off")) {
    absl::MutexLock lock(&mu_);
    DisableLocked(id);
    ctx.session.tracking = false;
    ctx.reply.Ok();
    return;
  }
  if (!EqualsIgnoreCase(args[2], "on")) {
    ctx.reply.Error("ERR syntax error");
    return;
  }
  if (!bcast && !prefixes.empty()) {
    ctx.reply.Error("ERR PREFIX option requires BCAST mode to be enabled");
    return;
  }
  absl::MutexLock lock(&mu_);
  auto it = tracking_.find(id);
  Client* current = it == tracking_.end() ? nullptr : &it->second;
  if (current != nullptr && current->bcast != bcast) {
    ctx.reply.Error(
        "ERR You can't switch BCAST mode on/off before disabling tracking "
        "for this client, and then re-enabling it with a different mode.");
    return;
  }
  if (bcast && (optin || optout)) {
    ctx.reply.Error("ERR OPTIN and OPTOUT are not compatible with BCAST");
    return;
  }
  if (optin && optout) {
    ctx.reply.Error("ERR You can't specify both OPTIN mode and OPTOUT mode");
    return;
  }
  if (current != nullptr &&
      ((optin && current->optout) || (optout && current->optin))) {
    ctx.reply.Error(
        "ERR You can't switch OPTIN/OPTOUT mode before disabling tracking "
        "for this client, and then re-enabling it with a different mode.");
    return;
  }
  if (bcast) {
    for (size_t i = 0; i < prefixes.size(); ++i) {
      if (current != nullptr) {
        for (const std::string& existing : current->prefixes) {
          if (Overlaps(existing, prefixes[i])) {
            ctx.reply.Error(absl::StrCat(
                "ERR Prefix '", prefixes[i],
                "' overlaps with an existing prefix '", existing,
                "'. Prefixes for a single client must not overlap."));
            return;
          }
        }
      }
      for (size_t j = i + 1; j < prefixes.size(); ++j) {
        if (Overlaps(prefixes[i], prefixes[j])) {
          ctx.reply.Error(absl::StrCat(
              "ERR Prefix '", prefixes[i],
              "' overlaps with another provided prefix '", prefixes[j],
              "'. Prefixes for a single client must not overlap."));
          return;
        }
      }
    }
  }
  Client& client = tracking_[id];
  client.redirect = static_cast<uint64_t>(redirect);
  client.broken = false;
  client.bcast = bcast;
  client.optin = optin;
  client.optout = optout;
  client.noloop = noloop;
  if (bcast) {
    if (prefixes.empty()) prefixes.emplace_back();
    for (const std::string& p : prefixes) {
      prefixes_[p].clients.insert(id);
      client.prefixes.insert(p);
    }
  }
  ctx.session.tracking = true;
  PublishFlagsLocked(id, &client);
  UpdateBusyLocked();
  ctx.reply.Ok();
}

void Tracking::Caching(CommandContext& ctx) {
  absl::MutexLock lock(&mu_);
  auto it = tracking_.find(ctx.session.id);
  if (it == tracking_.end()) {
    ctx.reply.Error(
        "ERR CLIENT CACHING can be called only when the client is in "
        "tracking mode with OPTIN or OPTOUT mode enabled");
    return;
  }
  Client& client = it->second;
  if (EqualsIgnoreCase(ctx.args[2], "yes")) {
    if (!client.optin) {
      ctx.reply.Error(
          "ERR CLIENT CACHING YES is only valid when tracking is enabled in "
          "OPTIN mode.");
      return;
    }
  } else if (EqualsIgnoreCase(ctx.args[2], "no")) {
    if (!client.optout) {
      ctx.reply.Error(
          "ERR CLIENT CACHING NO is only valid when tracking is enabled in "
          "OPTOUT mode.");
      return;
    }
  } else {
    ctx.reply.Error("ERR syntax error");
    return;
  }
  client.caching = true;
  ctx.reply.Ok();
}

void Tracking::Info(CommandContext& ctx) {
  absl::MutexLock lock(&mu_);
  auto it = tracking_.find(ctx.session.id);
  const Client* client = it == tracking_.end() ? nullptr : &it->second;
  std::vector<std::string_view> flags;
  flags.push_back(client != nullptr ? "on" : "off");
  if (client != nullptr) {
    if (client->bcast) flags.push_back("bcast");
    if (client->optin) {
      flags.push_back("optin");
      if (client->caching) flags.push_back("caching-yes");
    }
    if (client->optout) {
      flags.push_back("optout");
      if (client->caching) flags.push_back("caching-no");
    }
    if (client->noloop) flags.push_back("noloop");
    if (client->broken) flags.push_back("broken_redirect");
  }
  ctx.reply.MapHeader(3);
  ctx.reply.Bulk("flags");
  ctx.reply.SetHeader(flags.size());
  for (std::string_view f : flags) ctx.reply.Bulk(f);
  ctx.reply.Bulk("redirect");
  ctx.reply.Integer(client != nullptr ? static_cast<int64_t>(client->redirect)
                                      : -1);
  ctx.reply.Bulk("prefixes");
  if (client == nullptr) {
    ctx.reply.ArrayHeader(0);
    return;
  }
  ctx.reply.ArrayHeader(client->prefixes.size());
  for (const std::string& p : client->prefixes) ctx.reply.Bulk(p);
}

void Tracking::DisableLocked(uint64_t id) {
  auto it = tracking_.find(id);
  if (it == tracking_.end()) return;
  for (const std::string& p : it->second.prefixes) {
    auto prefix = prefixes_.find(p);
    if (prefix == prefixes_.end()) continue;
    prefix->second.clients.erase(id);
    if (prefix->second.clients.empty()) prefixes_.erase(prefix);
  }
  tracking_.erase(it);
  PublishFlagsLocked(id, nullptr);
  UpdateBusyLocked();
}

void Tracking::Disable(Session& session) {
  if (!session.tracking) return;
  session.tracking = false;
  absl::MutexLock lock(&mu_);
  DisableLocked(session.id);
}

void Tracking::RememberKeys(const Session& session, const CommandSpec& spec,
                            const std::vector<std::string>& args) {
  // Shard channels are "keys" for routing only.
  if (spec.has(kCmdPubSub)) return;
  const KeyPositionList positions = KeyPositions(spec, args);
  if (positions.empty()) return;
  absl::MutexLock lock(&mu_);
  auto it = tracking_.find(session.id);
  if (it == tracking_.end() || it->second.bcast) return;
  const Client& client = it->second;
  if ((client.optin && !client.caching) || (client.optout && client.caching)) {
    return;
  }
  for (size_t pos : positions) {
    if (table_[args[pos]].insert(session.id).second) ++total_items_;
  }
  EnforceLimitLocked();
  UpdateBusyLocked();
}

void Tracking::SendLocked(uint64_t id, Client& client, std::string_view value) {
  std::shared_ptr<net::ClientEntry> self = clients_.Find(id);
  if (self == nullptr) return;
  std::shared_ptr<net::ClientEntry> dest = self;
  if (client.redirect != 0) {
    dest = clients_.Find(client.redirect);
    if (dest == nullptr) {
      // Tell the client its invalidations are lost (RESP3 only).
      if (!client.broken) {
        client.broken = true;
        PublishFlagsLocked(id, &client);
      }
      if (self->protocol.load(std::memory_order_relaxed) >= 3 &&
          self->messages) {
        self->messages->Push(absl::StrCat(
            ">2\r\n$21\r\ntracking-redir-broken\r\n:", client.redirect,
            "\r\n"));
      }
      return;
    }
  }
  if (!dest->messages) return;
  std::string message;
  if (dest->protocol.load(std::memory_order_relaxed) >= 3) {
    message = ">2\r\n$10\r\ninvalidate\r\n";
  } else if (client.redirect != 0 &&
             dest->sub.load(std::memory_order_relaxed) +
                     dest->psub.load(std::memory_order_relaxed) +
                     dest->ssub.load(std::memory_order_relaxed) >
                 0) {
    message = "*3\r\n$7\r\nmessage\r\n$20\r\n__redis__:invalidate\r\n";
  } else {
    return;  // RESP2 has no way to say it on the same connection
  }
  message.append(value);
  dest->messages->Push(message);
}

void Tracking::InvalidateLocked(std::string_view key, uint64_t writer,
                                bool bcast) {
  if (bcast && !prefixes_.empty()) {
    for (auto& [prefix, state] : prefixes_) {
      if (key.substr(0, prefix.size()) != prefix) continue;
      state.keys[std::string(key)] = writer;
      bcast_pending_ = true;
    }
  }
  auto ids = table_.find(std::string(key));
  if (ids == table_.end()) return;
  std::string value;
  for (uint64_t id : ids->second) {
    auto it = tracking_.find(id);
    // Keys read before the client switched to BCAST are not reported.
    if (it == tracking_.end() || it->second.bcast) continue;
    Client& client = it->second;
    if (client.noloop && id == writer) continue;
    if (value.empty()) value = KeyArray(key);
    if (id == writer) {
      client.pending.push_back(value);  // after the writer's reply
    } else {
      SendLocked(id, client, value);
    }
  }
  total_items_ -= ids->second.size();
  table_.erase(ids);
}

void Tracking::InvalidateKey(std::string_view key, uint64_t writer) {
  if (!busy()) return;
  absl::MutexLock lock(&mu_);
  InvalidateLocked(key, writer, true);
  UpdateBusyLocked();
}

void Tracking::InvalidateWrite(const CommandSpec& spec,
                               const std::vector<std::string>& args,
                               uint64_t writer) {
  if (!busy()) return;
  const KeyPositionList positions = KeyPositions(spec, args);
  if (positions.empty()) return;
  absl::MutexLock lock(&mu_);
  for (size_t pos : positions) {
    if ((KeyFlagsAt(spec, args, pos) & (kKeyRW | kKeyOW | kKeyRM)) == 0) {
      continue;
    }
    InvalidateLocked(args[pos], writer, true);
  }
  UpdateBusyLocked();
}

void Tracking::InvalidateAll(uint64_t writer) {
  if (!busy()) return;
  absl::MutexLock lock(&mu_);
  for (auto& [id, client] : tracking_) {
    std::shared_ptr<net::ClientEntry> entry = clients_.Find(id);
    if (entry == nullptr) continue;
    const std::string_view nil =
        NilFor(entry->protocol.load(std::memory_order_relaxed));
    if (id == writer) {
      client.pending.emplace_back(nil);
    } else {
      SendLocked(id, client, nil);
    }
  }
  table_.clear();
  total_items_ = 0;
  UpdateBusyLocked();
}

void Tracking::FlushBroadcastLocked() {
  bcast_pending_ = false;
  for (auto& [prefix, state] : prefixes_) {
    if (state.keys.empty()) continue;
    // One array for the clients without NOLOOP; a NOLOOP client's own
    // writes are left out of its copy.
    auto build = [&state](uint64_t skip_writer) {
      size_t count = 0;
      std::string keys;
      for (const auto& [key, writer] : state.keys) {
        if (skip_writer != 0 && writer == skip_writer) continue;
        AppendBulk(&keys, key);
        ++count;
      }
      return count == 0 ? std::string()
                        : absl::StrCat("*", count, "\r\n", keys);
    };
    const std::string common = build(0);
    for (uint64_t id : state.clients) {
      auto it = tracking_.find(id);
      if (it == tracking_.end()) continue;
      if (it->second.noloop) {
        const std::string own = build(id);
        if (!own.empty()) SendLocked(id, it->second, own);
      } else {
        SendLocked(id, it->second, common);
      }
    }
    state.keys.clear();
  }
}

void Tracking::FlushBroadcast() {
  if (!busy()) return;
  absl::MutexLock lock(&mu_);
  if (bcast_pending_) FlushBroadcastLocked();
}

void Tracking::SendPendingLocked(uint64_t id, Client& client) {
  std::vector<std::string> pending;
  pending.swap(client.pending);
  for (const std::string& value : pending) SendLocked(id, client, value);
}

void Tracking::AfterCommand(Session& session, bool keep_caching) {
  if (!busy()) return;
  absl::MutexLock lock(&mu_);
  if (bcast_pending_) FlushBroadcastLocked();
  if (!session.tracking) return;
  auto it = tracking_.find(session.id);
  if (it == tracking_.end()) return;
  SendPendingLocked(session.id, it->second);
  if (!keep_caching) it->second.caching = false;
}

void Tracking::FlushPending(uint64_t id) {
  if (!busy()) return;
  absl::MutexLock lock(&mu_);
  if (bcast_pending_) FlushBroadcastLocked();
  auto it = tracking_.find(id);
  if (it != tracking_.end()) SendPendingLocked(id, it->second);
}

void Tracking::EnforceLimitLocked() {
  // Redis drops random keys; any order is as good (clients are told).
  while (max_keys_ > 0 && table_.size() > max_keys_) {
    const std::string key = table_.begin()->first;
    InvalidateLocked(key, 0, false);
  }
}

void Tracking::SetMaxKeys(size_t max_keys) {
  absl::MutexLock lock(&mu_);
  max_keys_ = max_keys;
  EnforceLimitLocked();
  UpdateBusyLocked();
}

int64_t Tracking::client_count() const {
  absl::MutexLock lock(&mu_);
  return static_cast<int64_t>(tracking_.size());
}

void Tracking::AppendStats(std::string* out) const {
  absl::MutexLock lock(&mu_);
  absl::StrAppend(out, "tracking_total_keys:", table_.size(), "\r\n",
                  "tracking_total_items:", total_items_, "\r\n",
                  "tracking_total_prefixes:", prefixes_.size(), "\r\n");
}

}  // namespace reborn::server
