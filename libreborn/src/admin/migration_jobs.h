#pragma once

// Migrations run in the background of the long-running reborn-config (the
// `dashboard` REST server): tasks started over REST, rebalances, and the
// unfinished tasks found at start (resume after a restart). One Migrator, so
// steps of parallel tasks that share a group take turns (migrator.h).
//
// Thread safety: all methods may be called from any thread (the REST
// server's pool). `mu_` guards the running set and the threads.

#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "reborn/migrator.h"

namespace reborn::admin {

// A task as the CLI and the REST API show it: the stored JSON plus
// eta_seconds (-1 unknown).
nlohmann::json TaskJson(const MigrationTask& t);
nlohmann::json PlanJson(const RebalancePlan& plan);

class MigrationJobs {
 public:
  MigrationJobs(Topology* topology, MigrateOptions options);
  // Stops the runs after their current step (state "stopped": resumed by the
  // next start) and joins them.
  ~MigrationJobs();

  // Creates a task and runs it in the background: the task's JSON.
  absl::StatusOr<nlohmann::json> Start(int from, int to, int gid,
                                       const TaskOptions& options);
  // Plans; unless `dry_run`, creates the tasks and runs them in the
  // background: {"plan": ..., "tasks": [ids]}.
  absl::StatusOr<nlohmann::json> Rebalance(bool dry_run,
                                           const std::map<int, double>& weights,
                                           const TaskOptions& options);
  // Every task, with "running_here" for the ones this process runs.
  absl::StatusOr<nlohmann::json> List();
  absl::StatusOr<nlohmann::json> Cancel(const std::string& id);
  // Runs every unfinished task in the background: the ids.
  absl::StatusOr<std::vector<std::string>> ResumeUnfinished();

 private:
  void Launch(const std::string& id);

  Migrator migrator_;
  absl::Mutex mu_;
  std::set<std::string> running_ ABSL_GUARDED_BY(mu_);
  std::vector<std::thread> threads_ ABSL_GUARDED_BY(mu_);
};

}  // namespace reborn::admin
