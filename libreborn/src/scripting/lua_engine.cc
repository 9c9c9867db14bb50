// Lua scripting with Redis 7.0's API, conversions and sandbox on Debian's
// stock Lua 5.1. Redis patches its Lua for read-only tables; here the
// globals and the library tables are empty proxies whose metatables read
// through to the real tables and refuse writes, and rawset/setmetatable
// refuse the proxies, which gives the same errors ("Attempt to modify a
// readonly table", "Script attempted to access nonexistent global
// variable 'x'").
#include "scripting/lua_engine.h"

#include <climits>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <string>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "reborn/reply.h"
#include "resp/reply_parser.h"
#include "scripting/lua_convert.h"
#include "scripting/sha1.h"

extern "C" {
#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>
int luaopen_cjson(lua_State* lua);
int luaopen_bit(lua_State* lua);
int luaopen_cmsgpack(lua_State* lua);  // vendor/lua_cmsgpack.c
int luaopen_struct(lua_State* lua);    // vendor/lua_struct.c
}

namespace reborn::scripting {
namespace {

// Registry keys.
constexpr char kRegHost[] = "__reborn_host";  // light userdata
// The table global reads go to: kRegRunGlobals, or kRegLoadGlobals while
// FUNCTION LOAD runs a library's code.
constexpr char kRegGlobals[] = "__reborn_globals";
constexpr char kRegRunGlobals[] = "__reborn_run_globals";  // the real globals
constexpr char kRegLoadGlobals[] = "__reborn_load_globals";
constexpr char kRegProtected[] = "__reborn_readonly";  // set of proxies
constexpr char kRegErrHandler[] = "__reborn_err_handler";
constexpr char kRegResp[] = "__reborn_resp";  // redis.setresp() value
constexpr int kHookInstructions = 100000;

struct RunState {
  ScriptHost* host = nullptr;
  int resp = 2;
};

RunState* StateOf(lua_State* lua) {
  lua_getfield(lua, LUA_REGISTRYINDEX, kRegHost);
  auto* state = static_cast<RunState*>(lua_touserdata(lua, -1));
  lua_pop(lua, 1);
  return state;
}

[[noreturn]] void RaiseError(lua_State* lua, std::string_view text) {
  PushErrorTable(lua, text);
  lua_error(lua);
  __builtin_unreachable();
}

bool IsProtected(lua_State* lua, int index) {
  if (!lua_istable(lua, index)) return false;
  lua_pushvalue(lua, index);
  lua_getfield(lua, LUA_REGISTRYINDEX, kRegProtected);
  lua_insert(lua, -2);
  lua_rawget(lua, -2);
  bool result = lua_toboolean(lua, -1);
  lua_pop(lua, 2);
  return result;
}

int ReadonlyError(lua_State* lua) {
  return luaL_error(lua, "Attempt to modify a readonly table");
}

// rawset() and setmetatable() on a read-only table: raised without a
// position, as Redis' C-level check does.
int ReadonlyErrorNoWhere(lua_State* lua) {
  lua_pushstring(lua, "Attempt to modify a readonly table");
  return lua_error(lua);
}

int GlobalIndex(lua_State* lua) {
  // (proxy, key): read the real globals, refuse unknown names.
  lua_getfield(lua, LUA_REGISTRYINDEX, kRegGlobals);
  lua_pushvalue(lua, 2);
  lua_rawget(lua, -2);
  if (!lua_isnil(lua, -1)) return 1;
  const char* name = lua_tostring(lua, 2);
  return luaL_error(
      lua, "Script attempted to access nonexistent global variable '%s'",
      name == nullptr ? "?" : name);
}

// __index of the load-time redis table: its upvalue's fields, else Redis'
// error-metatable text.
int FieldIndex(lua_State* lua) {
  lua_pushvalue(lua, 2);
  lua_rawget(lua, lua_upvalueindex(1));
  if (!lua_isnil(lua, -1)) return 1;
  const char* name = lua_tostring(lua, 2);
  return luaL_error(
      lua, "Script attempted to access nonexistent global variable '%s'",
      name == nullptr ? "?" : name);
}

int SafeRawset(lua_State* lua) {
  if (IsProtected(lua, 1)) return ReadonlyErrorNoWhere(lua);
  luaL_checktype(lua, 1, LUA_TTABLE);
  luaL_checkany(lua, 2);
  luaL_checkany(lua, 3);
  lua_settop(lua, 3);
  lua_rawset(lua, 1);
  return 1;
}

int SafeSetmetatable(lua_State* lua) {
  if (IsProtected(lua, 1)) return ReadonlyErrorNoWhere(lua);
  lua_getfield(lua, LUA_REGISTRYINDEX, "__reborn_setmetatable");
  lua_insert(lua, 1);
  lua_call(lua, lua_gettop(lua) - 1, 1);
  return 1;
}

// Makes getmetatable() of what has the metatable on top of the stack
// return a read-only view of it, as Redis' read-only metatables do: a
// script may read it, and writing to it raises "Attempt to modify a
// readonly table".
void LockMetatable(lua_State* lua) {
  const int mt = lua_gettop(lua);
  lua_newtable(lua);  // the view
  lua_newtable(lua);  // its metatable
  lua_pushvalue(lua, mt);
  lua_setfield(lua, -2, "__index");
  lua_pushcfunction(lua, ReadonlyError);
  lua_setfield(lua, -2, "__newindex");
  lua_pushboolean(lua, 0);
  lua_setfield(lua, -2, "__metatable");
  lua_setmetatable(lua, -2);
  lua_getfield(lua, LUA_REGISTRYINDEX, kRegProtected);
  lua_pushvalue(lua, -2);
  lua_pushboolean(lua, 1);
  lua_rawset(lua, -3);
  lua_pop(lua, 1);
  lua_setfield(lua, mt, "__metatable");
}

// Replaces the table at the top of the stack by a read-only proxy of it.
void PushReadonlyProxy(lua_State* lua) {
  int real = lua_gettop(lua);
  lua_newtable(lua);  // proxy
  lua_newtable(lua);  // its metatable
  lua_pushvalue(lua, real);
  lua_setfield(lua, -2, "__index");
  lua_pushcfunction(lua, ReadonlyError);
  lua_setfield(lua, -2, "__newindex");
  LockMetatable(lua);
  lua_setmetatable(lua, -2);
  lua_getfield(lua, LUA_REGISTRYINDEX, kRegProtected);
  lua_pushvalue(lua, -2);
  lua_pushboolean(lua, 1);
  lua_rawset(lua, -3);
  lua_pop(lua, 1);
  lua_replace(lua, real);
}

// --- redis.* API.

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

// The library being loaded (FUNCTION LOAD), in the registry while its code
// runs: redis.register_function() adds to it.
constexpr char kRegLoading[] = "__reborn_loading";
constexpr char kRegFunctions[] = "__reborn_functions";  // name -> callback

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
    std::string flag = absl::AsciiStrToLower(f);
    if (flag == "no-writes") {
      *flags |= kScriptNoWrites;
    } else if (flag == "allow-oom") {
      *flags |= kScriptAllowOom;
    } else if (flag == "allow-stale") {
      *flags |= kScriptAllowStale;
    } else if (flag == "no-cluster") {
      *flags |= kScriptNoCluster;
    } else if (flag == "allow-cross-slot-keys") {
      *flags |= kScriptAllowCrossSlot;
    } else {
      lua_pop(lua, 1);
      return false;
    }
  }
  return true;
}

bool ValidName(std::string_view name) {
  if (name.empty()) return false;
  for (char c : name) {
    if (!absl::ascii_isalnum(static_cast<unsigned char>(c)) && c != '_') {
      return false;
    }
  }
  return true;
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
    info.name = lua_tostring(lua, 1);
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
        info.name = lua_tostring(lua, -1);
      } else if (key == "description") {
        if (!lua_isstring(lua, -1)) {
          return "description argument given to redis.register_function "
                 "must be a string";
        }
        info.description = lua_tostring(lua, -1);
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
  lua_getfield(lua, LUA_REGISTRYINDEX, "__reborn_staging");
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

void CountHook(lua_State* lua, lua_Debug*) {
  RunState* state = StateOf(lua);
  if (state == nullptr || !state->host->ShouldKill()) return;
  // Fire on every line from now on: a pcall cannot swallow the kill.
  lua_sethook(lua, CountHook, LUA_MASKLINE, 0);
  RaiseError(lua, "Script killed by user with SCRIPT KILL...");
}

constexpr char kErrHandler[] =
    "local dbg = debug\n"
    "return function(err)\n"
    "  local i = dbg.getinfo(2,'nSl')\n"
    "  if i and i.what == 'C' then\n"
    "    i = dbg.getinfo(3,'nSl')\n"
    "  end\n"
    "  if type(err) ~= 'table' then\n"
    "    err = {err='ERR ' .. tostring(err)}\n"
    "  end\n"
    "  if i then\n"
    "    err['source'] = i.source\n"
    "    err['line'] = i.currentline\n"
    "  end\n"
    "  return err\n"
    "end\n";

// Redis' math.random is deterministic per script (seeded per run).
uint64_t rand_state = 0;
int MathRandom(lua_State* lua) {
  rand_state = rand_state * 6364136223846793005ULL + 1442695040888963407ULL;
  double r = static_cast<double>(rand_state >> 11) / 9007199254740992.0;
  switch (lua_gettop(lua)) {
    case 0:
      lua_pushnumber(lua, r);
      break;
    case 1: {
      int u = luaL_checkint(lua, 1);
      luaL_argcheck(lua, 1 <= u, 1, "interval is empty");
      lua_pushnumber(lua, std::floor(r * u) + 1);
      break;
    }
    case 2: {
      int l = luaL_checkint(lua, 1);
      int u = luaL_checkint(lua, 2);
      luaL_argcheck(lua, l <= u, 2, "interval is empty");
      lua_pushnumber(lua, std::floor(r * (u - l + 1)) + l);
      break;
    }
    default:
      return luaL_error(lua, "wrong number of arguments");
  }
  return 1;
}
int MathRandomseed(lua_State* lua) {
  rand_state = static_cast<uint64_t>(luaL_checkint(lua, 1));
  return 0;
}

// unpack() with Redis' overflow-safe range check: stock 5.1's `n <= 0`
// test relies on signed overflow, which the compiler may drop, and a huge
// range then overruns the stack.
int SafeUnpack(lua_State* lua) {
  luaL_checktype(lua, 1, LUA_TTABLE);
  int i = luaL_optint(lua, 2, 1);
  int e = luaL_opt(lua, luaL_checkint, 3, static_cast<int>(lua_objlen(lua, 1)));
  if (i > e) return 0;
  unsigned int n = static_cast<unsigned int>(e) - static_cast<unsigned int>(i);
  if (n >= INT_MAX || !lua_checkstack(lua, static_cast<int>(++n))) {
    return luaL_error(lua, "too many results to unpack");
  }
  for (int64_t k = i; k <= e; ++k) {
    lua_rawgeti(lua, 1, static_cast<int>(k));
  }
  return static_cast<int>(n);
}

// loadstring() and load() as in Redis, whose Lua never loads precompiled
// (binary) chunks: such a chunk goes to the text parser and fails there.
// The reader puts a space before a chunk that starts with the binary
// signature, which makes lua_load() pick the text parser too.
struct TextOnlyReader {
  lua_Reader inner;
  void* inner_ud;
  int calls = 0;
  const char* held = nullptr;
  size_t held_size = 0;
};

const char* ReadTextOnly(lua_State* lua, void* ud, size_t* size) {
  auto* r = static_cast<TextOnlyReader*>(ud);
  if (r->held != nullptr) {
    const char* held = r->held;
    *size = r->held_size;
    r->held = nullptr;
    return held;
  }
  const char* data = r->inner(lua, r->inner_ud, size);
  if (r->calls++ == 0 && data != nullptr && *size > 0 &&
      data[0] == LUA_SIGNATURE[0]) {
    r->held = data;
    r->held_size = *size;
    *size = 1;
    return " ";
  }
  return data;
}

struct StringChunk {
  const char* data;
  size_t size;
};

const char* ReadString(lua_State*, void* ud, size_t* size) {
  auto* chunk = static_cast<StringChunk*>(ud);
  if (chunk->size == 0) return nullptr;
  *size = chunk->size;
  chunk->size = 0;
  return chunk->data;
}

// Lua's generic_reader: calls the function at index 1, keeps the piece in
// the reserved slot 3.
const char* ReadFromFunction(lua_State* lua, void*, size_t* size) {
  luaL_checkstack(lua, 2, "too many nested functions");
  lua_pushvalue(lua, 1);
  lua_call(lua, 0, 1);
  if (lua_isnil(lua, -1)) {
    *size = 0;
    return nullptr;
  }
  if (!lua_isstring(lua, -1)) {
    luaL_error(lua, "reader function must return a string");
  }
  lua_replace(lua, 3);
  return lua_tolstring(lua, 3, size);
}

int LoadResult(lua_State* lua, int status) {
  if (status == 0) return 1;
  lua_pushnil(lua);
  lua_insert(lua, -2);
  return 2;
}

int SafeLoadstring(lua_State* lua) {
  size_t len = 0;
  const char* s = luaL_checklstring(lua, 1, &len);
  const char* name = luaL_optstring(lua, 2, s);
  StringChunk chunk{s, len};
  TextOnlyReader reader{ReadString, &chunk};
  return LoadResult(lua, lua_load(lua, ReadTextOnly, &reader, name));
}

int SafeLoad(lua_State* lua) {
  const char* name = luaL_optstring(lua, 2, "=(load)");
  luaL_checktype(lua, 1, LUA_TFUNCTION);
  lua_settop(lua, 3);
  TextOnlyReader reader{ReadFromFunction, nullptr};
  return LoadResult(lua, lua_load(lua, ReadTextOnly, &reader, name));
}

}  // namespace

absl::Status ParseShebang(std::string_view body, uint32_t* flags,
                          size_t* skip) {
  *flags = kScriptEvalCompat;
  *skip = 0;
  if (body.substr(0, 2) != "#!") return absl::OkStatus();
  size_t eol = body.find('\n');
  if (eol == std::string_view::npos) {
    return absl::InvalidArgumentError("ERR Invalid script shebang");
  }
  *skip = eol;
  const std::string line(body.substr(0, eol));
  std::vector<std::string> parts =
      absl::StrSplit(line, absl::ByAnyChar(" \t\r"), absl::SkipEmpty());
  if (parts.empty()) {
    return absl::InvalidArgumentError("ERR Invalid engine in script shebang");
  }
  if (parts[0] != "#!lua") {
    return absl::InvalidArgumentError(
        absl::StrCat("ERR Unexpected engine in script shebang: ", parts[0]));
  }
  *flags = 0;
  for (size_t i = 1; i < parts.size(); ++i) {
    const std::string& part = parts[i];
    if (part.substr(0, 6) != "flags=") {
      return absl::InvalidArgumentError(
          absl::StrCat("ERR Unknown lua shebang option: ", part));
    }
    const std::string list = part.substr(6);
    for (absl::string_view flag :
         absl::StrSplit(list, ',', absl::SkipEmpty())) {
      if (flag == "no-writes") {
        *flags |= kScriptNoWrites;
      } else if (flag == "allow-oom") {
        *flags |= kScriptAllowOom;
      } else if (flag == "allow-stale") {
        *flags |= kScriptAllowStale;
      } else if (flag == "no-cluster") {
        *flags |= kScriptNoCluster;
      } else if (flag == "allow-cross-slot-keys") {
        *flags |= kScriptAllowCrossSlot;
      } else {
        return absl::InvalidArgumentError(
            absl::StrCat("ERR Unexpected flag in script shebang: ", flag));
      }
    }
  }
  return absl::OkStatus();
}

LuaEngine::LuaEngine() { Init(); }
LuaEngine::~LuaEngine() { Close(); }

void LuaEngine::Close() {
  if (lua_ != nullptr) lua_close(lua_);
  lua_ = nullptr;
}

void LuaEngine::Init() {
  lua_State* lua = luaL_newstate();
  lua_ = lua;
  struct Lib {
    const char* name;
    lua_CFunction open;
  };
  const Lib libs[] = {{"", luaopen_base},
                      {LUA_TABLIBNAME, luaopen_table},
                      {LUA_STRLIBNAME, luaopen_string},
                      {LUA_MATHLIBNAME, luaopen_math},
                      {LUA_DBLIBNAME, luaopen_debug},
                      {"cjson", luaopen_cjson},
                      {"struct", luaopen_struct},
                      {"cmsgpack", luaopen_cmsgpack},
                      {"bit", luaopen_bit}};
  for (const Lib& lib : libs) {
    lua_pushcfunction(lua, lib.open);
    lua_pushstring(lua, lib.name);
    lua_call(lua, 1, 0);
  }
  // luaopen_cjson does not set a global by itself.
  lua_getglobal(lua, "cjson");
  if (lua_isnil(lua, -1)) {
    lua_pop(lua, 1);
    lua_pushcfunction(lua, luaopen_cjson);
    lua_call(lua, 0, 1);
    lua_setglobal(lua, "cjson");
  } else {
    lua_pop(lua, 1);
  }
  lua_newtable(lua);
  lua_setfield(lua, LUA_REGISTRYINDEX, kRegProtected);
  lua_newtable(lua);
  lua_setfield(lua, LUA_REGISTRYINDEX, kRegFunctions);

  // The error handler captures `debug`, which scripts never see.
  luaL_loadbuffer(lua, kErrHandler, sizeof(kErrHandler) - 1,
                  "@err_handler_def");
  lua_call(lua, 0, 1);
  lua_setfield(lua, LUA_REGISTRYINDEX, kRegErrHandler);

  // Deterministic math.random as in Redis.
  lua_getglobal(lua, "math");
  lua_pushcfunction(lua, MathRandom);
  lua_setfield(lua, -2, "random");
  lua_pushcfunction(lua, MathRandomseed);
  lua_setfield(lua, -2, "randomseed");
  lua_pop(lua, 1);
  lua_pushcfunction(lua, SafeUnpack);
  lua_setglobal(lua, "unpack");
  lua_pushcfunction(lua, SafeLoadstring);
  lua_setglobal(lua, "loadstring");
  lua_pushcfunction(lua, SafeLoad);
  lua_setglobal(lua, "load");

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

  // The sandbox: what Redis 7.0 removes, and safe rawset/setmetatable.
  for (const char* name : {"dofile", "loadfile", "print", "newproxy", "setfenv",
                           "getfenv", "module", "require", "debug"}) {
    lua_pushnil(lua);
    lua_setglobal(lua, name);
  }
  lua_getglobal(lua, "setmetatable");
  lua_setfield(lua, LUA_REGISTRYINDEX, "__reborn_setmetatable");
  lua_pushcfunction(lua, SafeSetmetatable);
  lua_setglobal(lua, "setmetatable");
  lua_pushcfunction(lua, SafeRawset);
  lua_setglobal(lua, "rawset");

  // Library tables become read-only proxies.
  for (const char* name : {"redis", "string", "math", "table", "cjson", "bit",
                           "coroutine", "struct", "cmsgpack"}) {
    lua_getglobal(lua, name);
    if (lua_istable(lua, -1)) {
      PushReadonlyProxy(lua);
      lua_setglobal(lua, name);
    } else {
      lua_pop(lua, 1);
    }
  }
  // Strings' metatable indexes the read-only string proxy.
  lua_pushstring(lua, "");
  if (lua_getmetatable(lua, -1)) {
    lua_getglobal(lua, "string");
    lua_setfield(lua, -2, "__index");
    LockMetatable(lua);
    lua_pop(lua, 1);
  }
  lua_pop(lua, 1);

  // Globals: the real table goes to the registry; the thread's globals
  // become a read-only proxy of it (so loadstring'd code is sandboxed too).
  lua_pushvalue(lua, LUA_GLOBALSINDEX);
  lua_setfield(lua, LUA_REGISTRYINDEX, kRegGlobals);
  lua_newtable(lua);  // proxy
  lua_newtable(lua);
  lua_pushcfunction(lua, GlobalIndex);
  lua_setfield(lua, -2, "__index");
  lua_pushcfunction(lua, ReadonlyError);
  lua_setfield(lua, -2, "__newindex");
  LockMetatable(lua);
  lua_setmetatable(lua, -2);
  lua_getfield(lua, LUA_REGISTRYINDEX, kRegProtected);
  lua_pushvalue(lua, -2);
  lua_pushboolean(lua, 1);
  lua_rawset(lua, -3);
  lua_pop(lua, 1);
  lua_getfield(lua, LUA_REGISTRYINDEX, kRegGlobals);
  lua_pushvalue(lua, -2);
  lua_setfield(lua, -2, "_G");
  lua_setfield(lua, LUA_REGISTRYINDEX, kRegRunGlobals);
  lua_replace(lua, LUA_GLOBALSINDEX);

  // What a library's code sees while FUNCTION LOAD runs it (Redis'
  // LIBRARY_API): only redis.register_function, redis.log and the
  // constants; everything else is a nonexistent global.
  lua_newtable(lua);
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
  PushReadonlyProxy(lua);
  // Unknown fields (redis.call, ...) are errors, as with globals.
  lua_getmetatable(lua, -1);
  lua_getfield(lua, -1, "__index");  // the real table
  lua_pushcclosure(lua, FieldIndex, 1);
  lua_setfield(lua, -2, "__index");
  lua_pop(lua, 1);
  lua_setfield(lua, -2, "redis");
  lua_setfield(lua, LUA_REGISTRYINDEX, kRegLoadGlobals);
}

absl::StatusOr<std::string> LuaEngine::Load(std::string_view body) {
  std::string sha = Sha1Hex(body);
  if (scripts_.contains(sha)) return sha;
  uint32_t flags = 0;
  size_t skip = 0;
  if (absl::Status s = ParseShebang(body, &flags, &skip); !s.ok()) return s;
  std::string_view code = body.substr(skip);
  if (luaL_loadbuffer(lua_, code.data(), code.size(), "@user_script") != 0) {
    std::string err = absl::StrCat(
        "ERR Error compiling script (new function): ", lua_tostring(lua_, -1));
    lua_pop(lua_, 1);
    return absl::InvalidArgumentError(err);
  }
  lua_setfield(lua_, LUA_REGISTRYINDEX, absl::StrCat("f_", sha).c_str());
  scripts_[sha] = Script{std::string(body), flags};
  return sha;
}

bool LuaEngine::Exists(std::string_view sha) const {
  return scripts_.contains(absl::AsciiStrToLower(std::string(sha)));
}

uint32_t LuaEngine::FlagsOf(std::string_view sha) const {
  auto it = scripts_.find(absl::AsciiStrToLower(std::string(sha)));
  return it == scripts_.end() ? 0 : it->second.flags;
}

void LuaEngine::Flush() {
  for (const auto& [sha, script] : scripts_) {
    lua_pushnil(lua_);
    lua_setfield(lua_, LUA_REGISTRYINDEX, absl::StrCat("f_", sha).c_str());
  }
  scripts_.clear();
  lua_gc(lua_, LUA_GCCOLLECT, 0);
}

namespace {

void SetGlobalArray(lua_State* lua, const char* name,
                    std::span<const std::string> items) {
  lua_getfield(lua, LUA_REGISTRYINDEX, kRegGlobals);
  lua_createtable(lua, static_cast<int>(items.size()), 0);
  for (size_t i = 0; i < items.size(); ++i) {
    lua_pushlstring(lua, items[i].data(), items[i].size());
    lua_rawseti(lua, -2, static_cast<int>(i + 1));
  }
  lua_setfield(lua, -2, name);
  lua_pop(lua, 1);
}

}  // namespace

void LuaEngine::Run(std::string_view sha_in, std::span<const std::string> keys,
                    std::span<const std::string> argv, ScriptHost& host,
                    resp::ReplyWriter& reply) {
  lua_State* lua = lua_;
  std::string sha = absl::AsciiStrToLower(std::string(sha_in));
  SetGlobalArray(lua, "KEYS", keys);
  SetGlobalArray(lua, "ARGV", argv);
  lua_getfield(lua, LUA_REGISTRYINDEX, kRegErrHandler);
  lua_getfield(lua, LUA_REGISTRYINDEX, absl::StrCat("f_", sha).c_str());
  CallAndReply(sha, 0, host, reply);
}

void LuaEngine::CallAndReply(std::string_view name_view, int nargs,
                             ScriptHost& host, resp::ReplyWriter& reply) {
  lua_State* lua = lua_;
  const std::string name(name_view);
  RunState state{&host, 2};
  lua_pushlightuserdata(lua, &state);
  lua_setfield(lua, LUA_REGISTRYINDEX, kRegHost);
  rand_state = 0;
  lua_sethook(lua, CountHook, LUA_MASKCOUNT, kHookInstructions);
  int err = lua_pcall(lua, nargs, 1, -2 - nargs);
  lua_sethook(lua, nullptr, 0, 0);
  if (err != 0) {
    if (!lua_istable(lua, -1)) {
      const char* msg =
          lua_isstring(lua, -1) ? lua_tostring(lua, -1) : "execution failure";
      reply.Error(absl::StrCat("ERR Error running script ", name, ", ",
                               std::string(msg).substr(0, 100)));
    } else {
      std::string msg = "ERR";
      lua_getfield(lua, -1, "err");
      if (lua_isstring(lua, -1)) msg = lua_tostring(lua, -1);
      lua_pop(lua, 1);
      lua_getfield(lua, -1, "source");
      std::string source = lua_isstring(lua, -1) ? lua_tostring(lua, -1) : "";
      lua_pop(lua, 1);
      lua_getfield(lua, -1, "line");
      std::string line = lua_isstring(lua, -1) ? lua_tostring(lua, -1) : "";
      lua_pop(lua, 1);
      if (!source.empty() && !line.empty()) {
        absl::StrAppend(&msg, " script: ", name, ", on ", source, ":", line,
                        ".");
      }
      reply.Error(msg);
    }
    lua_pop(lua, 1);
  } else {
    LuaToReply(lua, reply, state.resp);
  }
  lua_pop(lua, 1);  // the error handler
  lua_pushnil(lua);
  lua_setfield(lua, LUA_REGISTRYINDEX, kRegHost);
  lua_gc(lua, LUA_GCSTEP, 1);
}

absl::StatusOr<std::string> LuaEngine::LoadLibrary(std::string_view code,
                                                   bool replace) {
  auto fail = [](const std::string& msg) {
    return absl::InvalidArgumentError(absl::StrCat("ERR ", msg));
  };
  if (code.substr(0, 2) != "#!") return fail("Missing library metadata");
  size_t eol = code.find('\n');
  if (eol == std::string_view::npos) return fail("Invalid library metadata");
  const std::string line(code.substr(0, eol));
  std::vector<std::string> parts =
      absl::StrSplit(line, absl::ByAnyChar(" \t\r"), absl::SkipEmpty());
  if (parts.empty()) return fail("Invalid library metadata");
  std::string engine = parts[0].substr(2);
  std::string name;
  bool named = false;
  for (size_t i = 1; i < parts.size(); ++i) {
    if (absl::AsciiStrToLower(parts[i].substr(0, 5)) == "name=") {
      if (named) {
        return fail(
            "Invalid metadata value, name argument was given multiple times");
      }
      name = parts[i].substr(5);
      named = true;
      continue;
    }
    return fail(absl::StrCat("Invalid metadata value given: ", parts[i]));
  }
  if (!named) return fail("Library name was not given");
  if (!ValidName(name)) {
    return fail(
        "Library names can only contain letters, numbers, or underscores(_) "
        "and must be at least one character long");
  }
  if (absl::AsciiStrToLower(engine) != "lua") {
    return fail(absl::StrCat("Engine '", engine, "' not found"));
  }
  if (!replace && libraries_.contains(name)) {
    return fail(absl::StrCat("Library '", name, "' already exists"));
  }
  // Compile and run the code: it registers its functions into `lib`.
  const std::string_view body = code.substr(eol);
  if (luaL_loadbuffer(lua_, body.data(), body.size(), "@user_function") != 0) {
    std::string err =
        absl::StrCat("Error compiling function: ", lua_tostring(lua_, -1));
    lua_pop(lua_, 1);
    return fail(err);
  }
  Library lib{name, std::string(code), {}};
  lua_newtable(lua_);
  lua_setfield(lua_, LUA_REGISTRYINDEX, "__reborn_staging");
  lua_pushlightuserdata(lua_, &lib);
  lua_setfield(lua_, LUA_REGISTRYINDEX, kRegLoading);
  lua_getfield(lua_, LUA_REGISTRYINDEX, kRegLoadGlobals);
  lua_setfield(lua_, LUA_REGISTRYINDEX, kRegGlobals);
  int err = lua_pcall(lua_, 0, 0, 0);
  lua_getfield(lua_, LUA_REGISTRYINDEX, kRegRunGlobals);
  lua_setfield(lua_, LUA_REGISTRYINDEX, kRegGlobals);
  lua_pushnil(lua_);
  lua_setfield(lua_, LUA_REGISTRYINDEX, kRegLoading);
  if (err != 0) {
    std::string msg = "execution failure";
    if (lua_istable(lua_, -1)) {
      lua_getfield(lua_, -1, "err");
      if (lua_isstring(lua_, -1)) msg = lua_tostring(lua_, -1);
      lua_pop(lua_, 1);
    } else if (lua_isstring(lua_, -1)) {
      msg = absl::StrCat("ERR ", lua_tostring(lua_, -1));
    }
    lua_pop(lua_, 1);
    return fail(absl::StrCat("Error registering functions: ", msg));
  }
  if (lib.functions.empty()) return fail("No functions registered");
  for (const FunctionInfo& f : lib.functions) {
    auto it = function_libs_.find(absl::AsciiStrToLower(f.name));
    if (it != function_libs_.end() && it->second != name) {
      return fail(absl::StrCat("Function ", f.name, " already exists"));
    }
  }
  // Commit: drop the old library's functions, publish the new ones.
  DeleteLibrary(name);
  lua_getfield(lua_, LUA_REGISTRYINDEX, kRegFunctions);
  lua_getfield(lua_, LUA_REGISTRYINDEX, "__reborn_staging");
  for (const FunctionInfo& f : lib.functions) {
    lua_getfield(lua_, -1, f.name.c_str());
    lua_setfield(lua_, -3, f.name.c_str());
    function_libs_[absl::AsciiStrToLower(f.name)] = name;
  }
  lua_pop(lua_, 2);
  libraries_[name] = std::move(lib);
  return name;
}

bool LuaEngine::DeleteLibrary(std::string_view name) {
  auto it = libraries_.find(std::string(name));
  if (it == libraries_.end()) return false;
  lua_getfield(lua_, LUA_REGISTRYINDEX, kRegFunctions);
  for (const FunctionInfo& f : it->second.functions) {
    lua_pushnil(lua_);
    lua_setfield(lua_, -2, f.name.c_str());
    function_libs_.erase(absl::AsciiStrToLower(f.name));
  }
  lua_pop(lua_, 1);
  libraries_.erase(it);
  return true;
}

void LuaEngine::FlushLibraries() {
  while (!libraries_.empty()) DeleteLibrary(libraries_.begin()->first);
  lua_gc(lua_, LUA_GCCOLLECT, 0);
}

const FunctionInfo* LuaEngine::FindFunction(std::string_view name) const {
  // Function names are case-insensitive across libraries (Redis'
  // functionDictType), exact within one.
  auto it = function_libs_.find(absl::AsciiStrToLower(std::string(name)));
  if (it == function_libs_.end()) return nullptr;
  for (const FunctionInfo& f : libraries_.at(it->second).functions) {
    if (absl::EqualsIgnoreCase(f.name,
                               absl::string_view(name.data(), name.size())))
      return &f;
  }
  return nullptr;
}

void LuaEngine::CallFunction(std::string_view name,
                             std::span<const std::string> keys,
                             std::span<const std::string> argv,
                             ScriptHost& host, resp::ReplyWriter& reply) {
  lua_State* lua = lua_;
  lua_getfield(lua, LUA_REGISTRYINDEX, kRegErrHandler);
  lua_getfield(lua, LUA_REGISTRYINDEX, kRegFunctions);
  lua_getfield(lua, -1, std::string(name).c_str());
  lua_remove(lua, -2);
  for (auto items : {keys, argv}) {
    lua_createtable(lua, static_cast<int>(items.size()), 0);
    for (size_t i = 0; i < items.size(); ++i) {
      lua_pushlstring(lua, items[i].data(), items[i].size());
      lua_rawseti(lua, -2, static_cast<int>(i + 1));
    }
  }
  CallAndReply(name, 2, host, reply);
}

}  // namespace reborn::scripting
