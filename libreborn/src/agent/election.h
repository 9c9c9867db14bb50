#pragma once

// Leader election among HA agents through the Coordinator (any backend):
// each agent holds an ephemeral-sequential node
// /reborn/P/agents/agent-<instance>-<seq>; the node with the lowest sequence
// number is the leader. A non-leader watches only its predecessor, so a
// leader's exit wakes one agent. The random <instance> part lets an agent
// recognise a node its own create made when the reply was lost (it adopts
// it instead of leaving an orphan that would block the election).
//
// Fencing: IsLeader() is false as soon as the session is suspended or
// expired (the session listener clears it before anything else runs), and
// every topology write a leader makes carries CoordOp::Check(node_path()):
// sequence numbers only grow, so while our node exists no lower one can
// appear — a write that commits was made by the leader of that moment, and a
// write of an agent whose session has ended fails atomically.
//
// The node's data is the agent's published view (see HaMonitor): Publish()
// replaces it, and a node re-created after a session expiry carries it.
//
// Synchronisation: `mu_` guards the node name, the data and the leader flag;
// `refresh_mu_` serialises Refresh() (event thread and the HA loop). Lock
// order: refresh_mu_, then mu_.

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "reborn/coordinator.h"

namespace reborn::agent {

class Election {
 public:
  // `dir` is the agents directory ("/reborn/P/agents"); `coord` must
  // outlive the Election.
  Election(Coordinator* coord, std::string dir, std::string data);
  // Ends the watches and deletes our node (the leadership goes at once).
  ~Election();
  Election(const Election&) = delete;
  Election& operator=(const Election&) = delete;

  // Creates our node and evaluates the election.
  absl::Status Start();

  // Connected, our node exists, and it is the lowest.
  bool IsLeader() const;
  // Our node's full path ("" before Start or while it is being re-created).
  std::string node_path() const;
  // Replaces our node's data.
  absl::Status Publish(std::string data);
  // Re-reads the agents directory: re-creates our node when it went with an
  // expired session, updates the leader flag and the predecessor watch.
  void Refresh();

  // Every agent node but ours: (name, data, version).
  struct Peer {
    std::string name;
    std::string data;
    int64_t version = 0;
  };
  absl::StatusOr<std::vector<Peer>> Peers() const;

 private:
  void OnSession(SessionState state);
  // One look; true when it should look again at once.
  bool RefreshLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(refresh_mu_);

  Coordinator* const coord_;
  const std::string dir_;
  const std::string prefix_;  // "agent-<instance>-"
  absl::Mutex refresh_mu_ ABSL_ACQUIRED_BEFORE(mu_);
  mutable absl::Mutex mu_;
  std::string name_ ABSL_GUARDED_BY(mu_);  // our node's name under dir_
  std::string data_ ABSL_GUARDED_BY(mu_);
  bool leader_ ABSL_GUARDED_BY(mu_) = false;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::string watched_ ABSL_GUARDED_BY(refresh_mu_);  // predecessor name
  std::unique_ptr<Subscription> pred_watch_ ABSL_GUARDED_BY(refresh_mu_);
  std::unique_ptr<Subscription> session_;
};

}  // namespace reborn::agent
