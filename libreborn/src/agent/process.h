#pragma once

// Process helpers of the supervisor: spawning a child with its own working
// directory and log file, and telling a live process from a reused pid.

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace reborn::agent {

struct SpawnSpec {
  std::vector<std::string> argv;  // argv[0] is the program path
  std::string cwd;                // created if missing
  std::string log_path;           // stdout and stderr, appended
};

// posix_spawn with: stdin from /dev/null, stdout+stderr appended to the log,
// the working directory set, every other descriptor closed, an empty signal
// mask and default dispositions (the agent blocks SIGTERM for its signal
// thread; a child must not inherit that), and a process group of its own
// (a terminal's ^C reaches the agent, which stops its children in order).
absl::StatusOr<pid_t> Spawn(const SpawnSpec& spec);

// The process' start time in clock ticks since boot (/proc/<pid>/stat field
// 22); NotFound when no such process. A pid plus its start time names one
// process: a reused pid has another start time.
absl::StatusOr<uint64_t> ProcessStartTime(pid_t pid);

// True when `pid` is alive and started at `start_time` (a zombie is dead).
bool SameProcessAlive(pid_t pid, uint64_t start_time);

// "exit 0", "exit 3", "signal 9" from a waitpid status.
std::string DescribeWaitStatus(int status);

// Sends `sig`, then waits up to `grace_ms` for the process to go (reaping it
// when it is our child), then SIGKILLs it. Returns the wait status
// description, or "stopped" for a process that is not our child.
std::string Terminate(pid_t pid, uint64_t start_time, bool is_child, int sig,
                      int grace_ms);

}  // namespace reborn::agent
