#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "rdb/value.h"
#include "rdb/value_writer.h"

namespace reborn::rdb {

// Writes an RDB file (version 10) that redis-server 7.0 loads from disk or
// as a replica's full sync: "REDIS0010", aux fields (redis-ver, redis-bits,
// ctime, used-mem, aof-base, then any extra ones), function libraries
// (FUNCTION2), per database SELECTDB +
// RESIZEDB, then keys (EXPIRETIME_MS before a key with a TTL), then EOF and
// the CRC-64 trailer.
//
// Output goes to `sink` incrementally, in pieces of about `flush_bytes`
// (a single value larger than that is written as one piece).
//
// Not thread-safe.
class RdbWriter {
 public:
  using Sink = std::function<absl::Status(std::string_view)>;

  struct Options {
    EncodeOptions encode;
    std::string redis_ver = "7.0.0";
    // Creation time in Unix seconds; -1 = now.
    int64_t ctime_s = -1;
    uint64_t used_mem = 0;
    // Extra aux fields, e.g. repl-id / repl-offset / repl-stream-db.
    std::vector<std::pair<std::string, std::string>> extra_aux;
    size_t flush_bytes = 1 << 16;
  };

  RdbWriter(Sink sink, Options options);
  explicit RdbWriter(Sink sink) : RdbWriter(std::move(sink), Options()) {}

  // Header and aux fields. Call once, first.
  absl::Status Begin();
  // A function library's code (opcode FUNCTION2), as Redis 7.0 writes its
  // libraries after the aux fields. Call before the first SelectDb.
  absl::Status AddFunction(std::string_view code);
  // Starts database `db`; the sizes are hints for the loader (0 is fine).
  absl::Status SelectDb(uint64_t db, uint64_t db_size = 0,
                        uint64_t expires_size = 0);
  // Adds a key. `expire_ms` is an absolute Unix time in ms, or -1. The value
  // must be valid (see Validate); an empty collection is an error.
  absl::Status Add(std::string_view key, const Value& value,
                   int64_t expire_ms = -1);
  // EOF opcode and checksum; flushes everything.
  absl::Status Finish();

  uint64_t bytes_written() const { return written_; }

 private:
  void Aux(std::string_view key, std::string_view value);
  absl::Status MaybeFlush(bool force);

  Sink sink_;
  Options options_;
  std::string buf_;
  uint64_t crc_ = 0;
  uint64_t written_ = 0;
  bool begun_ = false;
  bool finished_ = false;
};

}  // namespace reborn::rdb
