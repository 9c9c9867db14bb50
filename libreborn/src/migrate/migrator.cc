// Migrator: pre_migrate -> migrate -> SLOTSMGRTTAGSLOTBATCH until empty ->
// online, with the task persisted under /reborn/P/migrations, parallel steps
// over disjoint groups, ownership and cancel nodes.

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <map>
#include <thread>
#include <utility>

#include "absl/strings/str_cat.h"
#include "migrate/group_commit.h"
#include "migrate/group_scheduler.h"
#include "migrate/migrator_impl.h"
#include "migrate/slot_move.h"
#include "net/sync_client.h"
#include "reborn/slot.h"

namespace reborn::migrate {
namespace {

constexpr size_t kKeepActions = 16;
constexpr absl::Duration kSaveEvery = absl::Seconds(1);
constexpr int kPruneEverySteps = 8;

int64_t NowSeconds() { return absl::ToUnixSeconds(absl::Now()); }

absl::Status CheckSlot(int slot) {
  if (slot < 0 || slot >= kSlotCount) {
    return absl::OutOfRangeError(
        absl::StrCat("slot ", slot, " out of range [0, ", kSlotCount - 1, "]"));
  }
  return absl::OkStatus();
}

std::string RunnerName() {
  char host[256] = {0};
  if (gethostname(host, sizeof(host) - 1) != 0) host[0] = 0;
  return absl::StrCat(host, ":", static_cast<int64_t>(getpid()));
}

bool IsUnfinished(const MigrationTask& t) {
  return t.state != MigrationState::kDone &&
         t.state != MigrationState::kCancelled;
}

}  // namespace

// The state of one Run of one task.
struct MigratorImpl::RunState {
  MigrationTask* task = nullptr;
  const ProgressCallback* progress = nullptr;
  int64_t rate = 0;
  int64_t batch_keys = 0;
  absl::Duration delay;
  absl::Time start;
  int64_t moved = 0;  // keys moved by this run
  // Keys of each unfinished slot at its source when the run started.
  std::map<int, int64_t> pending;
  int64_t pending_after = 0;  // of the slots after the current step
  int current_slot = -1;
  int step_done = 0;  // slots of the current step finished
  // Slots up to this one were put in pre_migrate (by the last step, or a
  // stopped run): they move on before a cancel or a stop counts.
  int finish_through = -1;
  int steps_since_prune = 0;
  absl::Time last_save = absl::InfinitePast();
  // Source masters' connections, by address, kept across the run's slots:
  // a connection per slot cost both ends an accept and an AUTH each time.
  std::map<std::string, net::SyncClient> sources;
};

MigratorImpl::MigratorImpl(Topology* topology, MigrateOptions options)
    : topology_(topology), options_(std::move(options)) {
  options_.batch_keys = std::max<int64_t>(options_.batch_keys, 1);
  options_.batch_bytes = std::max<int64_t>(options_.batch_bytes, 1);
  options_.slots_per_step = std::max(options_.slots_per_step, 1);
  if (options_.owner_wait == absl::InfiniteDuration()) {
    options_.owner_wait =
        2 * topology_->coordinator()->session_timeout() + absl::Seconds(5);
  }
  // A killed runner's lock goes with its session: wait for that (and for
  // other processes' changes).
  options_.change.lock_timeout = std::max(
      {options_.change.lock_timeout, options_.owner_wait, absl::Seconds(30)});
  groups_ = std::make_unique<migrate::GroupScheduler>();
  changes_ = std::make_unique<migrate::GroupCommit>(topology_, options_.change);
}

MigratorImpl::~MigratorImpl() = default;

absl::StatusOr<std::string> MigratorImpl::MasterOf(int gid) {
  auto g = topology_->GetGroup(gid);
  if (!g.ok()) return g.status();
  const ServerInfo* m = g->master();
  if (m == nullptr) {
    return absl::FailedPreconditionError(
        absl::StrCat("group ", gid, " has no master"));
  }
  return m->addr;
}

absl::StatusOr<std::string> MigratorImpl::Create(
    int from, int to, int gid, const TaskOptions& task_options) {
  if (absl::Status s = CheckSlot(from); !s.ok()) return s;
  if (absl::Status s = CheckSlot(to); !s.ok()) return s;
  if (from > to) {
    return absl::InvalidArgumentError(
        absl::StrCat("empty slot range ", from, "..", to));
  }
  if (auto m = MasterOf(gid); !m.ok()) return m.status();
  for (int i = from; i <= to; ++i) {
    auto s = topology_->GetSlot(i);
    if (!s.ok()) return s.status();
    if (s->state == SlotState::kOffline || s->group_id == 0) {
      return absl::FailedPreconditionError(
          absl::StrCat("slot ", i, " is offline (assign it with range-set)"));
    }
    if ((s->state == SlotState::kPreMigrate ||
         s->state == SlotState::kMigrate) &&
        s->migrate_to != gid) {
      return absl::FailedPreconditionError(
          absl::StrCat("slot ", i, " is migrating to group ", s->migrate_to));
    }
  }
  auto tasks = Tasks();
  if (!tasks.ok()) return tasks.status();
  for (const MigrationTask& t : *tasks) {
    if (!IsUnfinished(t) || t.next_slot > t.to) continue;
    if (std::max(from, t.next_slot) <= std::min(to, t.to)) {
      return absl::FailedPreconditionError(
          absl::StrCat("slots ", std::max(from, t.next_slot), "..",
                       std::min(to, t.to), " belong to unfinished migration ",
                       t.id, " (", std::string(MigrationStateName(t.state)),
                       "); resume or cancel it first"));
    }
  }
  if (absl::Status s = topology_->EnsureLayout(); !s.ok()) return s;
  MigrationTask t;
  t.from = from;
  t.to = to;
  t.gid = gid;
  t.next_slot = from;
  t.options = task_options;
  t.created_at = t.updated_at = NowSeconds();
  auto path = topology_->coordinator()->Create(
      absl::StrCat(topology_->MigrationsPath(), "/task-"),
      EncodeMigrationTask(t), CreateMode::kSequential);
  if (!path.ok()) return path.status();
  t.id = path->substr(path->rfind('/') + 1);
  t.version = 0;
  // Record the id in the node too.
  auto v = topology_->coordinator()->Set(*path, EncodeMigrationTask(t),
                                         Coordinator::kAnyVersion);
  if (!v.ok()) return v.status();
  return t.id;
}

absl::StatusOr<MigrationTask> MigratorImpl::GetTask(const std::string& id) {
  auto node =
      topology_->coordinator()->Get(topology_->MigrationsPath() + "/" + id);
  if (absl::IsNotFound(node.status())) {
    return absl::NotFoundError(absl::StrCat("no migration task '", id, "'"));
  }
  if (!node.ok()) return node.status();
  auto t = DecodeMigrationTask(node->data);
  if (!t.ok()) return t.status();
  t->id = id;
  t->version = node->version;
  return t;
}

absl::StatusOr<std::vector<MigrationTask>> MigratorImpl::Tasks() {
  std::vector<MigrationTask> out;
  auto names = topology_->coordinator()->Children(topology_->MigrationsPath());
  if (absl::IsNotFound(names.status())) return out;
  if (!names.ok()) return names.status();
  for (const std::string& name : *names) {
    auto t = GetTask(name);
    if (absl::IsNotFound(t.status())) continue;
    if (!t.ok()) return t.status();
    out.push_back(std::move(*t));
  }
  return out;
}

absl::StatusOr<std::vector<std::string>> MigratorImpl::Unfinished() {
  auto tasks = Tasks();
  if (!tasks.ok()) return tasks.status();
  std::vector<std::string> ids;
  for (const MigrationTask& t : *tasks) {
    if (IsUnfinished(t)) ids.push_back(t.id);
  }
  return ids;
}

absl::Status MigratorImpl::SaveTask(MigrationTask* task) {
  task->updated_at = NowSeconds();
  auto v = topology_->coordinator()->Set(
      topology_->MigrationsPath() + "/" + task->id, EncodeMigrationTask(*task),
      task->version);
  if (absl::IsFailedPrecondition(v.status()) || absl::IsAborted(v.status())) {
    return absl::AbortedError(absl::StrCat("migration task ", task->id,
                                           " was changed by someone else"));
  }
  if (!v.ok()) return v.status();
  task->version = *v;
  return absl::OkStatus();
}

absl::Status MigratorImpl::Cancel(const std::string& id) {
  auto task = GetTask(id);
  if (!task.ok()) return task.status();
  if (task->state == MigrationState::kDone ||
      task->state == MigrationState::kCancelled) {
    return absl::OkStatus();
  }
  std::string base = topology_->MigrationsPath() + "/" + id;
  Coordinator* coord = topology_->coordinator();
  auto c = coord->Create(base + "/cancel", "", CreateMode::kPersistent);
  if (!c.ok() && !absl::IsAlreadyExists(c.status())) return c.status();
  auto owned = coord->Exists(base + "/owner");
  if (!owned.ok()) return owned.status();
  if (*owned) return absl::OkStatus();  // the runner stops after its step
  // A stopped run left slots midway: the run that resumes the task (a
  // retry, `migration resume`, a dashboard's start) finishes them, then
  // sees the request. Cancelled now, they would stay midway.
  auto midway = LastMidway(*task);
  if (!midway.ok()) return midway.status();
  if (*midway >= 0) return absl::OkStatus();
  task->state = MigrationState::kCancelled;
  task->error = "cancelled";
  task->current.clear();
  absl::Status s = SaveTask(&*task);
  // A runner that started meanwhile wrote the task: it sees the request.
  if (absl::IsAborted(s)) return absl::OkStatus();
  return s;
}

bool MigratorImpl::CancelRequested(const MigrationTask& task) {
  if (cancel_all_.load()) return true;
  auto e = topology_->coordinator()->Exists(topology_->MigrationsPath() + "/" +
                                            task.id + "/cancel");
  return e.ok() && *e;
}

absl::Status MigratorImpl::RunAll(const std::vector<std::string>& ids,
                                  const ProgressCallback& progress) {
  if (ids.size() == 1) return Run(ids[0], progress);
  std::vector<absl::Status> results(ids.size());
  std::vector<std::thread> threads;
  threads.reserve(ids.size());
  for (size_t i = 0; i < ids.size(); ++i) {
    threads.emplace_back([this, &ids, &results, &progress, i] {
      results[i] = Run(ids[i], progress);
    });
  }
  for (std::thread& t : threads) t.join();
  for (const absl::Status& s : results) {
    if (!s.ok()) return s;
  }
  return absl::OkStatus();
}

absl::Status MigratorImpl::ResumeAll(const ProgressCallback& progress) {
  auto ids = Unfinished();
  if (!ids.ok()) return ids.status();
  return RunAll(*ids, progress);
}

absl::Status MigratorImpl::Run(const std::string& id,
                               const ProgressCallback& progress) {
  // A run that failed on a transient error (the coordinator or a store
  // unreachable for a while) resumes where it stopped; meanwhile the task
  // says "retrying", not "failed", so no one gives up on it. The budget is
  // for failures in a row: an attempt that finished slots renews it.
  absl::Status s;
  Attempt attempt{.resume_cancelled = true};
  for (int failures = 0;;) {  // in a row
    attempt.may_retry = failures < options_.transient_retries;
    s = RunOnce(id, progress, &attempt);
    // RunOwned decides when it gets to its end; not when RunOnce or it
    // returned early.
    if (!attempt.retrying && !(attempt.may_retry && Transient(s))) break;
    failures = attempt.progressed ? 1 : failures + 1;
    attempt.resume_cancelled = false;
    absl::SleepFor(absl::Seconds(failures));
  }
  return s;
}

bool MigratorImpl::Transient(const absl::Status& status) const {
  return (absl::IsUnavailable(status) || absl::IsDeadlineExceeded(status)) &&
         !stop_all_.load() && !cancel_all_.load();
}

absl::Status MigratorImpl::RunOnce(const std::string& id,
                                   const ProgressCallback& progress,
                                   Attempt* attempt) {
  attempt->retrying = false;
  attempt->progressed = false;
  auto task = GetTask(id);
  if (!task.ok()) return task.status();
  if (task->state == MigrationState::kDone) return absl::OkStatus();
  Coordinator* coord = topology_->coordinator();
  const std::string base = topology_->MigrationsPath() + "/" + id;
  const std::string me = RunnerName();
  // Take the task: one runner at a time; a killed runner's node goes when
  // its session expires.
  absl::Time deadline = absl::Now() + options_.owner_wait;
  while (true) {
    auto r = coord->Create(base + "/owner", me, CreateMode::kEphemeral);
    if (r.ok()) break;
    if (!absl::IsAlreadyExists(r.status())) return r.status();
    if (absl::Now() >= deadline) {
      std::string holder = "?";
      if (auto cur = coord->Get(base + "/owner"); cur.ok()) holder = cur->data;
      return absl::FailedPreconditionError(
          absl::StrCat("migration task ", id, " is being run by ", holder));
    }
    absl::SleepFor(absl::Milliseconds(100));
  }
  // Re-read: the previous runner may have progressed while we waited.
  task = GetTask(id);
  absl::Status status = task.status();
  if (status.ok() && task->state == MigrationState::kCancelled &&
      !attempt->resume_cancelled) {
    // Cancelled while this runner waited to retry: that is the answer.
    status = absl::CancelledError(task->error);
  } else if (status.ok() && task->state != MigrationState::kDone) {
    if (task->state == MigrationState::kCancelled) {
      // An explicit Run of a cancelled task resumes it.
      (void)coord->Delete(base + "/cancel", Coordinator::kAnyVersion);
    }
    task->owner = me;
    status = RunOwned(&*task, progress, attempt);
  }
  if (auto cur = coord->Get(base + "/owner"); cur.ok() && cur->data == me) {
    (void)coord->Delete(base + "/owner", cur->version);
  }
  return status;
}

absl::Status MigratorImpl::RunOwned(MigrationTask* task,
                                    const ProgressCallback& progress,
                                    Attempt* attempt) {
  RunState run;
  run.task = task;
  run.progress = &progress;
  run.rate = task->options.rate_limit > 0 ? task->options.rate_limit
                                          : options_.rate_limit;
  run.batch_keys = task->options.batch_keys > 0 ? task->options.batch_keys
                                                : options_.batch_keys;
  run.delay = task->options.delay > absl::ZeroDuration() ? task->options.delay
                                                         : options_.delay;
  const int step = task->options.slots_per_step > 0
                       ? task->options.slots_per_step
                       : options_.slots_per_step;
  run.start = absl::Now();
  const int first_slot = task->next_slot;
  task->state = MigrationState::kRunning;
  task->error.clear();
  if (absl::Status s = SaveTask(task); !s.ok()) return s;

  // What is left, per slot at its source (for keys_left and the ETA), and
  // the slots a stopped run left midway: they are finished before a cancel
  // or stop counts, as proxies hold requests for them meanwhile.
  absl::Status status;
  std::map<int, std::vector<int>> by_source;  // group -> slots
  for (int i = task->next_slot; i <= task->to; ++i) {
    auto s = topology_->GetSlot(i);
    if (!s.ok()) {
      status = s.status();
      break;
    }
    if (MidwayTo(*s, task->gid)) run.finish_through = i;
    if (s->state == SlotState::kOnline && s->group_id != task->gid) {
      by_source[s->group_id].push_back(i);
    } else if (s->state == SlotState::kMigrate ||
               s->state == SlotState::kPreMigrate) {
      by_source[s->migrate_from].push_back(i);
    }
  }
  if (status.ok() && run.finish_through >= 0) status = Resync(*task);
  if (status.ok()) {
    for (const auto& [gid, slots] : by_source) {
      auto addr = MasterOf(gid);
      std::string host;
      int port = 0;
      if (!addr.ok() || !SplitHostPort(*addr, &host, &port).ok()) continue;
      auto c = net::SyncClient::Connect(
          host, port,
          std::chrono::milliseconds(
              absl::ToInt64Milliseconds(options_.server_timeout)),
          options_.password);
      if (!c.ok()) continue;  // the step will report it
      int first = slots.front(), last = slots.back();
      auto r = c->Call({"SLOTSINFO", std::to_string(first),
                        std::to_string(last - first + 1)});
      if (!r.ok() || r->type != Reply::Type::kArray) continue;
      std::set<int> mine(slots.begin(), slots.end());
      for (const Reply& e : r->elements) {
        if (e.type != Reply::Type::kArray || e.elements.size() != 2) continue;
        int slot = static_cast<int>(e.elements[0].integer);
        if (mine.contains(slot)) run.pending[slot] = e.elements[1].integer;
      }
    }
  }
  bool stopped = false;
  while (status.ok() && task->next_slot <= task->to) {
    // A step whose slots are in pre_migrate already is finished first.
    const bool must_finish = task->next_slot <= run.finish_through;
    if (stop_all_.load() && !must_finish) {
      stopped = true;
      status = absl::AbortedError("stopped (resumable)");
      break;
    }
    if (!must_finish && CancelRequested(*task)) {
      status = absl::CancelledError(
          absl::StrCat("cancelled before slot ", task->next_slot));
      break;
    }
    int first = task->next_slot;
    int last = std::min(task->to, first + step - 1);
    run.pending_after = 0;
    for (auto it = run.pending.upper_bound(last); it != run.pending.end();
         ++it) {
      run.pending_after += it->second;
    }
    status =
        RunStep(&run, first, last, last + 1, std::min(task->to, last + step));
    if (!status.ok()) break;
    task->next_slot = last + 1;
    task->slots_done = task->next_slot - task->from;
    task->current.clear();
    // Like the progress within a step, about once a second: a resumed run
    // skips the slots that are online at the target already.
    if (absl::Now() - run.last_save >= kSaveEvery) {
      run.last_save = absl::Now();
      if (status = SaveTask(task); !status.ok()) break;
    }
    // Two or three actions per step; proxies scan the action list on every
    // change, so it is kept short, but pruned every few steps: each prune
    // lists every action's acks. Housekeeping: a race with a late ack is not
    // a failure.
    if (++run.steps_since_prune == kPruneEverySteps) {
      run.steps_since_prune = 0;
      (void)topology_->PruneActions(kKeepActions);
    }
  }
  if (run.steps_since_prune > 0) (void)topology_->PruneActions(kKeepActions);
  task->current.clear();
  attempt->progressed = task->next_slot > first_slot;
  attempt->retrying = (attempt->may_retry || attempt->progressed) &&
                      !status.ok() && !stopped && Transient(status);
  if (status.ok()) {
    task->state = MigrationState::kDone;
    task->slots_done = task->slots_total();
    task->keys_left = 0;
    Report(&run, /*finished=*/true);
  } else {
    task->state = stopped                     ? MigrationState::kStopped
                  : absl::IsCancelled(status) ? MigrationState::kCancelled
                  : attempt->retrying         ? MigrationState::kRetrying
                                              : MigrationState::kFailed;
    task->error = std::string(status.message());
  }
  if (absl::Status s = SaveTask(task); !s.ok() && status.ok()) return s;
  return status;
}

absl::StatusOr<RebalancePlan> MigratorImpl::Plan(
    const std::map<int, double>& weights) {
  auto slots = topology_->Slots();
  if (!slots.ok()) return slots.status();
  auto groups = topology_->Groups();
  if (!groups.ok()) return groups.status();
  return PlanRebalance(*slots, *groups, weights);
}

absl::StatusOr<std::vector<std::string>> MigratorImpl::CreatePlan(
    const RebalancePlan& plan, const TaskOptions& task_options) {
  std::vector<std::string> ids;
  for (const RebalanceMove& m : plan.moves) {
    auto id = Create(m.from, m.to, m.target, task_options);
    if (!id.ok()) return id.status();
    ids.push_back(*id);
  }
  return ids;
}

absl::StatusOr<int> MigratorImpl::LastMidway(const MigrationTask& task) {
  int last = -1;
  for (int i = task.next_slot; i <= task.to; ++i) {
    auto s = topology_->GetSlot(i);
    if (!s.ok()) return s.status();
    if (MidwayTo(*s, task.gid)) last = i;
  }
  return last;
}

absl::Status MigratorImpl::Resync(const MigrationTask& task) {
  // A runner stopped in the middle of a change: make every proxy ack the
  // current table before anything moves.
  // Not a slot_* action: every proxy re-reads the whole topology.
  return changes_->Change("topology_resync", task.id,
                          [] { return std::vector<CoordOp>{}; });
}

absl::Status MigratorImpl::RunStep(RunState* run, int first, int last,
                                   int next_first, int next_last) {
  MigrationTask* task = run->task;
  const int gid = task->gid;
  std::vector<int> to_pre, to_migrate;
  std::set<int> sources;
  for (int i = first; i <= last; ++i) {
    auto s = topology_->GetSlot(i);
    if (!s.ok()) return s.status();
    switch (s->state) {
      case SlotState::kOffline:
        return absl::FailedPreconditionError(
            absl::StrCat("slot ", i, " is offline"));
      case SlotState::kOnline:
        if (s->group_id == gid) continue;  // done (an earlier run)
        to_pre.push_back(i);
        to_migrate.push_back(i);
        sources.insert(s->group_id);
        break;
      case SlotState::kPreMigrate:
      case SlotState::kMigrate:
        if (s->migrate_to != gid) {
          return absl::FailedPreconditionError(absl::StrCat(
              "slot ", i, " is migrating to group ", s->migrate_to));
        }
        if (s->state == SlotState::kPreMigrate) to_migrate.push_back(i);
        sources.insert(s->migrate_from);
        break;
    }
  }
  if (sources.empty()) return absl::OkStatus();
  // Steps of other tasks that share our source (as a source) or our target
  // (as a target) go first.
  if (absl::Status s = groups_->Acquire(sources, gid); !s.ok()) return s;
  absl::Status status = [&]() -> absl::Status {
    if (!to_pre.empty()) {
      if (absl::Status s = SetPreMigrate(to_pre, gid); !s.ok()) return s;
    }
    if (!to_migrate.empty()) {
      if (absl::Status s = SetMigrate(to_migrate, gid); !s.ok()) return s;
    }
    std::vector<int> moving;
    std::vector<int> source_of;
    for (int i = first; i <= last; ++i) {
      auto s = topology_->GetSlot(i);
      if (!s.ok()) return s.status();
      if (s->state != SlotState::kMigrate) continue;
      moving.push_back(i);
      source_of.push_back(s->migrate_from);
      auto p = run->pending.find(i);
      task->current.push_back({i, 0, p == run->pending.end() ? 0 : p->second});
    }
    run->step_done = 0;
    for (size_t k = 0; k < moving.size(); ++k) {
      if (absl::Status s = MoveSlot(run, k, source_of[k]); !s.ok()) return s;
      run->step_done++;
    }
    if (moving.empty()) return absl::OkStatus();
    // The next step's pre_migrate rides on this online change when its
    // slots come from the groups held now: two 2PC rounds per step instead
    // of three (each round costs every proxy and the coordinator).
    std::vector<int> next =
        NextToPrepare(*task, next_first, next_last, sources);
    if (next.empty()) return SetOnline(moving, gid);
    absl::Status s =
        ChangeSlots("slot_online_pre_migrate", gid,
                    {{moving, ToOnline(gid)}, {next, ToPreMigrate(gid)}});
    // A next slot changed meanwhile (nothing was written): this step goes
    // online alone and the next one prepares its own slots.
    if (absl::IsAborted(s)) return SetOnline(moving, gid);
    if (s.ok()) run->finish_through = next.back();
    return s;
  }();
  groups_->Release(sources, gid);
  return status;
}

absl::Status MigratorImpl::ChangeSlots(
    const std::string& type, int gid,
    const std::vector<std::pair<std::vector<int>, SlotUpdate>>& parts) {
  int lo = kSlotCount, hi = -1;
  for (const auto& [slots, update] : parts) {
    for (int i : slots) {
      lo = std::min(lo, i);
      hi = std::max(hi, i);
    }
  }
  return changes_->Change(type, absl::StrCat(lo, "-", hi, ":", gid),
                          [&]() -> absl::StatusOr<std::vector<CoordOp>> {
                            std::vector<SlotNode> nodes;
                            for (const auto& [slots, update] : parts) {
                              for (int i : slots) {
                                auto s = topology_->GetSlot(i);
                                if (!s.ok()) return s.status();
                                if (absl::Status u = update(*s); !u.ok()) {
                                  return u;
                                }
                                nodes.push_back(*s);
                              }
                            }
                            return topology_->SlotWrites(nodes);
                          });
}

absl::Status MigratorImpl::SetPreMigrate(const std::vector<int>& slots,
                                         int gid) {
  return ChangeSlots("slot_pre_migrate", gid, {{slots, ToPreMigrate(gid)}});
}

absl::Status MigratorImpl::SetMigrate(const std::vector<int>& slots, int gid) {
  return ChangeSlots("slot_migrate", gid, {{slots, ToMigrate(gid)}});
}

absl::Status MigratorImpl::SetOnline(const std::vector<int>& slots, int gid) {
  return ChangeSlots("slot_online", gid, {{slots, ToOnline(gid)}});
}

std::vector<int> MigratorImpl::NextToPrepare(const MigrationTask& task,
                                             int first, int last,
                                             const std::set<int>& sources) {
  if (first > last || stop_all_.load() || CancelRequested(task)) return {};
  std::vector<int> out;
  for (int i = first; i <= last; ++i) {
    auto s = topology_->GetSlot(i);
    if (!s.ok()) return {};
    if (s->state == SlotState::kOnline && s->group_id == task.gid) continue;
    // Anything else (a slot already under way, another source) is left to
    // the step itself.
    if (s->state != SlotState::kOnline || !sources.contains(s->group_id)) {
      return {};
    }
    out.push_back(i);
  }
  return out;
}

absl::Status MigratorImpl::MoveSlot(RunState* run, size_t index, int source) {
  MigrationTask* task = run->task;
  const int slot = task->current[index].slot;
  run->current_slot = slot;
  auto source_addr = MasterOf(source);
  if (!source_addr.ok()) return source_addr.status();
  auto target_addr = MasterOf(task->gid);
  if (!target_addr.ok()) return target_addr.status();
  std::string shost, thost;
  int sport = 0, tport = 0;
  if (absl::Status s = SplitHostPort(*source_addr, &shost, &sport); !s.ok()) {
    return s;
  }
  if (absl::Status s = SplitHostPort(*target_addr, &thost, &tport); !s.ok()) {
    return s;
  }
  auto timeout = std::chrono::milliseconds(
      absl::ToInt64Milliseconds(options_.server_timeout));
  // A kept connection may have been closed by the source meanwhile (a
  // restart, an idle timeout): one reconnect then. Both commands are safe to
  // repeat: a batch moves what is still there.
  auto call =
      [&](const std::vector<std::string>& args) -> absl::StatusOr<Reply> {
    auto it = run->sources.find(*source_addr);
    if (it != run->sources.end()) {
      auto r = it->second.Call(args);
      if (r.ok()) return r;
      run->sources.erase(it);
    }
    auto c = net::SyncClient::Connect(shost, sport, timeout, options_.password);
    if (!c.ok()) return c.status();
    auto r = c->Call(args);
    if (r.ok()) run->sources[*source_addr] = std::move(*c);
    return r;
  };

  const std::vector<std::string> batch = {"SLOTSMGRTTAGSLOTBATCH",
                                          thost,
                                          std::to_string(tport),
                                          std::to_string(timeout.count()),
                                          std::to_string(slot),
                                          std::to_string(run->batch_keys),
                                          std::to_string(options_.batch_bytes)};
  const std::vector<std::string> info = {"SLOTSINFO", std::to_string(slot),
                                         "1"};
  while (true) {
    auto r = call(batch);
    if (!r.ok()) return r.status();
    int64_t moved = 0, left = 0;
    if (absl::Status s = ParsePair(*r, &moved, &left); !s.ok()) {
      return absl::InternalError(absl::StrCat("slot ", slot, ": ", s.message(),
                                              " (source ", *source_addr, ")"));
    }
    task->keys_moved += moved;
    run->moved += moved;
    task->current[index].moved += moved;
    task->current[index].left = left;
    Report(run, /*finished=*/false);
    if (absl::Now() - run->last_save >= kSaveEvery) {
      run->last_save = absl::Now();
      if (absl::Status s = SaveTask(task); !s.ok()) return s;
    }

    if (run->rate > 0 && moved > 0) {
      absl::Duration due = absl::Seconds(static_cast<double>(run->moved) /
                                         static_cast<double>(run->rate));
      absl::Duration ahead = due - (absl::Now() - run->start);
      if (ahead > absl::ZeroDuration()) absl::SleepFor(ahead);
    }
    if (left > 0) {
      if (run->delay > absl::ZeroDuration()) absl::SleepFor(run->delay);
      // Keys locked by a concurrent single-key move can make a batch move
      // nothing; do not spin.
      if (moved == 0) absl::SleepFor(absl::Milliseconds(1));
      continue;
    }
    auto ir = call(info);
    if (!ir.ok()) return ir.status();
    if (ir->is_error()) return absl::InternalError(ir->str);
    if (ir->type == Reply::Type::kArray && ir->elements.empty()) break;
    absl::SleepFor(absl::Milliseconds(1));
  }
  return absl::OkStatus();
}

void MigratorImpl::Report(RunState* run, bool finished) {
  MigrationTask* task = run->task;
  double secs = absl::ToDoubleSeconds(absl::Now() - run->start);
  task->keys_per_sec = secs > 0 ? static_cast<double>(run->moved) / secs : 0;
  int64_t left = finished ? 0 : run->pending_after;
  if (!finished) {
    for (const SlotProgress& s : task->current) left += s.left;
  }
  task->keys_left = left;
  if (!finished) {
    task->slots_done = task->next_slot - task->from + run->step_done;
  }
  if (*run->progress == nullptr) return;
  MigrationProgress p;
  p.task = task->id;
  p.current_slot = finished ? task->to : run->current_slot;
  p.slots_total = task->slots_total();
  p.slots_done = task->slots_done;
  p.keys_moved = task->keys_moved;
  p.keys_left = task->keys_left;
  p.keys_per_sec = task->keys_per_sec;
  p.eta_seconds = task->eta_seconds();
  p.finished = finished;
  (*run->progress)(p);
}

}  // namespace reborn::migrate

namespace reborn {

Migrator::Migrator(Topology* topology, MigrateOptions options)
    : impl_(std::make_unique<migrate::MigratorImpl>(topology, options)) {}
Migrator::~Migrator() = default;

absl::StatusOr<std::string> Migrator::Create(int from, int to, int gid,
                                             const TaskOptions& task_options) {
  return impl_->Create(from, to, gid, task_options);
}
absl::Status Migrator::Run(const std::string& id,
                           const ProgressCallback& progress) {
  return impl_->Run(id, progress);
}
absl::Status Migrator::RunAll(const std::vector<std::string>& ids,
                              const ProgressCallback& progress) {
  return impl_->RunAll(ids, progress);
}
absl::Status Migrator::ResumeAll(const ProgressCallback& progress) {
  return impl_->ResumeAll(progress);
}
absl::StatusOr<std::vector<std::string>> Migrator::Unfinished() {
  return impl_->Unfinished();
}
absl::StatusOr<std::vector<MigrationTask>> Migrator::Tasks() {
  return impl_->Tasks();
}
absl::StatusOr<MigrationTask> Migrator::GetTask(const std::string& id) {
  return impl_->GetTask(id);
}
absl::Status Migrator::Cancel(const std::string& id) {
  return impl_->Cancel(id);
}
void Migrator::CancelAll() { impl_->CancelAll(); }
void Migrator::StopAll() { impl_->StopAll(); }
absl::StatusOr<RebalancePlan> Migrator::Plan(
    const std::map<int, double>& weights) {
  return impl_->Plan(weights);
}
absl::StatusOr<std::vector<std::string>> Migrator::CreatePlan(
    const RebalancePlan& plan, const TaskOptions& task_options) {
  return impl_->CreatePlan(plan, task_options);
}

}  // namespace reborn
