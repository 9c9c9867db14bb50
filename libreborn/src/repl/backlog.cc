#include "repl/backlog.h"

#include <algorithm>
#include <cassert>

namespace reborn::repl {

Backlog::Backlog(size_t capacity, int64_t offset)
    : buf_(std::max<size_t>(capacity, 1), '\0'), offset_(offset) {}

void Backlog::Append(std::string_view bytes) {
  offset_ += static_cast<int64_t>(bytes.size());
  const size_t cap = buf_.size();
  if (bytes.size() >= cap) {  // only the tail survives
    bytes.remove_prefix(bytes.size() - cap);
    std::copy(bytes.begin(), bytes.end(), buf_.begin());
    head_ = 0;
    histlen_ = cap;
    return;
  }
  size_t first = std::min(bytes.size(), cap - head_);
  std::copy(bytes.begin(), bytes.begin() + first, buf_.begin() + head_);
  std::copy(bytes.begin() + first, bytes.end(), buf_.begin());
  head_ = (head_ + bytes.size()) % cap;
  histlen_ = std::min(cap, histlen_ + bytes.size());
}

void Backlog::Reset(int64_t offset) {
  head_ = 0;
  histlen_ = 0;
  offset_ = offset;
}

void Backlog::Resize(size_t capacity) {
  capacity = std::max<size_t>(capacity, 1);
  if (capacity == buf_.size()) return;
  std::string keep = CopyFrom(first_offset());
  if (keep.size() > capacity) keep.erase(0, keep.size() - capacity);
  buf_.assign(capacity, '\0');
  std::copy(keep.begin(), keep.end(), buf_.begin());
  histlen_ = keep.size();
  head_ = histlen_ % capacity;
}

bool Backlog::Covers(int64_t psync_offset) const {
  return psync_offset >= first_offset() && psync_offset <= offset_ + 1;
}

std::string Backlog::CopyFrom(int64_t psync_offset) const {
  assert(Covers(psync_offset));
  const size_t n = static_cast<size_t>(offset_ + 1 - psync_offset);
  const size_t cap = buf_.size();
  std::string out;
  out.reserve(n);
  size_t start = (head_ + cap - n) % cap;
  size_t first = std::min(n, cap - start);
  out.append(buf_, start, first);
  out.append(buf_, 0, n - first);
  return out;
}

}  // namespace reborn::repl
