#include "admin/http_json.h"

#include <exception>
#include <string>

#include "absl/strings/str_cat.h"

namespace reborn::admin {

using json = nlohmann::json;

int HttpStatus(absl::StatusCode code) {
  switch (code) {
    case absl::StatusCode::kInvalidArgument:
    case absl::StatusCode::kOutOfRange:
      return 400;
    case absl::StatusCode::kUnauthenticated:
      return 401;
    case absl::StatusCode::kPermissionDenied:
      return 403;
    case absl::StatusCode::kNotFound:
      return 404;
    case absl::StatusCode::kAlreadyExists:
    case absl::StatusCode::kFailedPrecondition:
    case absl::StatusCode::kAborted:
      return 409;
    case absl::StatusCode::kUnavailable:
    case absl::StatusCode::kDeadlineExceeded:
      return 503;
    default:
      return 500;
  }
}

void ReplyJson(httplib::Response& res, const absl::StatusOr<json>& result) {
  if (result.ok()) {
    res.status = 200;
    res.set_content(result->dump(), "application/json");
    return;
  }
  res.status = HttpStatus(result.status().code());
  res.set_content(
      json{{"error", std::string(result.status().message())},
           {"code", absl::StatusCodeToString(result.status().code())}}
          .dump(),
      "application/json");
}

void ReplyJsonOnUnknownEndpoints(httplib::Server& server) {
  server.set_error_handler([](const httplib::Request& req,
                              httplib::Response& res) {
    if (!res.body.empty()) return;
    res.set_content(
        json{{"error",
              absl::StrCat("no such endpoint: ", req.method, " ", req.path)},
             {"code", "NOT_FOUND"}}
            .dump(),
        "application/json");
  });
}

absl::StatusOr<json> JsonBody(const httplib::Request& req) {
  if (req.body.empty()) return json::object();
  try {
    json j = json::parse(req.body);
    if (!j.is_object()) {
      return absl::InvalidArgumentError("body: want a JSON object");
    }
    return j;
  } catch (const std::exception& e) {
    return absl::InvalidArgumentError(
        absl::StrCat("bad JSON body: ", e.what()));
  }
}

}  // namespace reborn::admin
