// reborn-config: the command line over ConfigService.

#include "reborn/config_tool.h"

#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "admin/access_token.h"
#include "admin/config_service.h"
#include "admin/migration_jobs.h"
#include "admin/rest_server.h"
#include "reborn/coordinator.h"
#include "reborn/migrator.h"
#include "reborn/version.h"

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
  std::string addr, role, proxy_id, listen;
  // dashboard.
  std::string token, token_file;
  bool insecure_no_token = false;
  std::vector<std::string> allowed_origins;
  // slot migrate.
  bool wait = false;
  int64_t rate = 0;
  int64_t batch_keys = 0;  // 0: the Migrator's default
  int64_t delay_ms = 0;
  int step = 1;
  bool dry_run = false;
  std::string weights;
  std::vector<std::string> ids;
};

// Prints migration progress: one bar over every running task on a terminal,
// plain lines otherwise (at most twice a second per task, plus each task's
// final line). Called from the tasks' threads.
class ProgressPrinter {
 public:
  ProgressPrinter() : tty_(isatty(STDOUT_FILENO) != 0) {}

  void operator()(const MigrationProgress& p) {
    absl::MutexLock lock(&mu_);
    tasks_[p.task] = p;
    absl::Time now = absl::Now();
    absl::Time& last = last_[p.task];
    if (!p.finished && now - last < absl::Milliseconds(500)) return;
    last = now;
    if (!tty_) {
      std::cout << Line(p) << (p.finished ? " done" : "") << "\n" << std::flush;
      return;
    }
    MigrationProgress all;
    all.task =
        tasks_.size() == 1 ? p.task : absl::StrCat(tasks_.size(), " tasks");
    all.current_slot = p.current_slot;
    all.finished = true;
    for (const auto& [id, t] : tasks_) {
      all.slots_done += t.slots_done;
      all.slots_total += t.slots_total;
      all.keys_moved += t.keys_moved;
      all.keys_left += t.keys_left;
      all.keys_per_sec += t.keys_per_sec;
      all.eta_seconds = std::max(all.eta_seconds, t.eta_seconds);
      all.finished = all.finished && t.finished;
    }
    constexpr int kWidth = 30;
    int fill =
        all.slots_total > 0 ? kWidth * all.slots_done / all.slots_total : 0;
    std::cout << "\r[" << std::string(fill, '#')
              << std::string(kWidth - fill, ' ') << "] " << Line(all)
              << "\x1b[K" << (all.finished ? "\n" : "") << std::flush;
  }

 private:
  static std::string Line(const MigrationProgress& p) {
    std::string eta =
        p.finished ? ""
        : p.eta_seconds < 0
            ? ", ETA ?"
            : absl::StrCat(", ETA ", static_cast<int64_t>(p.eta_seconds), "s");
    return absl::StrCat("migrate ", p.task, ": slots ", p.slots_done, "/",
                        p.slots_total, " (slot ", p.current_slot, "), ",
                        p.keys_moved, " keys moved, ", p.keys_left,
                        " keys left, ", static_cast<int64_t>(p.keys_per_sec),
                        " keys/s", eta);
  }

  const bool tty_;
  absl::Mutex mu_;
  std::map<std::string, MigrationProgress> tasks_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, absl::Time> last_ ABSL_GUARDED_BY(mu_);
};

void PrintTask(const MigrationTask& t) {
  std::cout << t.id << ": slots " << t.from << ".." << t.to << " -> group "
            << t.gid << ", " << MigrationStateName(t.state) << ", "
            << t.slots_done << "/" << t.slots_total() << " slots, "
            << t.keys_moved << " keys moved, " << t.keys_left << " left"
            << (t.error.empty() ? "" : ", error: " + t.error) << "\n";
}

void PrintPlan(const RebalancePlan& plan) {
  std::cout << "rebalance plan: " << plan.slots_moved << " slot(s) to move\n";
  for (const RebalanceMove& m : plan.moves) {
    std::cout << "  group " << m.source << " -> group " << m.target << ": "
              << m.count() << " slot(s) " << m.from << ".." << m.to << "\n";
  }
  std::cout << "  slots per group:";
  for (const auto& [g, n] : plan.after) {
    auto b = plan.before.find(g);
    std::cout << " " << g << ": " << (b == plan.before.end() ? 0 : b->second)
              << " -> " << n << ";";
  }
  std::cout << "\n" << std::flush;
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
  } else if (cmd == "agent list") {
    if (out.empty()) std::cout << "no agents\n";
    for (const json& a : out) {
      std::cout << a["name"].get<std::string>() << " "
                << a["addr"].get<std::string>() << " pid "
                << a["pid"].get<int64_t>()
                << (a["leader"].get<bool>() ? " leader" : "");
      if (!a["down"].empty()) std::cout << " sees down: " << a["down"].dump();
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

constexpr char kTokenEnv[] = "REBORN_DASHBOARD_TOKEN";

// The dashboard's token: --token, --token-file (created when missing), the
// environment, or a new one printed on stderr. Empty with
// --insecure-no-token.
absl::StatusOr<std::string> DashboardToken(const Flags& f) {
  const char* env = std::getenv(kTokenEnv);
  const bool have_env = env != nullptr && *env != '\0';
  if (f.insecure_no_token) {
    if (have_env) {
      return absl::InvalidArgumentError(absl::StrCat(
          "--insecure-no-token conflicts with ", kTokenEnv, " being set"));
    }
    return std::string();
  }
  if (!f.token.empty()) return f.token;
  if (!f.token_file.empty()) {
    bool created = false;
    auto token = admin::LoadOrCreateTokenFile(f.token_file, &created);
    if (!token.ok()) return token.status();
    std::cerr << "reborn-config: dashboard token "
              << (created ? "generated and written to " : "read from ")
              << f.token_file << " (changes need 'Authorization: Bearer "
              << "<token>')\n";
    return token;
  }
  if (have_env) return std::string(env);
  std::string token = admin::GenerateToken();
  std::cerr << "reborn-config: no --token given; generated dashboard token: "
            << token
            << "\nreborn-config: send it with every change: 'Authorization: "
               "Bearer <token>' (it is not stored; use --token-file PATH to "
               "keep one across restarts)\n"
            << std::flush;
  return token;
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
  app.set_version_flag("--version", std::string("reborn-config ") + kVersion);
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
  migrate->add_option("--delay-ms", f.delay_ms, "pause after every batch");
  migrate->add_option("--step", f.step, "slots switched per topology change");
  migrate->callback([&] { cmd = "slot migrate"; });
  auto* rebalance = slot->add_subcommand(
      "rebalance",
      "move slots so every group owns a share proportional to its weight");
  rebalance->add_flag("--dry-run", f.dry_run, "print the plan only");
  rebalance->add_option("--weights", f.weights,
                        "gid=weight,... (default: every group 1)");
  rebalance->add_option("--rate", f.rate, "keys per second per task");
  rebalance->add_option("--batch", f.batch_keys, "keys per batch");
  rebalance->add_option("--delay-ms", f.delay_ms, "pause after every batch");
  rebalance->add_option("--step", f.step, "slots switched per topology change");
  rebalance->callback([&] { cmd = "slot rebalance"; });

  auto* migration =
      app.add_subcommand("migration", "migration tasks")->require_subcommand(1);
  migration->add_subcommand("list", "list migration tasks")->callback([&] {
    cmd = "migration list";
  });
  auto* resume = migration->add_subcommand(
      "resume",
      "run the given tasks (default: every unfinished one) to their end");
  resume->add_option("ID", f.ids, "task ids (a cancelled one resumes too)");
  resume->add_option("--rate", f.rate, "keys per second (0: unlimited)");
  resume->add_option("--batch", f.batch_keys, "keys per batch");
  resume->add_option("--delay-ms", f.delay_ms, "pause after every batch");
  resume->add_option("--step", f.step, "slots switched per topology change");
  resume->callback([&] { cmd = "migration resume"; });
  auto* cancel = migration->add_subcommand(
      "cancel", "stop a task after its current step (slots end online)");
  cancel->add_option("ID", f.proxy_id)->required();
  cancel->callback([&] { cmd = "migration cancel"; });

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
  promote->add_flag("--force", f.force,
                    "promote even if ADDR is behind the master or another "
                    "replica, or is not a replica of the master (can lose "
                    "data)");
  promote->callback([&] { cmd = "server promote"; });

  auto* agent = app.add_subcommand("agent", "HA agents")->require_subcommand(1);
  agent->add_subcommand("list", "list the agents, leader first")->callback([&] {
    cmd = "agent list";
  });

  auto* proxy = app.add_subcommand("proxy", "proxies")->require_subcommand(1);
  proxy->add_subcommand("list", "list proxies")->callback([&] {
    cmd = "proxy list";
  });
  auto* poff = proxy->add_subcommand("offline", "mark a proxy offline");
  poff->add_option("PID", f.proxy_id)->required();
  poff->callback([&] { cmd = "proxy offline"; });

  auto* dash = app.add_subcommand("dashboard", "serve the REST API");
  dash->add_option("--addr", f.listen, "listen address host:port")->required();
  auto* token_opt = dash->add_option(
      "--token", f.token,
      "token required on changes (default: --token-file, then $"
      "REBORN_DASHBOARD_TOKEN, else a new one printed at start)");
  auto* token_file_opt = dash->add_option(
      "--token-file", f.token_file,
      "file holding the token; created (mode 0600) with a new token when "
      "missing");
  token_file_opt->excludes(token_opt);
  dash->add_flag("--insecure-no-token", f.insecure_no_token,
                 "accept changes without a token (loopback addresses only)")
      ->excludes(token_opt)
      ->excludes(token_file_opt);
  dash->add_option("--allow-origin", f.allowed_origins,
                   "another Origin allowed to send changes besides the "
                   "dashboard's own, e.g. https://ops.example.com "
                   "(repeatable)");
  dash->add_option("--step", f.step,
                   "slots switched per topology change by its migrations");
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
    // Refuse a bad token setup before any migration resumes.
    auto token = DashboardToken(f);
    if (!token.ok()) return Fail(f, token.status());
    MigrateOptions mopts;
    mopts.slots_per_step = f.step;
    mopts.password = f.password;
    mopts.server_timeout = absl::Milliseconds(f.timeout_ms);
    mopts.change = sopts.change;
    admin::MigrationJobs jobs(&service.topology(), mopts);
    admin::RestServerOptions ropts;
    ropts.token = *std::move(token);
    ropts.insecure_no_token = f.insecure_no_token;
    ropts.allowed_origins = f.allowed_origins;
    admin::RestServer rest(&service, std::move(ropts), &jobs);
    if (absl::Status s = rest.Bind(host, port); !s.ok()) return Fail(f, s);
    if (f.insecure_no_token) {
      std::cerr << "reborn-config: WARNING: --insecure-no-token: the "
                   "dashboard accepts changes from anyone who can reach "
                << host << "\n";
    }
    // Unfinished tasks (a killed or restarted reborn-config) go on.
    if (auto ids = jobs.ResumeUnfinished(); !ids.ok()) {
      std::cerr << "reborn-config: resume failed: " << ids.status().message()
                << "\n";
    } else if (!ids->empty()) {
      std::cerr << "reborn-config: resuming " << ids->size()
                << " migration task(s)\n";
    }
    std::cerr << "reborn-config: dashboard on " << host << ":" << rest.port()
              << " for product " << f.product << "\n";
    if (absl::Status s = rest.Serve(); !s.ok()) return Fail(f, s);
    return 0;
  }

  if (cmd == "slot migrate" || cmd == "slot rebalance" ||
      cmd.rfind("migration ", 0) == 0) {
    MigrateOptions mopts;
    if (f.batch_keys > 0) mopts.batch_keys = f.batch_keys;
    mopts.rate_limit = f.rate;
    mopts.delay = absl::Milliseconds(f.delay_ms);
    mopts.slots_per_step = f.step;
    mopts.password = f.password;
    mopts.server_timeout = absl::Milliseconds(f.timeout_ms);
    mopts.change = sopts.change;
    Migrator migrator(&service.topology(), mopts);
    TaskOptions topts;
    topts.rate_limit = f.rate;
    topts.batch_keys = f.batch_keys;
    topts.delay = absl::Milliseconds(f.delay_ms);
    ProgressPrinter printer;
    Migrator::ProgressCallback progress;
    if (!f.json_out) progress = [&](const MigrationProgress& p) { printer(p); };
    json result;
    if (cmd == "migration list") {
      auto tasks = migrator.Tasks();
      if (!tasks.ok()) return Fail(f, tasks.status());
      result = json::array();
      for (const MigrationTask& t : *tasks) {
        result.push_back(admin::TaskJson(t));
      }
      if (!f.json_out) {
        if (tasks->empty()) std::cout << "no migrations\n";
        for (const MigrationTask& t : *tasks) PrintTask(t);
      }
    } else if (cmd == "migration resume") {
      absl::Status s = f.ids.empty() ? migrator.ResumeAll(progress)
                                     : migrator.RunAll(f.ids, progress);
      if (!s.ok()) return Fail(f, s);
      result = {{"ok", true}};
      if (!f.json_out) std::cout << "OK\n";
    } else if (cmd == "migration cancel") {
      if (absl::Status s = migrator.Cancel(f.proxy_id); !s.ok()) {
        return Fail(f, s);
      }
      auto task = migrator.GetTask(f.proxy_id);
      if (!task.ok()) return Fail(f, task.status());
      result = admin::TaskJson(*task);
      if (!f.json_out) {
        std::cout << "cancel requested: " << f.proxy_id << " "
                  << MigrationStateName(task->state) << "\n";
      }
    } else if (cmd == "slot rebalance") {
      auto weights = ParseWeights(f.weights);
      if (!weights.ok()) return Fail(f, weights.status());
      auto plan = migrator.Plan(*weights);
      if (!plan.ok()) return Fail(f, plan.status());
      if (!f.json_out) PrintPlan(*plan);
      result = {{"plan", admin::PlanJson(*plan)}, {"dry_run", f.dry_run}};
      std::vector<std::string> ids;
      if (!f.dry_run && !plan->moves.empty()) {
        auto created = migrator.CreatePlan(*plan, topts);
        if (!created.ok()) return Fail(f, created.status());
        ids = *created;
        if (absl::Status s = migrator.RunAll(ids, progress); !s.ok()) {
          return Fail(f, s);
        }
        if (!f.json_out) std::cout << "rebalanced\n";
      }
      result["tasks"] = ids;
    } else {
      auto id = migrator.Create(f.from, f.to, f.gid, topts);
      if (!id.ok()) return Fail(f, id.status());
      if (f.wait) {
        if (absl::Status s = migrator.Run(*id, progress); !s.ok()) {
          return Fail(f, s);
        }
      }
      auto task = migrator.GetTask(*id);
      if (!task.ok()) return Fail(f, task.status());
      result = admin::TaskJson(*task);
      if (!f.json_out) {
        std::cout << "migration " << *id << " "
                  << MigrationStateName(task->state) << "\n";
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
    out = service.ServerPromote(f.gid, f.addr, f.force);
  } else if (cmd == "agent list") {
    out = service.AgentList();
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
