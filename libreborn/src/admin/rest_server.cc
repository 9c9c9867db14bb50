#include "admin/rest_server.h"

#include <httplib.h>

#include <map>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "admin/access_token.h"
#include "admin/http_json.h"

namespace reborn::admin {
namespace {

using json = nlohmann::json;

void ReplyError(httplib::Response& res, int status, const std::string& code,
                const std::string& message) {
  res.status = status;
  res.set_content(json{{"error", message}, {"code", code}}.dump(),
                  "application/json");
}

// An optional boolean field (false when absent).
absl::StatusOr<bool> BoolField(const json& j, const char* name) {
  auto it = j.find(name);
  if (it == j.end() || it->is_null()) return false;
  if (!it->is_boolean()) {
    return absl::InvalidArgumentError(
        absl::StrCat("field '", name, "' must be true or false"));
  }
  return it->get<bool>();
}

// The host part of a Host header value ("h:p", "[v6]:p" or "h").
absl::string_view HostOf(absl::string_view host_header) {
  if (!host_header.empty() && host_header.front() == '[') {
    size_t end = host_header.find(']');
    return end == absl::string_view::npos ? host_header
                                          : host_header.substr(0, end + 1);
  }
  return host_header.substr(0, host_header.find(':'));
}

absl::StatusOr<int> IntField(const json& j, const char* name) {
  auto it = j.find(name);
  if (it == j.end() || !it->is_number_integer()) {
    return absl::InvalidArgumentError(
        absl::StrCat("field '", name, "' (integer) is required"));
  }
  return it->get<int>();
}

// An optional non-negative integer field (0 when absent).
absl::StatusOr<int64_t> OptionalCount(const json& j, const char* name) {
  auto it = j.find(name);
  if (it == j.end() || it->is_null()) return 0;
  if (!it->is_number_integer() || it->get<int64_t>() < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("field '", name, "' must be an integer >= 0"));
  }
  return it->get<int64_t>();
}

absl::StatusOr<TaskOptions> TaskOptionsOf(const json& body) {
  auto rate = OptionalCount(body, "rate");
  if (!rate.ok()) return rate.status();
  auto batch = OptionalCount(body, "batch");
  if (!batch.ok()) return batch.status();
  auto step = OptionalCount(body, "step");
  if (!step.ok()) return step.status();
  auto delay = OptionalCount(body, "delay_ms");
  if (!delay.ok()) return delay.status();
  TaskOptions o;
  o.rate_limit = *rate;
  o.batch_keys = *batch;
  o.slots_per_step = static_cast<int>(std::min<int64_t>(*step, 1024));
  o.delay = absl::Milliseconds(*delay);
  return o;
}

absl::StatusOr<std::map<int, double>> WeightsOf(const json& body) {
  std::map<int, double> out;
  auto it = body.find("weights");
  if (it == body.end() || it->is_null()) return out;
  if (it->is_string()) return ParseWeights(it->get<std::string>());
  if (!it->is_object()) {
    return absl::InvalidArgumentError(
        "field 'weights' must be an object {\"gid\": weight}");
  }
  for (const auto& [k, v] : it->items()) {
    int gid = 0;
    if (!absl::SimpleAtoi(k, &gid) || !v.is_number()) {
      return absl::InvalidArgumentError(
          absl::StrCat("bad weight '", k, "': ", v.dump()));
    }
    out[gid] = v.get<double>();
  }
  return out;
}

absl::StatusOr<int> IntParam(const std::string& s, const char* what) {
  int v = 0;
  if (!absl::SimpleAtoi(s, &v)) {
    return absl::InvalidArgumentError(absl::StrCat("bad ", what, " '", s, "'"));
  }
  return v;
}

}  // namespace

RestServer::RestServer(ConfigService* service, RestServerOptions options,
                       MigrationJobs* jobs)
    : service_(service),
      options_(std::move(options)),
      jobs_(jobs),
      server_(std::make_unique<httplib::Server>()) {
  ApplyHttpLimits(*server_, options_.limits);
  Routes();
}

RestServer::~RestServer() { Stop(); }

absl::Status RestServer::Bind(const std::string& host, int port) {
  if (options_.insecure_no_token) {
    if (!IsLoopbackHost(host)) {
      return absl::InvalidArgumentError(absl::StrCat(
          "--insecure-no-token is allowed on a loopback address only (", host,
          " is not): anyone who can reach ", host,
          " could change the cluster; give a token instead"));
    }
  } else if (options_.token.empty()) {
    return absl::InvalidArgumentError(
        "the dashboard needs a token for changes (or --insecure-no-token)");
  }
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

absl::Status RestServer::Serve() {
  if (!server_->listen_after_bind()) {
    return absl::InternalError("REST server stopped with an error");
  }
  return absl::OkStatus();
}

void RestServer::Stop() { server_->stop(); }

std::optional<RestServer::Refusal> RestServer::CheckChange(
    const httplib::Request& req) const {
  // 1. Origin: a browser sends it with every cross-origin change, and a page
  // cannot forge it. Absent (curl, scripts): not a browser's cross-site
  // request.
  if (req.has_header("Origin")) {
    const std::string origin = req.get_header_value("Origin");
    bool ok = false;
    for (const std::string& allowed : options_.allowed_origins) {
      ok |= absl::EqualsIgnoreCase(origin, allowed);
    }
    const std::string host = req.get_header_value("Host");
    if (!ok && !host.empty() &&
        absl::EqualsIgnoreCase(origin, absl::StrCat("http://", host))) {
      // Same origin. Without a token, a name could be a DNS-rebound
      // attacker's: only loopback names count then.
      ok = !options_.token.empty() || IsLoopbackHost(HostOf(host));
    }
    if (!ok) {
      return Refusal{403, "PERMISSION_DENIED",
                     absl::StrCat("cross-origin change refused (Origin ",
                                  origin, " is not this dashboard's)")};
    }
  }
  // 2. The token.
  if (!options_.token.empty() &&
      !BearerMatches(req.get_header_value("Authorization"), options_.token)) {
    return Refusal{401, "UNAUTHENTICATED",
                   "this change needs 'Authorization: Bearer <token>' (the "
                   "token the dashboard printed or was given)"};
  }
  // 3. JSON only: an HTML form or a "simple" cross-origin request cannot
  // send it.
  std::string type = req.get_header_value("Content-Type");
  type = absl::AsciiStrToLower(
      absl::StripAsciiWhitespace(absl::string_view(type).substr(
          0, std::min(type.size(), type.find(';')))));
  if (type != "application/json") {
    return Refusal{415, "UNSUPPORTED_MEDIA_TYPE",
                   absl::StrCat("changes must be sent as 'Content-Type: "
                                "application/json' (got '",
                                req.get_header_value("Content-Type"), "')")};
  }
  return std::nullopt;
}

template <typename Guard, typename Wrap>
void RestServer::MigrationRoutes(const Guard& guarded, const Wrap& wrap) {
  httplib::Server& s = *server_;
  s.Get("/api/migrations", wrap([this](const auto&, auto& res) {
          ReplyJson(res, jobs_->List());
        }));
  s.Post("/api/migrations", wrap(guarded([this](const auto& req, auto& res) {
           auto body = JsonBody(req);
           if (!body.ok()) return ReplyJson(res, body.status());
           auto from = IntField(*body, "from");
           auto to = IntField(*body, "to");
           auto gid = IntField(*body, "gid");
           for (const auto* f : {&from, &to, &gid}) {
             if (!f->ok()) return ReplyJson(res, f->status());
           }
           auto options = TaskOptionsOf(*body);
           if (!options.ok()) return ReplyJson(res, options.status());
           ReplyJson(res, jobs_->Start(*from, *to, *gid, *options));
         })));
  s.Post(R"(/api/migrations/([^/]+)/cancel)",
         wrap(guarded([this](const auto& req, auto& res) {
           ReplyJson(res, jobs_->Cancel(req.matches[1]));
         })));
  s.Post("/api/rebalance", wrap(guarded([this](const auto& req, auto& res) {
           auto body = JsonBody(req);
           if (!body.ok()) return ReplyJson(res, body.status());
           auto weights = WeightsOf(*body);
           if (!weights.ok()) return ReplyJson(res, weights.status());
           auto options = TaskOptionsOf(*body);
           if (!options.ok()) return ReplyJson(res, options.status());
           ReplyJson(res, jobs_->Rebalance(body->value("dry_run", false),
                                           *weights, *options));
         })));
}

void RestServer::Routes() {
  httplib::Server& s = *server_;
  // Only these methods are served; OPTIONS (a CORS preflight) is refused
  // without any Access-Control header.
  s.set_pre_routing_handler(
      [](const httplib::Request& req, httplib::Response& res) {
        if (req.method == "GET" || req.method == "HEAD" ||
            req.method == "POST" || req.method == "DELETE") {
          return httplib::Server::HandlerResponse::Unhandled;
        }
        res.set_header("Allow", "GET, HEAD, POST, DELETE");
        ReplyError(res, 405, "METHOD_NOT_ALLOWED",
                   req.method == "OPTIONS"
                       ? "cross-origin requests are not allowed"
                       : absl::StrCat("method ", req.method, " not allowed"));
        return httplib::Server::HandlerResponse::Handled;
      });
  // Every change passes CheckChange first. (In the handler, once the body
  // is read, so that the connection stays in step.)
  auto guarded = [this](auto fn) {
    return [this, fn](const httplib::Request& req, httplib::Response& res) {
      if (auto refusal = CheckChange(req)) {
        ReplyError(res, refusal->status, refusal->code, refusal->message);
        return;
      }
      fn(req, res);
    };
  };
  auto wrap = [](auto fn) {
    return [fn](const httplib::Request& req, httplib::Response& res) {
      try {
        fn(req, res);
      } catch (const std::exception& e) {
        ReplyJson(res, absl::InternalError(e.what()));
      }
    };
  };

  s.Get("/api/overview", wrap([this](const auto&, auto& res) {
          ReplyJson(res, service_->Overview());
        }));
  s.Get("/api/slots", wrap([this](const auto&, auto& res) {
          ReplyJson(res, service_->Slots());
        }));
  s.Get(R"(/api/slots/(\d+))", wrap([this](const auto& req, auto& res) {
          auto n = IntParam(req.matches[1], "slot");
          ReplyJson(res, n.ok() ? service_->SlotNode(*n) : n.status());
        }));
  s.Get("/api/groups", wrap([this](const auto&, auto& res) {
          ReplyJson(res, service_->GroupList());
        }));
  s.Get("/api/proxies", wrap([this](const auto&, auto& res) {
          ReplyJson(res, service_->ProxyList());
        }));
  s.Get("/api/agents", wrap([this](const auto&, auto& res) {
          ReplyJson(res, service_->AgentList());
        }));
  s.Get("/api/actions", wrap([this](const auto&, auto& res) {
          ReplyJson(res, service_->Actions());
        }));
  s.Post("/api/slots/init", wrap(guarded([this](const auto& req, auto& res) {
           auto body = JsonBody(req);
           if (!body.ok()) return ReplyJson(res, body.status());
           ReplyJson(res, service_->SlotInit(body->value("force", false)));
         })));
  s.Post("/api/slots/range", wrap(guarded([this](const auto& req, auto& res) {
           auto body = JsonBody(req);
           if (!body.ok()) return ReplyJson(res, body.status());
           auto from = IntField(*body, "from");
           auto to = IntField(*body, "to");
           auto gid = IntField(*body, "group_id");
           for (const auto* f : {&from, &to, &gid}) {
             if (!f->ok()) return ReplyJson(res, f->status());
           }
           ReplyJson(res, service_->SlotRangeSet(*from, *to, *gid));
         })));
  s.Post("/api/groups", wrap(guarded([this](const auto& req, auto& res) {
           auto body = JsonBody(req);
           if (!body.ok()) return ReplyJson(res, body.status());
           auto gid = IntField(*body, "id");
           if (!gid.ok()) return ReplyJson(res, gid.status());
           ReplyJson(res, service_->GroupAdd(*gid));
         })));
  s.Delete(
      R"(/api/groups/(\d+))", wrap(guarded([this](const auto& req, auto& res) {
        auto gid = IntParam(req.matches[1], "group");
        ReplyJson(res, gid.ok() ? service_->GroupRemove(*gid) : gid.status());
      })));
  s.Post(R"(/api/groups/(\d+)/servers)",
         wrap(guarded([this](const auto& req, auto& res) {
           auto gid = IntParam(req.matches[1], "group");
           if (!gid.ok()) return ReplyJson(res, gid.status());
           auto body = JsonBody(req);
           if (!body.ok()) return ReplyJson(res, body.status());
           ReplyJson(res,
                     service_->GroupAddServer(*gid, body->value("addr", ""),
                                              body->value("role", "")));
         })));
  s.Delete(R"(/api/groups/(\d+)/servers/([^/]+))",
           wrap(guarded([this](const auto& req, auto& res) {
             auto gid = IntParam(req.matches[1], "group");
             if (!gid.ok()) return ReplyJson(res, gid.status());
             ReplyJson(res, service_->GroupRemoveServer(*gid, req.matches[2]));
           })));
  s.Post(R"(/api/groups/(\d+)/promote)",
         wrap(guarded([this](const auto& req, auto& res) {
           auto gid = IntParam(req.matches[1], "group");
           if (!gid.ok()) return ReplyJson(res, gid.status());
           auto body = JsonBody(req);
           if (!body.ok()) return ReplyJson(res, body.status());
           auto force = BoolField(*body, "force");
           if (!force.ok()) return ReplyJson(res, force.status());
           ReplyJson(res, service_->ServerPromote(*gid, body->value("addr", ""),
                                                  *force));
         })));
  s.Post(R"(/api/proxies/([^/]+)/offline)",
         wrap(guarded([this](const auto& req, auto& res) {
           ReplyJson(res, service_->ProxyOffline(req.matches[1]));
         })));
  if (jobs_ != nullptr) MigrationRoutes(guarded, wrap);
  ReplyJsonOnUnknownEndpoints(s);
}

}  // namespace reborn::admin
