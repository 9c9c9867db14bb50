// What a proxy spends on one 2PC round: rebuilding its slot table from the
// coordinator's slot and group nodes (1024 slots, three groups).
#include <benchmark/benchmark.h>

#include <array>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "reborn/slot_table.h"

namespace reborn {
namespace {

std::vector<std::string> GroupNodes() {
  std::vector<std::string> groups;
  for (int g = 1; g <= 3; ++g) {
    groups.push_back(
        absl::StrCat(R"({"id":)", g, R"(,"servers":[{"addr":"127.0.0.1:)",
                     7000 + g, R"(","role":"master","state":"online"}]})"));
  }
  return groups;
}

std::vector<std::string> SlotNodes() {
  std::vector<std::string> slots(kSlotCount);
  for (int i = 0; i < kSlotCount; ++i) {
    slots[i] = absl::StrCat(R"({"group_id":)", 1 + i % 3, R"(,"id":)", i,
                            R"(,"state":"online"})");
  }
  slots[0] = R"({"group_id":2,"id":0,"migrate":{"from":1,"to":2},)"
             R"("state":"migrate"})";
  return slots;
}

void BM_FromTopologyNodes(benchmark::State& state) {
  const std::vector<std::string> groups = GroupNodes();
  const std::vector<std::string> slots = SlotNodes();
  uint64_t version = 0;
  for (auto _ : state) {
    auto table = SlotTable::FromTopologyNodes(groups, slots, ++version);
    benchmark::DoNotOptimize(table);
  }
}
BENCHMARK(BM_FromTopologyNodes);

// The proxy's path since: the slots are kept parsed, one 2PC round re-reads
// and parses the slot it names and the table is built from the rest.
void BM_CreateFromParsedSlots(benchmark::State& state) {
  const std::vector<std::string> group_nodes = GroupNodes();
  const std::vector<std::string> slot_nodes = SlotNodes();
  std::array<TableSlot, kSlotCount> slots{};
  for (int i = 0; i < kSlotCount; ++i) {
    slots[i] = *SlotTable::ParseSlotNode(slot_nodes[i]);
  }
  uint64_t version = 0;
  for (auto _ : state) {
    std::vector<TableGroup> groups;
    for (const std::string& text : group_nodes) {
      groups.push_back(*SlotTable::ParseGroupNode(text));
    }
    slots[0] = *SlotTable::ParseSlotNode(slot_nodes[0]);
    auto table = SlotTable::Create(std::move(groups), slots, ++version);
    benchmark::DoNotOptimize(table);
  }
}
BENCHMARK(BM_CreateFromParsedSlots);

}  // namespace
}  // namespace reborn
