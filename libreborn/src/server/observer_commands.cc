// SLOWLOG and LATENCY, and INFO's latencystats section: what the
// CommandObserver recorded, in Redis 7.0's replies.
#include <charconv>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "qdb/numbers.h"
#include "server/qdb_server_impl.h"
#include "server/subcommands.h"

namespace reborn::server {
namespace {

constexpr const char* kSlowlogHelp[] = {
    "SLOWLOG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    "GET [<count>]",
    "    Return top <count> entries from the slowlog (default: 10, -1 mean "
    "all).",
    "    Entries are made of:",
    "    id, timestamp, time in microseconds, arguments array, client IP and "
    "port,",
    "    client name",
    "LEN",
    "    Return the length of the slowlog.",
    "RESET",
    "    Reset the slowlog.",
    "HELP",
    "    Prints this help.",
};

constexpr const char* kLatencyHelp[] = {
    "LATENCY <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    "DOCTOR",
    "    Return a human readable latency analysis report.",
    "GRAPH <event>",
    "    Return an ASCII latency graph for the <event> class.",
    "HISTORY <event>",
    "    Return time-latency samples for the <event> class.",
    "LATEST",
    "    Return the latest latency samples for all events.",
    "RESET [<event> ...]",
    "    Reset latency data of one or more <event> classes.",
    "    (default: reset all data for all event classes)",
    "HISTOGRAM [COMMAND ...]",
    "    Return a cumulative distribution of latencies in the format of a "
    "histogram for the specified command names.",
    "    If no commands are specified then all histograms are replied.",
    "HELP",
    "    Prints this help.",
};

int64_t NowSeconds() { return absl::GetCurrentTimeNanos() / 1000000000; }

// Checks a subcommand against Redis 7.0's arity table; false after writing
// the error.
bool SubcommandOk(CommandContext& ctx, std::string_view command,
                  std::initializer_list<std::pair<const char*, int>> arities) {
  const std::string sub = absl::AsciiStrToLower(ctx.args[1]);
  const int argc = static_cast<int>(ctx.args.size());
  for (const auto& [name, arity] : arities) {
    if (sub != name) continue;
    if (arity > 0 ? argc != arity : argc < -arity) {
      ctx.reply.Error(absl::StrCat("ERR wrong number of arguments for '",
                                   std::string(command), "|", name,
                                   "' command"));
      return false;
    }
    return true;
  }
  ctx.reply.Error(UnknownSubcommandError(command, ctx.args[1]));
  return false;
}

void SubcommandSyntaxError(CommandContext& ctx, std::string_view command) {
  ctx.reply.Error(
      absl::StrCat("ERR unknown subcommand or wrong number of arguments for '",
                   ctx.args[1].substr(0, 128), "'. Try ",
                   absl::AsciiStrToUpper(std::string(command)), " HELP."));
}

void Slowlog(CommandObserver& observer, CommandContext& ctx) {
  if (!SubcommandOk(ctx, "slowlog",
                    {{"get", -2}, {"len", 2}, {"reset", 2}, {"help", 2}})) {
    return;
  }
  const std::string sub = absl::AsciiStrToLower(ctx.args[1]);
  SlowLog& log = observer.slowlog();
  if (sub == "help") {
    ctx.reply.ArrayHeader(std::size(kSlowlogHelp));
    for (const char* line : kSlowlogHelp) ctx.reply.SimpleString(line);
  } else if (sub == "reset") {
    log.Reset();
    ctx.reply.Ok();
  } else if (sub == "len") {
    ctx.reply.Integer(static_cast<int64_t>(log.Len()));
  } else {
    if (ctx.args.size() > 3) return SubcommandSyntaxError(ctx, "slowlog");
    int64_t count = 10;
    if (ctx.args.size() == 3 &&
        (!qdb::ParseInt64(ctx.args[2], &count) || count < -1)) {
      return ctx.reply.Error("ERR count should be greater than or equal to -1");
    }
    const std::vector<SlowLog::Entry> entries = log.Get(count);
    ctx.reply.ArrayHeader(entries.size());
    for (const SlowLog::Entry& e : entries) {
      ctx.reply.ArrayHeader(6);
      ctx.reply.Integer(e.id);
      ctx.reply.Integer(e.unix_time);
      ctx.reply.Integer(e.duration_us);
      ctx.reply.ArrayHeader(e.args.size());
      for (const std::string& a : e.args) ctx.reply.Bulk(a);
      ctx.reply.Bulk(e.peer);
      ctx.reply.Bulk(e.name);
    }
  }
}

void WriteHistogram(const std::string& name, const LatencyHistogram& h,
                    resp::ReplyWriter& reply) {
  reply.Bulk(name);
  reply.MapHeader(2);
  reply.Bulk("calls");
  reply.Integer(static_cast<int64_t>(h.Count()));
  reply.Bulk("histogram_usec");
  const auto buckets = h.CumulativePowersOfTwo();
  reply.MapHeader(buckets.size());
  for (const auto& [usec, count] : buckets) {
    reply.Integer(usec);
    reply.Integer(static_cast<int64_t>(count));
  }
}

void Histogram(CommandObserver& observer, CommandContext& ctx) {
  using Named = std::pair<std::string, std::shared_ptr<const LatencyHistogram>>;
  std::vector<Named> found;
  if (ctx.args.size() == 2) {
    found = observer.histograms().All();
  } else {
    for (size_t i = 2; i < ctx.args.size(); ++i) {
      // "container|sub" names one subcommand; a container name, itself and
      // its subcommands; an unknown name nothing.
      std::string name = ToLower(ctx.args[i]);
      std::string_view base = name;
      std::string_view sub;
      if (size_t bar = name.find('|'); bar != std::string::npos) {
        base = std::string_view(name).substr(0, bar);
        sub = std::string_view(name).substr(bar + 1);
      }
      const CommandSpec* spec = FindCommandSpec(base);
      if (spec == nullptr) continue;
      std::vector<std::string> names;
      auto subs = SubcommandsOf(spec->name);
      if (!sub.empty()) {
        if (std::find(subs.begin(), subs.end(), sub) == subs.end()) continue;
        names.push_back(name);
      } else {
        names.emplace_back(spec->name);
        for (std::string_view s : subs) {
          names.push_back(
              absl::StrCat(std::string(spec->name), "|", std::string(s)));
        }
      }
      for (const std::string& n : names) {
        if (auto h = observer.histograms().Find(n)) found.emplace_back(n, h);
      }
    }
  }
  ctx.reply.MapHeader(found.size());
  for (const auto& [name, h] : found) WriteHistogram(name, *h, ctx.reply);
}

void Latency(CommandObserver& observer, CommandContext& ctx) {
  if (!SubcommandOk(ctx, "latency",
                    {{"doctor", 2},
                     {"graph", 3},
                     {"help", 2},
                     {"histogram", -2},
                     {"history", 3},
                     {"latest", 2},
                     {"reset", -2}})) {
    return;
  }
  const std::string sub = absl::AsciiStrToLower(ctx.args[1]);
  LatencyMonitor& monitor = observer.latency();
  if (sub == "history") {
    const auto samples = monitor.History(ctx.args[2]);
    ctx.reply.ArrayHeader(samples.size());
    for (const auto& s : samples) {
      ctx.reply.ArrayHeader(2);
      ctx.reply.Integer(s.time);
      ctx.reply.Integer(s.latency_ms);
    }
  } else if (sub == "graph") {
    std::string graph = monitor.Graph(ctx.args[2], NowSeconds());
    if (graph.empty()) {
      return ctx.reply.Error(absl::StrCat(
          "ERR No samples available for event '", ctx.args[2], "'"));
    }
    ctx.reply.Verbatim(graph);
  } else if (sub == "latest") {
    const auto latest = monitor.LatestAll();
    ctx.reply.ArrayHeader(latest.size());
    for (const auto& l : latest) {
      ctx.reply.ArrayHeader(4);
      ctx.reply.Bulk(l.event);
      ctx.reply.Integer(l.time);
      ctx.reply.Integer(l.latency_ms);
      ctx.reply.Integer(l.max_ms);
    }
  } else if (sub == "doctor") {
    ctx.reply.Verbatim(
        monitor.Doctor(observer.slowlog_threshold_us(), NowSeconds()));
  } else if (sub == "reset") {
    std::vector<std::string> events(ctx.args.begin() + 2, ctx.args.end());
    ctx.reply.Integer(monitor.Reset(events));
  } else if (sub == "histogram") {
    Histogram(observer, ctx);
  } else {
    ctx.reply.ArrayHeader(std::size(kLatencyHelp));
    for (const char* line : kLatencyHelp) ctx.reply.SimpleString(line);
  }
}

// "%f" trimmed of trailing zeros, as Redis' trimDoubleString.
std::string PercentileLabel(double p) {
  std::string s = absl::StrFormat("%f", p);
  if (s.find('.') != std::string::npos) {
    while (s.back() == '0') s.pop_back();
    if (s.back() == '.') s.pop_back();
  }
  return s;
}

}  // namespace

void AppendLatencyStats(QdbServerImpl& server, std::string_view section,
                        std::string* out) {
  if (section != "latencystats") return;
  *out += "# Latencystats\r\n";
  CommandObserver& observer = server.observer();
  if (!observer.tracking()) return;
  std::vector<double> percentiles;
  const std::vector<std::string> words = absl::StrSplit(
      server.config().GetString("latency-tracking-info-percentiles"), ' ',
      absl::SkipEmpty());
  for (const std::string& word : words) {
    double p = 0;
    if (absl::SimpleAtod(word, &p)) percentiles.push_back(p);
  }
  for (const auto& [name, h] : observer.histograms().All()) {
    absl::StrAppend(out, "latency_percentiles_usec_", name, ":");
    for (size_t j = 0; j < percentiles.size(); ++j) {
      if (j > 0) *out += ",";
      absl::StrAppendFormat(
          out, "p%s=%.3f", PercentileLabel(percentiles[j]),
          static_cast<double>(h->ValueAtPercentile(percentiles[j])));
    }
    *out += "\r\n";
  }
}

absl::Status RegisterObserverCommands(QdbServerImpl& server,
                                      CommandTable& table) {
  CommandObserver& observer = server.observer();
  absl::Status s = table.Register(
      "slowlog", [&observer](CommandContext& ctx) { Slowlog(observer, ctx); });
  if (!s.ok()) return s;
  return table.Register(
      "latency", [&observer](CommandContext& ctx) { Latency(observer, ctx); });
}

}  // namespace reborn::server
