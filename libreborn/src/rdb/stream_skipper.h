#pragma once

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "rdb/cursor.h"

namespace reborn::rdb {

// Walks over a stream value (RDB types 15, 19 and 21) without decoding it,
// to find where it ends: the streaming RdbReader gathers a stream's bytes
// with it and decodes them whole once complete. Incremental like
// ValueParser: every item (a listpack node, a metadata length, a PEL entry, a
// consumer) is consumed atomically.
class StreamSkipper {
 public:
  explicit StreamSkipper(uint8_t rdb_type) : type_(rdb_type) {}

  static bool IsStreamType(uint8_t rdb_type);

  // As ValueParser::Parse: true when the whole value was skipped, false when
  // more input is needed, or a DataLoss error.
  absl::StatusOr<bool> Parse(Cursor& c);

 private:
  enum class Phase {
    kNodeCount,
    kNodes,
    kMeta,
    kGroupCount,
    kGroupHead,
    kGroupPel,
    kConsumerCount,
    kConsumerHead,
    kConsumerPel,
    kDone
  };
  bool Step(Cursor& c);
  void EndConsumer();
  void EndGroup();

  uint8_t type_;
  Phase phase_ = Phase::kNodeCount;
  uint64_t nodes_ = 0;
  uint64_t groups_ = 0;
  uint64_t group_pel_ = 0;
  uint64_t consumers_ = 0;
  uint64_t consumer_pel_ = 0;
  std::string scratch_;
};

}  // namespace reborn::rdb
