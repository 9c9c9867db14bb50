#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace reborn::repl {

// The replication backlog: the last `capacity` bytes of the replication
// stream, in a ring, with their stream offsets. Memory is taken as the
// stream arrives (doubling, like Redis' list of blocks), never for the whole
// capacity at once: `repl-backlog-size 100gb` costs what the stream held so
// far, and a growth the system refuses caps the capacity instead of ending
// the process. Offsets follow Redis: the
// stream's bytes are numbered from 1; `master_offset()` is the number of the
// last byte appended (0 when nothing was), and a replica that processed up to
// offset N asks for N + 1 in PSYNC.
//
// Not thread-safe: the owner (the replication state) guards it.
class Backlog {
 public:
  // `capacity` > 0 bytes; `offset` is the stream offset before the first
  // byte that will be appended.
  explicit Backlog(size_t capacity, int64_t offset = 0);

  void Append(std::string_view bytes);
  // Forgets the history and continues at `offset` (a full sync).
  void Reset(int64_t offset);
  // Keeps the newest min(capacity, histlen) bytes.
  void Resize(size_t capacity);

  int64_t master_offset() const { return offset_; }
  // Offset of the oldest byte held (Redis' repl_backlog_first_byte_offset):
  // master_offset() + 1 when empty.
  int64_t first_offset() const {
    return offset_ - static_cast<int64_t>(histlen_) + 1;
  }
  size_t histlen() const { return histlen_; }
  size_t capacity() const { return capacity_; }
  // Bytes of memory the ring holds now (<= capacity()).
  size_t allocated() const { return buf_.size(); }

  // Whether a replica may continue from `psync_offset` (the first byte it
  // has not got): first_offset() <= psync_offset <= master_offset() + 1.
  bool Covers(int64_t psync_offset) const;
  // The bytes from `psync_offset` to the end. Requires Covers().
  std::string CopyFrom(int64_t psync_offset) const;

 private:
  // Makes room for `incoming` more bytes of history, up to capacity_.
  void Grow(size_t incoming);

  size_t capacity_;
  std::string buf_;  // the ring; grows up to capacity_
  size_t head_ = 0;  // where the next byte goes
  size_t histlen_ = 0;
  int64_t offset_ = 0;
};

}  // namespace reborn::repl
