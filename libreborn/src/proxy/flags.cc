#include <unistd.h>

#include <fstream>
#include <sstream>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "reborn/coordinator.h"
#include "reborn/proxy.h"
#include "reborn/topology.h"

namespace reborn {
namespace {

// A byte count in Redis' config syntax: 1000, 100k (1000), 100kb (1024),
// 64m, 64mb, 1g, 1gb.
bool ParseBytes(const std::string& text, uint64_t* out) {
  std::string t = absl::AsciiStrToLower(text);
  struct Unit {
    std::string_view suffix;
    uint64_t factor;
  };
  static constexpr Unit kUnits[] = {
      {"kb", 1024}, {"mb", 1 << 20},    {"gb", 1ULL << 30},
      {"k", 1000},  {"m", 1000 * 1000}, {"g", 1000000000},
      {"b", 1}};
  uint64_t factor = 1;
  for (const Unit& u : kUnits) {
    if (t.size() > u.suffix.size() && t.ends_with(u.suffix)) {
      factor = u.factor;
      t.resize(t.size() - u.suffix.size());
      break;
    }
  }
  uint64_t n = 0;
  if (t.empty() || !absl::SimpleAtoi(t, &n) || n > UINT64_MAX / factor) {
    return false;
  }
  *out = n * factor;
  return true;
}

// "hard soft seconds" for normal clients, or Redis' form with classes:
// "normal 256mb 64mb 60 pubsub 32mb 8mb 60".
absl::Status ParseOutputLimits(const std::string& text, ProxyOptions* options) {
  std::vector<std::string> words =
      absl::StrSplit(text, ' ', absl::SkipWhitespace());
  auto fail = [&] {
    return absl::InvalidArgumentError(absl::StrCat(
        "--client-output-buffer-limit: '", text,
        "' is not \"hard soft seconds\" or \"<normal|pubsub> hard soft "
        "seconds ...\""));
  };
  auto one = [&](size_t i, ProxyOptions::OutputLimit* limit) {
    int64_t seconds = 0;
    ProxyOptions::OutputLimit l;
    if (!ParseBytes(words[i], &l.hard) || !ParseBytes(words[i + 1], &l.soft) ||
        !absl::SimpleAtoi(words[i + 2], &seconds) || seconds < 0) {
      return false;
    }
    l.soft_time = absl::Seconds(seconds);
    *limit = l;
    return true;
  };
  if (words.size() == 3) {
    return one(0, &options->output_limit_normal) ? absl::OkStatus() : fail();
  }
  if (words.empty() || words.size() % 4 != 0) return fail();
  for (size_t i = 0; i < words.size(); i += 4) {
    std::string cls = absl::AsciiStrToLower(words[i]);
    ProxyOptions::OutputLimit* limit =
        cls == "normal"   ? &options->output_limit_normal
        : cls == "pubsub" ? &options->output_limit_pubsub
                          : nullptr;
    if (limit == nullptr || !one(i + 1, limit)) return fail();
  }
  return absl::OkStatus();
}

}  // namespace

std::string ProxyUsage() {
  return "usage: reborn-proxy [--addr 127.0.0.1:19000]\n"
         "         (--coordinator URI --product NAME | --topology FILE |\n"
         "          --backends host:port[,host:port...])\n"
         "         [--admin-addr 127.0.0.1:11000] [--threads N]\n"
         "         [--requirepass PW] [--backend-password PW]\n"
         "         [--read-from-replicas] [--backend-connections N]\n"
         "         [--backend-timeout-ms 3000]\n"
         "         [--client-output-buffer-limit 'hard soft seconds']\n"
         "           (default 'normal 256mb 64mb 60 pubsub 32mb 8mb 60')\n"
         "         [--client-query-buffer-limit 1gb]\n"
         "         [--session-timeout-ms 30000]\n"
         "         [--health-interval-ms 1000] [--health-down-after-ms 3000]\n"
         "         [--script-cache-bytes 16mb]\n"
         "         [--log-level debug|info|warn]\n";
}

absl::StatusOr<ProxyLaunch> ParseProxyFlags(
    const std::vector<std::string>& args) {
  ProxyLaunch launch;
  for (size_t i = 0; i < args.size(); ++i) {
    std::string flag = args[i];
    std::string value;
    bool has_value = false;
    if (size_t eq = flag.find('='); eq != std::string::npos) {
      value = flag.substr(eq + 1);
      flag = flag.substr(0, eq);
      has_value = true;
    }
    auto next = [&]() -> absl::StatusOr<std::string> {
      if (has_value) return value;
      if (i + 1 >= args.size()) {
        return absl::InvalidArgumentError(
            absl::StrCat("flag ", flag, " needs a value"));
      }
      return args[++i];
    };
    auto number = [&](int* out) -> absl::Status {
      auto v = next();
      if (!v.ok()) return v.status();
      if (!absl::SimpleAtoi(*v, out) || *out < 0) {
        return absl::InvalidArgumentError(
            absl::StrCat("flag ", flag, ": '", *v, "' is not a number"));
      }
      return absl::OkStatus();
    };
    auto text = [&](std::string* out) -> absl::Status {
      auto v = next();
      if (!v.ok()) return v.status();
      *out = *v;
      return absl::OkStatus();
    };
    absl::Status s;
    if (flag == "--help" || flag == "-h") {
      launch.help = true;
    } else if (flag == "--version" || flag == "-v") {
      launch.version = true;
    } else if (flag == "--addr") {
      s = text(&launch.options.addr);
    } else if (flag == "--admin-addr") {
      s = text(&launch.options.admin_addr);
    } else if (flag == "--coordinator") {
      s = text(&launch.coordinator);
    } else if (flag == "--product") {
      s = text(&launch.product);
    } else if (flag == "--topology") {
      s = text(&launch.topology_file);
    } else if (flag == "--backends") {
      s = text(&launch.backends);
    } else if (flag == "--threads") {
      s = number(&launch.options.threads);
    } else if (flag == "--backend-connections") {
      s = number(&launch.options.backend_connections);
    } else if (flag == "--requirepass") {
      s = text(&launch.options.requirepass);
    } else if (flag == "--backend-password") {
      s = text(&launch.options.backend_password);
    } else if (flag == "--read-from-replicas") {
      launch.options.read_from_replicas = true;
    } else if (flag == "--log-level") {
      s = text(&launch.log_level);
    } else if (flag == "--backend-timeout-ms") {
      int ms = 0;
      s = number(&ms);
      launch.options.backend_timeout = absl::Milliseconds(ms);
    } else if (flag == "--session-timeout-ms") {
      int ms = 0;
      s = number(&ms);
      if (s.ok() && ms < 100) {
        s = absl::InvalidArgumentError(
            "--session-timeout-ms must be at least 100");
      }
      launch.session_timeout = absl::Milliseconds(ms);
    } else if (flag == "--health-interval-ms") {
      int ms = 0;
      s = number(&ms);
      launch.health_interval = absl::Milliseconds(ms);
    } else if (flag == "--health-down-after-ms") {
      int ms = 0;
      s = number(&ms);
      launch.health_down_after = absl::Milliseconds(ms);
    } else if (flag == "--client-output-buffer-limit") {
      std::string v;
      s = text(&v);
      if (s.ok()) s = ParseOutputLimits(v, &launch.options);
    } else if (flag == "--client-query-buffer-limit") {
      std::string v;
      s = text(&v);
      if (s.ok() && (!ParseBytes(v, &launch.options.query_buffer_limit) ||
                     launch.options.query_buffer_limit < 1024)) {
        s = absl::InvalidArgumentError(
            absl::StrCat("--client-query-buffer-limit: '", v,
                         "' is not a size of at least 1kb (e.g. 1gb)"));
      }
    } else if (flag == "--script-cache-bytes") {
      std::string v;
      s = text(&v);
      if (s.ok() && !ParseBytes(v, &launch.options.script_cache_bytes)) {
        s = absl::InvalidArgumentError(absl::StrCat(
            "--script-cache-bytes: '", v, "' is not a size (e.g. 16mb, 0)"));
      }
    } else {
      return absl::InvalidArgumentError(
          absl::StrCat("unknown flag '", args[i], "'\n", ProxyUsage()));
    }
    if (!s.ok()) return s;
  }
  if (launch.help || launch.version) return launch;
  int sources = !launch.coordinator.empty() + !launch.topology_file.empty() +
                !launch.backends.empty();
  if (sources != 1) {
    return absl::InvalidArgumentError(absl::StrCat(
        "give exactly one of --coordinator, --topology, --backends\n",
        ProxyUsage()));
  }
  if (!launch.coordinator.empty() && launch.product.empty()) {
    return absl::InvalidArgumentError("--coordinator needs --product");
  }
  return launch;
}

absl::StatusOr<std::shared_ptr<SlotTableSource>> OpenTopologySource(
    const ProxyLaunch& launch) {
  absl::StatusOr<std::shared_ptr<const SlotTable>> table;
  if (!launch.backends.empty()) {
    table = SlotTable::FromAddressList(launch.backends);
  } else if (!launch.topology_file.empty()) {
    std::ifstream in(launch.topology_file);
    if (!in) {
      return absl::NotFoundError(
          absl::StrCat("cannot read ", launch.topology_file));
    }
    std::stringstream buf;
    buf << in.rdbuf();
    table = SlotTable::FromJson(buf.str());
  } else {
    CoordinatorOptions coord_options;
    coord_options.session_timeout = launch.session_timeout;
    auto coord = Coordinator::Open(launch.coordinator, coord_options);
    if (!coord.ok()) return coord.status();
    CoordinatorSourceOptions options;
    options.product = launch.product;
    char host[256] = {0};
    gethostname(host, sizeof(host) - 1);
    options.id = absl::StrCat(host, "-", getpid());
    // The proxy node's JSON comes from the topology codec, so that
    // reborn-config and the dashboard read exactly what the proxy wrote.
    ProxyInfo node;
    node.id = options.id;
    node.addr = launch.options.addr;
    node.admin_addr = launch.options.admin_addr;
    node.state = ProxyState::kOnline;
    node.pid = getpid();
    node.start_at = absl::ToUnixSeconds(absl::Now());
    options.node_json = EncodeProxy(node);
    options.health_interval = launch.health_interval;
    options.health_down_after = launch.health_down_after;
    options.health_password = launch.options.backend_password;
    return OpenCoordinatorSource(
        std::shared_ptr<Coordinator>(std::move(*coord)), options);
  }
  if (!table.ok()) return table.status();
  return std::shared_ptr<SlotTableSource>(MakeStaticSource(*table));
}

}  // namespace reborn
