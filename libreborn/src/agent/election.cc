#include "agent/election.h"

#include <algorithm>
#include <random>
#include <string_view>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "spdlog/spdlog.h"

namespace reborn::agent {

namespace {

constexpr char kPrefix[] = "agent-";

// The 10-digit sequence number ends every node's name.
std::string_view Seq(std::string_view name) {
  return name.size() >= 10 ? name.substr(name.size() - 10) : name;
}

bool BySeq(const std::string& a, const std::string& b) {
  return std::make_pair(Seq(a), std::string_view(a)) <
         std::make_pair(Seq(b), std::string_view(b));
}

std::string InstanceId() {
  std::random_device rd;
  return absl::StrCat(absl::Hex(rd(), absl::kZeroPad8));
}

}  // namespace

Election::Election(Coordinator* coord, std::string dir, std::string data)
    : coord_(coord),
      dir_(std::move(dir)),
      prefix_(absl::StrCat(kPrefix, InstanceId(), "-")),
      data_(std::move(data)) {}

Election::~Election() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
    leader_ = false;
  }
  // Without the locks: destroying a subscription waits for its callback.
  session_.reset();
  std::unique_ptr<Subscription> watch;
  {
    absl::MutexLock lock(&refresh_mu_);
    watch = std::move(pred_watch_);
  }
  watch.reset();
  std::string path = node_path();
  if (!path.empty()) (void)coord_->Delete(path, Coordinator::kAnyVersion);
}

absl::Status Election::Start() {
  if (absl::Status s = coord_->CreateRecursive(dir_); !s.ok()) return s;
  session_ = coord_->AddSessionListener(
      [this](SessionState state) { OnSession(state); });
  // A failed create (perhaps applied, its reply lost) is tried again; the
  // second look adopts what the first one made.
  for (int i = 0; i < 3 && node_path().empty(); ++i) Refresh();
  if (node_path().empty()) {
    return absl::UnavailableError(absl::StrCat("cannot register under ", dir_));
  }
  return absl::OkStatus();
}

bool Election::IsLeader() const {
  if (coord_->session_state() != SessionState::kConnected) return false;
  absl::MutexLock lock(&mu_);
  return leader_;
}

std::string Election::node_path() const {
  absl::MutexLock lock(&mu_);
  return name_.empty() ? "" : CoordJoin(dir_, name_);
}

absl::Status Election::Publish(std::string data) {
  std::string path;
  {
    absl::MutexLock lock(&mu_);
    data_ = std::move(data);
    if (name_.empty()) return absl::OkStatus();  // carried by the re-create
    path = CoordJoin(dir_, name_);
    data = data_;
  }
  auto r = coord_->Set(path, data, Coordinator::kAnyVersion);
  return r.ok() ? absl::OkStatus() : r.status();
}

void Election::OnSession(SessionState state) {
  if (state != SessionState::kConnected) {
    // Stop acting first; a suspended session may come back with our node.
    absl::MutexLock lock(&mu_);
    if (leader_) {
      spdlog::warn("coordinator session {}: no longer acting as leader",
                   std::string(SessionStateName(state)));
    }
    leader_ = false;
    return;
  }
  Refresh();
}

void Election::Refresh() {
  // A predecessor that went between our read and our watch means another
  // look; bounded, the HA loop calls Refresh() every round anyway.
  for (int i = 0; i < 5; ++i) {
    absl::MutexLock refresh(&refresh_mu_);
    if (!RefreshLocked()) return;
  }
}

bool Election::RefreshLocked() {
  std::string name;
  std::string data;
  {
    absl::MutexLock lock(&mu_);
    if (stopping_) return false;
    name = name_;
    data = data_;
  }
  auto children = coord_->Children(dir_);
  if (!children.ok()) {
    absl::MutexLock lock(&mu_);
    leader_ = false;
    return false;
  }
  std::vector<std::string> nodes;
  std::vector<std::string> ours;  // made by this Election (prefix_)
  for (const std::string& c : *children) {
    if (!absl::StartsWith(c, kPrefix)) continue;
    if (absl::StartsWith(c, prefix_)) {
      ours.push_back(c);
    } else {
      nodes.push_back(c);
    }
  }
  std::sort(ours.begin(), ours.end(), BySeq);
  // A create whose reply was lost may have made a node all the same: adopt
  // it rather than make another (an orphan of ours lower than our node
  // would keep everyone from leading while our session lives).
  if (std::find(ours.begin(), ours.end(), name) == ours.end()) {
    name = ours.empty() ? "" : ours.front();
    if (!name.empty()) {
      (void)coord_->Set(CoordJoin(dir_, name), data, Coordinator::kAnyVersion);
    }
  }
  for (const std::string& extra : ours) {
    if (extra != name) {
      (void)coord_->Delete(CoordJoin(dir_, extra), Coordinator::kAnyVersion);
    }
  }
  if (name.empty()) {
    // First start, or our session expired and took the node along.
    auto created = coord_->Create(CoordJoin(dir_, prefix_), data,
                                  CreateMode::kEphemeralSequential);
    if (!created.ok()) {
      spdlog::warn("cannot register under {}: {}", dir_,
                   created.status().ToString());
      absl::MutexLock lock(&mu_);
      name_.clear();
      leader_ = false;
      return false;
    }
    name = created->substr(created->rfind('/') + 1);
    spdlog::info("registered as {}", *created);
  }
  nodes.push_back(name);
  std::sort(nodes.begin(), nodes.end(), BySeq);
  const bool leader = nodes.front() == name;
  {
    absl::MutexLock lock(&mu_);
    if (!name_.empty() && name_ != name) leader_ = false;
    name_ = name;
    if (leader != leader_) {
      spdlog::info("{}",
                   leader ? "elected HA leader" : "not the HA leader any more");
    }
    leader_ = leader && coord_->session_state() == SessionState::kConnected;
  }
  if (leader) {
    watched_.clear();
    pred_watch_.reset();
    return false;
  }
  // Watch the predecessor: its deletion may make us the leader.
  auto me = std::find(nodes.begin(), nodes.end(), name);
  const std::string pred = *(me - 1);
  if (pred == watched_ && pred_watch_ != nullptr) return false;
  auto sub = coord_->Watch(CoordJoin(dir_, pred), WatchKind::kData,
                           [this](const WatchEvent& e) {
                             if (e.type == WatchEvent::Type::kDeleted ||
                                 e.type == WatchEvent::Type::kResync) {
                               Refresh();
                             }
                           });
  watched_ = pred;
  if (sub.ok()) {
    pred_watch_ = std::move(*sub);
    // Gone between the read and the watch: look again (the watch may not
    // fire for a node that is already gone).
    auto exists = coord_->Exists(CoordJoin(dir_, pred));
    if (exists.ok() && !*exists) {
      watched_.clear();
      return true;
    }
  } else {
    watched_.clear();  // the HA loop's periodic Refresh() retries
  }
  return false;
}

absl::StatusOr<std::vector<Election::Peer>> Election::Peers() const {
  auto children = coord_->Children(dir_);
  if (!children.ok()) return children.status();
  std::string mine;
  {
    absl::MutexLock lock(&mu_);
    mine = name_;
  }
  std::vector<Peer> out;
  for (const std::string& c : *children) {
    if (c == mine || !absl::StartsWith(c, kPrefix) ||
        absl::StartsWith(c, prefix_)) {
      continue;
    }
    auto node = coord_->Get(CoordJoin(dir_, c));
    if (!node.ok()) continue;  // gone meanwhile
    out.push_back({c, node->data, node->version});
  }
  return out;
}

}  // namespace reborn::agent
