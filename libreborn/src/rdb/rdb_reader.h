#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "rdb/value.h"

namespace reborn::rdb {

class Cursor;
class StreamSkipper;
class ValueParser;

// One key loaded from an RDB file.
struct RdbEntry {
  uint64_t db = 0;
  std::string key;
  Value value;
  // Absolute expiry in Unix milliseconds; -1 when the key does not expire.
  // Keys already expired are still delivered (the caller decides).
  int64_t expire_ms = -1;
};

// Streaming reader of RDB files (versions 1..10, as written by Redis up to
// 7.0), for full resynchronization and loading dumps.
//
// Input is pushed in chunks of any size with Feed(); entries come out through
// the on_entry callback as soon as they are complete. Only the current item is
// buffered (one string or listpack node) plus the value being built, so memory
// stays bounded by the largest key, never the file. Work is linear in the
// input whatever the chunk sizes.
//
// Handled: header, aux fields (0xFA), SELECTDB, RESIZEDB, EXPIRETIME_MS,
// EXPIRETIME, LRU/LFU hints (ignored), functions (FUNCTION2 and the pre-GA
// FUNCTION form: reported through on_function), EOF with the
// CRC-64 trailer (a stored checksum of 0 means "not computed", as in Redis).
// Stream keys (types 15, 19, 21) are loaded whole: entries, ids, consumer
// groups with their PELs and consumers; their encoded bytes are buffered until
// the value is complete, so a stream costs its own size twice at most.
// Module aux data and module values are rejected with a clear error.
// Empty collections are skipped, as Redis does.
//
// Errors (corrupt or truncated input, limits exceeded, a callback's error)
// are sticky: every later Feed()/Finish() returns the same status.
//
// Not thread-safe; one reader per stream.
class RdbReader {
 public:
  struct Callbacks {
    // Required. A non-OK status stops the load and is returned by Feed().
    std::function<absl::Status(RdbEntry&&)> on_entry;
    std::function<void(std::string_view key, std::string_view value)> on_aux;
    std::function<void(uint64_t db_size, uint64_t expires_size)> on_resize_db;
    // A function library's code (`#!lua name=...`; the pre-GA form is
    // converted to it).
    std::function<void(std::string_view code)> on_function;
  };

  explicit RdbReader(Callbacks callbacks, Limits limits = {});
  ~RdbReader();
  RdbReader(const RdbReader&) = delete;
  RdbReader& operator=(const RdbReader&) = delete;

  // Consumes the next bytes of the file. Bytes after the EOF trailer are an
  // error (strip a diskless-sync EOF mark before feeding).
  absl::Status Feed(std::string_view data);
  // Call at the end of input: an error unless the EOF trailer was read.
  absl::Status Finish();

  bool done() const { return state_ == State::kDone; }
  int version() const { return version_; }
  uint64_t bytes_consumed() const { return consumed_; }
  uint64_t keys_loaded() const { return keys_loaded_; }
  uint64_t empty_keys_skipped() const { return empty_keys_skipped_; }
  size_t buffered_bytes() const { return buffer_.size() - start_; }

 private:
  enum class State { kHeader, kOpcode, kValue, kStreamValue, kChecksum, kDone };
  absl::Status Parse();
  // Parses one item; false when short or corrupt (see Cursor).
  bool Step(Cursor& c);
  bool StepOpcode(Cursor& c);
  bool StepValue(Cursor& c);
  bool StepStreamValue(Cursor& c);
  // Hands a complete entry to on_entry; false (error_ set) if it failed.
  bool Deliver(Value value);

  Callbacks callbacks_;
  Limits limits_;
  State state_ = State::kHeader;
  absl::Status error_;
  std::string buffer_;
  size_t start_ = 0;      // first unconsumed byte of buffer_
  size_t need_ = 0;       // bytes past start_ needed before parsing again
  size_t committed_ = 0;  // within the current Parse(): end of last item
  uint64_t consumed_ = 0;
  uint64_t crc_ = 0;
  int version_ = 0;
  uint64_t db_ = 0;
  int64_t pending_expire_ = -1;
  std::string key_;
  std::unique_ptr<ValueParser> parser_;
  // A stream value: the walker delimits it, its bytes gather in
  // stream_body_ until DecodeStream can take them whole.
  std::unique_ptr<StreamSkipper> stream_walker_;
  uint8_t stream_type_ = 0;
  std::string stream_body_;
  uint64_t keys_loaded_ = 0;
  uint64_t empty_keys_skipped_ = 0;
};

// Reads the RDB file at `path` into `reader` in chunks of `chunk_bytes`,
// then calls Finish().
absl::Status ReadRdbFile(const std::string& path, RdbReader& reader,
                         size_t chunk_bytes = 1 << 16);

}  // namespace reborn::rdb
