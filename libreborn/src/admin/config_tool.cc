// reborn-config: the command line over ConfigService.

#include "reborn/config_tool.h"

#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <iostream>
#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "admin/config_service.h"
#include "admin/rest_server.h"
#include "reborn/coordinator.h"
#include "reborn/migrator.h"

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
  // slot migrate.
  bool wait = false;
  int64_t rate = 0;
  int64_t batch_keys = 500;
  int step = 1;
};

// Prints migration progress: a bar on a terminal, lines otherwise (at most
// twice a second, plus the final line).
class ProgressPrinter {
 public:
  ProgressPrinter() : tty_(isatty(STDOUT_FILENO) != 0) {}

  void operator()(const MigrationProgress& p) {
    absl::Time now = absl::Now();
    if (!p.finished && now - last_ < absl::Milliseconds(500)) return;
    last_ = now;
    std::string line = absl::StrCat(
        "migrate ", p.task, ": slots ", p.slots_done, "/", p.slots_total,
        " (slot ", p.current_slot, ", ", p.keys_left, " keys left), ",
        p.keys_moved, " keys moved, ", static_cast<int64_t>(p.keys_per_sec),
        " keys/s");
    if (tty_) {
      int width = 30;
      int fill = p.slots_total > 0 ? width * p.slots_done / p.slots_total : 0;
      std::cout << "\r[" << std::string(fill, '#')
                << std::string(width - fill, ' ') << "] " << line
                << (p.finished ? "\n" : "") << std::flush;
    } else {
      std::cout << line << (p.finished ? " done" : "") << "\n" << std::flush;
    }
  }

 private:
  bool tty_;
  absl::Time last_ = absl::InfinitePast();
};

// The task as stored in the coordinator (one encoding: migrator.h's).
json TaskJson(const MigrationTask& t) {
  return json::parse(EncodeMigrationTask(t));
}

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
  auto* migrate = slot->add_subcommand("migrate", "move slots to a group");
  migrate->add_option("FROM", f.from)->required();
  migrate->add_option("TO", f.to)->required();
  migrate->add_option("GID", f.gid)->required();
  migrate->add_flag("--wait", f.wait,
                    "run the migration now and wait for it (otherwise the "
                    "task is only recorded, for `migration resume`)");
  migrate->add_option("--rate", f.rate, "keys per second (0: unlimited)");
  migrate->add_option("--batch", f.batch_keys, "keys per batch");
  migrate->add_option("--step", f.step, "slots switched per topology change");
  migrate->callback([&] { cmd = "slot migrate"; });

  auto* migration =
      app.add_subcommand("migration", "migration tasks")->require_subcommand(1);
  migration->add_subcommand("list", "list migration tasks")->callback([&] {
    cmd = "migration list";
  });
  auto* resume = migration->add_subcommand(
      "resume", "run every unfinished migration task to its end");
  resume->add_option("--rate", f.rate, "keys per second (0: unlimited)");
  resume->add_option("--batch", f.batch_keys, "keys per batch");
  resume->add_option("--step", f.step, "slots switched per topology change");
  resume->callback([&] { cmd = "migration resume"; });

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

  if (cmd == "slot migrate" || cmd == "migration list" ||
      cmd == "migration resume") {
    MigrateOptions mopts;
    mopts.batch_keys = f.batch_keys;
    mopts.rate_limit = f.rate;
    mopts.slots_per_step = f.step;
    mopts.password = f.password;
    mopts.server_timeout = absl::Milliseconds(f.timeout_ms);
    mopts.change = sopts.change;
    Migrator migrator(&service.topology(), mopts);
    ProgressPrinter printer;
    Migrator::ProgressCallback progress;
    if (!f.json_out) progress = [&](const MigrationProgress& p) { printer(p); };
    json result;
    if (cmd == "migration list") {
      auto tasks = migrator.Tasks();
      if (!tasks.ok()) return Fail(f, tasks.status());
      result = json::array();
      for (const MigrationTask& t : *tasks) result.push_back(TaskJson(t));
      if (!f.json_out) {
        if (tasks->empty()) std::cout << "no migrations\n";
        for (const MigrationTask& t : *tasks) {
          std::cout << t.id << ": slots " << t.from << ".." << t.to
                    << " -> group " << t.gid << ", " << t.state << ", next "
                    << t.next_slot << ", " << t.keys_moved << " keys moved"
                    << (t.error.empty() ? "" : ", error: " + t.error) << "\n";
        }
      }
    } else if (cmd == "migration resume") {
      if (absl::Status s = migrator.ResumeAll(progress); !s.ok()) {
        return Fail(f, s);
      }
      result = {{"ok", true}};
      if (!f.json_out) std::cout << "OK\n";
    } else {
      auto id = migrator.Create(f.from, f.to, f.gid);
      if (!id.ok()) return Fail(f, id.status());
      if (f.wait) {
        if (absl::Status s = migrator.Run(*id, progress); !s.ok()) {
          return Fail(f, s);
        }
      }
      auto task = migrator.GetTask(*id);
      if (!task.ok()) return Fail(f, task.status());
      result = TaskJson(*task);
      if (!f.json_out) {
        std::cout << "migration " << *id << " " << task->state << "\n";
      }
    }
    if (f.json_out) std::cout << result.dump(2) << "\n";
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
