#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "command/command_spec.h"
#include "command/session.h"
#include "server/command_latencies.h"
#include "server/config.h"
#include "server/latency_monitor.h"
#include "server/slowlog.h"

namespace reborn::server {

// What the server learns from every command it runs, as Redis' call()
// records it: the slow log, the latency monitor's "command" and
// "fast-command" events and the per-command latency histograms. Bound to
// its config keys (slowlog-log-slower-than, slowlog-max-len,
// latency-monitor-threshold, latency-tracking), changeable at runtime.
// Thread-safe.
class CommandObserver {
 public:
  // Reads the config and follows its changes; call once, before commands.
  void Bind(Config& config);

  // A command that ran for `duration_us` (its blocked time excluded).
  void Observe(const Session& session, const CommandSpec& spec,
               const std::vector<std::string>& args, int64_t duration_us);
  // The same, for a command that ran on behalf of a client that is no
  // longer at hand (a blocking command served later): peer and name given.
  void Observe(std::string_view peer, std::string_view name,
               const CommandSpec& spec, const std::vector<std::string>& args,
               int64_t duration_us);

  SlowLog& slowlog() { return slowlog_; }
  LatencyMonitor& latency() { return latency_; }
  CommandLatencies& histograms() { return histograms_; }
  bool tracking() const { return tracking_.load(std::memory_order_relaxed); }
  int64_t slowlog_threshold_us() const {
    return slowlog_threshold_us_.load(std::memory_order_relaxed);
  }

 private:
  SlowLog slowlog_;
  LatencyMonitor latency_;
  CommandLatencies histograms_;
  std::atomic<bool> tracking_{true};
  std::atomic<int64_t> slowlog_threshold_us_{10000};
};

}  // namespace reborn::server
