#pragma once

// HaMonitor: failure detection and failover (docs/agent.md).
//
// Every HA agent runs RunOnce() each check interval: it probes every server
// of every group (PING + INFO replication), keeps for each since when it has
// not answered, and publishes in its election node the masters down in its
// view ({"down":[addr...]}): at least two failed checks in a row and no good
// answer for `down_after`. The leader also
//   - fails a group over when its master is down in its own view and in the
//     fresh views of `quorum` - 1 other agents: the replica with the highest
//     offset among the eligible ones (replica_choice.h) gets REPLICAOF NO
//     ONE, then one fenced topology change (FencedGroupChange) makes it the
//     master and the old master an offline slave, then the other replicas
//     are repointed;
//   - reconciles replicas while the master answers: a reachable replica that
//     does not follow the master (the old master back as a master, say) gets
//     REPLICAOF master; an offline one that follows with the link up and at
//     most `catch_up_bytes` behind is marked online; an online one failing
//     for `down_after` is marked offline.
// A group whose master is down without an eligible replica stays as it is
// and says so in Status().
//
// Synchronisation: RunOnce() is called by one thread (the agent's HA loop);
// the per-server tracks and peer views are touched only there. `mu_` guards
// the published status, which Status() copies for the HTTP threads.

#include <functional>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "agent/election.h"
#include "agent/health.h"
#include "nlohmann/json.hpp"
#include "reborn/topology.h"

namespace reborn::agent {

struct HaOptions {
  absl::Duration check_interval = absl::Seconds(1);
  absl::Duration down_after = absl::Seconds(3);
  int quorum = 2;
  // When > 0: this many proxies whose fresh view (/reborn/P/proxy_views)
  // has the master down count as one more agent's vote — the second
  // opinion when only one agent runs.
  int proxy_quorum = 0;
  absl::Duration store_timeout = absl::Milliseconds(800);
  std::string password;
  ChangeOptions change;
  // A replica this close to its master's offset counts as caught up.
  int64_t catch_up_bytes = 1 << 20;
  // Published with our view (for people reading the agents directory).
  std::string api_addr;
  // Tests: a pause between the promotion and the topology change.
  absl::Duration test_pause_after_promote = absl::ZeroDuration();
};

// The leader's topology write: under the topology change protocol (lock,
// write, action, proxy acks), re-reads group `gid`, lets `mutate` change it
// (an error from it cancels the change) and writes it together with a
// check that our election node still exists — the fencing token. Aborted
// when we are not the leader, or stopped being it before the write landed.
absl::StatusOr<ChangeReport> FencedGroupChange(
    Topology* topology, const Election* election, std::string_view type,
    std::string_view target, int gid,
    const std::function<absl::Status(GroupNode&)>& mutate,
    const ChangeOptions& options);

class HaMonitor {
 public:
  // Both must outlive the monitor.
  HaMonitor(Topology* topology, Election* election, HaOptions options);

  // One round. True when something is pending (a master failing, waiting
  // for votes or an eligible replica): the caller should look again soon.
  bool RunOnce();

  // An operator's go-ahead for group `gid` (POST /api/failover): while it
  // lasts, a down master (in our own view; the other agents' votes are not
  // needed) is failed over to the reachable online replica with the
  // highest offset even if it was not seen in sync — that may lose writes.
  // Used up by the failover. FailedPrecondition when we are not the leader.
  absl::Status Force(int gid, absl::Duration ttl = absl::Seconds(60));

  // {"leader","groups":[{"id","state","message","servers":[...]}],
  //  "failovers":[{"group","from","to","offset","down_ms","at_ms"}]}
  nlohmann::json Status() const;

 private:
  struct Track {
    ServerHealth health;
    absl::Time failing_since = absl::InfiniteFuture();  // first failed check
    absl::Time last_ok = absl::InfinitePast();          // last good check
    // The down window starts here: the last good check, or the first
    // failed one when none was ever good (like Sentinel's "no valid reply
    // for down-after").
    absl::Time silent_since = absl::InfiniteFuture();
    int failures = 0;  // failed checks in a row
    absl::Time last_in_sync = absl::InfinitePast();
    std::string in_sync_with;  // the master it followed then
  };
  struct PeerView {
    int64_t version = -1;
    absl::Time changed_at;  // our clock, when we saw the version change
    std::set<std::string> down;
  };

  bool IsDown(const std::string& addr, absl::Time now) const;
  void PublishView(const std::vector<std::string>& down);
  // Agents (ourselves included) whose fresh view has `master` down, plus
  // one when proxy_quorum proxies' fresh views do (*proxies: how many).
  int Votes(const std::string& master, absl::Time now, int* proxies);
  void ReadPeers(absl::Time now);
  void ReadProxyViews(absl::Time now);
  // Merges the published views into `views` (a new version: parsed again,
  // changed_at = now; gone: dropped).
  struct Published {
    std::string name, data;
    int64_t version;
  };
  static void MergeViews(const std::vector<Published>& published,
                         absl::Time now,
                         std::map<std::string, PeerView>* views);
  absl::Status Failover(const GroupNode& g, const std::string& dead,
                        absl::Time now, bool forced);
  bool Forced(int gid, absl::Time now);
  void Reconcile(const GroupNode& g, absl::Time now);
  absl::Status SetServerState(int gid, const std::string& addr,
                              ServerState state);
  void Note(int gid, std::string state, std::string message);

  Topology* const topology_;
  Election* const election_;
  const HaOptions options_;

  // HA thread only.
  std::map<std::string, Track> tracks_;
  std::map<std::string, PeerView> peers_;
  std::map<std::string, PeerView> proxy_views_;
  std::vector<std::string> published_;
  std::map<int, std::pair<std::string, std::string>> notes_;

  mutable absl::Mutex mu_;
  nlohmann::json status_ ABSL_GUARDED_BY(mu_);
  nlohmann::json failovers_ ABSL_GUARDED_BY(mu_) = nlohmann::json::array();
  std::map<int, absl::Time> forced_ ABSL_GUARDED_BY(mu_);  // gid -> until
};

}  // namespace reborn::agent
