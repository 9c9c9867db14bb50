// MigrationTask as the JSON of its coordinator node,
// /reborn/P/migrations/<id> (docs/migration.md), and its ETA.

#include <nlohmann/json.hpp>

#include "absl/strings/str_cat.h"
#include "reborn/migrator.h"

namespace reborn {
namespace {

using json = nlohmann::json;

}  // namespace

constexpr std::pair<MigrationState, std::string_view> kStateNames[] = {
    {MigrationState::kPending, "pending"},
    {MigrationState::kRunning, "running"},
    {MigrationState::kRetrying, "retrying"},
    {MigrationState::kDone, "done"},
    {MigrationState::kFailed, "failed"},
    {MigrationState::kCancelled, "cancelled"},
    {MigrationState::kStopped, "stopped"},
};

std::string_view MigrationStateName(MigrationState s) {
  for (const auto& [state, name] : kStateNames) {
    if (state == s) return name;
  }
  return "failed";
}

absl::StatusOr<MigrationState> ParseMigrationState(std::string_view name) {
  for (const auto& [state, known] : kStateNames) {
    if (known == name) return state;
  }
  return absl::InvalidArgumentError(
      absl::StrCat("unknown migration state '", std::string(name), "'"));
}

double MigrationTask::eta_seconds() const {
  if (state == MigrationState::kDone) return 0;
  if (keys_per_sec <= 0) return -1;
  return static_cast<double>(keys_left) / keys_per_sec;
}

std::string EncodeMigrationTask(const MigrationTask& t) {
  json current = json::array();
  for (const SlotProgress& s : t.current) {
    current.push_back({{"slot", s.slot}, {"moved", s.moved}, {"left", s.left}});
  }
  json j = {{"id", t.id},
            {"from", t.from},
            {"to", t.to},
            {"gid", t.gid},
            {"next_slot", t.next_slot},
            {"state", std::string(MigrationStateName(t.state))},
            {"keys_moved", t.keys_moved},
            {"created_at", t.created_at},
            {"updated_at", t.updated_at},
            {"rate", t.options.rate_limit},
            {"batch", t.options.batch_keys},
            {"step", t.options.slots_per_step},
            {"delay_ms", absl::ToInt64Milliseconds(t.options.delay)},
            {"slots_done", t.slots_done},
            {"slots_total", t.slots_total()},
            {"keys_left", t.keys_left},
            {"keys_per_sec", t.keys_per_sec},
            {"current", current}};
  if (!t.owner.empty()) j["owner"] = t.owner;
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
    absl::StatusOr<MigrationState> state =
        ParseMigrationState(j.value("state", "pending"));
    if (!state.ok()) {
      return absl::DataLossError(
          absl::StrCat("migration task: ", state.status().message()));
    }
    t.state = *state;
    t.keys_moved = j.value("keys_moved", int64_t{0});
    t.created_at = j.value("created_at", int64_t{0});
    t.updated_at = j.value("updated_at", int64_t{0});
    t.error = j.value("error", "");
    t.options.rate_limit = j.value("rate", int64_t{0});
    t.options.batch_keys = j.value("batch", int64_t{0});
    t.options.slots_per_step = j.value("step", 0);
    t.options.delay = absl::Milliseconds(j.value("delay_ms", int64_t{0}));
    t.slots_done = j.value("slots_done", t.next_slot - t.from);
    t.keys_left = j.value("keys_left", int64_t{0});
    t.keys_per_sec = j.value("keys_per_sec", 0.0);
    t.owner = j.value("owner", "");
    if (auto it = j.find("current"); it != j.end() && it->is_array()) {
      for (const json& s : *it) {
        t.current.push_back({s.value("slot", 0), s.value("moved", int64_t{0}),
                             s.value("left", int64_t{0})});
      }
    }
    return t;
  } catch (const std::exception& e) {
    return absl::DataLossError(
        absl::StrCat("bad migration task JSON: ", e.what()));
  }
}

}  // namespace reborn
