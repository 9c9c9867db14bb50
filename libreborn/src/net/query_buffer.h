#pragma once

#include <cstddef>
#include <memory>
#include <string_view>

namespace reborn::net {

// A connection's unparsed input. The socket reads straight into its spare
// room (no copy through a fixed chunk), parsed bytes are consumed from the
// front, and its memory is sized the way Redis sizes a client's query
// buffer, so CLIENT LIST's qbuf/qbuf-free tell the truth and idle clients
// hold no input memory:
//  - a read makes room for a 16 KiB chunk (Redis' PROTO_IOBUF_LEN);
//  - Trim() gives back what a recent peak did not need;
//  - Release() frees the memory of an empty buffer (an idle client).
// Not thread-safe: owned by one connection's thread.
class QueryBuffer {
 public:
  QueryBuffer() = default;
  QueryBuffer(const QueryBuffer&) = delete;
  QueryBuffer& operator=(const QueryBuffer&) = delete;

  // Room for at least `n` more bytes after the data; the read fills its
  // start and then calls Commit() with the count.
  char* PrepareRead(size_t n, size_t* room);
  void Commit(size_t n) { end_ += n; }

  std::string_view view() const {
    return std::string_view(buf_.get() + begin_, end_ - begin_);
  }
  size_t size() const { return end_ - begin_; }
  bool empty() const { return end_ == begin_; }
  size_t capacity() const { return capacity_; }
  size_t free() const { return capacity_ - size(); }

  // Drops the first `n` parsed bytes.
  void Consume(size_t n);
  // Reallocates to max(size(), keep) bytes when that is smaller.
  void Trim(size_t keep);
  // Frees the memory when no data is left.
  void Release();

 private:
  void Reallocate(size_t capacity);

  std::unique_ptr<char[]> buf_;
  size_t capacity_ = 0;
  size_t begin_ = 0;
  size_t end_ = 0;
};

}  // namespace reborn::net
