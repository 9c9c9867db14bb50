#include "rdb/stream_skipper.h"

#include "rdb/format.h"

namespace reborn::rdb {

bool StreamSkipper::IsStreamType(uint8_t t) {
  return t == kTypeStreamListpacks || t == kTypeStreamListpacks2 ||
         t == kTypeStreamListpacks3;
}

absl::StatusOr<bool> StreamSkipper::Parse(Cursor& c) {
  while (phase_ != Phase::kDone) {
    const size_t mark = c.pos();
    if (!Step(c)) {
      if (c.has_error()) return c.error();
      c.set_pos(mark);
      return false;
    }
  }
  return true;
}

void StreamSkipper::EndConsumer() {
  if (--consumers_ > 0) {
    phase_ = Phase::kConsumerHead;
  } else {
    EndGroup();
  }
}

void StreamSkipper::EndGroup() {
  phase_ = --groups_ > 0 ? Phase::kGroupHead : Phase::kDone;
}

bool StreamSkipper::Step(Cursor& c) {
  // Layout: rdbSaveObject(OBJ_STREAM) in Redis 7.0 (types 19/21) and 5.0+
  // (type 15, without the fields marked v2).
  const bool v2 = type_ != kTypeStreamListpacks;
  const bool v3 = type_ == kTypeStreamListpacks3;
  uint64_t n;
  std::string_view raw;
  switch (phase_) {
    case Phase::kNodeCount:
      if (!c.ReadLength(&nodes_)) return false;
      phase_ = nodes_ > 0 ? Phase::kNodes : Phase::kMeta;
      return true;
    case Phase::kNodes:  // master id (16 raw bytes as a string) + listpack
      if (!c.ReadString(&scratch_) || !c.ReadString(&scratch_)) return false;
      if (--nodes_ == 0) phase_ = Phase::kMeta;
      return true;
    case Phase::kMeta: {
      // length, last id (ms, seq); v2: first id, max deleted id,
      // entries added.
      const int count = v2 ? 8 : 3;
      for (int i = 0; i < count; ++i) {
        if (!c.ReadLength(&n)) return false;
      }
      phase_ = Phase::kGroupCount;
      return true;
    }
    case Phase::kGroupCount:
      if (!c.ReadLength(&groups_)) return false;
      phase_ = groups_ > 0 ? Phase::kGroupHead : Phase::kDone;
      return true;
    case Phase::kGroupHead:
      // name, last id (ms, seq), v2: entries read, then the PEL size.
      if (!c.ReadString(&scratch_) || !c.ReadLength(&n) || !c.ReadLength(&n)) {
        return false;
      }
      if (v2 && !c.ReadLength(&n)) return false;
      if (!c.ReadLength(&group_pel_)) return false;
      phase_ = group_pel_ > 0 ? Phase::kGroupPel : Phase::kConsumerCount;
      return true;
    case Phase::kGroupPel:  // raw id, delivery time (8 bytes), count
      if (!c.ReadRaw(16, &raw) || !c.ReadRaw(8, &raw) || !c.ReadLength(&n)) {
        return false;
      }
      if (--group_pel_ == 0) phase_ = Phase::kConsumerCount;
      return true;
    case Phase::kConsumerCount:
      if (!c.ReadLength(&consumers_)) return false;
      if (consumers_ == 0) {
        EndGroup();
      } else {
        phase_ = Phase::kConsumerHead;
      }
      return true;
    case Phase::kConsumerHead:
      // name, seen time, v3: active time, then the consumer's PEL size.
      if (!c.ReadString(&scratch_) || !c.ReadRaw(8, &raw)) return false;
      if (v3 && !c.ReadRaw(8, &raw)) return false;
      if (!c.ReadLength(&consumer_pel_)) return false;
      if (consumer_pel_ > 0) {
        phase_ = Phase::kConsumerPel;
      } else {
        EndConsumer();
      }
      return true;
    case Phase::kConsumerPel:
      if (!c.ReadRaw(16, &raw)) return false;
      if (--consumer_pel_ == 0) EndConsumer();
      return true;
    case Phase::kDone:
      return true;
  }
  return false;
}

}  // namespace reborn::rdb
