#include <unistd.h>

#include <fstream>
#include <sstream>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "reborn/coordinator.h"
#include "reborn/proxy.h"
#include "reborn/topology.h"

namespace reborn {

std::string ProxyUsage() {
  return "usage: reborn-proxy [--addr 127.0.0.1:19000]\n"
         "         (--coordinator URI --product NAME | --topology FILE |\n"
         "          --backends host:port[,host:port...])\n"
         "         [--admin-addr 127.0.0.1:11000] [--threads N]\n"
         "         [--requirepass PW] [--backend-password PW]\n"
         "         [--read-from-replicas] [--backend-connections N]\n"
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
    } else {
      return absl::InvalidArgumentError(
          absl::StrCat("unknown flag '", args[i], "'\n", ProxyUsage()));
    }
    if (!s.ok()) return s;
  }
  if (launch.help) return launch;
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
    auto coord = Coordinator::Open(launch.coordinator);
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
    return OpenCoordinatorSource(
        std::shared_ptr<Coordinator>(std::move(*coord)), options);
  }
  if (!table.ok()) return table.status();
  return std::shared_ptr<SlotTableSource>(MakeStaticSource(*table));
}

}  // namespace reborn
