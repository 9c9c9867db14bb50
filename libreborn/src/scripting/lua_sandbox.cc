// The sandbox scripts run in, as Redis 7.0's on Debian's stock Lua 5.1.
// Redis patches its Lua for read-only tables; here the globals and the
// library tables are empty proxies whose metatables read through to the
// real tables and refuse writes, and rawset/setmetatable refuse the
// proxies, which gives the same errors ("Attempt to modify a readonly
// table", "Script attempted to access nonexistent global variable 'x'").

#include <climits>
#include <cmath>
#include <cstdint>

#include "scripting/lua_internal.h"

extern "C" {
int luaopen_cjson(lua_State* lua);
int luaopen_bit(lua_State* lua);
int luaopen_cmsgpack(lua_State* lua);  // vendor/lua_cmsgpack.c
int luaopen_struct(lua_State* lua);    // vendor/lua_struct.c
}

namespace reborn::scripting::internal {
namespace {

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
  lua_getfield(lua, LUA_REGISTRYINDEX, kRegSetmetatable);
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

// Replaces the value on top of the stack (a table, or an __index function)
// by a new, protected table that reads through it and refuses writes.
void PushReadonlyProxy(lua_State* lua) {
  int index = lua_gettop(lua);
  lua_newtable(lua);  // proxy
  lua_newtable(lua);  // its metatable
  lua_pushvalue(lua, index);
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
  lua_replace(lua, index);
}

// Redis' math.random: one sequence over every run of the engine (the same
// on every platform), which math.randomseed restarts (RunState::rand).
int MathRandom(lua_State* lua) {
  RunState* state = StateOf(lua);
  uint64_t outside_run = 0;  // scripts only call it while they run
  uint64_t& rand =
      state != nullptr && state->rand != nullptr ? *state->rand : outside_run;
  rand = rand * 6364136223846793005ULL + 1442695040888963407ULL;
  double r = static_cast<double>(rand >> 11) / 9007199254740992.0;
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
  const auto seed = static_cast<uint64_t>(luaL_checkint(lua, 1));
  if (RunState* state = StateOf(lua); state != nullptr && state->rand) {
    *state->rand = seed;
  }
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

void OpenLibraries(lua_State* lua) {
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

  // math.random with Redis' portable sequence.
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
}

void LockGlobals(lua_State* lua) {
  // The sandbox: what Redis 7.0 removes, and safe rawset/setmetatable.
  for (const char* name : {"dofile", "loadfile", "print", "newproxy", "setfenv",
                           "getfenv", "module", "require", "debug"}) {
    lua_pushnil(lua);
    lua_setglobal(lua, name);
  }
  lua_getglobal(lua, "setmetatable");
  lua_setfield(lua, LUA_REGISTRYINDEX, kRegSetmetatable);
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
  lua_pushcfunction(lua, GlobalIndex);
  PushReadonlyProxy(lua);
  lua_getfield(lua, LUA_REGISTRYINDEX, kRegGlobals);
  lua_pushvalue(lua, -2);
  lua_setfield(lua, -2, "_G");
  lua_setfield(lua, LUA_REGISTRYINDEX, kRegRunGlobals);
  lua_replace(lua, LUA_GLOBALSINDEX);
}

void InstallLoadGlobals(lua_State* lua) {
  // What a library's code sees while FUNCTION LOAD runs it (Redis'
  // LIBRARY_API): only redis.register_function, redis.log and the
  // constants; everything else is a nonexistent global.
  lua_newtable(lua);
  PushLoadApi(lua);
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

}  // namespace reborn::scripting::internal
