#pragma once

// The proxies' view of backend health, a second opinion for the HA agents
// (docs/agent.md): a registered proxy probes every group master of its
// current table (PING + INFO replication, the agents' own probe) and
// publishes the masters it finds down in an ephemeral node
// /reborn/P/proxy_views/<proxy id>: {"down":[addr...],"ts":ms}. Down, as
// for an agent: two failed checks in a row and no good answer for
// `down_after`. While the list is not empty it is re-published every round
// (the leader counts a view only while its version keeps changing).

#include <functional>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "reborn/coordinator.h"

namespace reborn {

struct BackendHealthOptions {
  std::string path;  // the view's node
  absl::Duration interval = absl::Seconds(1);
  absl::Duration down_after = absl::Seconds(3);
  absl::Duration timeout = absl::Milliseconds(800);  // one probe
  std::string password;                              // the stores' AUTH
};

class BackendHealthReporter {
 public:
  // `masters` returns the addresses to probe (called on the reporter's
  // thread). Starts the thread.
  BackendHealthReporter(Coordinator* coord,
                        std::function<std::vector<std::string>()> masters,
                        BackendHealthOptions options);
  ~BackendHealthReporter();  // stops and joins the thread
  BackendHealthReporter(const BackendHealthReporter&) = delete;
  BackendHealthReporter& operator=(const BackendHealthReporter&) = delete;

  // One round: probes, updates the tracks, publishes. Returns whether a
  // master is failing (the next round comes sooner). Public for tests.
  bool RunOnce(absl::Time now);

 private:
  struct Track {
    int failures = 0;  // failed checks in a row
    absl::Time last_ok = absl::InfinitePast();
    absl::Time silent_since = absl::InfiniteFuture();
  };

  void Loop();
  void Publish(const std::vector<std::string>& down);

  Coordinator* const coord_;
  const std::function<std::vector<std::string>()> masters_;
  const BackendHealthOptions options_;
  std::map<std::string, Track> tracks_;  // the reporter thread's
  std::vector<std::string> published_;   // the reporter thread's
  absl::Mutex mu_;
  bool stop_ ABSL_GUARDED_BY(mu_) = false;
  std::thread thread_;
};

}  // namespace reborn
