#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "server/replication.h"

namespace reborn::server {

class QdbServerImpl;
class Replication;

// The replica side of one REPLICAOF: a thread that connects to the master,
// does the handshake (PING, AUTH, REPLCONF, PSYNC), loads a full sync into
// the engine (QdbEngine::BeginRdbLoad, staged: reads keep the old data until
// Commit) or continues from its offset, then applies the command stream and
// acknowledges its offset every second. On any error it closes the
// connection and reconnects with a backoff.
//
// Thread-safe: Start/Stop/Kill from any thread; the status fields are atomics.
class ReplicaLink {
 public:
  // Redis' link states, as ROLE names them.
  enum State { kConnect = 0, kConnecting = 1, kSync = 2, kConnected = 3 };

  ReplicaLink(Replication& repl, QdbServerImpl& server, std::string host,
              int port);
  ~ReplicaLink();
  ReplicaLink(const ReplicaLink&) = delete;
  ReplicaLink& operator=(const ReplicaLink&) = delete;

  void Start();
  // Closes the connection and joins the thread.
  void Stop();
  // Closes the current connection; the thread reconnects.
  void Kill();

  int64_t processed_offset() const { return processed_.load(); }
  // master_link_status ... lines of INFO replication.
  void AppendInfo(std::string* out) const;

 private:
  void Run();
  // One connection's life: handshake, sync, stream. Returns why it ended.
  absl::Status Session();
  absl::Status Handshake(std::string* first_reply);
  absl::Status LoadPayload();
  absl::Status Stream();

  absl::Status Connect();
  absl::Status SendCommand(const std::vector<std::string>& args);
  // Reads a "\r\n"-terminated line, skipping the bare "\n" keepalives a
  // master sends while it prepares a snapshot.
  absl::Status ReadLine(std::string* line);
  // Reads what is available (waits up to `wait_ms`); 0 bytes on timeout.
  absl::StatusOr<size_t> ReadSome(int wait_ms);
  absl::Status SendAck();
  void CloseSocket();
  bool stopping() const { return stop_.load(); }

  Replication& repl_;
  QdbServerImpl& server_;
  const std::string host_;
  const int port_;
  std::thread thread_;
  std::atomic<bool> stop_{false};
  std::atomic<bool> kill_{false};
  std::mutex sleep_mu_;
  std::condition_variable sleep_cv_;

  // Touched by the link thread only.
  int fd_ = -1;
  std::string in_;  // read but not consumed
  // The master's stream state (SELECTed db) survives reconnects: a partial
  // resync continues the same stream.
  Replication::LinkSession session_;

  std::atomic<int> state_{kConnect};
  std::atomic<int64_t> processed_{0};
  std::atomic<int64_t> last_io_ms_{0};
  std::atomic<int64_t> down_since_ms_{0};
  std::atomic<bool> loading_{false};
  std::atomic<int64_t> sync_total_{-1};
  std::atomic<int64_t> sync_read_{0};
  std::atomic<int64_t> sync_last_io_ms_{0};
  std::atomic<uint64_t> full_syncs_{0};
};

}  // namespace reborn::server
