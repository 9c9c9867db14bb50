#include "net/query_buffer.h"

#include <algorithm>
#include <cstring>

namespace reborn::net {

char* QueryBuffer::PrepareRead(size_t n, size_t* room) {
  if (capacity_ - end_ < n) {
    const size_t used = size();
    if (begin_ > 0 && capacity_ - used >= n) {
      std::memmove(buf_.get(), buf_.get() + begin_, used);
      begin_ = 0;
      end_ = used;
    } else {
      // Doubling keeps a big bulk's reads amortised linear.
      Reallocate(std::max(used + n, std::min(2 * capacity_, used + (1 << 20))));
    }
  }
  *room = capacity_ - end_;
  return buf_.get() + end_;
}

void QueryBuffer::Consume(size_t n) {
  begin_ += n;
  if (begin_ == end_) begin_ = end_ = 0;
}

void QueryBuffer::Trim(size_t keep) {
  const size_t target = std::max(size(), keep);
  if (target < capacity_) Reallocate(target);
}

void QueryBuffer::Release() {
  if (!empty()) return;
  buf_.reset();
  capacity_ = begin_ = end_ = 0;
}

void QueryBuffer::Reallocate(size_t capacity) {
  const size_t used = size();
  std::unique_ptr<char[]> fresh;
  if (capacity > 0) {
    fresh = std::make_unique_for_overwrite<char[]>(capacity);
    if (used > 0) std::memcpy(fresh.get(), buf_.get() + begin_, used);
  }
  buf_ = std::move(fresh);
  capacity_ = capacity;
  begin_ = 0;
  end_ = used;
}

}  // namespace reborn::net
