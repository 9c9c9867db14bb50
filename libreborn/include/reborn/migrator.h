#pragma once

// Migrator: moves slots FROM..TO of a product to a group while traffic flows
// (DESIGN §7). For each step of slots (one slot by default):
//
//   1. pre_migrate(from=current group, to=GID)  -- Topology::Change (2PC);
//      proxies hold requests for the slot.
//   2. migrate(from, to), group_id=GID         -- Topology::Change (2PC);
//      proxies send SLOTSMGRTTAGONE to the source before each command.
//   3. SLOTSMGRTTAGSLOTBATCH on the source master until it reports 0 left
//      and SLOTSINFO shows the slot empty there.
//   4. online at GID                            -- Topology::Change (2PC).
//
// Tasks persist under /reborn/P/migrations/<seq> as JSON and are updated
// after every step, so a restarted reborn-config resumes a task: a slot found
// in pre_migrate or migrate towards the task's group is finished first, then
// the task continues with the next slot.
//
// Thread safety: one Migrator runs one task at a time (Run is not reentrant);
// Cancel() may be called from any thread.

#include <atomic>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "reborn/topology.h"

namespace reborn {

struct MigrateOptions {
  // Budget of one SLOTSMGRTTAGSLOTBATCH call.
  int64_t batch_keys = 500;
  int64_t batch_bytes = 8 << 20;
  // Keys per second over the whole task; 0 = unlimited.
  int64_t rate_limit = 0;
  // Slots switched together by one topology change (1 = slot by slot).
  int slots_per_step = 1;
  // Timeout of the connection to the source and of its SLOTSRESTORE calls.
  absl::Duration server_timeout = absl::Seconds(10);
  std::string password;  // AUTH for the source store
  ChangeOptions change;
};

// A persisted task (the JSON of /reborn/P/migrations/<id>).
struct MigrationTask {
  std::string id;  // node name
  int from = 0;
  int to = 0;
  int gid = 0;
  int next_slot = 0;              // first slot not finished yet
  std::string state = "pending";  // pending | running | done | failed |
                                  // cancelled
  int64_t keys_moved = 0;
  std::string error;
  int64_t created_at = 0;  // unix seconds
  int64_t updated_at = 0;
  int64_t version = -1;
};

std::string EncodeMigrationTask(const MigrationTask& t);
absl::StatusOr<MigrationTask> DecodeMigrationTask(std::string_view json);

struct MigrationProgress {
  std::string task;
  int current_slot = -1;
  int slots_done = 0;
  int slots_total = 0;
  int64_t keys_moved = 0;  // over the task, including earlier runs
  int64_t keys_left = 0;   // in the current slot at the source
  double keys_per_sec = 0;
  bool finished = false;
};

class Migrator {
 public:
  using ProgressCallback = std::function<void(const MigrationProgress&)>;

  // `topology` must outlive the Migrator.
  explicit Migrator(Topology* topology, MigrateOptions options = {});

  // Validates the request and persists a new task; returns its id.
  absl::StatusOr<std::string> Create(int from, int to, int gid);
  // Runs (or resumes) a persisted task to its end.
  absl::Status Run(const std::string& id,
                   const ProgressCallback& progress = nullptr);
  // Runs every task that is not done, oldest first.
  absl::Status ResumeAll(const ProgressCallback& progress = nullptr);

  absl::StatusOr<std::vector<MigrationTask>> Tasks();
  absl::StatusOr<MigrationTask> GetTask(const std::string& id);

  // Makes a running Run() stop at the next batch (the slot being moved stays
  // in migrate; a later Run resumes it).
  void Cancel() { cancelled_.store(true); }

 private:
  absl::Status SaveTask(MigrationTask* task);
  absl::Status RunStep(MigrationTask* task, int first, int last,
                       const ProgressCallback& progress);
  absl::Status SetPreMigrate(const std::vector<int>& slots, int gid);
  absl::Status SetMigrate(const std::vector<int>& slots, int gid);
  absl::Status SetOnline(const std::vector<int>& slots, int gid);
  absl::StatusOr<std::string> MasterOf(int gid);
  // Empties `slot` on the source group.
  absl::Status MoveSlot(MigrationTask* task, int slot, int source, int gid,
                        const ProgressCallback& progress);
  void Report(const MigrationTask& task, int slot, int64_t left, bool finished,
              const ProgressCallback& progress);

  Topology* topology_;
  MigrateOptions options_;
  std::atomic<bool> cancelled_{false};
  // Rate and progress accounting of the current Run().
  absl::Time run_start_;
  int64_t run_moved_ = 0;
};

}  // namespace reborn
