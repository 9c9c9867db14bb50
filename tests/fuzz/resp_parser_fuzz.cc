// libFuzzer target: the request parser fed arbitrary bytes in arbitrary
// chunks, and the reply parser on the same bytes. Neither may crash, hang or
// read out of bounds; a parsed command's size never exceeds the input.
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "resp/reply_parser.h"
#include "resp/request_parser.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  // The first byte picks a chunk size so that splits are fuzzed too.
  size_t chunk = 1 + data[0] % 17;
  std::string_view input(reinterpret_cast<const char*>(data + 1), size - 1);

  reborn::resp::ParserLimits limits;
  limits.max_bulk_len = 4096;
  limits.max_inline_len = 1024;
  limits.max_multibulk_len = 1024;
  reborn::resp::RequestParser parser(limits);
  std::string buffer;
  std::vector<std::string> args;
  for (size_t off = 0; off < input.size(); off += chunk) {
    buffer.append(input.substr(off, chunk));
    while (true) {
      size_t consumed = 0;
      auto result = parser.Parse(buffer, &consumed, &args);
      if (consumed > buffer.size()) __builtin_trap();
      buffer.erase(0, consumed);
      if (result == reborn::resp::RequestParser::Result::kError) return 0;
      if (result == reborn::resp::RequestParser::Result::kNeedMore) break;
    }
  }

  reborn::resp::ReplyParser reply_parser(4096);
  size_t consumed = 0;
  reborn::Reply reply;
  if (reply_parser.Parse(input, &consumed, &reply) ==
      reborn::resp::ReplyParser::Result::kReply) {
    if (consumed > input.size()) __builtin_trap();
    // Re-encoding must parse back to the same reply.
    std::string again = reborn::resp::EncodeReply(reply, 3);
    reborn::Reply reparsed;
    if (reply_parser.Parse(again, &consumed, &reparsed) !=
        reborn::resp::ReplyParser::Result::kReply) {
      __builtin_trap();
    }
  }
  return 0;
}
