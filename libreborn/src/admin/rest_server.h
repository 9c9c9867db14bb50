#pragma once

// The REST API of `reborn-config dashboard` (JSON over HTTP, cpp-httplib):
//   GET    /api/overview /api/slots /api/slots/<n> /api/groups /api/proxies
//          /api/actions
//   POST   /api/slots/init            {"force":bool}
//   POST   /api/slots/range           {"from","to","group_id"}
//   POST   /api/groups                {"id"}
//   DELETE /api/groups/<gid>
//   POST   /api/groups/<gid>/servers  {"addr","role"?}
//   DELETE /api/groups/<gid>/servers/<addr>
//   POST   /api/groups/<gid>/promote  {"addr"}
//   POST   /api/proxies/<pid>/offline
// With MigrationJobs (migration_jobs.h):
//   GET    /api/migrations            tasks with progress
//   POST   /api/migrations            {"from","to","gid","rate"?,"batch"?,
//                                      "step"?}
//   POST   /api/migrations/<id>/cancel
//   POST   /api/rebalance             {"dry_run"?,"weights"?{"gid":w},
//                                      "rate"?,"batch"?,"step"?}
// Errors: {"error": message, "code": name} with 400/401/404/409/503/500.
// With a token set, changes need "Authorization: Bearer <token>".
//
// Thread safety: httplib serves requests on its own thread pool; handlers
// only call the (thread-safe) ConfigService.

#include <memory>
#include <string>

#include "absl/status/status.h"
#include "admin/config_service.h"
#include "admin/migration_jobs.h"

namespace httplib {
class Server;
}

namespace reborn::admin {

class RestServer {
 public:
  // `jobs` may be null (no migration endpoints); both must outlive this.
  RestServer(ConfigService* service, std::string token,
             MigrationJobs* jobs = nullptr);
  ~RestServer();

  // Binds host:port (port 0: any free port; see port()).
  absl::Status Bind(const std::string& host, int port);
  int port() const { return port_; }
  // Serves until Stop(). Call after Bind().
  absl::Status Serve();
  void Stop();

 private:
  void Routes();
  template <typename Guard, typename Wrap>
  void MigrationRoutes(const Guard& guarded, const Wrap& wrap);

  ConfigService* service_;
  std::string token_;
  MigrationJobs* jobs_;
  std::unique_ptr<httplib::Server> server_;
  int port_ = 0;
};

}  // namespace reborn::admin
