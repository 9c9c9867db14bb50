#pragma once

// The pieces the Lua engine's files share (lua_engine.cc: the engine and
// its runs; lua_sandbox.cc: the read-only environment; lua_api.cc: the
// redis.* functions): registry keys, the state of a running script, and
// Redis' error raising. Not part of the scripting interface.

#include <cstdint>
#include <string>
#include <string_view>

#include "scripting/lua_convert.h"
#include "scripting/lua_engine.h"

extern "C" {
#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>
}

namespace reborn::scripting::internal {

// Registry keys.
inline constexpr char kRegHost[] = "__reborn_host";  // light userdata
// The table global reads go to: kRegRunGlobals, or kRegLoadGlobals while
// FUNCTION LOAD runs a library's code.
inline constexpr char kRegGlobals[] = "__reborn_globals";
// The real globals.
inline constexpr char kRegRunGlobals[] = "__reborn_run_globals";
inline constexpr char kRegLoadGlobals[] = "__reborn_load_globals";
inline constexpr char kRegProtected[] = "__reborn_readonly";  // set of proxies
inline constexpr char kRegErrHandler[] = "__reborn_err_handler";
// The library being loaded (FUNCTION LOAD), in the registry while its code
// runs: redis.register_function() adds to it, its callbacks wait in the
// staging table.
inline constexpr char kRegLoading[] = "__reborn_loading";
inline constexpr char kRegStaging[] = "__reborn_staging";
// Function name -> callback.
inline constexpr char kRegFunctions[] = "__reborn_functions";
inline constexpr char kRegSetmetatable[] = "__reborn_setmetatable";
inline constexpr int kHookInstructions = 100000;

// The running script's host and state; in the registry (kRegHost) while
// it runs, nil otherwise.
struct RunState {
  ScriptHost* host = nullptr;
  int resp = 2;
  // math.random's state: the engine's, so that, as in Redis 7.0, runs go on
  // with one sequence that only math.randomseed resets.
  uint64_t* rand = nullptr;
};

inline RunState* StateOf(lua_State* lua) {
  lua_getfield(lua, LUA_REGISTRYINDEX, kRegHost);
  auto* state = static_cast<RunState*>(lua_touserdata(lua, -1));
  lua_pop(lua, 1);
  return state;
}

// Raises Redis' error table for `text` ("-CODE message" or "message").
[[noreturn]] inline void RaiseError(lua_State* lua, std::string_view text) {
  PushErrorTable(lua, text);
  lua_error(lua);
  __builtin_unreachable();
}

// --- lua_sandbox.cc
// Opens the libraries scripts get, with Redis' portable math.random,
// overflow-safe unpack and text-only loadstring/load.
void OpenLibraries(lua_State* lua);
// Removes what Redis 7.0 removes, makes the library tables and the
// globals read-only proxies (the globals table with the `redis` API must
// be complete).
void LockGlobals(lua_State* lua);
// Stores what a library's code sees while FUNCTION LOAD runs it: the
// table of PushLoadApi as `redis`, nothing else.
void InstallLoadGlobals(lua_State* lua);

// --- lua_api.cc
// Sets the `redis` global: call, pcall, error_reply, ... and constants.
void InstallRedisApi(lua_State* lua);
// Pushes the (plain) table of the load-time API: register_function, log,
// the LOG_* constants and the version.
void PushLoadApi(lua_State* lua);
// Library and function names: letters, digits and '_', not empty.
bool ValidName(std::string_view name);

}  // namespace reborn::scripting::internal
