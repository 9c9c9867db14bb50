#pragma once

#include <chrono>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "reborn/reply.h"

namespace reborn::net {

// A small blocking RESP client for control paths (reborn-config PINGing a
// server, migration, tests). Every call is bounded by the timeout given at
// Connect(). Not for the data path: the proxy uses asio connections.
//
// Not thread-safe: one client per thread, or external locking.
class SyncClient {
 public:
  SyncClient() = default;
  ~SyncClient();
  SyncClient(SyncClient&& other) noexcept;
  SyncClient& operator=(SyncClient&& other) noexcept;
  SyncClient(const SyncClient&) = delete;
  SyncClient& operator=(const SyncClient&) = delete;

  // Connects to host:port (a numeric address or a name), and sends AUTH when
  // `password` is not empty.
  static absl::StatusOr<SyncClient> Connect(const std::string& host, int port,
                                            std::chrono::milliseconds timeout,
                                            const std::string& password = "");

  // Sends one command and waits for its reply. An error reply is a Reply of
  // type kError, not a failed status; a failed status means the connection
  // is broken (and is closed).
  absl::StatusOr<Reply> Call(const std::vector<std::string>& args);

  // Pipelines several commands and reads all their replies.
  absl::StatusOr<std::vector<Reply>> CallAll(
      const std::vector<std::vector<std::string>>& commands);

  // Pipelining by hand: Send() writes one command without waiting, and
  // Receive() reads the next reply, in order. A failed status closes the
  // connection, as for Call().
  absl::Status Send(const std::vector<std::string>& args);
  absl::StatusOr<Reply> Receive();

  bool connected() const { return fd_ >= 0; }
  void Close();

 private:
  absl::Status SendAll(std::string_view data);
  absl::StatusOr<Reply> ReadReply();

  int fd_ = -1;
  std::chrono::milliseconds timeout_{1000};
  std::string inbuf_;
};

// Encodes a command as a RESP multibulk request.
std::string EncodeCommand(const std::vector<std::string>& args);

}  // namespace reborn::net
