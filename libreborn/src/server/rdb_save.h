#pragma once

#include <atomic>
#include <cstdint>
#include <string>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "command/command_table.h"
#include "reborn/qdb_engine.h"
#include "server/config.h"

namespace reborn::server {

// SAVE / BGSAVE / LASTSAVE and the rdb_* fields of INFO persistence: exports
// the engine as an RDB file at `dir`/`dbfilename` (written to a temporary
// file, synced, then renamed over it), which redis-server can load. The
// engine is durable by itself; this is an export.
//
// Thread safety: every method may be called from any thread; mu_ guards the
// state of the background save. The destructor waits for it to finish.
class RdbSaver {
 public:
  RdbSaver(QdbEngine& engine, Config& config);
  ~RdbSaver();
  RdbSaver(const RdbSaver&) = delete;
  RdbSaver& operator=(const RdbSaver&) = delete;

  // SAVE: writes the file now. FailedPrecondition while a BGSAVE runs.
  absl::Status Save();
  // BGSAVE: takes the snapshot now and writes it on a thread.
  // FailedPrecondition while one runs.
  absl::Status BackgroundSave();
  // LASTSAVE: Unix seconds of the last successful save (start time before).
  int64_t last_save_s();
  // rdb_* lines of INFO persistence.
  void AppendInfo(std::string* out);
  // Redis' server.dirty: `n` more changes since the last successful save
  // (rdb_changes_since_last_save). A save subtracts the changes counted
  // when it took its snapshot, as Redis subtracts dirty_before_bgsave.
  void AddChanges(uint64_t n) {
    changes_.fetch_add(n, std::memory_order_relaxed);
  }
  uint64_t changes() const { return changes_.load(std::memory_order_relaxed); }

  // Writes `snapshot` to `path` through a temporary file and a rename.
  static absl::Status WriteFile(RdbSnapshot& snapshot, const std::string& path);
  // Replaces the engine's data with the RDB file at `path` (rdb-import).
  // `key_load_delay_us`: RdbLoadOptions::key_load_delay_us.
  static absl::Status Import(QdbEngine& engine, const std::string& path,
                             int key_load_delay_us = 0);

 private:
  std::string Path() const;
  // `changes_before`: changes_ when the snapshot was taken.
  void Finished(const absl::Status& status, int64_t started_ms, bool bg,
                uint64_t changes_before);

  QdbEngine& engine_;
  Config& config_;
  absl::Mutex mu_;
  bool in_progress_ ABSL_GUARDED_BY(mu_) = false;
  int64_t last_save_s_ ABSL_GUARDED_BY(mu_) = 0;
  bool last_bgsave_ok_ ABSL_GUARDED_BY(mu_) = true;
  int64_t last_bgsave_time_s_ ABSL_GUARDED_BY(mu_) = -1;
  uint64_t saves_ ABSL_GUARDED_BY(mu_) = 0;
  std::atomic<uint64_t> changes_{0};
  std::thread thread_ ABSL_GUARDED_BY(mu_);
};

// Registers SAVE, BGSAVE and LASTSAVE on `table`.
absl::Status RegisterSaveCommands(RdbSaver& saver, CommandTable& table);

}  // namespace reborn::server
