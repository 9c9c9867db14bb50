// The redis.* functions scripts call (redis.call, redis.pcall, ...) and
// the load-time API of FUNCTION LOAD (redis.register_function), with Redis
// 7.0's argument checks and error texts.

#include <cstdio>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "scripting/lua_internal.h"
#include "scripting/sha1.h"

namespace reborn::scripting::internal {
namespace {

// The command words of a redis.call(): strings, and numbers as Redis
// formats them ("%.17g"); false when an argument is neither.
bool ArgsFromStack(lua_State* lua, int argc, std::vector<std::string>* args) {
  args->reserve(argc);
  for (int i = 1; i <= argc; ++i) {
    if (lua_type(lua, i) == LUA_TNUMBER) {
      char buf[64];
      int n = std::snprintf(buf, sizeof(buf), "%.17g",
                            static_cast<double>(lua_tonumber(lua, i)));
      args->emplace_back(buf, static_cast<size_t>(n));
      continue;
    }
    size_t len = 0;
    const char* s = lua_tolstring(lua, i, &len);
    if (s == nullptr) return false;
    args->emplace_back(s, len);
  }
  return true;
}

// lua_error() longjmps out of the C function without running C++
// destructors, so nothing with a destructor may be alive where it is called:
// the C functions below do their work with strings and vectors in a helper
// that leaves the result or the error table on the stack and returns, and
// raise only after the helper's objects are gone.
enum class CallOutcome { kReply, kCommandError, kBadReply };

// Runs the command of a redis.call()/pcall() whose `argc` arguments are on
// the stack and pushes its reply, or Redis' error table for a failure.
CallOutcome PushCallReply(lua_State* lua, RunState* state, int argc) {
  std::vector<std::string> args;
  if (!ArgsFromStack(lua, argc, &args)) {
    lua_pop(lua, argc);
    PushErrorTable(
        lua, "Lua redis lib command arguments must be strings or integers");
    return CallOutcome::kCommandError;
  }
  lua_pop(lua, argc);
  std::string out = state->host->Call(args, state->resp);
  if (!out.empty() && out[0] == '-') {
    PushErrorTable(lua, std::string_view(out).substr(0, out.size() - 2));
    return CallOutcome::kCommandError;
  }
  if (!PushReply(lua, out, state->resp)) {
    PushErrorTable(lua, "ERR reply of the command could not be parsed");
    return CallOutcome::kBadReply;
  }
  return CallOutcome::kReply;
}

int CallImpl(lua_State* lua, bool raise) {
  RunState* state = StateOf(lua);
  if (state == nullptr) {
    RaiseError(lua,
               "redis.call/pcall can only be called inside a script "
               "invocation");
  }
  int argc = lua_gettop(lua);
  if (argc == 0) {
    PushErrorTable(lua,
                   "Please specify at least one argument for this redis lib "
                   "call");
    if (raise) lua_error(lua);
    return 1;
  }
  CallOutcome outcome = PushCallReply(lua, state, argc);
  if (outcome == CallOutcome::kBadReply ||
      (outcome == CallOutcome::kCommandError && raise)) {
    lua_error(lua);  // the error table PushCallReply left on top
  }
  return 1;
}

int RedisCall(lua_State* lua) { return CallImpl(lua, true); }

// redis.acl_check_cmd(command, args...) as Redis 7.0: true when the
// script's user may run it, an error for an unknown command.
int RedisAclCheckCmd(lua_State* lua) {
  RunState* state = StateOf(lua);
  if (state == nullptr) {
    RaiseError(lua,
               "redis.acl_check_cmd can only be called inside a script "
               "invocation");
  }
  int argc = lua_gettop(lua);
  if (argc == 0) {
    RaiseError(lua,
               "ERR Please specify at least one argument for this redis lib "
               "call");
  }
  // `args` must be gone before RaiseError() longjmps (see CallOutcome).
  const char* error = nullptr;
  {
    std::vector<std::string> args;
    if (!ArgsFromStack(lua, argc, &args)) {
      error = "Lua redis lib command arguments must be strings or integers";
    } else {
      lua_pop(lua, argc);
      std::optional<bool> allowed = state->host->AclCheck(args);
      if (allowed.has_value()) {
        lua_pushboolean(lua, *allowed ? 1 : 0);
      } else {
        error = "ERR Invalid command passed to redis.acl_check_cmd()";
      }
    }
  }
  if (error != nullptr) RaiseError(lua, error);
  return 1;
}
int RedisPcall(lua_State* lua) { return CallImpl(lua, false); }

int RedisErrorReply(lua_State* lua) {
  if (lua_gettop(lua) != 1 || lua_type(lua, -1) != LUA_TSTRING) {
    PushErrorTable(lua, "wrong number or type of arguments");
    return 1;
  }
  std::string_view given = lua_tostring(lua, -1);
  std::string text;
  if (given.empty() || given[0] != '-') text.push_back('-');
  text.append(given);
  PushErrorTable(lua, text);
  return 1;
}

int RedisStatusReply(lua_State* lua) {
  if (lua_gettop(lua) != 1 || lua_type(lua, -1) != LUA_TSTRING) {
    RaiseError(lua, "wrong number or type of arguments");
  }
  lua_newtable(lua);
  lua_pushstring(lua, "ok");
  lua_pushvalue(lua, -3);
  lua_settable(lua, -3);
  return 1;
}

int RedisSha1hex(lua_State* lua) {
  if (lua_gettop(lua) != 1) RaiseError(lua, "wrong number of arguments");
  size_t len = 0;
  const char* s = lua_tolstring(lua, 1, &len);
  std::string hex = Sha1Hex(std::string_view(s == nullptr ? "" : s, len));
  lua_pushlstring(lua, hex.data(), hex.size());
  return 1;
}

int RedisLog(lua_State* lua) {
  int argc = lua_gettop(lua);
  if (argc < 2) RaiseError(lua, "redis.log() requires two arguments or more.");
  if (!lua_isnumber(lua, 1)) {
    RaiseError(lua, "First argument must be a number (log level).");
  }
  int level = static_cast<int>(lua_tonumber(lua, 1));
  if (level < 0 || level > 3) RaiseError(lua, "Invalid debug level.");
  std::string message;
  for (int i = 2; i <= argc; ++i) {
    size_t len = 0;
    const char* s = lua_tolstring(lua, i, &len);
    if (s == nullptr) continue;
    if (!message.empty()) message.push_back(' ');
    message.append(s, len);
  }
  RunState* state = StateOf(lua);
  if (state != nullptr) state->host->Log(level, message);
  return 0;
}

int RedisSetResp(lua_State* lua) {
  RunState* state = StateOf(lua);
  if (state == nullptr) {
    RaiseError(lua,
               "redis.setresp can only be called inside a script invocation");
  }
  if (lua_gettop(lua) != 1) {
    RaiseError(lua, "redis.setresp() requires one argument.");
  }
  int resp = static_cast<int>(lua_tonumber(lua, 1));
  if (resp != 2 && resp != 3) RaiseError(lua, "RESP version must be 2 or 3.");
  state->resp = resp;
  return 0;
}

int RedisSetRepl(lua_State* lua) {
  if (StateOf(lua) == nullptr) {
    RaiseError(lua,
               "redis.set_repl can only be called inside a script "
               "invocation");
  }
  if (lua_gettop(lua) != 1) {
    RaiseError(lua, "redis.set_repl() requires two arguments.");
  }
  int flags = static_cast<int>(lua_tonumber(lua, 1));
  if ((flags & ~3) != 0) {
    RaiseError(lua,
               "Invalid replication flags. Use REPL_AOF, REPL_REPLICA, "
               "REPL_ALL or REPL_NONE.");
  }
  // Effects always replicate as a whole (MULTI/EXEC); REPL_NONE and friends
  // are accepted and ignored (docs/scripting.md).
  return 0;
}

int RedisReplicateCommands(lua_State* lua) {
  lua_pushboolean(lua, 1);  // always effects replication, as Redis 7
  return 1;
}

bool ReadFlags(lua_State* lua, uint32_t* flags) {
  // The flags table is on top of the stack.
  lua_pushnil(lua);
  while (lua_next(lua, -2)) {
    const char* f = lua_isstring(lua, -1) ? lua_tostring(lua, -1) : nullptr;
    lua_pop(lua, 1);
    if (f == nullptr) {
      lua_pop(lua, 1);
      return false;
    }
    const uint32_t flag = ScriptFlagByName(absl::AsciiStrToLower(f));
    if (flag == 0) {
      lua_pop(lua, 1);
      return false;
    }
    *flags |= flag;
  }
  return true;
}

// A string or number argument with its embedded NULs (a function named
// 'a\0b' is refused, not cut at the NUL).
std::string ToString(lua_State* lua, int index) {
  size_t len = 0;
  const char* s = lua_tolstring(lua, index, &len);
  return std::string(s, len);
}

// The work of redis.register_function(): nullptr when registered, else the
// error to raise, raised by the caller once `info` is destroyed (see
// CallOutcome).
const char* RegisterFunctionOrError(lua_State* lua) {
  lua_getfield(lua, LUA_REGISTRYINDEX, kRegLoading);
  auto* lib = static_cast<Library*>(lua_touserdata(lua, -1));
  lua_pop(lua, 1);
  if (lib == nullptr) {
    return "redis.register_function can only be called on FUNCTION LOAD "
           "command";
  }
  int argc = lua_gettop(lua);
  if (argc < 1 || argc > 2) {
    return "wrong number of arguments to redis.register_function";
  }
  FunctionInfo info;
  if (argc == 2) {
    if (!lua_isstring(lua, 1)) {
      return "first argument to redis.register_function must be a string";
    }
    if (!lua_isfunction(lua, 2)) {
      return "second argument to redis.register_function must be a function";
    }
    info.name = ToString(lua, 1);
  } else {
    if (!lua_istable(lua, 1)) {
      return "calling redis.register_function with a single argument is "
             "only applicable to Lua table (representing named "
             "arguments).";
    }
    bool has_callback = false;
    lua_settop(lua, 2);  // slot 2: the callback, once found
    lua_pushnil(lua);
    while (lua_next(lua, 1)) {
      if (lua_type(lua, -2) != LUA_TSTRING) {
        return "named argument key given to redis.register_function is "
               "not a string";
      }
      std::string key = absl::AsciiStrToLower(lua_tostring(lua, -2));
      if (key == "function_name") {
        if (!lua_isstring(lua, -1)) {
          return "function_name argument given to redis.register_function "
                 "must be a string";
        }
        info.name = ToString(lua, -1);
      } else if (key == "description") {
        if (!lua_isstring(lua, -1)) {
          return "description argument given to redis.register_function "
                 "must be a string";
        }
        info.description = ToString(lua, -1);
        info.has_description = true;
      } else if (key == "callback") {
        if (!lua_isfunction(lua, -1)) {
          return "callback argument given to redis.register_function must "
                 "be a function";
        }
        has_callback = true;
        lua_pushvalue(lua, -1);
        lua_replace(lua, 2);  // slot 2 holds the callback
      } else if (key == "flags") {
        if (!lua_istable(lua, -1)) {
          return "flags argument to redis.register_function must be a "
                 "table representing function flags";
        }
        if (!ReadFlags(lua, &info.flags)) {
          return "unknown flag given";
        }
      } else {
        return "unknown argument given to redis.register_function";
      }
      lua_pop(lua, 1);
    }
    if (info.name.empty()) {
      return "redis.register_function must get a function name argument";
    }
    if (!has_callback) {
      return "redis.register_function must get a callback argument";
    }
  }
  if (!ValidName(info.name)) {
    return "Library names can only contain letters, numbers, or "
           "underscores(_) and must be at least one character long";
  }
  for (const FunctionInfo& f : lib->functions) {
    if (f.name == info.name) {
      return "Function already exists in the library";
    }
  }
  // Callbacks of the library being loaded wait in a staging table.
  lua_getfield(lua, LUA_REGISTRYINDEX, kRegStaging);
  lua_pushstring(lua, info.name.c_str());
  lua_pushvalue(lua, 2);
  lua_settable(lua, -3);
  lua_pop(lua, 1);
  lib->functions.push_back(std::move(info));
  return nullptr;
}

int RegisterFunction(lua_State* lua) {
  const char* error = RegisterFunctionOrError(lua);
  if (error != nullptr) RaiseError(lua, error);
  return 0;
}

}  // namespace

bool ValidName(std::string_view name) {
  if (name.empty()) return false;
  for (char c : name) {
    if (!absl::ascii_isalnum(static_cast<unsigned char>(c)) && c != '_') {
      return false;
    }
  }
  return true;
}

void InstallRedisApi(lua_State* lua) {
  // redis.*
  lua_newtable(lua);
  const std::pair<const char*, lua_CFunction> api[] = {
      {"call", RedisCall},
      {"pcall", RedisPcall},
      {"error_reply", RedisErrorReply},
      {"status_reply", RedisStatusReply},
      {"sha1hex", RedisSha1hex},
      {"log", RedisLog},
      {"setresp", RedisSetResp},
      {"set_repl", RedisSetRepl},
      {"replicate_commands", RedisReplicateCommands},
      {"acl_check_cmd", RedisAclCheckCmd}};
  for (const auto& [name, fn] : api) {
    lua_pushcfunction(lua, fn);
    lua_setfield(lua, -2, name);
  }
  const std::pair<const char*, int> numbers[] = {
      {"LOG_DEBUG", 0},   {"LOG_VERBOSE", 1},  {"LOG_NOTICE", 2},
      {"LOG_WARNING", 3}, {"REPL_NONE", 0},    {"REPL_AOF", 1},
      {"REPL_SLAVE", 2},  {"REPL_REPLICA", 2}, {"REPL_ALL", 3}};
  for (const auto& [name, value] : numbers) {
    lua_pushnumber(lua, value);
    lua_setfield(lua, -2, name);
  }
  lua_pushstring(lua, "7.0.15");
  lua_setfield(lua, -2, "REDIS_VERSION");
  lua_pushnumber(lua, 0x07000f);
  lua_setfield(lua, -2, "REDIS_VERSION_NUM");
  lua_setglobal(lua, "redis");
}

void PushLoadApi(lua_State* lua) {
  lua_newtable(lua);
  lua_pushcfunction(lua, RegisterFunction);
  lua_setfield(lua, -2, "register_function");
  lua_pushcfunction(lua, RedisLog);
  lua_setfield(lua, -2, "log");
  const std::pair<const char*, int> log_levels[] = {{"LOG_DEBUG", 0},
                                                    {"LOG_VERBOSE", 1},
                                                    {"LOG_NOTICE", 2},
                                                    {"LOG_WARNING", 3}};
  for (const auto& [name, value] : log_levels) {
    lua_pushnumber(lua, value);
    lua_setfield(lua, -2, name);
  }
  lua_pushstring(lua, "7.0.15");
  lua_setfield(lua, -2, "REDIS_VERSION");
  lua_pushnumber(lua, 0x07000f);
  lua_setfield(lua, -2, "REDIS_VERSION_NUM");
}

}  // namespace reborn::scripting::internal
