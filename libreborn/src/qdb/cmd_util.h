#pragma once

#include <cstdint>
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

inline bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    char x = a[i], y = b[i];
    if (x >= 'A' && x <= 'Z') x = static_cast<char>(x - 'A' + 'a');
    if (y >= 'A' && y <= 'Z') y = static_cast<char>(y - 'A' + 'a');
    if (x != y) return false;
  }
  return true;
}

// Runs fn(physical_db) holding the database layout shared.
template <typename Fn>
void WithDb(EngineCore& core, CommandContext& ctx, Fn fn) {
  Keyspace& ks = core.keyspace();
  absl::ReaderMutexLock lock(&ks.layout_mu());
  fn(ks.Physical(ctx.session.db));
}

void RegisterStringCommands(EngineCore& core, CommandTable& table,
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
void RegisterListCommands(EngineCore& core, CommandTable& table,
                          absl::Status* status);
void RegisterZSetCommands(EngineCore& core, CommandTable& table,
                          absl::Status* status);
// Codis' SLOTS* commands.
void RegisterSlotCommands(EngineCore& core, CommandTable& table,
                          absl::Status* status);

}  // namespace reborn::qdb
