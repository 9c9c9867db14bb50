#pragma once

#include <cstdint>
#include <limits>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "command/command_table.h"
#include "qdb/engine_core.h"
#include "qdb/errors.h"
#include "qdb/numbers.h"

// Helpers shared by the cmd_*.cc command handler files.
namespace reborn::qdb {

inline void ReplyStatusError(resp::ReplyWriter& reply, const absl::Status& s) {
  reply.Error(ErrorReplyText(s));
}

// Parses args[i] as Redis' long long; replies `error` and returns false on
// failure.
inline bool ArgInt64(CommandContext& ctx, size_t i, int64_t* out,
                     std::string_view error = kNotIntegerText) {
  if (ParseInt64(ctx.args[i], out)) return true;
  ctx.reply.Error(error);
  return false;
}

// getRangeLongFromObjectOrReply: args[i] as an integer in [min, max];
// replies `message` for both failures.
inline bool ArgRange(CommandContext& ctx, size_t i, int64_t min, int64_t max,
                     std::string_view message, int64_t* out) {
  int64_t v;
  if (!ParseInt64(ctx.args[i], &v) || v < min || v > max) {
    ctx.reply.Error(message);
    return false;
  }
  *out = v;
  return true;
}

// Runs fn(physical_db) holding the database layout shared.
template <typename Fn>
void WithDb(EngineCore& core, CommandContext& ctx, Fn fn) {
  Keyspace& ks = core.keyspace();
  absl::ReaderMutexLock lock(&ks.layout_mu());
  fn(ks.Physical(ctx.session.db));
}

// The optional `COUNT n` after LMPOP/ZMPOP's direction, from args[from] on.
// Replies the error and returns false on anything else.
inline bool ArgMpopCount(CommandContext& ctx, size_t from, int64_t* count) {
  bool has_count = false;
  for (size_t j = from; j < ctx.args.size(); ++j) {
    if (!has_count && EqualsIgnoreCase(ctx.args[j], "count") &&
        j + 1 < ctx.args.size()) {
      if (!ArgRange(ctx, ++j, 1, std::numeric_limits<int64_t>::max(),
                    "ERR count should be greater than 0", count)) {
        return false;
      }
      has_count = true;
    } else {
      ctx.reply.Error(kSyntaxText);
      return false;
    }
  }
  return true;
}

void RegisterStringCommands(EngineCore& core, CommandTable& table,
                            absl::Status* status);
// BITFIELD and BITFIELD_RO (RegisterStringCommands registers them).
void RegisterBitFieldCommands(EngineCore& core, CommandTable& table,
                              absl::Status* status);
void RegisterKeyCommands(EngineCore& core, CommandTable& table,
                         absl::Status* status);
void RegisterHashCommands(EngineCore& core, CommandTable& table,
                          absl::Status* status);
void RegisterSetCommands(EngineCore& core, CommandTable& table,
                         absl::Status* status);
// DUMP, RESTORE and OBJECT.
void RegisterDumpCommands(EngineCore& core, CommandTable& table,
                          absl::Status* status);
// MIGRATE (cmd_migrate.cc).
void RegisterMigrateCommand(EngineCore& core, CommandTable& table,
                            absl::Status* status);
void RegisterListCommands(EngineCore& core, CommandTable& table,
                          absl::Status* status);
void RegisterZSetCommands(EngineCore& core, CommandTable& table,
                          absl::Status* status);
// PFADD, PFCOUNT, PFMERGE, PFDEBUG, PFSELFTEST.
void RegisterHllCommands(EngineCore& core, CommandTable& table,
                         absl::Status* status);
// GEO* over sorted sets.
void RegisterGeoCommands(EngineCore& core, CommandTable& table,
                         absl::Status* status);
// Every command above, on `table` (the engine's own table and the server's).
void RegisterAllCommands(EngineCore& core, CommandTable& table,
                         absl::Status* status);
// Codis' SLOTS* commands.
void RegisterSlotCommands(EngineCore& core, CommandTable& table,
                          absl::Status* status);

}  // namespace reborn::qdb
