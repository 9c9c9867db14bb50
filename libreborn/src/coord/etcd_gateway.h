#pragma once

// The HTTP/JSON side of the etcd backend (etcd_coordinator.h): etcd v3's
// JSON gateway (POST /v3/..., keys and values base64, int64 as strings,
// empty and zero fields omitted) over cpp-httplib, with failover between
// the hosts of the coordinator URI.

#include <cstddef>
#include <cstdint>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "reborn/coordinator.h"

namespace httplib {
class Client;
}  // namespace httplib

namespace reborn::coord::etcd {

using json = nlohmann::json;

struct HostPort {
  std::string host;
  int port = 0;
};

// The hosts of an etcd:// URI ("h:p,h:p"; the port defaults to 2379).
// InvalidArgument when there is none or a port is bad.
absl::StatusOr<std::vector<HostPort>> ParseHosts(const CoordinatorUri& uri);

std::string B64(std::string_view s);
// A base64 JSON string decoded; "" for anything else.
std::string UnB64(const json& j);

// Field and element access on JSON from the gateway, which omits empty and
// zero fields: a missing one reads as null instead of being undefined
// behaviour (const operator[]) or an exception (at()).
const json& At(const json& j, const char* key);
const json& At(const json& j, size_t index);

// The gateway writes int64 as strings and omits zero values.
int64_t JInt(const json& j, const char* key);
bool JBool(const json& j, const char* key);

// The exclusive end of the range of keys that start with `prefix`.
std::string PrefixEnd(std::string prefix);

// A client of the gateway of the etcd cluster at `hosts`.
//
// Synchronisation: the HTTP clients are made per request, so any thread may
// Call(); `mu_` guards the host preference and is never held across a
// request; `stream_mu_` guards the open stream's client (StopStreams() ends
// it from another thread).
class Gateway {
 public:
  // `uri` names the coordinator in errors; `timeout` bounds connecting to
  // a host and each read and write.
  Gateway(std::string uri, std::vector<HostPort> hosts, absl::Duration timeout);
  Gateway(const Gateway&) = delete;
  Gateway& operator=(const Gateway&) = delete;

  size_t host_count() const { return hosts_.size(); }

  // POSTs `body` to `path`, trying each host, preferring the last one that
  // answered; the reply's "result" if it has one, else the reply. A reply
  // with an error maps gRPC's codes: InvalidArgument, NotFound, Unavailable
  // (unavailable, deadline exceeded), else Internal; Unavailable when no
  // host answered.
  absl::StatusOr<json> Call(const std::string& path, const json& body);

  // POSTs `body` to `path` on host `host` and hands each line of the
  // streamed reply (one JSON message each) to `on_message` as it comes, and
  // what is left of the reply after its last newline when it ends. The
  // stream ends when `on_message` returns false, when `more` (asked after
  // each chunk read) returns false, when the host ends it or sends nothing
  // for `idle`, and on StopStreams(). False when it failed otherwise (no
  // connection, a write error...): the caller tries another host. One
  // stream at a time.
  bool Stream(size_t host, const std::string& path, const json& body,
              absl::Duration idle,
              const std::function<bool(const std::string&)>& on_message,
              const std::function<bool()>& more);
  // Ends the open stream, and makes every later Stream() return at once.
  void StopStreams();

 private:
  const std::string uri_;
  const std::vector<HostPort> hosts_;
  const absl::Duration timeout_;

  absl::Mutex mu_;
  size_t preferred_host_ ABSL_GUARDED_BY(mu_) = 0;

  absl::Mutex stream_mu_;
  bool streams_stopped_ ABSL_GUARDED_BY(stream_mu_) = false;
  httplib::Client* stream_client_ ABSL_GUARDED_BY(stream_mu_) = nullptr;
};

}  // namespace reborn::coord::etcd
