#include "reborn/slot_table.h"

#include <algorithm>
#include <map>

#include "absl/base/thread_annotations.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/synchronization/mutex.h"
#include "nlohmann/json.hpp"

namespace reborn {
namespace {

using json = nlohmann::json;

absl::StatusOr<SlotState> ParseState(const std::string& s) {
  if (s == "offline") return SlotState::kOffline;
  if (s == "online" || s.empty()) return SlotState::kOnline;
  if (s == "pre_migrate") return SlotState::kPreMigrate;
  if (s == "migrate") return SlotState::kMigrate;
  return absl::InvalidArgumentError(absl::StrCat("bad slot state '", s, "'"));
}

// Splits the slots [0, kSlotCount) evenly between `groups` in order.
std::array<TableSlot, kSlotCount> EvenSlots(const std::vector<TableGroup>& g) {
  std::array<TableSlot, kSlotCount> slots{};
  if (g.empty()) return slots;
  for (int i = 0; i < kSlotCount; ++i) {
    size_t idx = static_cast<size_t>(i) * g.size() / kSlotCount;
    slots[i].group_id = g[idx].id;
    slots[i].state = SlotState::kOnline;
  }
  return slots;
}

}  // namespace

absl::StatusOr<std::shared_ptr<const SlotTable>> SlotTable::Create(
    std::vector<TableGroup> groups, std::array<TableSlot, kSlotCount> slots,
    uint64_t version) {
  std::sort(
      groups.begin(), groups.end(),
      [](const TableGroup& a, const TableGroup& b) { return a.id < b.id; });
  for (size_t i = 0; i < groups.size(); ++i) {
    if (groups[i].id <= 0) {
      return absl::InvalidArgumentError("group ids must be positive");
    }
    if (i > 0 && groups[i].id == groups[i - 1].id) {
      return absl::InvalidArgumentError(
          absl::StrCat("duplicate group id ", groups[i].id));
    }
  }
  auto table = std::shared_ptr<SlotTable>(new SlotTable());
  table->groups_ = std::move(groups);
  table->slots_ = slots;
  table->version_ = version;
  for (int i = 0; i < kSlotCount; ++i) {
    const TableSlot& s = slots[i];
    if (s.group_id == 0) continue;
    if (table->group(s.group_id) == nullptr) {
      return absl::InvalidArgumentError(
          absl::StrCat("slot ", i, " names unknown group ", s.group_id));
    }
    if (s.state == SlotState::kMigrate &&
        table->group(s.migrate_from) == nullptr) {
      return absl::InvalidArgumentError(absl::StrCat(
          "slot ", i, " migrates from unknown group ", s.migrate_from));
    }
  }
  return std::shared_ptr<const SlotTable>(std::move(table));
}

const TableGroup* SlotTable::group(int id) const {
  auto it = std::lower_bound(
      groups_.begin(), groups_.end(), id,
      [](const TableGroup& g, int value) { return g.id < value; });
  if (it == groups_.end() || it->id != id) return nullptr;
  return &*it;
}

std::vector<int> SlotTable::ServingGroups() const {
  std::vector<int> ids;
  for (const TableGroup& g : groups_) {
    bool serves =
        std::any_of(slots_.begin(), slots_.end(), [&](const TableSlot& s) {
          return s.group_id == g.id && s.state != SlotState::kOffline;
        });
    if (serves && !g.master.empty()) ids.push_back(g.id);
  }
  return ids;
}

absl::StatusOr<std::shared_ptr<const SlotTable>> SlotTable::FromJson(
    std::string_view text) {
  json doc = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded() || !doc.is_object() || !doc.contains("groups") ||
      !doc["groups"].is_array()) {
    return absl::InvalidArgumentError(
        "topology: expected a JSON object with a \"groups\" array");
  }
  std::vector<TableGroup> groups;
  int next_id = 1;
  for (const json& g : doc["groups"]) {
    if (!g.is_object() || !g.contains("master") || !g["master"].is_string()) {
      return absl::InvalidArgumentError("topology: a group needs a master");
    }
    TableGroup info;
    info.id = g.contains("id") && g["id"].is_number_integer()
                  ? g["id"].get<int>()
                  : next_id;
    next_id = info.id + 1;
    info.master = g["master"].get<std::string>();
    if (g.contains("replicas") && g["replicas"].is_array()) {
      for (const json& r : g["replicas"]) {
        if (r.is_string()) info.replicas.push_back(r.get<std::string>());
      }
    }
    groups.push_back(std::move(info));
  }
  std::array<TableSlot, kSlotCount> slots{};
  if (!doc.contains("slots")) {
    slots = EvenSlots(groups);
  } else {
    if (!doc["slots"].is_array()) {
      return absl::InvalidArgumentError("topology: \"slots\" must be an array");
    }
    for (const json& s : doc["slots"]) {
      if (!s.is_object() || !s.contains("range") || !s["range"].is_string() ||
          !s.contains("group") || !s["group"].is_number_integer()) {
        return absl::InvalidArgumentError(
            "topology: a slot range needs \"range\" and \"group\"");
      }
      std::vector<std::string> parts =
          absl::StrSplit(s["range"].get<std::string>(), '-');
      int lo = 0, hi = 0;
      if (parts.empty() || parts.size() > 2 ||
          !absl::SimpleAtoi(parts[0], &lo) ||
          !absl::SimpleAtoi(parts.back(), &hi) || lo < 0 || hi < lo ||
          hi >= kSlotCount) {
        return absl::InvalidArgumentError(absl::StrCat(
            "topology: bad slot range '", s["range"].get<std::string>(), "'"));
      }
      for (int i = lo; i <= hi; ++i) {
        slots[i].group_id = s["group"].get<int>();
        slots[i].state = SlotState::kOnline;
      }
    }
  }
  return Create(std::move(groups), slots, 1);
}

absl::StatusOr<std::shared_ptr<const SlotTable>> SlotTable::FromAddressList(
    std::string_view addresses) {
  std::vector<TableGroup> groups;
  for (absl::string_view a :
       absl::StrSplit(absl::string_view(addresses.data(), addresses.size()),
                      ',', absl::SkipEmpty())) {
    if (a.find(':') == absl::string_view::npos) {
      return absl::InvalidArgumentError(
          absl::StrCat("backend address '", a, "' is not host:port"));
    }
    TableGroup g;
    g.id = static_cast<int>(groups.size()) + 1;
    g.master = std::string(a);
    groups.push_back(std::move(g));
  }
  if (groups.empty()) return absl::InvalidArgumentError("no backends given");
  auto slots = EvenSlots(groups);
  return Create(std::move(groups), slots, 1);
}

absl::StatusOr<TableGroup> SlotTable::ParseGroupNode(std::string_view text) {
  json g = json::parse(text, nullptr, false);
  if (g.is_discarded() || !g.is_object() || !g.contains("id") ||
      !g["id"].is_number_integer()) {
    return absl::InvalidArgumentError(
        absl::StrCat("bad group node: ", std::string(text)));
  }
  TableGroup info;
  info.id = g["id"].get<int>();
  if (g.contains("servers") && g["servers"].is_array()) {
    for (const json& s : g["servers"]) {
      if (!s.is_object() || !s.contains("addr") || !s["addr"].is_string()) {
        continue;
      }
      std::string state = s.value("state", std::string("online"));
      if (state == "offline") continue;
      std::string role = s.value("role", std::string("master"));
      if (role == "master") {
        info.master = s["addr"].get<std::string>();
      } else {
        info.replicas.push_back(s["addr"].get<std::string>());
      }
    }
  }
  return info;
}

absl::StatusOr<TableSlot> SlotTable::ParseSlotNode(std::string_view text) {
  TableSlot info;
  if (text.empty()) return info;
  json s = json::parse(text, nullptr, false);
  if (s.is_discarded() || !s.is_object()) {
    return absl::InvalidArgumentError(
        absl::StrCat("bad slot node: ", std::string(text)));
  }
  info.group_id = s.value("group_id", 0);
  auto state = ParseState(s.value("state", std::string("online")));
  if (!state.ok()) return state.status();
  info.state = *state;
  if (s.contains("migrate") && s["migrate"].is_object()) {
    info.migrate_from = s["migrate"].value("from", 0);
    info.migrate_to = s["migrate"].value("to", 0);
  }
  if (info.group_id == 0) info.state = SlotState::kOffline;
  return info;
}

absl::StatusOr<std::shared_ptr<const SlotTable>> SlotTable::FromTopologyNodes(
    const std::vector<std::string>& group_nodes,
    const std::vector<std::string>& slot_nodes, uint64_t version) {
  std::vector<TableGroup> groups;
  for (const std::string& text : group_nodes) {
    auto group = ParseGroupNode(text);
    if (!group.ok()) return group.status();
    groups.push_back(*std::move(group));
  }
  std::array<TableSlot, kSlotCount> slots{};
  for (size_t i = 0; i < slot_nodes.size() && i < kSlotCount; ++i) {
    auto slot = ParseSlotNode(slot_nodes[i]);
    if (!slot.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("slot ", i, ": ", slot.status().message()));
    }
    slots[i] = *slot;
  }
  return Create(std::move(groups), slots, version);
}

std::string SlotTable::ToJson() const {
  json doc;
  doc["version"] = version_;
  doc["groups"] = json::array();
  for (const TableGroup& g : groups_) {
    doc["groups"].push_back(
        {{"id", g.id}, {"master", g.master}, {"replicas", g.replicas}});
  }
  doc["slots"] = json::array();
  for (int i = 0; i < kSlotCount; ++i) {
    const TableSlot& s = slots_[i];
    json j = {{"slot", i},
              {"group_id", s.group_id},
              {"state", std::string(SlotStateName(s.state))}};
    if (s.state == SlotState::kMigrate || s.state == SlotState::kPreMigrate) {
      j["migrate"] = {{"from", s.migrate_from}, {"to", s.migrate_to}};
    }
    doc["slots"].push_back(std::move(j));
  }
  return doc.dump();
}

namespace {

// Synchronisation: `mu_` guards the table, the online flag and the
// listeners; listeners are called with the lock released (a listener may
// call Current()).
class StaticSourceImpl : public StaticSlotTableSource {
 public:
  explicit StaticSourceImpl(std::shared_ptr<const SlotTable> table)
      : table_(std::move(table)) {}

  std::shared_ptr<const SlotTable> Current() const override {
    absl::MutexLock lock(&mu_);
    return table_;
  }
  bool online() const override {
    absl::MutexLock lock(&mu_);
    return online_;
  }
  int Subscribe(Listener listener) override {
    std::shared_ptr<const SlotTable> table;
    bool online;
    int id;
    {
      absl::MutexLock lock(&mu_);
      id = next_id_++;
      listeners_[id] = listener;
      table = table_;
      online = online_;
    }
    listener(table, online);
    return id;
  }
  void Unsubscribe(int id) override {
    absl::MutexLock lock(&mu_);
    listeners_.erase(id);
  }
  void Publish(std::shared_ptr<const SlotTable> table) override {
    {
      absl::MutexLock lock(&mu_);
      table_ = std::move(table);
    }
    Notify();
  }
  void SetOnline(bool online) override {
    {
      absl::MutexLock lock(&mu_);
      online_ = online;
    }
    Notify();
  }

 private:
  void Notify() {
    std::vector<Listener> listeners;
    std::shared_ptr<const SlotTable> table;
    bool online;
    {
      absl::MutexLock lock(&mu_);
      for (auto& [id, l] : listeners_) listeners.push_back(l);
      table = table_;
      online = online_;
    }
    for (auto& l : listeners) l(table, online);
  }

  mutable absl::Mutex mu_;
  std::shared_ptr<const SlotTable> table_ ABSL_GUARDED_BY(mu_);
  bool online_ ABSL_GUARDED_BY(mu_) = true;
  int next_id_ ABSL_GUARDED_BY(mu_) = 1;
  std::map<int, Listener> listeners_ ABSL_GUARDED_BY(mu_);
};

}  // namespace

std::shared_ptr<StaticSlotTableSource> MakeStaticSource(
    std::shared_ptr<const SlotTable> table) {
  return std::make_shared<StaticSourceImpl>(std::move(table));
}

}  // namespace reborn
