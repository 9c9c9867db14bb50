#pragma once

// The agent's HTTP API (JSON in and out, cpp-httplib):
//   GET  /api/apps             the supervised applications
//   GET  /api/status           the agent: leader, groups as it sees them,
//                              failovers
//   POST /api/start_qdb        {"port"?,"host"?,"engine"?,"replicaof"?,"args"?}
//   POST /api/start_redis      {"port"?,"host"?,"replicaof"?,"args"?}
//   POST /api/start_proxy      {"port"?,"host"?,"admin_port"?,"threads"?}
//   POST /api/start_dashboard  {"port"?,"host"?,"token"?}
//   POST /api/stop             {"id":"qdb-6380"} or {"all":true}
//   POST /api/failover         {"group":N}: on the HA leader, allows a
//                              forced failover of group N (see
//                              HaMonitor::Force)
// Changes (every POST) need "Authorization: Bearer <token>", a
// "Content-Type: application/json" body and no foreign Origin (so a web
// page cannot post to it). Errors: {"error","code"} with 400 bad input,
// 401 no token, 403 foreign origin, 404, 409 exists / port taken, 415 not
// JSON, 500, 503.
//
// Thread safety: httplib serves requests on its own threads; the handlers
// call the thread-safe Supervisor and the status callback.

#include <functional>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "agent/apps.h"
#include "agent/supervisor.h"
#include "nlohmann/json.hpp"

namespace httplib {
class Server;
}

namespace reborn::agent {

class HttpApi {
 public:
  // `supervisor` must outlive the API; `status` returns /api/status.
  // `failover` answers POST /api/failover (null: 409, no HA).
  HttpApi(Supervisor* supervisor, AppContext context, std::string token,
          std::function<nlohmann::json()> status,
          std::function<absl::Status(int gid)> failover);
  ~HttpApi();

  // Binds host:port (port 0: a free one, see port()).
  absl::Status Bind(const std::string& host, int port);
  int port() const { return port_; }
  // Serves until Stop(); call after Bind().
  void Serve();
  void Stop();

 private:
  void Routes();

  Supervisor* const supervisor_;
  const AppContext context_;
  const std::string token_;
  std::function<nlohmann::json()> status_;
  std::function<absl::Status(int gid)> failover_;
  std::unique_ptr<httplib::Server> server_;
  int port_ = 0;
};

}  // namespace reborn::agent
