#include "agent/http_api.h"

#include <httplib.h>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "admin/access_token.h"
#include "admin/http_json.h"
#include "admin/http_limits.h"

namespace reborn::agent {
namespace {

using json = nlohmann::json;

}  // namespace

HttpApi::HttpApi(Supervisor* supervisor, AppContext context, std::string token,
                 std::function<json()> status,
                 std::function<absl::Status(int gid)> failover)
    : supervisor_(supervisor),
      context_(std::move(context)),
      token_(std::move(token)),
      status_(std::move(status)),
      failover_(std::move(failover)),
      server_(std::make_unique<httplib::Server>()) {
  Routes();
}

HttpApi::~HttpApi() { Stop(); }

absl::Status HttpApi::Bind(const std::string& host, int port) {
  if (port == 0) {
    port_ = server_->bind_to_any_port(host.c_str());
    if (port_ <= 0) return absl::UnavailableError("cannot bind " + host);
  } else {
    if (!server_->bind_to_port(host.c_str(), port)) {
      return absl::UnavailableError(
          absl::StrCat("cannot listen on ", host, ":", port));
    }
    port_ = port;
  }
  return absl::OkStatus();
}

void HttpApi::Serve() { server_->listen_after_bind(); }

void HttpApi::Stop() { server_->stop(); }

void HttpApi::Routes() {
  httplib::Server& s = *server_;
  admin::HttpLimits limits;
  limits.max_body_bytes = 64 * 1024;
  admin::ApplyHttpLimits(s, limits);
  // A change: token, JSON content type, same origin; then `fn(body)`.
  auto change = [this](std::function<absl::StatusOr<json>(const json&)> fn) {
    return [this, fn](const httplib::Request& req, httplib::Response& res) {
      const std::string origin = req.get_header_value("Origin");
      if (!origin.empty() &&
          origin != absl::StrCat("http://", req.get_header_value("Host"))) {
        return admin::ReplyJson(
            res, absl::PermissionDeniedError(absl::StrCat(
                     "requests from origin ", origin, " are not accepted")));
      }
      if (!admin::TokenEquals(req.get_header_value("Authorization"),
                              absl::StrCat("Bearer ", token_))) {
        return admin::ReplyJson(
            res, absl::UnauthenticatedError(
                     "this change needs 'Authorization: Bearer <token>'"));
      }
      if (!absl::StartsWith(req.get_header_value("Content-Type"),
                            "application/json")) {
        res.status = 415;
        res.set_content(
            json{{"error", "changes take Content-Type: application/json"},
                 {"code", "UNSUPPORTED_MEDIA_TYPE"}}
                .dump(),
            "application/json");
        return;
      }
      auto body = admin::JsonBody(req);
      if (!body.ok()) return admin::ReplyJson(res, body.status());
      try {
        admin::ReplyJson(res, fn(*body));
      } catch (const std::exception& e) {
        admin::ReplyJson(res, absl::InvalidArgumentError(e.what()));
      }
    };
  };

  s.Get("/api/apps", [this](const httplib::Request&, httplib::Response& res) {
    admin::ReplyJson(res, supervisor_->Apps());
  });
  s.Get("/api/status", [this](const httplib::Request&, httplib::Response& res) {
    admin::ReplyJson(res, status_());
  });
  for (const char* kind : {"qdb", "redis", "proxy", "dashboard"}) {
    s.Post(absl::StrCat("/api/start_", kind),
           change([this, kind](const json& body) -> absl::StatusOr<json> {
             auto spec = BuildAppSpec(kind, body, context_);
             if (!spec.ok()) return spec.status();
             if (absl::Status st = supervisor_->Add(*spec); !st.ok()) {
               return st;
             }
             return json{{"ok", true},
                         {"id", spec->id},
                         {"ports", spec->ports},
                         {"dir", spec->dir},
                         {"log", spec->log}};
           }));
  }
  s.Post("/api/stop", change([this](const json& body) -> absl::StatusOr<json> {
           if (body.value("all", false) == true) {
             supervisor_->StopAll(/*forget=*/true);
             return json{{"ok", true}, {"stopped", "all"}};
           }
           auto it = body.find("id");
           if (it == body.end() || !it->is_string()) {
             return absl::InvalidArgumentError(
                 "give {\"id\": \"<app id>\"} or {\"all\": true}");
           }
           // "leave_running": forget it, but do not stop the process.
           if (body.value("leave_running", false) == true) {
             if (absl::Status st = supervisor_->Detach(*it); !st.ok()) {
               return st;
             }
             return json{{"ok", true}, {"detached", *it}};
           }
           if (absl::Status st = supervisor_->Remove(*it); !st.ok()) return st;
           return json{{"ok", true}, {"stopped", *it}};
         }));
  s.Post(
      "/api/failover", change([this](const json& body) -> absl::StatusOr<json> {
        auto it = body.find("group");
        if (it == body.end() || !it->is_number_integer() ||
            it->get<int64_t>() <= 0) {
          return absl::InvalidArgumentError(
              "field 'group' (a group id > 0) is required");
        }
        if (!failover_) {
          return absl::FailedPreconditionError("this agent runs without --ha");
        }
        const int gid = it->get<int>();
        if (absl::Status st = failover_(gid); !st.ok()) return st;
        return json{{"ok", true},
                    {"group", gid},
                    {"note",
                     "allowed for 60 s: the group fails over at the next "
                     "check that finds its master down, to the reachable "
                     "replica with the highest offset even if not in sync"}};
      }));
  admin::ReplyJsonOnUnknownEndpoints(s);
}

}  // namespace reborn::agent
