#pragma once

// The command lines of the applications an agent starts on request
// (POST /api/start_qdb, start_redis, start_proxy, start_dashboard).

#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "agent/supervisor.h"
#include "nlohmann/json.hpp"

namespace reborn::agent {

struct AppContext {
  std::string dir;  // the agent's; an application gets <dir>/apps/<id>
  std::string qdb_bin;
  std::string redis_bin;
  std::string proxy_bin;
  std::string config_bin;
  std::string coordinator;  // given to proxies and dashboards
  std::string product;
};

// Builds the spec of a `kind` (qdb | redis | proxy | dashboard) application
// from a request body:
//   every kind: "port" (0 or absent: a free one), "host" (127.0.0.1)
//   qdb:        "engine", "replicaof" ("host:port"), "args" (["--dir", ..])
//   redis:      "replicaof", "args"
//   proxy:      "admin_port", "threads"
//   dashboard:  "token"
// InvalidArgument for bad fields, FailedPrecondition for a proxy or
// dashboard without a coordinator.
absl::StatusOr<AppSpec> BuildAppSpec(std::string_view kind,
                                     const nlohmann::json& body,
                                     const AppContext& ctx);

// A port nobody listens on right now (bind to port 0 on loopback).
absl::StatusOr<int> PickFreePort();

// Where a program is: `flag` when set, else next to `self_dir` (the agent's
// own directory), then ../<name>/<name> beside it (a build tree), then
// `name` itself (found on PATH at spawn... resolved here through PATH).
std::string FindProgram(const std::string& flag, const std::string& self_dir,
                        const std::string& name);

}  // namespace reborn::agent
