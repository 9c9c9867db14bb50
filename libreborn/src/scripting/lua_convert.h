#pragma once

// Conversions between Lua values and RESP replies, Redis 7.0's rules in
// both protocol versions (the half of scripting that does not depend on the
// engine's state).

#include <string_view>

#include "resp/reply_writer.h"

struct lua_State;

namespace reborn::scripting {

// Pushes Redis' error table {err="CODE message"} for `text` in either
// "-CODE message" or "message" form (luaPushErrorBuff).
void PushErrorTable(lua_State* lua, std::string_view text);

// Converts the Lua value on top of `lua`'s stack into a reply (consumes
// it). Redis' rules: number -> integer (truncated), false -> nil (RESP2)
// or false (RESP3), {err=} -> error, {ok=} -> status, {double=},
// {map=}, {set=}, {big_number=}, array tables up to the first nil.
void LuaToReply(lua_State* lua, resp::ReplyWriter& reply, int script_protocol);
// Pushes the Lua value of the RESP reply `encoded`, written in
// `protocol` (Redis' rules: RESP2 nils are false, RESP3's null is nil).
// Returns false (pushing nothing) when it cannot be parsed.
bool PushReply(lua_State* lua, std::string_view encoded, int protocol);

}  // namespace reborn::scripting
