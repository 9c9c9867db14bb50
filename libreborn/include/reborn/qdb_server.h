#pragma once

#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "reborn/export.h"

namespace reborn {

// A complete qdb-server: configuration, the RESP network server and the
// command set, embeddable in another program. The qdb-server daemon is a
// thin main() over this class.
//
// Usage: Create() → Start() → Wait() (until SHUTDOWN or RequestStop()) →
// Stop(). Start/Wait/Stop from one thread; RequestStop from any thread.
class REBORN_EXPORT QdbServer {
 public:
  virtual ~QdbServer() = default;

  // `args` follow redis-server: `[config-file] [--directive value ...]`.
  static absl::StatusOr<std::unique_ptr<QdbServer>> Create(
      const std::vector<std::string>& args);

  // Opens storage, binds and starts serving. Returns once listening.
  virtual absl::Status Start() = 0;
  // The bound TCP port (meaningful with `--port 0`).
  virtual int port() const = 0;
  // Blocks until SHUTDOWN is received or RequestStop() is called.
  virtual void Wait() = 0;
  virtual void RequestStop() = 0;
  // Graceful stop: stops accepting, finishes in-flight replies, flushes
  // storage. Idempotent.
  virtual void Stop() = 0;
};

}  // namespace reborn
