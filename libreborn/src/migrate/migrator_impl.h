#pragma once

// The implementation behind reborn::Migrator (reborn/migrator.h documents
// the contract; docs/migration.md the protocol).
#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "reborn/migrator.h"

namespace reborn::migrate {

class GroupCommit;
class GroupScheduler;

class MigratorImpl {
 public:
  // Called from the thread running the task (several at once under RunAll).
  using ProgressCallback = Migrator::ProgressCallback;

  // `topology` must outlive the Migrator.
  MigratorImpl(Topology* topology, MigrateOptions options);
  ~MigratorImpl();

  // Validates the request and persists a new task; returns its id.
  // FailedPrecondition when a slot is offline, migrating elsewhere, or part
  // of another unfinished (pending, running or failed) task.
  absl::StatusOr<std::string> Create(int from, int to, int gid,
                                     const TaskOptions& task_options = {});
  // Runs (or resumes) a persisted task to its end. May run concurrently with
  // other tasks on other threads (steps that share a group wait).
  absl::Status Run(const std::string& id,
                   const ProgressCallback& progress = nullptr);
  // Runs the tasks in parallel (one thread each); the first error.
  absl::Status RunAll(const std::vector<std::string>& ids,
                      const ProgressCallback& progress = nullptr);
  // Runs every task that is neither done nor cancelled (pending, running
  // after a crash, failed, stopped), in parallel.
  absl::Status ResumeAll(const ProgressCallback& progress = nullptr);
  // Ids of the tasks ResumeAll would run.
  absl::StatusOr<std::vector<std::string>> Unfinished();

  absl::StatusOr<std::vector<MigrationTask>> Tasks();
  absl::StatusOr<MigrationTask> GetTask(const std::string& id);

  // Asks the runner of task `id` (in any process) to stop after its current
  // step; a task nobody runs is marked cancelled at once.
  absl::Status Cancel(const std::string& id);
  // Makes every Run of this Migrator stop after its current step.
  void CancelAll() { cancel_all_.store(true); }
  // Makes every Run stop after its current step with state "stopped", which
  // ResumeAll resumes (a shutting-down dashboard).
  void StopAll() { stop_all_.store(true); }

  // The rebalance plan for the current topology (PlanRebalance).
  absl::StatusOr<RebalancePlan> Plan(const std::map<int, double>& weights);
  // One task per move of `plan`; returns their ids.
  absl::StatusOr<std::vector<std::string>> CreatePlan(
      const RebalancePlan& plan, const TaskOptions& task_options = {});

 private:
  struct RunState;
  // One attempt of Run.
  struct Attempt {
    // A transient failure leaves the task "retrying" (also when the attempt
    // finished slots), not "failed".
    bool may_retry = false;
    // An explicit Run resumes a cancelled task; a retry does not.
    bool resume_cancelled = false;
    bool retrying = false;    // out: RunOwned left the task "retrying"
    bool progressed = false;  // out: the attempt finished slots
  };
  absl::Status RunOnce(const std::string& id, const ProgressCallback& progress,
                       Attempt* attempt);
  absl::Status RunOwned(MigrationTask* task, const ProgressCallback& progress,
                        Attempt* attempt);
  // Unavailable or DeadlineExceeded, and no stop or cancel of all runs.
  bool Transient(const absl::Status& status) const;
  absl::Status SaveTask(MigrationTask* task);
  // Moves slots [first, last]; the slots [next_first, next_last] of the
  // following step may go to pre_migrate with this step's online change.
  absl::Status RunStep(RunState* run, int first, int last, int next_first,
                       int next_last);
  // The last slot of the task's unfinished ones in pre_migrate or migrate
  // toward its group; -1: none.
  absl::StatusOr<int> LastMidway(const MigrationTask& task);
  // Makes every proxy ack the current table (a stopped run left slots
  // midway).
  absl::Status Resync(const MigrationTask& task);
  // Checks and edits one slot node of a change.
  using SlotUpdate = std::function<absl::Status(SlotNode&)>;
  // One 2PC change of slot nodes (toward group gid): each part's update is
  // applied to its slots; the action names the range they span.
  absl::Status ChangeSlots(
      const std::string& type, int gid,
      const std::vector<std::pair<std::vector<int>, SlotUpdate>>& parts);
  absl::Status SetPreMigrate(const std::vector<int>& slots, int gid);
  absl::Status SetMigrate(const std::vector<int>& slots, int gid);
  absl::Status SetOnline(const std::vector<int>& slots, int gid);
  // The slots of [first, last] that can go to pre_migrate now, while this
  // runner holds `sources` (all of them, or none).
  std::vector<int> NextToPrepare(const MigrationTask& task, int first, int last,
                                 const std::set<int>& sources);
  absl::StatusOr<std::string> MasterOf(int gid);
  // Keys of slots [first, last] held by their current owners (not gid).
  int64_t PendingKeys(int first, int last, int gid);
  // Empties `slot` on the source group.
  absl::Status MoveSlot(RunState* run, size_t index, int source);
  void Report(RunState* run, bool finished);
  bool CancelRequested(const MigrationTask& task);

  Topology* topology_;
  MigrateOptions options_;
  std::atomic<bool> cancel_all_{false};
  std::atomic<bool> stop_all_{false};
  // Which steps may run at once (no shared source or target, no cycle).
  std::unique_ptr<GroupScheduler> groups_;
  // Topology::ChangeOps with group commit: writes requested by concurrent
  // steps while a change is under way go together into the next one (one
  // 2PC round for all of them).
  std::unique_ptr<GroupCommit> changes_;
};

}  // namespace reborn::migrate
