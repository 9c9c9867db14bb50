#include "server/command_observer.h"

#include "absl/time/clock.h"
#include "server/subcommands.h"

namespace reborn::server {

void CommandObserver::Bind(Config& config) {
  auto apply = [this, &config] {
    const int64_t slower = config.GetInt("slowlog-log-slower-than");
    slowlog_threshold_us_.store(slower, std::memory_order_relaxed);
    slowlog_.set_threshold_us(slower);
    slowlog_.set_max_len(static_cast<size_t>(config.GetInt("slowlog-max-len")));
    latency_.set_threshold_ms(config.GetInt("latency-monitor-threshold"));
    tracking_.store(config.GetBool("latency-tracking"),
                    std::memory_order_relaxed);
  };
  apply();
  for (const char* name : {"slowlog-log-slower-than", "slowlog-max-len",
                           "latency-monitor-threshold", "latency-tracking"}) {
    config.OnChange(name, [apply](const std::string&) {
      apply();
      return absl::OkStatus();
    });
  }
}

void CommandObserver::Observe(const Session& session, const CommandSpec& spec,
                              const std::vector<std::string>& args,
                              int64_t duration_us) {
  if (session.script) {
    Observe("?:0", "", spec, args, duration_us);
  } else {
    Observe(session.peer, session.name, spec, args, duration_us);
  }
}

void CommandObserver::Observe(std::string_view peer, std::string_view name,
                              const CommandSpec& spec,
                              const std::vector<std::string>& args,
                              int64_t duration_us) {
  const std::string full_name = FullCommandName(spec, args);
  if (full_name.empty()) return;  // refused by Redis before it runs
  // The clock is read only for what is recorded: most commands are not.
  auto now_s = [] { return absl::GetCurrentTimeNanos() / 1000000000; };
  const int64_t threshold_ms = latency_.threshold_ms();
  if (threshold_ms != 0 && duration_us / 1000 >= threshold_ms) {
    latency_.AddSample(spec.has(kCmdFast) ? "fast-command" : "command",
                       duration_us / 1000, now_s());
  }
  if (slowlog_.Wants(duration_us)) {
    std::vector<size_t> redacted;
    if (RedactedArgs(spec, args, &redacted)) {
      slowlog_.Push(args, redacted, duration_us, peer, name, now_s());
    }
  }
  if (tracking()) histograms_.Record(full_name, duration_us);
}

}  // namespace reborn::server
