#pragma once

// A Coordinator::Multi as one etcd transaction (etcd_coordinator.h): the
// planner turns the ops into compares (each tied to the op it guards and the
// error its failure means) and writes (the net effect per node), and reads
// the results back from etcd's reply. Pure functions, no I/O: the backend
// sends the request through the gateway.

#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "coord/etcd_gateway.h"
#include "reborn/coordinator.h"

namespace reborn::coord::etcd {

// One compare of a transaction, and what its failure means.
struct TxnCompare {
  enum class Target { kVersion, kCreate, kMod, kLease };
  enum class Result { kEqual, kGreater, kLess };
  std::string key;
  std::string range_end;  // non-empty: every key in [key, range_end)
  Target target = Target::kVersion;
  Result result = Result::kEqual;
  int64_t value = 0;
  size_t op = 0;  // index of the Multi op it guards
  absl::StatusCode code = absl::StatusCode::kAborted;
  std::string message;
  bool retry = false;  // failure means "choose a new sequence number"

  json ToJson() const;
  // Evaluates against the kvs a range over [key, range_end) returned.
  bool Holds(const json& kvs) const;
};

// The planned state of one node after the ops before the current one.
struct PlannedNode {
  bool exists = false;
  bool created = false;    // created in this batch
  bool ephemeral = false;  // known only for created nodes
  std::string data;
  int64_t sets = 0;  // Sets in this batch (after creation if created)
};

struct TxnPlan {
  json request;  // the body of POST /v3/kv/txn
  std::vector<TxnCompare> compares;
  std::map<std::string, PlannedNode> nodes;  // by path
  std::vector<std::string> paths;            // the actual path of each op
  std::vector<int64_t> sets_before;          // per op: its node's Sets so far
  std::vector<std::string> readback;   // Set nodes whose version is read back
  size_t readback_at = 0;              // their index among the responses
  std::vector<CoordOpResult> results;  // known before the reply (paths)
};

// Whether `ops` create sequential nodes: the plan then needs the store's
// current revision, from which the sequence numbers are taken.
bool NeedsRevision(const std::vector<CoordOp>& ops);

// Plans `ops` for the tree under the etcd key `prefix`: ephemeral nodes get
// `lease`, sequence numbers count from `read_rev` + 1. Errors ("op i: ...")
// are the refusals known from the ops alone.
absl::StatusOr<TxnPlan> PlanTxn(const std::vector<CoordOp>& ops,
                                std::string_view prefix, int64_t lease,
                                int64_t read_rev);

// The ops' results from etcd's reply to the plan's request. A failed
// transaction gives the error of the first compare that does not hold, with
// `*retry` set when trying again (with new sequence numbers) may succeed.
absl::StatusOr<std::vector<CoordOpResult>> TxnResults(const TxnPlan& plan,
                                                      const json& reply,
                                                      bool* retry);

}  // namespace reborn::coord::etcd
