#include "server/latency_monitor.h"

#include <cmath>
#include <cstdlib>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "command/command_spec.h"

namespace reborn::server {
namespace {

// Redis' sparkline.c, as LATENCY GRAPH draws it: rows of "_o#" bars (with
// '|' filling below the top) and the labels written downwards beneath.
struct Spark {
  double value;
  std::string label;
};

void RenderRange(const std::vector<Spark>& seq, double min, double max,
                 int rows, size_t offset, size_t len, std::string* out) {
  static constexpr char kFill[] = "_o#";
  constexpr int kCharsetLen = 3;
  constexpr int kLabelMarginTop = 1;
  double relmax = max - min;
  if (relmax == 0) relmax = 1;
  const int steps = kCharsetLen * rows;
  const bool labels = true;  // every sample has a label here
  std::string chars(len, ' ');
  for (int row = 0;; ++row) {
    bool loop = false;
    chars.assign(len, ' ');
    for (size_t j = 0; j < len; ++j) {
      const Spark& s = seq[j + offset];
      const double relval = s.value - min;
      int step = static_cast<int>((relval * steps) / relmax);
      if (step < 0) step = 0;
      if (step >= steps) step = steps - 1;
      if (row < rows) {
        const int charidx = step - ((rows - row - 1) * kCharsetLen);
        loop = true;
        if (charidx >= 0 && charidx < kCharsetLen) {
          chars[j] = kFill[charidx];
        } else if (charidx >= kCharsetLen) {
          chars[j] = '|';
        }
      } else {
        if (labels && row - rows < kLabelMarginTop) {
          loop = true;
          break;
        }
        const int label_char = row - rows - kLabelMarginTop;
        if (static_cast<int>(s.label.size()) > label_char) {
          loop = true;
          chars[j] = s.label[static_cast<size_t>(label_char)];
        }
      }
    }
    if (!loop) break;
    absl::StrAppend(out, chars, "\n");
  }
}

std::string AgoLabel(int64_t elapsed) {
  if (elapsed < 60) return absl::StrCat(elapsed, "s");
  if (elapsed < 3600) return absl::StrCat(elapsed / 60, "m");
  if (elapsed < 3600 * 24) return absl::StrCat(elapsed / 3600, "h");
  return absl::StrCat(elapsed / (3600 * 24), "d");
}

}  // namespace

void LatencyMonitor::AddSample(std::string_view event, int64_t ms,
                               int64_t now_s) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = events_.find(event);
  if (it == events_.end())
    it = events_.emplace(std::string(event), Series{}).first;
  Series& ts = it->second;
  if (ms > ts.max_ms) ts.max_ms = ms;
  // One sample per second: the worst of that second.
  Sample& prev = ts.samples[(ts.idx + kSamples - 1) % kSamples];
  if (prev.time == now_s) {
    if (ms > prev.latency_ms) prev.latency_ms = ms;
    return;
  }
  ts.samples[ts.idx] = Sample{now_s, ms};
  ts.idx = (ts.idx + 1) % kSamples;
}

std::vector<LatencyMonitor::Latest> LatencyMonitor::LatestAll() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<Latest> out;
  for (const auto& [name, ts] : events_) {
    const Sample& last = ts.samples[(ts.idx + kSamples - 1) % kSamples];
    out.push_back(Latest{name, last.time, last.latency_ms, ts.max_ms});
  }
  return out;
}

std::vector<LatencyMonitor::Sample> LatencyMonitor::History(
    std::string_view event) const {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<Sample> out;
  auto it = events_.find(event);
  if (it == events_.end()) return out;
  for (size_t j = 0; j < kSamples; ++j) {
    const Sample& s = it->second.samples[(it->second.idx + j) % kSamples];
    if (s.time != 0) out.push_back(s);
  }
  return out;
}

int64_t LatencyMonitor::Reset(const std::vector<std::string>& events) {
  std::lock_guard<std::mutex> lock(mu_);
  if (events.empty()) {
    const auto n = static_cast<int64_t>(events_.size());
    events_.clear();
    return n;
  }
  int64_t resets = 0;
  for (const std::string& wanted : events) {
    for (auto it = events_.begin(); it != events_.end();) {
      if (EqualsIgnoreCase(it->first, wanted)) {
        it = events_.erase(it);
        ++resets;
      } else {
        ++it;
      }
    }
  }
  return resets;
}

std::string LatencyMonitor::Graph(std::string_view event, int64_t now_s) const {
  constexpr size_t kColumns = 80;
  constexpr int kRows = 4;
  std::vector<Spark> seq;
  int64_t max_all = 0;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = events_.find(event);
    if (it == events_.end()) return "";
    max_all = it->second.max_ms;
    for (size_t j = 0; j < kSamples; ++j) {
      const Sample& s = it->second.samples[(it->second.idx + j) % kSamples];
      if (s.time == 0) continue;
      seq.push_back(
          Spark{static_cast<double>(s.latency_ms), AgoLabel(now_s - s.time)});
    }
  }
  double lo = 0, hi = 0;
  for (size_t i = 0; i < seq.size(); ++i) {
    if (i == 0 || seq[i].value < lo) lo = seq[i].value;
    if (i == 0 || seq[i].value > hi) hi = seq[i].value;
  }
  std::string graph = absl::StrFormat(
      "%s - high %d ms, low %d ms (all time high %d ms)\n", std::string(event),
      static_cast<int64_t>(hi), static_cast<int64_t>(lo), max_all);
  graph.append(kColumns, '-');
  graph += "\n";
  for (size_t j = 0; j < seq.size(); j += kColumns) {
    if (j != 0) graph += "\n";
    RenderRange(seq, lo, hi, kRows, j, std::min(kColumns, seq.size() - j),
                &graph);
  }
  return graph;
}

std::string LatencyMonitor::Doctor(int64_t slowlog_threshold_us,
                                   int64_t now_s) const {
  const int64_t threshold = threshold_ms();
  std::lock_guard<std::mutex> lock(mu_);
  if (events_.empty() && threshold == 0) {
    return "I'm sorry, Dave, I can't do that. Latency monitoring is disabled "
           "in this Redis instance. You may use \"CONFIG SET "
           "latency-monitor-threshold <milliseconds>.\" in order to enable "
           "it. If we weren't in a deep space mission I'd suggest to take a "
           "look at https://redis.io/topics/latency-monitor.\n";
  }
  std::string report;
  bool slowlog_enabled = false, slowlog_tuning = false, slowlog_inspect = false;
  bool scheduler = false, large_objects = false;
  int advices = 0, eventnum = 0;
  for (const auto& [event, ts] : events_) {
    if (++eventnum == 1) {
      report +=
          "Dave, I have observed latency spikes in this Redis instance. You "
          "don't mind talking about it, do you Dave?\n\n";
    }
    // Redis' analyzeLatencyForEvent: average, mean absolute deviation and
    // the seconds since the oldest sample.
    int64_t samples = 0, sum = 0, oldest = 0;
    for (const Sample& s : ts.samples) {
      if (s.time == 0) continue;
      ++samples;
      sum += s.latency_ms;
      if (oldest == 0 || s.time < oldest) oldest = s.time;
    }
    int64_t avg = 0, mad = 0, period = 0;
    if (samples > 0) {
      avg = sum / samples;
      period = now_s - oldest;
      if (period == 0) period = 1;
      int64_t dev = 0;
      for (const Sample& s : ts.samples) {
        if (s.time != 0) dev += std::llabs(avg - s.latency_ms);
      }
      mad = dev / samples;
    }
    absl::StrAppendFormat(
        &report,
        "%d. %s: %d latency spikes (average %dms, mean deviation %dms, "
        "period %.2f sec). Worst all time event %dms.",
        eventnum, event, samples, avg, mad,
        static_cast<double>(period) / static_cast<double>(samples), ts.max_ms);
    if (EqualsIgnoreCase(event, "command")) {
      if (slowlog_threshold_us < 0) {
        slowlog_enabled = true;
        ++advices;
      } else if (slowlog_threshold_us / 1000 > threshold) {
        slowlog_tuning = true;
        ++advices;
      }
      slowlog_inspect = true;
      large_objects = true;
      advices += 2;
    }
    if (EqualsIgnoreCase(event, "fast-command")) {
      scheduler = true;
      ++advices;
    }
    report += "\n";
  }
  if (eventnum == 0 && advices == 0) {
    report +=
        "Dave, no latency spike was observed during the lifetime of this "
        "Redis instance, not in the slightest bit. I honestly think you "
        "ought to sit down calmly, take a stress pill, and think things "
        "over.\n";
    return report;
  }
  if (advices == 0) {
    report +=
        "\nWhile there are latency events logged, I'm not able to suggest "
        "any easy fix. Please use the Redis community to get some help, "
        "providing this report in your help request.\n";
    return report;
  }
  report += "\nI have a few advices for you:\n\n";
  if (slowlog_enabled) {
    absl::StrAppend(
        &report,
        "- There are latency issues with potentially slow commands you are "
        "using. Try to enable the Slow Log Redis feature using the command "
        "'CONFIG SET slowlog-log-slower-than ",
        threshold * 1000,
        "'. If the Slow log is disabled Redis is not able to log slow "
        "commands execution for you.\n");
  }
  if (slowlog_tuning) {
    absl::StrAppend(
        &report,
        "- Your current Slow Log configuration only logs events that are "
        "slower than your configured latency monitor threshold. Please use "
        "'CONFIG SET slowlog-log-slower-than ",
        threshold * 1000, "'.\n");
  }
  if (slowlog_inspect) {
    report +=
        "- Check your Slow Log to understand what are the commands you are "
        "running which are too slow to execute. Please check "
        "https://redis.io/commands/slowlog for more information.\n";
  }
  if (scheduler) {
    report +=
        "- The system is slow to execute Redis code paths not containing "
        "system calls. This usually means the system does not provide Redis "
        "CPU time to run for long periods. You should try to:\n"
        "  1) Lower the system load.\n"
        "  2) Use a computer / VM just for Redis if you are running other "
        "software in the same system.\n"
        "  3) Check if you have a \"noisy neighbour\" problem.\n"
        "  4) Check with 'redis-cli --intrinsic-latency 100' what is the "
        "intrinsic latency in your system.\n"
        "  5) Check if the problem is allocator-related by recompiling Redis "
        "with MALLOC=libc, if you are using Jemalloc. However this may "
        "create fragmentation problems.\n";
  }
  if (large_objects) {
    report +=
        "- Deleting, expiring or evicting (because of maxmemory policy) "
        "large objects is a blocking operation. If you have very large "
        "objects that are often deleted, expired, or evicted, try to "
        "fragment those objects into multiple smaller objects.\n";
  }
  return report;
}

}  // namespace reborn::server
