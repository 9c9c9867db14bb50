#pragma once

#include <cstddef>
#include <string_view>

#include "reborn/reply.h"

namespace reborn::resp {

// Parses RESP2/RESP3 replies (from backends, in tests and in clients). No I/O:
// Parse() looks at the front of a buffer and either decodes one whole reply or
// says more bytes are needed.
class ReplyParser {
 public:
  enum class Result { kNeedMore, kReply, kError };

  // Limits how deep nested aggregates may go and how large a bulk may be.
  explicit ReplyParser(int64_t max_bulk_len = 512LL * 1024 * 1024)
      : max_bulk_len_(max_bulk_len) {}

  // On kReply, *out holds the reply and *consumed its encoded length.
  // On kError the stream is corrupt and the connection must be dropped.
  Result Parse(std::string_view input, size_t* consumed, Reply* out) const;

  // Length of the first complete reply in `input`, without decoding it:
  // 0 if incomplete, -1 if corrupt. Used to relay replies verbatim.
  int64_t Measure(std::string_view input) const;

 private:
  // Returns bytes used (0 = incomplete, -1 = corrupt). `out` may be null.
  int64_t ParseOne(std::string_view input, Reply* out, int depth) const;

  int64_t max_bulk_len_;
};

// Encodes a Reply back into RESP (protocol 2 or 3).
std::string EncodeReply(const Reply& reply, int protocol = 2);

}  // namespace reborn::resp
