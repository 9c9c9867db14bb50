#pragma once

// Limits for the cpp-httplib servers of the admin endpoints (the dashboard's
// REST API, and meant for the proxy's admin port too), so that slow or
// stalled clients cannot take every worker.
//
// httplib serves each connection on one worker thread for as long as the
// connection lives: while it reads a request (each read waits up to
// `read_timeout`), writes a reply (`write_timeout`) and waits for the next
// request on a kept-alive connection (`keep_alive_timeout`). Its default pool
// is max(8, cores - 1) threads, so 8 clients that send half a request and
// stall made the server unreachable for seconds at a time, indefinitely when
// they reconnect. These defaults give more workers than a handful of stalled
// clients can hold, shorter waits, and a bound on request bodies.

#include <chrono>
#include <cstddef>

namespace httplib {
class Server;
}

namespace reborn::admin {

struct HttpLimits {
  // Worker threads (each serves one connection at a time).
  size_t workers = 64;
  // Longest wait for each read of a request and each write of a reply.
  std::chrono::milliseconds read_timeout{5000};
  std::chrono::milliseconds write_timeout{5000};
  // An idle kept-alive connection is closed after this long, and after
  // this many requests.
  std::chrono::seconds keep_alive_timeout{2};
  size_t keep_alive_max_count = 100;
  // Largest request body accepted (413 beyond).
  size_t max_body_bytes = size_t{1} << 20;
};

// Applies `limits` to `server`. Call before it starts listening.
void ApplyHttpLimits(httplib::Server& server, const HttpLimits& limits = {});

}  // namespace reborn::admin
