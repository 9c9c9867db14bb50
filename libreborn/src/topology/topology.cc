#include "reborn/topology.h"

#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <set>
#include <utility>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "reborn/slot.h"

namespace reborn {
namespace {

// etcd limits a transaction to 128 operations by default (compares count:
// a create needs up to three).
constexpr size_t kMultiChunk = 40;

std::string S(std::string_view v) { return std::string(v); }

int64_t NowMs() { return absl::ToUnixMillis(absl::Now()); }

absl::Status Annotate(const absl::Status& s, std::string_view what) {
  if (s.ok()) return s;
  return absl::Status(s.code(),
                      absl::StrCat(S(what), ": ", std::string(s.message())));
}

// An error after which a write may or may not have been applied.
bool IsTransient(const absl::Status& s) {
  return absl::IsUnavailable(s) || absl::IsDeadlineExceeded(s);
}

absl::Status RunChunked(Coordinator* coord, const std::vector<CoordOp>& ops) {
  for (size_t i = 0; i < ops.size(); i += kMultiChunk) {
    std::vector<CoordOp> chunk(
        ops.begin() + i, ops.begin() + std::min(ops.size(), i + kMultiChunk));
    auto r = coord->Multi(chunk);
    if (!r.ok()) return r.status();
  }
  return absl::OkStatus();
}

}  // namespace

TopologyLock::~TopologyLock() {
  // Only our own lock: after our session expired someone else may hold a new
  // lock node (also at version 0), so the token is compared first. (A lock
  // lost and re-taken between the Get and the Delete is not told apart; the
  // window is one round trip.) While the coordinator does not answer, ask
  // again: a lock left behind blocks every change until our session ends,
  // and after a session timeout it has ended (and the lock with it).
  const absl::Time deadline = absl::Now() + coord_->session_timeout();
  absl::Status s;
  do {
    if (!s.ok()) absl::SleepFor(absl::Milliseconds(100));
    auto cur = coord_->Get(path_);
    s = cur.status();
    if (s.ok()) {
      if (cur->data != token_) return;
      s = coord_->Delete(path_, cur->version);
    }
  } while (IsTransient(s) && absl::Now() < deadline);
}

Topology::Topology(Coordinator* coord, std::string_view product)
    : coord_(coord),
      product_(product),
      root_(absl::StrCat("/reborn/", S(product))) {}

std::string Topology::SlotPath(int slot) const {
  char buf[8];
  std::snprintf(buf, sizeof(buf), "%04d", slot);
  return absl::StrCat(SlotsPath(), "/", buf);
}

std::string Topology::GroupPath(int gid) const {
  return absl::StrCat(GroupsPath(), "/", gid);
}

std::string Topology::ProxyPath(std::string_view id) const {
  return absl::StrCat(ProxiesPath(), "/", S(id));
}

absl::Status Topology::EnsureLayout() {
  for (const std::string& p : {SlotsPath(), GroupsPath(), ProxiesPath(),
                               ActionsPath(), MigrationsPath()}) {
    if (absl::Status s = coord_->CreateRecursive(p); !s.ok()) return s;
  }
  return absl::OkStatus();
}

absl::Status Topology::InitSlots(bool force) {
  if (absl::Status s = EnsureLayout(); !s.ok()) return s;
  auto existing = coord_->Children(SlotsPath());
  if (!existing.ok()) return existing.status();
  std::set<std::string> have(existing->begin(), existing->end());
  if (!have.empty() && !force) {
    return absl::FailedPreconditionError(
        absl::StrCat("slots of product '", product_,
                     "' are already initialised (use --force to reset them)"));
  }
  std::vector<CoordOp> ops;
  for (int i = 0; i < kSlotCount; ++i) {
    SlotNode slot;
    slot.id = i;
    std::string path = SlotPath(i);
    std::string name = path.substr(SlotsPath().size() + 1);
    if (have.contains(name)) {
      ops.push_back(CoordOp::Set(path, EncodeSlot(slot)));
    } else {
      ops.push_back(CoordOp::Create(path, EncodeSlot(slot)));
    }
  }
  return RunChunked(coord_, ops);
}

absl::StatusOr<SlotNode> Topology::GetSlot(int slot) {
  if (slot < 0 || slot >= kSlotCount) {
    return absl::OutOfRangeError(
        absl::StrCat("slot ", slot, " out of range [0, ", kSlotCount, ")"));
  }
  auto node = coord_->Get(SlotPath(slot));
  if (absl::IsNotFound(node.status())) {
    return absl::NotFoundError(
        absl::StrCat("slot ", slot, " not found (run 'slot init' first)"));
  }
  if (!node.ok()) return node.status();
  auto info = DecodeSlot(node->data);
  if (!info.ok()) return info.status();
  info->id = slot;
  info->version = node->version;
  return info;
}

absl::StatusOr<std::vector<SlotNode>> Topology::Slots() {
  auto names = coord_->Children(SlotsPath());
  if (absl::IsNotFound(names.status())) return std::vector<SlotNode>{};
  if (!names.ok()) return names.status();
  std::vector<SlotNode> out;
  out.reserve(names->size());
  for (const std::string& name : *names) {
    int id = 0;
    if (!absl::SimpleAtoi(name, &id)) continue;
    auto s = GetSlot(id);
    if (absl::IsNotFound(s.status())) continue;  // raced with a reset
    if (!s.ok()) return s.status();
    out.push_back(*s);
  }
  return out;
}

std::vector<CoordOp> Topology::SlotWrites(
    const std::vector<SlotNode>& slots) const {
  std::vector<CoordOp> ops;
  ops.reserve(slots.size());
  for (const SlotNode& s : slots) {
    ops.push_back(CoordOp::Set(SlotPath(s.id), EncodeSlot(s), s.version));
  }
  return ops;
}

absl::Status Topology::WriteSlots(const std::vector<SlotNode>& slots) {
  return RunChunked(coord_, SlotWrites(slots));
}

absl::StatusOr<GroupNode> Topology::GetGroup(int gid) {
  auto node = coord_->Get(GroupPath(gid));
  if (absl::IsNotFound(node.status())) {
    return absl::NotFoundError(absl::StrCat("group ", gid, " does not exist"));
  }
  if (!node.ok()) return node.status();
  auto g = DecodeGroup(node->data);
  if (!g.ok()) return g.status();
  g->id = gid;
  g->version = node->version;
  return g;
}

absl::StatusOr<std::vector<GroupNode>> Topology::Groups() {
  auto names = coord_->Children(GroupsPath());
  if (absl::IsNotFound(names.status())) return std::vector<GroupNode>{};
  if (!names.ok()) return names.status();
  std::vector<GroupNode> out;
  for (const std::string& name : *names) {
    int id = 0;
    if (!absl::SimpleAtoi(name, &id)) continue;
    auto g = GetGroup(id);
    if (absl::IsNotFound(g.status())) continue;
    if (!g.ok()) return g.status();
    out.push_back(std::move(*g));
  }
  std::sort(out.begin(), out.end(),
            [](const GroupNode& a, const GroupNode& b) { return a.id < b.id; });
  return out;
}

absl::Status Topology::CreateGroup(int gid) {
  if (gid <= 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("group id must be positive, got ", gid));
  }
  if (absl::Status s = EnsureLayout(); !s.ok()) return s;
  GroupNode g;
  g.id = gid;
  auto r =
      coord_->Create(GroupPath(gid), EncodeGroup(g), CreateMode::kPersistent);
  if (absl::IsAlreadyExists(r.status())) {
    return absl::AlreadyExistsError(absl::StrCat("group ", gid, " exists"));
  }
  return r.status();
}

absl::Status Topology::DeleteGroup(int gid, int64_t version) {
  return Annotate(coord_->Delete(GroupPath(gid), version),
                  absl::StrCat("delete group ", gid));
}

absl::Status Topology::WriteGroup(const GroupNode& group) {
  auto r = coord_->Set(GroupPath(group.id), EncodeGroup(group), group.version);
  return Annotate(r.status(), absl::StrCat("write group ", group.id));
}

absl::Status Topology::RegisterProxy(const ProxyInfo& proxy) {
  if (absl::Status s = coord_->CreateRecursive(ProxiesPath()); !s.ok()) {
    return s;
  }
  return coord_
      ->Create(ProxyPath(proxy.id), EncodeProxy(proxy), CreateMode::kEphemeral)
      .status();
}

absl::StatusOr<ProxyInfo> Topology::GetProxy(std::string_view id) {
  auto node = coord_->Get(ProxyPath(id));
  if (absl::IsNotFound(node.status())) {
    return absl::NotFoundError(absl::StrCat("proxy ", S(id), " not found"));
  }
  if (!node.ok()) return node.status();
  auto p = DecodeProxy(node->data);
  if (!p.ok()) return p.status();
  p->id = S(id);
  p->version = node->version;
  return p;
}

absl::StatusOr<std::vector<ProxyInfo>> Topology::Proxies() {
  auto names = coord_->Children(ProxiesPath());
  if (absl::IsNotFound(names.status())) return std::vector<ProxyInfo>{};
  if (!names.ok()) return names.status();
  std::vector<ProxyInfo> out;
  for (const std::string& name : *names) {
    auto p = GetProxy(name);
    if (absl::IsNotFound(p.status())) continue;  // went away meanwhile
    if (!p.ok()) return p.status();
    out.push_back(std::move(*p));
  }
  return out;
}

absl::Status Topology::SetProxyState(std::string_view id, ProxyState state) {
  for (int attempt = 0; attempt < 10; ++attempt) {
    auto p = GetProxy(id);
    if (!p.ok()) return p.status();
    p->state = state;
    auto r = coord_->Set(ProxyPath(id), EncodeProxy(*p), p->version);
    if (!absl::IsAborted(r.status())) return r.status();
  }
  return absl::AbortedError(
      absl::StrCat("proxy ", S(id), " kept changing; state not set"));
}

absl::StatusOr<std::string> Topology::PublishAction(std::string_view type,
                                                    std::string_view target) {
  ActionInfo a;
  a.type = S(type);
  a.target = S(target);
  a.ts = NowMs();
  const std::string prefix = absl::StrCat(ActionsPath(), "/action-");
  auto path = coord_->Create(prefix, EncodeAction(a), CreateMode::kSequential);
  if (absl::IsNotFound(path.status())) {  // the first action ever
    if (absl::Status s = coord_->CreateRecursive(ActionsPath()); !s.ok()) {
      return s;
    }
    path = coord_->Create(prefix, EncodeAction(a), CreateMode::kSequential);
  }
  if (!path.ok()) return path.status();
  std::string seq = path->substr(ActionsPath().size() + 1);
  if (absl::Status s = CreateAcks(seq); !s.ok()) return s;
  return seq;
}

absl::Status Topology::CreateAcks(std::string_view seq) {
  auto acks = coord_->Create(absl::StrCat(ActionsPath(), "/", S(seq), "/acks"),
                             "", CreateMode::kPersistent);
  if (!acks.ok() && !absl::IsAlreadyExists(acks.status())) {
    return acks.status();
  }
  return absl::OkStatus();
}

absl::Status Topology::AckAction(std::string_view seq,
                                 std::string_view proxy_id) {
  std::string acks = absl::StrCat(ActionsPath(), "/", S(seq), "/acks");
  auto r = coord_->Create(absl::StrCat(acks, "/", S(proxy_id)), "",
                          CreateMode::kPersistent);
  if (absl::IsNotFound(r.status())) {
    // The publisher has not made the acks node yet.
    if (absl::Status s = CreateAcks(seq); !s.ok()) return s;
    r = coord_->Create(absl::StrCat(acks, "/", S(proxy_id)), "",
                       CreateMode::kPersistent);
  }
  if (absl::IsAlreadyExists(r.status())) return absl::OkStatus();
  return r.status();
}

absl::StatusOr<std::vector<std::string>> Topology::AckedBy(
    const std::string& seq) {
  auto r = coord_->Children(absl::StrCat(ActionsPath(), "/", seq, "/acks"));
  if (absl::IsNotFound(r.status())) return std::vector<std::string>{};
  return r;
}

absl::StatusOr<std::vector<ActionInfo>> Topology::Actions() {
  auto names = coord_->Children(ActionsPath());
  if (absl::IsNotFound(names.status())) return std::vector<ActionInfo>{};
  if (!names.ok()) return names.status();
  std::vector<ActionInfo> out;
  for (const std::string& name : *names) {
    auto node = coord_->Get(absl::StrCat(ActionsPath(), "/", name));
    if (absl::IsNotFound(node.status())) continue;
    if (!node.ok()) return node.status();
    auto a = DecodeAction(node->data);
    if (!a.ok()) return a.status();
    a->seq = name;
    auto acks = AckedBy(name);
    if (!acks.ok()) return acks.status();
    a->acks = std::move(*acks);
    out.push_back(std::move(*a));
  }
  return out;
}

absl::Status Topology::PruneActions(size_t keep) {
  auto names = coord_->Children(ActionsPath());
  if (absl::IsNotFound(names.status())) return absl::OkStatus();
  if (!names.ok()) return names.status();
  if (names->size() <= keep) return absl::OkStatus();
  // The nodes of each pruned action, children first.
  std::vector<std::vector<std::string>> doomed;
  for (size_t i = 0; i + keep < names->size(); ++i) {
    std::string path = absl::StrCat(ActionsPath(), "/", (*names)[i]);
    std::string acks = path + "/acks";
    std::vector<std::string> nodes;
    auto kids = coord_->Children(acks);
    if (kids.ok()) {
      for (const std::string& k : *kids) {
        nodes.push_back(absl::StrCat(acks, "/", k));
      }
      nodes.push_back(acks);
    } else if (!absl::IsNotFound(kids.status())) {
      return kids.status();
    }
    nodes.push_back(path);
    doomed.push_back(std::move(nodes));
  }
  // Every pruned node in one transaction: a migration step prunes three
  // actions with their acks, and on ZooKeeper each write is a logged,
  // fsynced transaction competing with the data path for the machine.
  std::vector<CoordOp> ops;
  for (const auto& nodes : doomed) {
    for (const std::string& node : nodes) ops.push_back(CoordOp::Delete(node));
  }
  if (coord_->Multi(ops).ok()) return absl::OkStatus();
  // A late ack or a concurrent prune changed the tree: node by node (an ack
  // that arrived meanwhile keeps its action until the next prune).
  for (const auto& nodes : doomed) {
    for (size_t n = 0; n + 1 < nodes.size(); ++n) {
      (void)coord_->Delete(nodes[n], -1);
    }
    absl::Status s = coord_->Delete(nodes.back(), -1);
    if (!s.ok() && !absl::IsNotFound(s) && !absl::IsFailedPrecondition(s)) {
      return s;
    }
  }
  return absl::OkStatus();
}

std::string Topology::LockData(std::string_view owner) const {
  nlohmann::json data = {
      {"owner", S(owner)},
      {"pid", static_cast<int64_t>(getpid())},
      {"ts", NowMs()},
      {"token", absl::StrCat(reinterpret_cast<uintptr_t>(this), "-",
                             absl::ToUnixNanos(absl::Now()))}};
  return data.dump();
}

absl::Status Topology::LockedError() {
  std::string holder = "?";
  if (auto cur = coord_->Get(LockPath()); cur.ok()) holder = cur->data;
  return absl::FailedPreconditionError(
      absl::StrCat("topology of '", product_, "' is locked by ", holder));
}

absl::StatusOr<std::unique_ptr<TopologyLock>> Topology::Lock(
    std::string_view owner, absl::Duration timeout) {
  const std::string data = LockData(owner);
  absl::Time deadline = absl::Now() + timeout;
  bool made_root = false;
  while (true) {
    auto r = coord_->Create(LockPath(), data, CreateMode::kEphemeral);
    if (absl::IsNotFound(r.status()) && !made_root) {  // a new product
      made_root = true;
      if (absl::Status s = coord_->CreateRecursive(root_); !s.ok()) return s;
      continue;
    }
    if (r.ok()) return std::make_unique<TopologyLock>(coord_, LockPath(), data);
    if (IsTransient(r.status())) {
      // A lost reply: the lock may have been created all the same.
      TopologyLock maybe_taken(coord_, LockPath(), data);
    }
    if (!absl::IsAlreadyExists(r.status())) return r.status();
    if (absl::Now() >= deadline) return LockedError();
    absl::SleepFor(absl::Milliseconds(50));
  }
}

absl::StatusOr<ChangeReport> Topology::Change(
    std::string_view type, std::string_view target,
    const std::function<absl::Status()>& write, const ChangeOptions& options) {
  auto lock = Lock(options.owner, options.lock_timeout);
  if (!lock.ok()) return lock.status();
  if (absl::Status s = write(); !s.ok()) return s;
  auto seq = PublishAction(type, target);
  if (!seq.ok()) return seq.status();
  return AwaitAcks(*seq, options);
}

absl::StatusOr<ChangeReport> Topology::ChangeOps(
    std::string_view type, std::string_view target,
    const std::function<absl::StatusOr<std::vector<CoordOp>>()>& ops,
    const ChangeOptions& options) {
  ActionInfo action;
  action.type = S(type);
  action.target = S(target);
  const std::string prefix = absl::StrCat(ActionsPath(), "/action-");
  absl::Time deadline = absl::Now() + options.lock_timeout;
  bool made_layout = false;
  std::unique_ptr<TopologyLock> lock;
  std::string seq;
  while (true) {
    auto writes = ops();
    if (!writes.ok()) return writes.status();
    if (writes->size() + 2 > kMultiChunk) {
      // Too big for one transaction: lock first, then write in chunks.
      return Change(
          type, target,
          [&]() -> absl::Status {
            auto w = ops();
            return w.ok() ? RunChunked(coord_, *w) : w.status();
          },
          options);
    }
    const std::string data = LockData(options.owner);
    action.ts = NowMs();
    std::vector<CoordOp> all;
    all.reserve(writes->size() + 2);
    all.push_back(CoordOp::Create(LockPath(), data, CreateMode::kEphemeral));
    all.insert(all.end(), writes->begin(), writes->end());
    all.push_back(
        CoordOp::Create(prefix, EncodeAction(action), CreateMode::kSequential));
    auto r = coord_->Multi(all);
    if (r.ok()) {
      lock = std::make_unique<TopologyLock>(coord_, LockPath(), data);
      seq = r->back().path.substr(ActionsPath().size() + 1);
      break;
    }
    if (IsTransient(r.status())) {
      // Perhaps applied (a lost reply): the lock, if taken, is released;
      // without it the change is as good as not made (a migration resyncs
      // its slots when it resumes).
      TopologyLock maybe_taken(coord_, LockPath(), data);
      return r.status();
    }
    if (absl::IsNotFound(r.status()) && !made_layout) {  // a new product
      made_layout = true;
      if (absl::Status s = coord_->CreateRecursive(ActionsPath()); !s.ok()) {
        return s;
      }
      continue;
    }
    // The lock is held (AlreadyExists) or a node changed since `ops` read it
    // (a version conflict): read again once the holder is done.
    if (!absl::IsAlreadyExists(r.status()) &&
        !absl::IsFailedPrecondition(r.status()) &&
        !absl::IsAborted(r.status())) {
      return r.status();
    }
    if (absl::Now() >= deadline) {
      if (absl::IsAlreadyExists(r.status())) return LockedError();
      return r.status();
    }
    absl::SleepFor(
        absl::Milliseconds(absl::IsAlreadyExists(r.status()) ? 50 : 5));
  }
  if (absl::Status s = CreateAcks(seq); !s.ok()) return s;
  return AwaitAcks(seq, options);
}

absl::StatusOr<ChangeReport> Topology::AwaitAcks(const std::string& seq,
                                                 const ChangeOptions& options) {
  ChangeReport report;
  report.action = seq;

  // Wait until every live online proxy acked. Proxies whose session ended
  // (their node is gone) are no longer waited for. A proxy acks after a
  // watch event and a few reads, so the first look is after one interval
  // too: a look costs the coordinator a read per proxy.
  absl::Time deadline = absl::Now() + options.ack_timeout;
  std::vector<std::string> silent;
  absl::Duration longest_lease;  // of the silent proxies
  while (true) {
    absl::SleepFor(options.ack_poll_interval);
    auto proxies = Proxies();
    if (!proxies.ok()) return proxies.status();
    auto acked = AckedBy(seq);
    if (!acked.ok()) return acked.status();
    std::set<std::string> acked_set(acked->begin(), acked->end());
    silent.clear();
    report.acked.clear();
    longest_lease = absl::ZeroDuration();
    for (const ProxyInfo& p : *proxies) {
      if (p.state != ProxyState::kOnline) continue;
      if (acked_set.contains(p.id)) {
        report.acked.push_back(p.id);
      } else {
        silent.push_back(p.id);
        longest_lease = std::max(longest_lease, absl::Milliseconds(p.lease_ms));
      }
    }
    if (silent.empty() || absl::Now() >= deadline) break;
  }
  if (silent.empty()) return report;

  // Fence: mark the silent proxies offline, then give them a full session
  // timeout to notice (or to lose their session) and stop serving.
  for (const std::string& id : silent) {
    absl::Status s = SetProxyState(id, ProxyState::kMarkOffline);
    if (!s.ok() && !absl::IsNotFound(s)) return s;
    report.fenced.push_back(id);
  }
  // A proxy cut off from the coordinator serves on its last table until its
  // lease (counted from its last contact, before the fence) runs out.
  absl::Duration wait = options.fence_wait == absl::InfiniteDuration()
                            ? std::max(coord_->session_timeout(), longest_lease)
                            : options.fence_wait;
  absl::SleepFor(wait);
  return report;
}

absl::StatusOr<std::unique_ptr<ActionFollower>> ActionFollower::Start(
    Topology* topology, std::string proxy_id, Handler handler) {
  auto f = std::unique_ptr<ActionFollower>(
      new ActionFollower(topology, std::move(proxy_id), std::move(handler)));
  Coordinator* coord = topology->coordinator();
  if (absl::Status s = coord->CreateRecursive(topology->ActionsPath());
      !s.ok()) {
    return s;
  }
  ActionFollower* self = f.get();
  auto watch = coord->Watch(topology->ActionsPath(), WatchKind::kChildren,
                            [self](const WatchEvent&) { self->Poll(); });
  if (!watch.ok()) return watch.status();
  auto names = coord->Children(topology->ActionsPath());
  if (!names.ok()) return names.status();
  if (!names->empty()) f->last_seen_ = names->back();
  f->watch_ = std::move(*watch);
  // Anything published between the watch and the read is picked up now.
  f->Poll();
  return f;
}

ActionFollower::~ActionFollower() { watch_.reset(); }

void ActionFollower::Poll() {
  auto names = topology_->coordinator()->Children(topology_->ActionsPath());
  if (!names.ok()) return;  // a resync event will bring us back
  for (const std::string& name : *names) {
    if (name <= last_seen_) continue;
    auto node = topology_->coordinator()->Get(
        absl::StrCat(topology_->ActionsPath(), "/", name));
    if (!node.ok()) continue;
    auto action = DecodeAction(node->data);
    if (!action.ok()) continue;
    action->seq = name;
    if (!handler_(*action).ok()) return;  // not acked: retried on next event
    if (!topology_->AckAction(name, proxy_id_).ok()) return;
    last_seen_ = name;
  }
}

}  // namespace reborn
