#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace reborn::repl {

using Command = std::vector<std::string>;

// What a master propagates for a write command that succeeded: its effect,
// so that a replica applying it ends with the same data whatever its clock
// or its random numbers (Redis 7.0's rewrites, see docs/replication.md):
//   EXPIRE/PEXPIRE/EXPIREAT k t  -> PEXPIREAT k <abs ms>, or DEL k if past
//   SET k v EX|PX|EXAT s, SETEX, PSETEX -> SET k v PXAT <abs ms> [KEEPTTL]
//   GETEX k EX.. / PERSIST       -> PEXPIREAT k <abs> / PERSIST k
//   INCRBYFLOAT k d              -> SET k <result> KEEPTTL
//   HINCRBYFLOAT k f d           -> HSET k f <result>
//   SPOP k [n]                   -> SREM k <popped members>
//   RESTORE k ttl v              -> RESTORE k <abs ms> v ABSTTL [REPLACE]
//   SLOTSRESTORE k ttl v ...     -> RESTORE k <abs> v REPLACE ABSTTL, each
//   blocking commands            -> nothing (their non-blocking form, run
//                                   when they are served, is propagated)
//   SLOTSMGRT*                   -> nothing (see docs: a known gap)
//   MIGRATE                      -> DEL of the moved keys (set by the
//                                   command as Session::effects)
// Everything else is propagated verbatim; a command that changed nothing
// (a failed SET NX, EXPIRE of a missing key) gives nothing.
//
// `args[0]` may be in any case; `reply` is the command's encoded RESP reply
// (RESP2 or RESP3); `now_ms` the master's clock when it ran.
std::vector<Command> EffectOf(const Command& args, std::string_view reply,
                              int64_t now_ms);

// Appends `args` as a RESP multibulk.
void AppendCommand(const Command& args, std::string* out);

}  // namespace reborn::repl
