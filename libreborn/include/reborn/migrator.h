#pragma once

// Migrator: moves slots FROM..TO of a product to a group while traffic flows
// (docs/design.md §7, docs/migration.md). A task runs in steps of
// `slots_per_step` slots; for each step:
//
//   1. pre_migrate(from=current group, to=GID)  -- Topology::Change (2PC);
//      proxies hold requests for the slot.
//   2. migrate(from, to), group_id=GID         -- Topology::Change (2PC);
//      proxies send SLOTSMGRTTAGONE to the source before each command.
//   3. SLOTSMGRTTAGSLOTBATCH on the source master until it reports 0 left
//      and SLOTSINFO shows the slot empty there.
//   4. online at GID                            -- Topology::Change (2PC).
//
// Parallel moves: several tasks run at once (Run from several threads, or
// RunAll); a step waits until no other running step of this Migrator uses
// its source group as a source or its target group as a target, and while
// it would close a cycle of moves (1->2, 2->3, 3->1: stores would wait on
// each other's key locks). Slots of 1->3 and 2->4, or 1->2 and 2->3, move
// concurrently; 1->3 and 1->4 take turns.
//
// Persistence: tasks live under /reborn/P/migrations/<id> as JSON, updated
// at every step and about once a second while keys move. While a runner
// works on a task it holds the ephemeral /reborn/P/migrations/<id>/owner,
// so a second runner waits for it (a killed runner's node goes when its
// coordinator session expires; `owner_wait`). A restarted reborn-config
// resumes a task: it first publishes a no-op change ("slot_resync") so every
// proxy acks the current table, finishes a slot found in pre_migrate or
// migrate towards the task's group, and continues with the next one.
//
// Cancel: Cancel(id) records /reborn/P/migrations/<id>/cancel (any process
// may call it). The runner finishes the step it is in — its slots end online
// at the target — and stops with state "cancelled"; the slots after it stay
// online at their source. Run(id) resumes a cancelled task.
//
// Thread safety: all methods may be called from any thread. The set of
// groups busy as source or target and the queue of topology writes waiting
// for the next change (group commit: concurrent steps share 2PC rounds) are
// internal objects that synchronise themselves; everything else is per call.

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "reborn/export.h"
#include "reborn/rebalance.h"
#include "reborn/topology.h"

namespace reborn {

namespace migrate {
class MigratorImpl;
}  // namespace migrate

struct REBORN_EXPORT MigrateOptions {
  // Budget of one SLOTSMGRTTAGSLOTBATCH call (a task's own batch_keys wins).
  int64_t batch_keys = 500;
  int64_t batch_bytes = 8 << 20;
  // Keys per second of one task; 0 = unlimited (a task's own rate wins).
  int64_t rate_limit = 0;
  // A pause after every batch, to leave the source room for its clients
  // (Codis' "delay"; a task's own delay wins).
  absl::Duration delay = absl::ZeroDuration();
  // Slots switched together by one topology change (1 = slot by slot).
  int slots_per_step = 1;
  // Timeout of the connection to the source and of its SLOTSRESTORE calls.
  absl::Duration server_timeout = absl::Seconds(10);
  std::string password;  // AUTH for the source store
  ChangeOptions change;
  // How long Run waits for a task (or the topology lock) held by another
  // runner, e.g. a killed reborn-config whose session has not expired yet.
  // Default: twice the coordinator's session timeout plus 5 s.
  absl::Duration owner_wait = absl::InfiniteDuration();
  // Run resumes a task that failed with Unavailable or DeadlineExceeded (a
  // coordinator or store hiccup) this many times in a row, 1 s, 2 s, ...
  // apart (an attempt that finished slots starts the count again); the
  // task's state is "retrying" in between.
  int transient_retries = 4;
};

// Per-task options chosen at Create (0 = the Migrator's).
struct REBORN_EXPORT TaskOptions {
  int64_t rate_limit = 0;
  int64_t batch_keys = 0;
  int slots_per_step = 0;
  absl::Duration delay = absl::ZeroDuration();  // "delay_ms" in the JSON
};

struct REBORN_EXPORT SlotProgress {
  int slot = 0;
  int64_t moved = 0;  // keys moved in this slot by the current run
  int64_t left = 0;   // keys still at the source
};

// Where a task stands. kRetrying waits to resume after a transient failure;
// kFailed and kStopped stay until resumed or cancelled; kDone and kCancelled
// are final.
enum class MigrationState {
  kPending,
  kRunning,
  kRetrying,
  kDone,
  kFailed,
  kCancelled,
  kStopped,
};

// "pending", "running", "retrying", "done", "failed", "cancelled",
// "stopped": the names in the task's JSON and the REST API.
REBORN_EXPORT std::string_view MigrationStateName(MigrationState s);
REBORN_EXPORT absl::StatusOr<MigrationState> ParseMigrationState(
    std::string_view name);

// A persisted task (the JSON of /reborn/P/migrations/<id>).
struct REBORN_EXPORT MigrationTask {
  std::string id;  // node name
  int from = 0;
  int to = 0;
  int gid = 0;
  int next_slot = 0;  // first slot not finished yet
  MigrationState state = MigrationState::kPending;
  int64_t keys_moved = 0;
  std::string error;
  int64_t created_at = 0;  // unix seconds
  int64_t updated_at = 0;
  TaskOptions options;
  // Progress, written by the runner.
  int slots_done = 0;     // slots of from..to online at gid
  int64_t keys_left = 0;  // estimate: keys at the sources of unfinished slots
  double keys_per_sec = 0;
  std::vector<SlotProgress> current;  // the slots of the running step
  std::string owner;                  // "host:pid" of the last runner
  int64_t version = -1;

  int slots_total() const { return to - from + 1; }
  // Seconds to go at the current speed; -1 unknown.
  double eta_seconds() const;
};

REBORN_EXPORT std::string EncodeMigrationTask(const MigrationTask& t);
REBORN_EXPORT absl::StatusOr<MigrationTask> DecodeMigrationTask(
    std::string_view json);

struct REBORN_EXPORT MigrationProgress {
  std::string task;
  int current_slot = -1;
  int slots_done = 0;
  int slots_total = 0;
  int64_t keys_moved = 0;  // over the task, including earlier runs
  int64_t keys_left = 0;   // estimate over the task's unfinished slots
  double keys_per_sec = 0;
  double eta_seconds = -1;
  bool finished = false;
};

// Moves slot ranges between groups live (docs/migration.md): each task is
// persisted in the coordinator, runs its slots through pre_migrate ->
// migrate -> online with every proxy's ack between the steps, moves the
// keys with SLOTSMGRTTAGSLOTBATCH, and resumes after a crash from what the
// coordinator holds. Thread-safe: several threads may Run different tasks;
// steps that share a group wait for each other.
//
// Errors: InvalidArgument / OutOfRange for a bad request, FailedPrecondition
// for a slot that cannot move now, NotFound for an unknown task, Unavailable
// / DeadlineExceeded when a group or the coordinator does not answer (the
// task is left "retrying"), Cancelled when cancelled, Aborted when stopped
// by StopAll (resumable) or when another runner took the task over,
// Internal when a server answers the slot protocol with an error.
class REBORN_EXPORT Migrator {
 public:
  // Called from the thread running the task (several at once under RunAll).
  using ProgressCallback = std::function<void(const MigrationProgress&)>;

  // `topology` must outlive the Migrator.
  explicit Migrator(Topology* topology, MigrateOptions options = {});
  ~Migrator();

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
  void CancelAll();
  // Makes every Run stop after its current step with state "stopped", which
  // ResumeAll resumes (a shutting-down dashboard).
  void StopAll();

  // The rebalance plan for the current topology (PlanRebalance).
  absl::StatusOr<RebalancePlan> Plan(const std::map<int, double>& weights);
  // One task per move of `plan`; returns their ids.
  absl::StatusOr<std::vector<std::string>> CreatePlan(
      const RebalancePlan& plan, const TaskOptions& task_options = {});

 private:
  std::unique_ptr<migrate::MigratorImpl> impl_;
};

}  // namespace reborn
