// Migrator: pre_migrate -> migrate -> SLOTSMGRTTAGSLOTBATCH until empty ->
// online, with the task persisted under /reborn/P/migrations.

#include "reborn/migrator.h"

#include <algorithm>
#include <chrono>
#include <nlohmann/json.hpp>
#include <utility>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "net/sync_client.h"
#include "reborn/slot.h"

namespace reborn {
namespace {

using json = nlohmann::json;

constexpr size_t kKeepActions = 16;

int64_t NowSeconds() { return absl::ToUnixSeconds(absl::Now()); }

absl::Status SplitHostPort(const std::string& addr, std::string* host,
                           int* port) {
  size_t colon = addr.rfind(':');
  if (colon == std::string::npos || colon == 0 ||
      !absl::SimpleAtoi(addr.substr(colon + 1), port) || *port <= 0 ||
      *port > 65535) {
    return absl::InvalidArgumentError(
        absl::StrCat("bad server address '", addr, "'"));
  }
  *host = addr.substr(0, colon);
  return absl::OkStatus();
}

absl::Status CheckSlot(int slot) {
  if (slot < 0 || slot >= kSlotCount) {
    return absl::OutOfRangeError(
        absl::StrCat("slot ", slot, " out of range [0, ", kSlotCount - 1, "]"));
  }
  return absl::OkStatus();
}

// [moved, left] of SLOTSMGRTTAGSLOTBATCH.
absl::Status ParsePair(const Reply& r, int64_t* a, int64_t* b) {
  if (r.is_error()) return absl::InternalError(r.str);
  if (r.type != Reply::Type::kArray || r.elements.size() != 2 ||
      r.elements[0].type != Reply::Type::kInteger ||
      r.elements[1].type != Reply::Type::kInteger) {
    return absl::InternalError("unexpected reply to SLOTSMGRTTAGSLOTBATCH");
  }
  *a = r.elements[0].integer;
  *b = r.elements[1].integer;
  return absl::OkStatus();
}

}  // namespace

std::string EncodeMigrationTask(const MigrationTask& t) {
  json j = {{"id", t.id},
            {"from", t.from},
            {"to", t.to},
            {"gid", t.gid},
            {"next_slot", t.next_slot},
            {"state", t.state},
            {"keys_moved", t.keys_moved},
            {"created_at", t.created_at},
            {"updated_at", t.updated_at}};
  if (!t.error.empty()) j["error"] = t.error;
  return j.dump();
}

absl::StatusOr<MigrationTask> DecodeMigrationTask(std::string_view text) {
  try {
    json j = json::parse(text);
    if (!j.is_object()) {
      return absl::DataLossError("migration task: not a JSON object");
    }
    MigrationTask t;
    t.id = j.value("id", "");
    t.from = j.at("from").get<int>();
    t.to = j.at("to").get<int>();
    t.gid = j.at("gid").get<int>();
    t.next_slot = j.value("next_slot", t.from);
    t.state = j.value("state", "pending");
    t.keys_moved = j.value("keys_moved", int64_t{0});
    t.created_at = j.value("created_at", int64_t{0});
    t.updated_at = j.value("updated_at", int64_t{0});
    t.error = j.value("error", "");
    return t;
  } catch (const std::exception& e) {
    return absl::DataLossError(
        absl::StrCat("bad migration task JSON: ", e.what()));
  }
}

Migrator::Migrator(Topology* topology, MigrateOptions options)
    : topology_(topology), options_(std::move(options)) {
  options_.batch_keys = std::max<int64_t>(options_.batch_keys, 1);
  options_.batch_bytes = std::max<int64_t>(options_.batch_bytes, 1);
  options_.slots_per_step = std::max(options_.slots_per_step, 1);
}

absl::StatusOr<std::string> Migrator::MasterOf(int gid) {
  auto g = topology_->GetGroup(gid);
  if (!g.ok()) return g.status();
  const ServerInfo* m = g->master();
  if (m == nullptr) {
    return absl::FailedPreconditionError(
        absl::StrCat("group ", gid, " has no master"));
  }
  return m->addr;
}

absl::StatusOr<std::string> Migrator::Create(int from, int to, int gid) {
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
  if (absl::Status s = topology_->EnsureLayout(); !s.ok()) return s;
  MigrationTask t;
  t.from = from;
  t.to = to;
  t.gid = gid;
  t.next_slot = from;
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

absl::StatusOr<MigrationTask> Migrator::GetTask(const std::string& id) {
  auto node =
      topology_->coordinator()->Get(topology_->MigrationsPath() + "/" + id);
  if (!node.ok()) return node.status();
  auto t = DecodeMigrationTask(node->data);
  if (!t.ok()) return t.status();
  t->id = id;
  t->version = node->version;
  return t;
}

absl::StatusOr<std::vector<MigrationTask>> Migrator::Tasks() {
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

absl::Status Migrator::SaveTask(MigrationTask* task) {
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

absl::Status Migrator::ResumeAll(const ProgressCallback& progress) {
  auto tasks = Tasks();
  if (!tasks.ok()) return tasks.status();
  for (const MigrationTask& t : *tasks) {
    if (t.state == "done") continue;
    if (absl::Status s = Run(t.id, progress); !s.ok()) return s;
  }
  return absl::OkStatus();
}

absl::Status Migrator::Run(const std::string& id,
                           const ProgressCallback& progress) {
  auto task = GetTask(id);
  if (!task.ok()) return task.status();
  if (task->state == "done") return absl::OkStatus();
  cancelled_.store(false);
  run_start_ = absl::Now();
  run_moved_ = 0;
  task->state = "running";
  task->error.clear();
  if (absl::Status s = SaveTask(&*task); !s.ok()) return s;

  absl::Status status;
  while (task->next_slot <= task->to) {
    int first = task->next_slot;
    int last = std::min(task->to, first + options_.slots_per_step - 1);
    status = RunStep(&*task, first, last, progress);
    if (!status.ok()) break;
    task->next_slot = last + 1;
    if (status = SaveTask(&*task); !status.ok()) return status;
    // Three actions per step; proxies scan the action list on every change.
    if (absl::Status s = topology_->PruneActions(kKeepActions); !s.ok()) {
      return s;
    }
  }
  if (status.ok()) {
    task->state = "done";
    Report(*task, task->to, 0, /*finished=*/true, progress);
  } else {
    task->state = absl::IsCancelled(status) ? "cancelled" : "failed";
    task->error = std::string(status.message());
  }
  if (absl::Status s = SaveTask(&*task); !s.ok() && status.ok()) return s;
  return status;
}

absl::Status Migrator::RunStep(MigrationTask* task, int first, int last,
                               const ProgressCallback& progress) {
  const int gid = task->gid;
  std::vector<int> to_pre, to_migrate;
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
        break;
      case SlotState::kPreMigrate:
      case SlotState::kMigrate:
        if (s->migrate_to != gid) {
          return absl::FailedPreconditionError(absl::StrCat(
              "slot ", i, " is migrating to group ", s->migrate_to));
        }
        if (s->state == SlotState::kPreMigrate) to_migrate.push_back(i);
        break;
    }
  }
  if (!to_pre.empty()) {
    if (absl::Status s = SetPreMigrate(to_pre, gid); !s.ok()) return s;
  }
  if (!to_migrate.empty()) {
    if (absl::Status s = SetMigrate(to_migrate, gid); !s.ok()) return s;
  }
  std::vector<int> moving;
  for (int i = first; i <= last; ++i) {
    auto s = topology_->GetSlot(i);
    if (!s.ok()) return s.status();
    if (s->state != SlotState::kMigrate) continue;
    if (absl::Status st = MoveSlot(task, i, s->migrate_from, gid, progress);
        !st.ok()) {
      return st;
    }
    moving.push_back(i);
  }
  if (moving.empty()) return absl::OkStatus();
  return SetOnline(moving, gid);
}

absl::Status Migrator::SetPreMigrate(const std::vector<int>& slots, int gid) {
  auto r = topology_->Change(
      "slot_pre_migrate",
      absl::StrCat(slots.front(), "-", slots.back(), ":", gid),
      [&]() -> absl::Status {
        std::vector<SlotNode> nodes;
        for (int i : slots) {
          auto s = topology_->GetSlot(i);
          if (!s.ok()) return s.status();
          if (s->state != SlotState::kOnline || s->group_id == gid) {
            return absl::AbortedError(absl::StrCat(
                "slot ", i, " changed while preparing its migration"));
          }
          s->state = SlotState::kPreMigrate;
          s->migrate_from = s->group_id;
          s->migrate_to = gid;
          nodes.push_back(*s);
        }
        return topology_->WriteSlots(nodes);
      },
      options_.change);
  return r.status();
}

absl::Status Migrator::SetMigrate(const std::vector<int>& slots, int gid) {
  auto r = topology_->Change(
      "slot_migrate", absl::StrCat(slots.front(), "-", slots.back(), ":", gid),
      [&]() -> absl::Status {
        std::vector<SlotNode> nodes;
        for (int i : slots) {
          auto s = topology_->GetSlot(i);
          if (!s.ok()) return s.status();
          if (s->state != SlotState::kPreMigrate || s->migrate_to != gid) {
            return absl::AbortedError(
                absl::StrCat("slot ", i, " left pre_migrate unexpectedly"));
          }
          s->state = SlotState::kMigrate;
          s->group_id = gid;
          nodes.push_back(*s);
        }
        return topology_->WriteSlots(nodes);
      },
      options_.change);
  return r.status();
}

absl::Status Migrator::SetOnline(const std::vector<int>& slots, int gid) {
  auto r = topology_->Change(
      "slot_online", absl::StrCat(slots.front(), "-", slots.back(), ":", gid),
      [&]() -> absl::Status {
        std::vector<SlotNode> nodes;
        for (int i : slots) {
          auto s = topology_->GetSlot(i);
          if (!s.ok()) return s.status();
          if (s->state != SlotState::kMigrate || s->migrate_to != gid) {
            return absl::AbortedError(
                absl::StrCat("slot ", i, " left migrate unexpectedly"));
          }
          s->state = SlotState::kOnline;
          s->group_id = gid;
          s->migrate_from = 0;
          s->migrate_to = 0;
          nodes.push_back(*s);
        }
        return topology_->WriteSlots(nodes);
      },
      options_.change);
  return r.status();
}

absl::Status Migrator::MoveSlot(MigrationTask* task, int slot, int source,
                                int gid, const ProgressCallback& progress) {
  auto source_addr = MasterOf(source);
  if (!source_addr.ok()) return source_addr.status();
  auto target_addr = MasterOf(gid);
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
  auto client =
      net::SyncClient::Connect(shost, sport, timeout, options_.password);
  if (!client.ok()) return client.status();

  const std::vector<std::string> batch = {"SLOTSMGRTTAGSLOTBATCH",
                                          thost,
                                          std::to_string(tport),
                                          std::to_string(timeout.count()),
                                          std::to_string(slot),
                                          std::to_string(options_.batch_keys),
                                          std::to_string(options_.batch_bytes)};
  const std::vector<std::string> info = {"SLOTSINFO", std::to_string(slot),
                                         "1"};
  while (true) {
    if (cancelled_.load()) {
      return absl::CancelledError(
          absl::StrCat("migration cancelled in slot ", slot));
    }
    auto r = client->Call(batch);
    if (!r.ok()) return r.status();
    int64_t moved = 0, left = 0;
    if (absl::Status s = ParsePair(*r, &moved, &left); !s.ok()) {
      return absl::InternalError(absl::StrCat("slot ", slot, ": ", s.message(),
                                              " (source ", *source_addr, ")"));
    }
    task->keys_moved += moved;
    run_moved_ += moved;
    Report(*task, slot, left, /*finished=*/false, progress);

    if (options_.rate_limit > 0 && moved > 0) {
      absl::Duration due =
          absl::Seconds(static_cast<double>(run_moved_) /
                        static_cast<double>(options_.rate_limit));
      absl::Duration ahead = due - (absl::Now() - run_start_);
      if (ahead > absl::ZeroDuration()) absl::SleepFor(ahead);
    }
    if (left > 0) {
      // Keys locked by a concurrent single-key move can make a batch move
      // nothing; do not spin.
      if (moved == 0) absl::SleepFor(absl::Milliseconds(1));
      continue;
    }
    auto ir = client->Call(info);
    if (!ir.ok()) return ir.status();
    if (ir->is_error()) return absl::InternalError(ir->str);
    if (ir->type == Reply::Type::kArray && ir->elements.empty()) break;
    absl::SleepFor(absl::Milliseconds(1));
  }
  return absl::OkStatus();
}

void Migrator::Report(const MigrationTask& task, int slot, int64_t left,
                      bool finished, const ProgressCallback& progress) {
  if (!progress) return;
  MigrationProgress p;
  p.task = task.id;
  p.current_slot = slot;
  p.slots_total = task.to - task.from + 1;
  p.slots_done = finished ? p.slots_total : slot - task.from;
  p.keys_moved = task.keys_moved;
  p.keys_left = left;
  double secs = absl::ToDoubleSeconds(absl::Now() - run_start_);
  p.keys_per_sec = secs > 0 ? static_cast<double>(run_moved_) / secs : 0;
  p.finished = finished;
  progress(p);
}

}  // namespace reborn
