#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace reborn::resp {

// Appends RESP2 or RESP3 replies to a caller-owned buffer. RESP3-only types
// (map, set, double, null, boolean, push) degrade to their RESP2 forms the way
// redis-server does when the connection speaks protocol 2.
//
// Not thread-safe; one writer per connection batch.
class ReplyWriter {
 public:
  explicit ReplyWriter(std::string* out, int protocol = 2)
      : out_(out), protocol_(protocol) {}

  int protocol() const { return protocol_; }
  void set_protocol(int protocol) { protocol_ = protocol; }
  std::string* buffer() { return out_; }

  void SimpleString(std::string_view s);
  void Ok() { SimpleString("OK"); }
  // `message` is the full error text without the leading '-', for example
  // "ERR syntax error" or "WRONGTYPE Operation against ...". CR/LF in the
  // message are replaced by spaces, as redis-server does.
  void Error(std::string_view message);
  void Integer(int64_t value);
  void Bulk(std::string_view s);
  // The null bulk string: RESP2 "$-1", RESP3 "_".
  void Null();
  // The null array: RESP2 "*-1", RESP3 "_".
  void NullArray();
  void ArrayHeader(size_t n);
  // A map of n key/value pairs; RESP2 sends an array of 2n elements.
  void MapHeader(size_t n);
  // RESP2 sends an array.
  void SetHeader(size_t n);
  // RESP2 sends an array.
  void PushHeader(size_t n);
  // RESP3 ",<double>"; RESP2 a bulk string. Formatted as Redis 7.0 does
  // ("%.17g", "inf", "-inf").
  void Double(double value);
  // RESP3 verbatim string "=<len>\r\n<format>:<text>"; RESP2 a bulk string
  // of `text` (MEMORY DOCTOR, INFO-like reports).
  void Verbatim(std::string_view text, std::string_view format = "txt");
  // RESP3 "#t"/"#f"; RESP2 ":1"/":0".
  void Bool(bool value);
  // An array of bulk strings.
  void BulkArray(const std::vector<std::string>& items);
  // Raw, already-encoded RESP bytes (for relaying backend replies).
  void Raw(std::string_view encoded) { out_->append(encoded); }

 private:
  void Header(char type, int64_t n);

  std::string* out_;
  int protocol_;
};

// Formats a double exactly as Redis 7.0 prints it in replies.
std::string FormatDouble(double value);

}  // namespace reborn::resp
