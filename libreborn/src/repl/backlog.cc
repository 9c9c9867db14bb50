#include "repl/backlog.h"

#include <algorithm>
#include <cassert>
#include <new>

#include "spdlog/spdlog.h"

namespace reborn::repl {
namespace {

constexpr size_t kInitialBytes = 16 * 1024;

}  // namespace

Backlog::Backlog(size_t capacity, int64_t offset)
    : capacity_(std::max<size_t>(capacity, 1)), offset_(offset) {}

void Backlog::Grow(size_t incoming) {
  const size_t want = std::min(capacity_, histlen_ + incoming);
  if (want <= buf_.size()) return;
  const size_t size =
      std::min(capacity_, std::max({want, 2 * buf_.size(), kInitialBytes}));
  try {
    std::string grown = CopyFrom(first_offset());
    grown.resize(size, '\0');
    buf_.swap(grown);
    head_ = histlen_ % buf_.size();
  } catch (const std::bad_alloc&) {
    // Keep what fits: the history is shorter, the server lives on.
    spdlog::warn(
        "replication backlog: no memory to grow past {} bytes; "
        "repl-backlog-size {} is effectively {}",
        buf_.size(), capacity_, std::max<size_t>(buf_.size(), 1));
    capacity_ = std::max<size_t>(buf_.size(), 1);
  }
}

void Backlog::Append(std::string_view bytes) {
  offset_ += static_cast<int64_t>(bytes.size());
  if (bytes.empty()) return;
  Grow(bytes.size());
  if (buf_.empty()) buf_.assign(1, '\0');  // growth refused from the start
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
  capacity_ = std::max<size_t>(capacity, 1);
  if (buf_.size() <= capacity_) return;  // grows when data comes
  std::string keep = CopyFrom(first_offset());
  if (keep.size() > capacity_) keep.erase(0, keep.size() - capacity_);
  histlen_ = keep.size();
  keep.resize(capacity_, '\0');
  buf_.swap(keep);
  head_ = histlen_ % buf_.size();
}

bool Backlog::Covers(int64_t psync_offset) const {
  return psync_offset >= first_offset() && psync_offset <= offset_ + 1;
}

std::string Backlog::CopyFrom(int64_t psync_offset) const {
  assert(Covers(psync_offset));
  const size_t n = static_cast<size_t>(offset_ + 1 - psync_offset);
  std::string out;
  if (n == 0) return out;
  const size_t cap = buf_.size();
  out.reserve(n);
  size_t start = (head_ + cap - n) % cap;
  size_t first = std::min(n, cap - start);
  out.append(buf_, start, first);
  out.append(buf_, 0, n - first);
  return out;
}

}  // namespace reborn::repl
