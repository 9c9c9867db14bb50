#pragma once

// The REST API of `reborn-config dashboard` (JSON over HTTP, cpp-httplib):
//   GET    /api/overview /api/slots /api/slots/<n> /api/groups /api/proxies
//          /api/agents /api/actions
//   POST   /api/slots/init            {"force":bool}
//   POST   /api/slots/range           {"from","to","group_id"}
//   POST   /api/groups                {"id"}
//   DELETE /api/groups/<gid>
//   POST   /api/groups/<gid>/servers  {"addr","role"?}
//   DELETE /api/groups/<gid>/servers/<addr>
//   POST   /api/groups/<gid>/promote  {"addr","force"?}
//   POST   /api/proxies/<pid>/offline
// With MigrationJobs (migration_jobs.h):
//   GET    /api/migrations            tasks with progress
//   POST   /api/migrations            {"from","to","gid","rate"?,"batch"?,
//                                      "step"?}
//   POST   /api/migrations/<id>/cancel
//   POST   /api/rebalance             {"dry_run"?,"weights"?{"gid":w},
//                                      "rate"?,"batch"?,"step"?}
// Errors: {"error": message, "code": name} with 400/401/403/404/405/409/413/
// 415/503/500 (docs/dashboard.md).
//
// Reads (GET, HEAD) are open. POST and DELETE are changes and, before their
// handler runs, must
//   - carry no Origin header, or the dashboard's own origin (http:// + the
//     Host header; in no-token mode the Host must be a loopback address or
//     localhost, against DNS rebinding), or one of `allowed_origins`: else
//     403 PERMISSION_DENIED;
//   - carry "Authorization: Bearer <token>" (unless insecure_no_token): else
//     401 UNAUTHENTICATED;
//   - be "Content-Type: application/json" (even without a body): else 415
//     UNSUPPORTED_MEDIA_TYPE.
// So a web page in an operator's browser cannot drive it (a cross-origin
// form or text/plain POST is refused, and CORS is never granted: OPTIONS,
// like every other method, is answered 405 without Access-Control headers).
//
// Thread safety: httplib serves requests on its own thread pool (sized by
// HttpLimits); handlers only call the (thread-safe) ConfigService and
// MigrationJobs; the options are fixed at construction.

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "admin/config_service.h"
#include "admin/http_limits.h"
#include "admin/migration_jobs.h"

namespace httplib {
class Server;
struct Request;
}  // namespace httplib

namespace reborn::admin {

struct RestServerOptions {
  // Required by every change; empty only with insecure_no_token.
  std::string token;
  // Accept changes without a token. Bind() allows it on a loopback address
  // only.
  bool insecure_no_token = false;
  // Origins (scheme://host[:port]) allowed besides the dashboard's own, e.g.
  // a TLS reverse proxy's "https://ops.example.com".
  std::vector<std::string> allowed_origins;
  HttpLimits limits;
};

class RestServer {
 public:
  // `jobs` may be null (no migration endpoints); both must outlive this.
  RestServer(ConfigService* service, RestServerOptions options,
             MigrationJobs* jobs = nullptr);
  ~RestServer();

  // Binds host:port (port 0: any free port; see port()). InvalidArgument
  // without a token unless insecure_no_token, and with insecure_no_token on
  // an address that is not loopback.
  absl::Status Bind(const std::string& host, int port);
  int port() const { return port_; }
  // Serves until Stop(). Call after Bind().
  absl::Status Serve();
  void Stop();

 private:
  void Routes();
  // Why the change `req` is refused (see the top of this file), if it is.
  struct Refusal {
    int status = 0;
    std::string code, message;
  };
  std::optional<Refusal> CheckChange(const httplib::Request& req) const;
  template <typename Guard, typename Wrap>
  void MigrationRoutes(const Guard& guarded, const Wrap& wrap);

  ConfigService* service_;
  RestServerOptions options_;
  MigrationJobs* jobs_;
  std::unique_ptr<httplib::Server> server_;
  int port_ = 0;
};

}  // namespace reborn::admin
