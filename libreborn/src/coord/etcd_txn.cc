#include "coord/etcd_txn.h"

#include <algorithm>
#include <cstdio>
#include <utility>

#include "absl/strings/str_cat.h"
#include "coord/sv.h"

namespace reborn::coord::etcd {
namespace {

std::string SeqSuffix(int64_t n) {
  char buf[24];
  std::snprintf(buf, sizeof(buf), "%010lld", static_cast<long long>(n));
  return buf;
}

}  // namespace

json TxnCompare::ToJson() const {
  static const char* kTargets[] = {"VERSION", "CREATE", "MOD", "LEASE"};
  static const char* kResults[] = {"EQUAL", "GREATER", "LESS"};
  static const char* kFields[] = {"version", "create_revision", "mod_revision",
                                  "lease"};
  json j = {{"key", B64(key)},
            {"target", kTargets[static_cast<int>(target)]},
            {"result", kResults[static_cast<int>(result)]},
            {kFields[static_cast<int>(target)], std::to_string(value)}};
  if (!range_end.empty()) j["range_end"] = B64(range_end);
  return j;
}

bool TxnCompare::Holds(const json& kvs) const {
  auto one = [this](const json& kv) {
    int64_t v = 0;
    switch (target) {
      case Target::kVersion:
        v = kv.is_null() ? 0 : JInt(kv, "version");
        break;
      case Target::kCreate:
        v = kv.is_null() ? 0 : JInt(kv, "create_revision");
        break;
      case Target::kMod:
        v = kv.is_null() ? 0 : JInt(kv, "mod_revision");
        break;
      case Target::kLease:
        v = kv.is_null() ? 0 : JInt(kv, "lease");
        break;
    }
    switch (result) {
      case Result::kEqual:
        return v == value;
      case Result::kGreater:
        return v > value;
      case Result::kLess:
        return v < value;
    }
    return false;
  };
  if (!kvs.is_array() || kvs.empty()) {
    // Missing single key compares as zeros; an empty range holds.
    return range_end.empty() ? one(json()) : true;
  }
  for (const json& kv : kvs) {
    if (!one(kv)) return false;
  }
  return true;
}

bool NeedsRevision(const std::vector<CoordOp>& ops) {
  return std::any_of(ops.begin(), ops.end(), [](const CoordOp& op) {
    return op.type == CoordOp::Type::kCreate &&
           (op.mode == CreateMode::kSequential ||
            op.mode == CreateMode::kEphemeralSequential);
  });
}

absl::StatusOr<TxnPlan> PlanTxn(const std::vector<CoordOp>& ops,
                                std::string_view prefix, int64_t lease,
                                int64_t read_rev) {
  TxnPlan txn;
  std::map<std::string, PlannedNode>& plan = txn.nodes;
  std::vector<TxnCompare>& cmps = txn.compares;
  std::vector<CoordOpResult>& results = txn.results;
  results.resize(ops.size());
  std::vector<std::string>& paths = txn.paths;
  paths.resize(ops.size());
  std::vector<int64_t>& sets_before = txn.sets_before;
  sets_before.assign(ops.size(), 0);
  const std::string prefix_(prefix);
  auto Key = [&prefix_](std::string_view path) {
    return absl::StrCat(prefix_, Sv(path));
  };
  auto fail = [](size_t i, absl::StatusCode code, std::string msg) {
    return absl::Status(code, absl::StrCat("op ", i, ": ", msg));
  };
  auto add = [&](size_t i, std::string key, TxnCompare::Target t,
                 TxnCompare::Result res, int64_t value, absl::StatusCode code,
                 std::string msg, std::string range_end = "",
                 bool is_retry = false) {
    TxnCompare c;
    c.key = std::move(key);
    c.range_end = std::move(range_end);
    c.target = t;
    c.result = res;
    c.value = value;
    c.op = i;
    c.code = code;
    c.message = std::move(msg);
    c.retry = is_retry;
    // The same condition twice (siblings under one parent) is sent once.
    for (const TxnCompare& o : cmps) {
      if (o.key == c.key && o.range_end == c.range_end &&
          o.target == c.target && o.result == c.result && o.value == c.value) {
        return;
      }
    }
    cmps.push_back(std::move(c));
  };
  // Requires node `path` to exist (and, if version >= 0, to have it).
  auto require = [&](size_t i, const std::string& path,
                     int64_t version) -> absl::Status {
    auto it = plan.find(path);
    if (it != plan.end()) {
      if (!it->second.exists) {
        return fail(i, absl::StatusCode::kNotFound, path + " not found");
      }
      if (version >= 0) {
        if (it->second.created) {
          if (it->second.sets != version) {
            return fail(i, absl::StatusCode::kAborted,
                        "version conflict on " + path);
          }
        } else {
          int64_t base = version - it->second.sets;
          if (base < 0) {
            return fail(i, absl::StatusCode::kAborted,
                        "version conflict on " + path);
          }
          add(i, Key(path), TxnCompare::Target::kVersion,
              TxnCompare::Result::kEqual, base + 1, absl::StatusCode::kAborted,
              "version conflict on " + path);
        }
      }
      return absl::OkStatus();
    }
    if (path == "/") return absl::OkStatus();
    add(i, Key(path), TxnCompare::Target::kCreate, TxnCompare::Result::kGreater,
        0, absl::StatusCode::kNotFound, path + " not found");
    if (version >= 0) {
      add(i, Key(path), TxnCompare::Target::kVersion,
          TxnCompare::Result::kEqual, version + 1, absl::StatusCode::kAborted,
          "version conflict on " + path);
    }
    plan[path] = PlannedNode{true, false, false, "", 0};
    return absl::OkStatus();
  };

  for (size_t i = 0; i < ops.size(); ++i) {
    const CoordOp& op = ops[i];
    switch (op.type) {
      case CoordOp::Type::kCheck: {
        if (absl::Status s = require(i, op.path, op.version); !s.ok()) {
          return s;
        }
        paths[i] = op.path;
        break;
      }
      case CoordOp::Type::kSet: {
        if (absl::Status s = require(i, op.path, op.version); !s.ok()) {
          return s;
        }
        PlannedNode& p = plan[op.path];
        p.data = op.data;
        p.sets++;
        sets_before[i] = p.sets;
        paths[i] = op.path;
        break;
      }
      case CoordOp::Type::kDelete: {
        if (op.path == "/") {
          return fail(i, absl::StatusCode::kInvalidArgument, "cannot delete /");
        }
        bool was_planned = plan.contains(op.path);
        if (absl::Status s = require(i, op.path, op.version); !s.ok()) {
          return s;
        }
        // Children deleted earlier in this batch still exist when the
        // transaction's conditions are evaluated: the "no children"
        // condition covers the parent's range minus those children (and
        // their subtrees, which their own deletes checked).
        std::vector<std::pair<std::string, std::string>> deleted;
        for (const auto& [p, st] : plan) {
          if (p != op.path && CoordParent(p) == op.path) {
            if (st.exists) {
              return fail(i, absl::StatusCode::kFailedPrecondition,
                          op.path + " has children");
            }
            if (st.created) continue;  // never in the store
            std::string key = Key(p);
            deleted.emplace_back(key, key + std::string(1, '\0'));
            deleted.emplace_back(key + "/", PrefixEnd(key + "/"));
          }
        }
        PlannedNode& p = plan[op.path];
        if (!(was_planned && p.created)) {
          std::string dir = Key(op.path) + "/";
          std::sort(deleted.begin(), deleted.end());
          std::string from = dir;
          auto gap = [&](const std::string& to) {
            if (from < to) {
              add(i, from, TxnCompare::Target::kCreate,
                  TxnCompare::Result::kEqual, 0,
                  absl::StatusCode::kFailedPrecondition,
                  op.path + " has children", to);
            }
          };
          for (const auto& [start, end] : deleted) {
            gap(start);
            from = std::max(from, end);
          }
          gap(PrefixEnd(dir));
        }
        p.exists = false;
        paths[i] = op.path;
        break;
      }
      case CoordOp::Type::kCreate: {
        if (op.path == "/") {
          return fail(i, absl::StatusCode::kAlreadyExists, "/ exists");
        }
        std::string parent = CoordParent(op.path);
        if (parent != "/") {
          auto it = plan.find(parent);
          if (it != plan.end()) {
            if (!it->second.exists) {
              return fail(i, absl::StatusCode::kNotFound,
                          "parent of " + op.path + " does not exist");
            }
            if (it->second.created && it->second.ephemeral) {
              return fail(i, absl::StatusCode::kFailedPrecondition,
                          "parent of " + op.path + " is ephemeral");
            }
          } else {
            add(i, Key(parent), TxnCompare::Target::kCreate,
                TxnCompare::Result::kGreater, 0, absl::StatusCode::kNotFound,
                "parent of " + op.path + " does not exist");
          }
          if (it == plan.end() || !it->second.created) {
            add(i, Key(parent), TxnCompare::Target::kLease,
                TxnCompare::Result::kEqual, 0,
                absl::StatusCode::kFailedPrecondition,
                "parent of " + op.path + " is ephemeral");
          }
        }
        bool seq = op.mode == CreateMode::kSequential ||
                   op.mode == CreateMode::kEphemeralSequential;
        std::string path = op.path;
        if (seq) {
          int64_t n = ++read_rev;
          path += SeqSuffix(n);
          std::string dir = parent == "/" ? prefix_ + "/" : Key(parent) + "/";
          add(i, dir, TxnCompare::Target::kMod, TxnCompare::Result::kLess, n,
              absl::StatusCode::kAborted, "sequence race", PrefixEnd(dir),
              true);
        }
        auto it = plan.find(path);
        if (it != plan.end()) {
          if (it->second.exists) {
            return fail(i, absl::StatusCode::kAlreadyExists, path + " exists");
          }
          return fail(i, absl::StatusCode::kUnimplemented,
                      "etcd: deleting and re-creating " + path +
                          " in one Multi is not supported");
        }
        add(i, Key(path), TxnCompare::Target::kCreate,
            TxnCompare::Result::kEqual, 0, absl::StatusCode::kAlreadyExists,
            path + " exists", "", seq);
        PlannedNode p;
        p.exists = true;
        p.created = true;
        p.ephemeral = op.mode == CreateMode::kEphemeral ||
                      op.mode == CreateMode::kEphemeralSequential;
        p.data = op.data;
        plan[path] = std::move(p);
        paths[i] = path;
        results[i].path = path;
        break;
      }
    }
  }

  // Writes: the net effect per node. Then read back nodes that were Set.
  json success = json::array();
  std::vector<std::string>& readback = txn.readback;
  for (const auto& [path, p] : plan) {
    if (p.created && p.exists) {
      json put = {{"key", B64(Key(path))}, {"value", B64(p.data)}};
      if (p.ephemeral) put["lease"] = std::to_string(lease);
      success.push_back({{"request_put", put}});
    } else if (!p.created && p.exists && p.sets > 0) {
      success.push_back({{"request_put",
                          {{"key", B64(Key(path))},
                           {"value", B64(p.data)},
                           {"ignore_lease", true}}}});
      readback.push_back(path);
    } else if (!p.created && !p.exists) {
      success.push_back({{"request_delete_range", {{"key", B64(Key(path))}}}});
    }
  }
  txn.readback_at = success.size();
  for (const std::string& path : readback) {
    success.push_back({{"request_range", {{"key", B64(Key(path))}}}});
  }
  json compare = json::array();
  json failure = json::array();
  for (const TxnCompare& c : cmps) {
    compare.push_back(c.ToJson());
    json range = {{"key", B64(c.key)}, {"keys_only", true}};
    if (!c.range_end.empty()) {
      range["range_end"] = B64(c.range_end);
      range["limit"] = "1";
      if (c.target == TxnCompare::Target::kMod) range.erase("limit");
    }
    failure.push_back({{"request_range", range}});
  }
  txn.request = {
      {"compare", compare}, {"success", success}, {"failure", failure}};
  return txn;
}

absl::StatusOr<std::vector<CoordOpResult>> TxnResults(const TxnPlan& txn,
                                                      const json& reply,
                                                      bool* retry) {
  auto fail = [](size_t i, absl::StatusCode code, std::string msg) {
    return absl::Status(code, absl::StrCat("op ", i, ": ", msg));
  };
  const std::vector<TxnCompare>& cmps = txn.compares;
  const std::vector<std::string>& readback = txn.readback;
  std::vector<CoordOpResult> results = txn.results;

  const json& resps = At(reply, "responses");
  if (!JBool(reply, "succeeded")) {
    for (size_t k = 0; k < cmps.size(); ++k) {
      const json& kvs = At(At(At(resps, k), "response_range"), "kvs");
      if (!cmps[k].Holds(kvs)) {
        *retry = cmps[k].retry;
        return fail(cmps[k].op, cmps[k].code, cmps[k].message);
      }
    }
    *retry = true;  // state changed in between: try again
    return absl::AbortedError("transaction failed; retry");
  }
  std::map<std::string, int64_t> final_version;
  for (size_t k = 0; k < readback.size(); ++k) {
    const json& kvs =
        At(At(At(resps, txn.readback_at + k), "response_range"), "kvs");
    if (kvs.is_array() && !kvs.empty()) {
      final_version[readback[k]] = JInt(kvs[0], "version") - 1;
    }
  }
  for (size_t i = 0; i < results.size(); ++i) {
    if (txn.sets_before[i] == 0) continue;  // not a Set
    const PlannedNode& p = txn.nodes.at(txn.paths[i]);
    int64_t final_v = p.created ? p.sets : final_version[txn.paths[i]];
    results[i].version = final_v - (p.sets - txn.sets_before[i]);
  }
  return results;
}

}  // namespace reborn::coord::etcd
