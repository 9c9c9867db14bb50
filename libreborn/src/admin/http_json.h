#pragma once

// JSON in and out for the admin HTTP servers (the dashboard's REST API and
// reborn-agent's API): one mapping from absl::Status to an HTTP status and
// a `{"error","code"}` body, and one reading of request bodies.

#include <httplib.h>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "nlohmann/json.hpp"

namespace reborn::admin {

// 400 bad input, 401 token, 403 forbidden, 404, 409 exists/precondition,
// 503 unreachable, 500 otherwise.
int HttpStatus(absl::StatusCode code);

// 200 with the JSON value, or HttpStatus(code) with {"error","code"}.
void ReplyJson(httplib::Response& res,
               const absl::StatusOr<nlohmann::json>& result);

// An unknown path gets 404 {"error":"no such endpoint: ...","code":"NOT_FOUND"}
// (an error a handler already wrote is kept).
void ReplyJsonOnUnknownEndpoints(httplib::Server& server);

// The request body as a JSON object ({} when empty); InvalidArgument for
// anything else.
absl::StatusOr<nlohmann::json> JsonBody(const httplib::Request& req);

}  // namespace reborn::admin
