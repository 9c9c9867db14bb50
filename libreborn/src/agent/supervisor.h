#pragma once

// Supervisor: the agent's local processes. Each application has an id
// ("qdb-6380"), a command line, a working directory and a log file; the
// supervisor starts it, notices when it dies (waitpid for its own children,
// pid + start time for adopted ones), restarts it after an exponential
// backoff, and gives up after `max_restarts` restarts within
// `restart_window` (state "failed", until removed and added again).
//
// The application list is kept in <dir>/apps.json (written atomically on
// every change), so a restarted agent adopts the processes that still run
// and starts the others.
//
// Synchronisation: `mu_` guards the table and apps.json. Tick() runs on the
// agent's supervise thread; the HTTP handlers call Add/Remove/Apps. Stopping
// a process (up to the grace period) happens without the lock: the entry is
// taken out of the table first.

#include <sys/types.h>

#include <cstdint>
#include <deque>
#include <map>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "nlohmann/json.hpp"

namespace reborn::agent {

struct AppSpec {
  std::string id;    // unique: "<kind>-<port>"
  std::string kind;  // qdb | redis | proxy | dashboard | other
  std::vector<std::string> argv;
  std::vector<int> ports;  // listening ports (for /api/apps and clashes)
  std::string dir;         // working directory (its data)
  std::string log;         // stdout + stderr
};

nlohmann::json AppSpecToJson(const AppSpec& spec);
absl::StatusOr<AppSpec> AppSpecFromJson(const nlohmann::json& j);

struct SupervisorOptions {
  std::string dir;  // apps.json lives here
  absl::Duration backoff_min = absl::Milliseconds(200);
  absl::Duration backoff_max = absl::Seconds(30);
  int max_restarts = 5;
  absl::Duration restart_window = absl::Seconds(60);
  int stop_grace_ms = 10000;  // SIGTERM, then SIGKILL after this
};

class Supervisor {
 public:
  explicit Supervisor(SupervisorOptions options);
  ~Supervisor();  // does not stop the applications (see StopAll)
  Supervisor(const Supervisor&) = delete;
  Supervisor& operator=(const Supervisor&) = delete;

  // Reads apps.json: adopts each application whose process still runs,
  // starts the others. A missing file is an empty list.
  absl::Status Load();

  // Starts a new application. AlreadyExists when the id or a port is taken
  // by another application; FailedPrecondition when the program cannot run.
  absl::Status Add(const AppSpec& spec);
  // Stops the application and forgets it. NotFound for an unknown id.
  absl::Status Remove(const std::string& id);
  // Forgets the application but leaves its process running, unwatched
  // (handing it over; `./reborn.sh demo failover` then kills it as a lost
  // machine would). NotFound for an unknown id.
  absl::Status Detach(const std::string& id);
  // Stops every application; with `forget`, also empties the list.
  void StopAll(bool forget);

  // Reaps dead processes, schedules and performs restarts. Called every
  // supervise interval.
  void Tick();

  // [{"id","kind","state","pid","uptime_s","restarts","recent_restarts",
  //   "last_exit","ports","dir","log","argv","adopted"}], plus
  // "backoff_ms" and "restart_in_ms" in state backoff.
  nlohmann::json Apps() const;
  // pid of a running application, 0 otherwise (tests).
  pid_t PidForTest(const std::string& id) const;
  std::string StateForTest(const std::string& id) const;

 private:
  struct App {
    AppSpec spec;
    pid_t pid = 0;
    uint64_t start_time = 0;        // of `pid`, see ProcessStartTime
    bool child = false;             // ours (waitpid) or adopted
    std::string state = "stopped";  // running | backoff | failed | stopped
    absl::Time started_at = absl::InfinitePast();
    absl::Time next_start = absl::InfinitePast();
    absl::Duration backoff;  // the delay chosen at the last death
    int restarts = 0;
    std::deque<absl::Time> recent;  // restart times within the window
    std::string last_exit;
  };

  // Spawns `app`; on failure it goes to backoff like a dead process.
  void StartLocked(App& app, absl::Time now) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // A process went away: schedule a restart or give up.
  void DiedLocked(App& app, std::string how, absl::Time now)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void SaveLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Takes the application out of the table (NotFound when unknown).
  absl::StatusOr<App> TakeApp(const std::string& id);
  std::string StatePath() const;

  const SupervisorOptions options_;
  mutable absl::Mutex mu_;
  std::map<std::string, App> apps_ ABSL_GUARDED_BY(mu_);
  // Detached children of ours: reaped by Tick when they end (no zombies).
  std::vector<pid_t> detached_ ABSL_GUARDED_BY(mu_);
};

}  // namespace reborn::agent
