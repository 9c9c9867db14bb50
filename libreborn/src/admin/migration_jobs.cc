#include "admin/migration_jobs.h"

#include <utility>

#include "spdlog/spdlog.h"

namespace reborn::admin {

using json = nlohmann::json;

json TaskJson(const MigrationTask& t) {
  json j = json::parse(EncodeMigrationTask(t));
  j["eta_seconds"] = t.eta_seconds();
  return j;
}

json PlanJson(const RebalancePlan& plan) {
  json moves = json::array();
  for (const RebalanceMove& m : plan.moves) {
    moves.push_back({{"source", m.source},
                     {"target", m.target},
                     {"from", m.from},
                     {"to", m.to},
                     {"count", m.count()}});
  }
  json before = json::object(), after = json::object();
  for (const auto& [g, n] : plan.before) before[std::to_string(g)] = n;
  for (const auto& [g, n] : plan.after) after[std::to_string(g)] = n;
  return {{"before", before},
          {"after", after},
          {"moves", moves},
          {"slots_moved", plan.slots_moved}};
}

MigrationJobs::MigrationJobs(Topology* topology, MigrateOptions options)
    : migrator_(topology, std::move(options)) {}

MigrationJobs::~MigrationJobs() {
  migrator_.StopAll();
  std::vector<std::thread> threads;
  {
    absl::MutexLock lock(&mu_);
    threads.swap(threads_);
  }
  for (std::thread& t : threads) t.join();
}

void MigrationJobs::Launch(const std::string& id) {
  absl::MutexLock lock(&mu_);
  if (!running_.insert(id).second) return;  // already running here
  threads_.emplace_back([this, id] {
    absl::Status s = migrator_.Run(id);  // retries transient errors
    if (!s.ok()) {
      spdlog::warn("migration {}: {}", id, s.ToString());
    } else {
      spdlog::info("migration {} done", id);
    }
    absl::MutexLock lock(&mu_);
    running_.erase(id);
  });
}

absl::StatusOr<json> MigrationJobs::Start(int from, int to, int gid,
                                          const TaskOptions& options) {
  auto id = migrator_.Create(from, to, gid, options);
  if (!id.ok()) return id.status();
  Launch(*id);
  auto task = migrator_.GetTask(*id);
  if (!task.ok()) return task.status();
  return TaskJson(*task);
}

absl::StatusOr<json> MigrationJobs::Rebalance(
    bool dry_run, const std::map<int, double>& weights,
    const TaskOptions& options) {
  auto plan = migrator_.Plan(weights);
  if (!plan.ok()) return plan.status();
  json out = {{"plan", PlanJson(*plan)}, {"dry_run", dry_run}};
  std::vector<std::string> ids;
  if (!dry_run) {
    auto created = migrator_.CreatePlan(*plan, options);
    if (!created.ok()) return created.status();
    ids = *created;
    for (const std::string& id : ids) Launch(id);
  }
  out["tasks"] = ids;
  return out;
}

absl::StatusOr<json> MigrationJobs::List() {
  auto tasks = migrator_.Tasks();
  if (!tasks.ok()) return tasks.status();
  std::set<std::string> here;
  {
    absl::MutexLock lock(&mu_);
    here = running_;
  }
  json out = json::array();
  for (const MigrationTask& t : *tasks) {
    json j = TaskJson(t);
    j["running_here"] = here.contains(t.id);
    out.push_back(std::move(j));
  }
  return out;
}

absl::StatusOr<json> MigrationJobs::Cancel(const std::string& id) {
  if (absl::Status s = migrator_.Cancel(id); !s.ok()) return s;
  auto task = migrator_.GetTask(id);
  if (!task.ok()) return task.status();
  json j = TaskJson(*task);
  j["cancel_requested"] = true;
  return j;
}

absl::StatusOr<std::vector<std::string>> MigrationJobs::ResumeUnfinished() {
  auto ids = migrator_.Unfinished();
  if (!ids.ok()) return ids.status();
  for (const std::string& id : *ids) Launch(id);
  return ids;
}

}  // namespace reborn::admin
