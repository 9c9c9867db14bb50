#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "command/command_table.h"
#include "qdb/engine_core.h"
#include "qdb/types/streams.h"

// Shared by the stream command files (cmd_streams.cc: entries, XREAD;
// cmd_stream_groups.cc: consumer groups) and by the server's blocking
// XREAD/XREADGROUP.
namespace reborn::qdb {

inline constexpr std::string_view kInvalidStreamIdText =
    "ERR Invalid stream ID specified as stream command argument";

// Parses args[i] as a stream id (see ParseStreamId); replies Redis' error
// and returns false when invalid.
bool ArgStreamId(CommandContext& ctx, size_t i, StreamId* id,
                 uint64_t missing_seq, bool strict, bool* seq_given = nullptr);

// [id, [field, value, ...]] for each entry.
void ReplyStreamEntry(resp::ReplyWriter& reply, const StreamEntry& entry);
void ReplyStreamEntries(resp::ReplyWriter& reply,
                        const std::vector<StreamEntry>& entries);

// streamRangeHasTombstones / streamEstimateDistanceFromFirstEverEntry.
bool StreamRangeHasTombstones(const Stream& s, StreamId start, StreamId end);
int64_t StreamEstimateDistance(const Stream& s, StreamId id);
// streamReplyWithCGLag: the lag (negative when ENTRIESREAD was set past
// the stream), or nullopt when it cannot be known.
std::optional<int64_t> StreamGroupLag(const Stream& s, const StreamGroup& g);

// Adds a consumer to `g` in name order (as Redis' rax lists them).
StreamConsumer* AddConsumer(StreamGroup& g, std::string_view name,
                            int64_t now_ms);
// What Redis propagates for a delivered or claimed pending entry
// (streamPropagateXCLAIM) and for a group's new last id
// (streamPropagateGroupID).
std::vector<std::string> ClaimEffect(std::string_view key, const StreamGroup& g,
                                     std::string_view consumer, StreamId id,
                                     int64_t delivery_ms, uint64_t count);
std::vector<std::string> SetIdEffect(std::string_view key,
                                     const StreamGroup& g);

// XREAD / XREADGROUP, non-blocking. When nothing was there to serve and
// BLOCK was given, nothing is replied and `*wait` describes what to wait
// for: the keys and, per key, the id to read after (XREAD's "$" resolved)
// or ">" (XREADGROUP).
struct StreamWait {
  bool block = false;
  int64_t timeout_ms = 0;
  int64_t count = 0;
  bool noack = false;
  std::string group;
  std::string consumer;
  std::vector<std::string> keys;
  std::vector<std::string> ids;
};
void XReadCommand(EngineCore& core, CommandContext& ctx, bool group,
                  StreamWait* wait);

void RegisterStreamCommands(EngineCore& core, CommandTable& table,
                            absl::Status* status);
void RegisterStreamGroupCommands(EngineCore& core, CommandTable& table,
                                 absl::Status* status);

}  // namespace reborn::qdb
