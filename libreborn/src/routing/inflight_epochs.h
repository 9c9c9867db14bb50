#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <utility>
#include <vector>

// Requests counted by the topology epoch they were routed in (a proxy
// worker's backend requests; the in-process Client's calls). A participant
// acknowledges a topology change (the 2PC of slot migrations) only once no
// request routed with an older table is still on its way to a server: a write
// routed to a slot's old group before a pre_migrate, and still in flight when
// the migrator starts moving keys, would land on the old group after its key
// moved and come back with the slot's sweep as a stale value.
namespace reborn::routing {

// Not thread-safe: a proxy worker uses its own from its thread; the Client
// guards its one with a mutex.
class InflightEpochs {
 public:
  // Counts a request sent now; returns the epoch to pass to End().
  uint64_t Begin();
  // The request's reply came, or it failed.
  void End(uint64_t epoch);
  // A new table is in use from now on: `drained` runs (at once, or from the
  // End() of the last older request) once nothing of an older epoch is out.
  void Advance(std::function<void()> drained);

  uint64_t epoch() const { return epoch_; }
  // Requests still out, of every epoch.
  int64_t outstanding() const;

 private:
  void Release();

  uint64_t epoch_ = 0;
  std::map<uint64_t, int64_t> counts_;  // epochs with requests out
  // Each waits until no epoch older than its own has a request out.
  std::vector<std::pair<uint64_t, std::function<void()>>> waiters_;
};

}  // namespace reborn::routing
