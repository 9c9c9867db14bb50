#include "admin/http_limits.h"

#include <httplib.h>

#include <algorithm>

namespace reborn::admin {

void ApplyHttpLimits(httplib::Server& server, const HttpLimits& limits) {
  const size_t workers = std::max<size_t>(limits.workers, 1);
  server.new_task_queue = [workers] {
    return new httplib::ThreadPool(workers);
  };
  server.set_read_timeout(limits.read_timeout);
  server.set_write_timeout(limits.write_timeout);
  server.set_keep_alive_timeout(
      std::max<time_t>(limits.keep_alive_timeout.count(), 1));
  server.set_keep_alive_max_count(
      std::max<size_t>(limits.keep_alive_max_count, 1));
  server.set_payload_max_length(limits.max_body_bytes);
}

}  // namespace reborn::admin
