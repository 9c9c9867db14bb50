// reborn-config: the command line over ConfigService.

#include "reborn/config_tool.h"

#include <CLI/CLI.hpp>
#include <cstdio>
#include <iostream>
#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "admin/config_service.h"
#include "admin/rest_server.h"
#include "reborn/coordinator.h"

namespace reborn {
namespace {

using json = nlohmann::json;

struct Flags {
  std::string coordinator;
  std::string product;
  bool json_out = false;
  std::string password;
  int timeout_ms = 5000;
  int ack_timeout_ms = 10000;
  // Command arguments.
  bool force = false;
  int from = 0, to = 0, gid = 0, slot = 0;
  std::string addr, role, proxy_id, listen, token;
};

void PrintHuman(const std::string& cmd, const json& out) {
  if (cmd == "group list") {
    if (out.empty()) std::cout << "no groups\n";
    for (const json& g : out) {
      std::cout << "group " << g["id"].get<int>() << ":";
      if (g["servers"].empty()) std::cout << " (no servers)";
      for (const json& s : g["servers"]) {
        std::cout << " " << s["addr"].get<std::string>() << " "
                  << s["role"].get<std::string>() << " "
                  << s["state"].get<std::string>() << ";";
      }
      std::cout << "\n";
    }
  } else if (cmd == "proxy list") {
    if (out.empty()) std::cout << "no proxies\n";
    for (const json& p : out) {
      std::cout << p["id"].get<std::string>() << " "
                << p["addr"].get<std::string>() << " "
                << p["state"].get<std::string>() << " pid "
                << p["pid"].get<int64_t>() << "\n";
    }
  } else if (cmd == "slot info") {
    std::cout << "slot " << out["id"].get<int>() << ": group "
              << out["group_id"].get<int>() << ", "
              << out["state"].get<std::string>();
    if (out.contains("migrate")) {
      std::cout << " (" << out["migrate"]["from"].get<int>() << " -> "
                << out["migrate"]["to"].get<int>() << ")";
    }
    std::cout << "\n";
  } else {
    std::cout << "OK";
    if (out.contains("role")) {
      std::cout << " (" << out["role"].get<std::string>() << ")";
    }
    std::cout << "\n";
    if (out.contains("fenced") && !out["fenced"].empty()) {
      std::cout << "warning: proxies fenced (did not ack): "
                << out["fenced"].dump() << "\n";
    }
    if (out.contains("warnings")) {
      for (const json& w : out["warnings"]) {
        std::cout << "warning: " << w.get<std::string>() << "\n";
      }
    }
  }
}

int Fail(const Flags& f, const absl::Status& s) {
  std::string msg(s.message());
  if (f.json_out) {
    std::cout << json{{"error", msg},
                      {"code", absl::StatusCodeToString(s.code())}}
                     .dump()
              << "\n";
  }
  std::cerr << "reborn-config: error: " << msg << "\n";
  return 1;
}

}  // namespace

int RunConfigTool(int argc, char** argv) {
  Flags f;
  CLI::App app{"reborn-config: manage a RebornDB cluster's topology"};
  app.require_subcommand(1);
  app.fallthrough();  // global flags may follow the command
  app.add_option("--coordinator", f.coordinator,
                 "coordinator URI: zk://h:p/chroot, etcd://h:p/prefix, "
                 "memory://")
      ->required();
  app.add_option("--product", f.product, "product (cluster) name")->required();
  app.add_flag("--json", f.json_out, "print JSON");
  app.add_option("--password", f.password, "store password (for AUTH)");
  app.add_option("--timeout-ms", f.timeout_ms,
                 "coordinator and server timeout");
  app.add_option("--ack-timeout-ms", f.ack_timeout_ms,
                 "how long to wait for proxies to ack a change");

  std::string cmd;
  auto* slot = app.add_subcommand("slot", "slots")->require_subcommand(1);
  auto* slot_init = slot->add_subcommand("init", "create the 1024 slots");
  slot_init->add_flag("--force", f.force, "reset existing slots");
  slot_init->callback([&] { cmd = "slot init"; });
  auto* range = slot->add_subcommand("range-set", "assign slots to a group");
  range->add_option("FROM", f.from)->required();
  range->add_option("TO", f.to)->required();
  range->add_option("GID", f.gid)->required();
  range->callback([&] { cmd = "slot range-set"; });
  auto* info = slot->add_subcommand("info", "show one slot");
  info->add_option("SLOT", f.slot)->required();
  info->callback([&] { cmd = "slot info"; });

  auto* group = app.add_subcommand("group", "groups")->require_subcommand(1);
  auto* gadd = group->add_subcommand("add", "create a group");
  gadd->add_option("GID", f.gid)->required();
  gadd->callback([&] { cmd = "group add"; });
  auto* grm = group->add_subcommand("remove", "delete a group");
  grm->add_option("GID", f.gid)->required();
  grm->callback([&] { cmd = "group remove"; });
  group->add_subcommand("list", "list groups")->callback([&] {
    cmd = "group list";
  });
  auto* gas = group->add_subcommand("add-server", "add a store to a group");
  gas->add_option("GID", f.gid)->required();
  gas->add_option("ADDR", f.addr)->required();
  gas->add_option("ROLE", f.role, "master or slave")
      ->check(CLI::IsMember({"master", "slave"}));
  gas->callback([&] { cmd = "group add-server"; });
  auto* grs = group->add_subcommand("remove-server", "remove a store");
  grs->add_option("GID", f.gid)->required();
  grs->add_option("ADDR", f.addr)->required();
  grs->callback([&] { cmd = "group remove-server"; });

  auto* server = app.add_subcommand("server", "servers")->require_subcommand(1);
  auto* promote = server->add_subcommand("promote", "make ADDR the master");
  promote->add_option("GID", f.gid)->required();
  promote->add_option("ADDR", f.addr)->required();
  promote->callback([&] { cmd = "server promote"; });

  auto* proxy = app.add_subcommand("proxy", "proxies")->require_subcommand(1);
  proxy->add_subcommand("list", "list proxies")->callback([&] {
    cmd = "proxy list";
  });
  auto* poff = proxy->add_subcommand("offline", "mark a proxy offline");
  poff->add_option("PID", f.proxy_id)->required();
  poff->callback([&] { cmd = "proxy offline"; });

  auto* dash = app.add_subcommand("dashboard", "serve the REST API");
  dash->add_option("--addr", f.listen, "listen address host:port")->required();
  dash->add_option("--token", f.token, "token required on changes");
  dash->callback([&] { cmd = "dashboard"; });

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int rc = app.exit(e);
    return rc == 0 ? 0 : 2;
  }

  CoordinatorOptions copts;
  copts.connect_timeout = absl::Milliseconds(f.timeout_ms);
  auto coord = Coordinator::Open(f.coordinator, copts);
  if (!coord.ok()) return Fail(f, coord.status());
  admin::ConfigServiceOptions sopts;
  sopts.password = f.password;
  sopts.server_timeout = absl::Milliseconds(f.timeout_ms);
  sopts.change.ack_timeout = absl::Milliseconds(f.ack_timeout_ms);
  admin::ConfigService service(coord->get(), f.product, sopts);

  if (cmd == "dashboard") {
    std::string host;
    int port = 0;
    if (absl::Status s = admin::SplitAddr(f.listen, &host, &port); !s.ok()) {
      return Fail(f, s);
    }
    admin::RestServer rest(&service, f.token);
    if (absl::Status s = rest.Bind(host, port); !s.ok()) return Fail(f, s);
    std::cerr << "reborn-config: dashboard on " << host << ":" << rest.port()
              << " for product " << f.product << "\n";
    if (absl::Status s = rest.Serve(); !s.ok()) return Fail(f, s);
    return 0;
  }

  absl::StatusOr<json> out;
  if (cmd == "slot init") {
    out = service.SlotInit(f.force);
  } else if (cmd == "slot range-set") {
    out = service.SlotRangeSet(f.from, f.to, f.gid);
  } else if (cmd == "slot info") {
    out = service.SlotNode(f.slot);
  } else if (cmd == "group add") {
    out = service.GroupAdd(f.gid);
  } else if (cmd == "group remove") {
    out = service.GroupRemove(f.gid);
  } else if (cmd == "group list") {
    out = service.GroupList();
  } else if (cmd == "group add-server") {
    out = service.GroupAddServer(f.gid, f.addr, f.role);
  } else if (cmd == "group remove-server") {
    out = service.GroupRemoveServer(f.gid, f.addr);
  } else if (cmd == "server promote") {
    out = service.ServerPromote(f.gid, f.addr);
  } else if (cmd == "proxy list") {
    out = service.ProxyList();
  } else if (cmd == "proxy offline") {
    out = service.ProxyOffline(f.proxy_id);
  } else {
    return Fail(f, absl::InvalidArgumentError("no command"));
  }
  if (!out.ok()) return Fail(f, out.status());
  if (f.json_out) {
    std::cout << out->dump(2) << "\n";
  } else {
    PrintHuman(cmd, *out);
  }
  return 0;
}

}  // namespace reborn
