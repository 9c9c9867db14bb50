#pragma once

#include <cstddef>
#include <functional>
#include <mutex>
#include <string>
#include <string_view>

namespace reborn {

// Output a connection accepts from outside its request/reply cycle: the
// replication stream a master sends to a replica, written by other threads
// while the connection keeps reading the replica's REPLCONF ACKs. Bytes are
// written after the replies already queued, in Push() order.
//
// Thread-safe: a mutex guards the queue; the connection's hooks run outside
// it.
class PushChannel {
 public:
  // Queues bytes; false (and nothing queued) once the connection closed.
  bool Push(std::string_view bytes) {
    std::function<void()> wake;
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (closed_) return false;
      queued_.append(bytes);
      if (!scheduled_ && wake_) {
        scheduled_ = true;
        wake = wake_;
      }
    }
    if (wake) wake();
    return true;
  }

  // Bytes pushed and not yet written to the socket.
  size_t pending() const {
    std::lock_guard<std::mutex> lock(mu_);
    return queued_.size() + in_connection_;
  }

  bool closed() const {
    std::lock_guard<std::mutex> lock(mu_);
    return closed_;
  }

  // Closes the connection (from any thread); pending bytes may be dropped.
  void Close() {
    std::function<void()> close;
    {
      std::lock_guard<std::mutex> lock(mu_);
      close = close_;
    }
    if (close) close();
  }

  // Closes the connection once the bytes pushed so far are written (a
  // master becoming a replica: what its replicas were sent before stays
  // sent, as Redis writes it before the next command runs).
  void CloseAfterFlush() {
    std::function<void()> close;
    {
      std::lock_guard<std::mutex> lock(mu_);
      drain_on_close_ = true;
      close = close_;
    }
    if (close) close();
  }
  bool drain_on_close() const {
    std::lock_guard<std::mutex> lock(mu_);
    return drain_on_close_;
  }

  // --- For the connection that owns the channel.
  // `wake` posts a call to Take() to the connection's thread; `close`
  // closes the connection.
  void Attach(std::function<void()> wake, std::function<void()> close) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (closed_) return;
      wake_ = wake;
      close_ = std::move(close);
      if (queued_.empty()) return;
      scheduled_ = true;
    }
    wake();
  }
  std::string Take() {
    std::lock_guard<std::mutex> lock(mu_);
    scheduled_ = false;
    std::string out;
    out.swap(queued_);
    return out;
  }
  // How much of what Take() handed over the connection still holds.
  void set_in_connection(size_t bytes) {
    std::lock_guard<std::mutex> lock(mu_);
    in_connection_ = bytes;
  }
  void MarkClosed() {
    std::lock_guard<std::mutex> lock(mu_);
    closed_ = true;
    queued_.clear();
    wake_ = nullptr;
    close_ = nullptr;
  }

 private:
  mutable std::mutex mu_;
  std::string queued_;
  size_t in_connection_ = 0;
  bool scheduled_ = false;
  bool closed_ = false;
  bool drain_on_close_ = false;
  std::function<void()> wake_;
  std::function<void()> close_;
};

}  // namespace reborn
