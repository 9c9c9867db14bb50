// The Lua engine: one interpreter with Redis 7.0's sandbox
// (lua_sandbox.cc) and API (lua_api.cc), the EVAL script cache, the
// function libraries, and the runs of scripts and functions with their
// replies (lua_convert.cc).
#include "scripting/lua_engine.h"

#include <algorithm>
#include <chrono>
#include <cstring>
#include <string>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "resp/request_parser.h"
#include "scripting/lua_convert.h"
#include "scripting/lua_internal.h"
#include "scripting/sha1.h"

namespace reborn::scripting {

using internal::kHookInstructions;
using internal::kRegErrHandler;
using internal::kRegFunctions;
using internal::kRegGlobals;
using internal::kRegHost;
using internal::kRegLoadGlobals;
using internal::kRegLoading;
using internal::kRegRunGlobals;
using internal::kRegStaging;
using internal::RaiseError;
using internal::RunState;
using internal::StateOf;

namespace {

void CountHook(lua_State* lua, lua_Debug*) {
  RunState* state = StateOf(lua);
  if (state == nullptr || !state->host->ShouldKill()) return;
  // Fire on every line from now on: a pcall cannot swallow the kill.
  lua_sethook(lua, CountHook, LUA_MASKLINE, 0);
  RaiseError(lua, "Script killed by user with SCRIPT KILL...");
}

// FUNCTION LOAD's time limit on running a library's code (Redis'
// LOAD_TIMEOUT_MS): the load fails with "FUNCTION LOAD timeout".
constexpr int64_t kLoadTimeoutMs = 500;
constexpr char kRegLoadStart[] = "__reborn_load_start";  // ms, a number

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

void LoadHook(lua_State* lua, lua_Debug*) {
  lua_getfield(lua, LUA_REGISTRYINDEX, kRegLoadStart);
  const auto start = static_cast<int64_t>(lua_tonumber(lua, -1));
  lua_pop(lua, 1);
  if (NowMs() - start <= kLoadTimeoutMs) return;
  // Fire on every line from now on: a pcall cannot swallow it.
  lua_sethook(lua, LoadHook, LUA_MASKLINE, 0);
  RaiseError(lua, "FUNCTION LOAD timeout");
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

}  // namespace

uint32_t ScriptFlagByName(std::string_view name) {
  if (name == "no-writes") return kScriptNoWrites;
  if (name == "allow-oom") return kScriptAllowOom;
  if (name == "allow-stale") return kScriptAllowStale;
  if (name == "no-cluster") return kScriptNoCluster;
  if (name == "allow-cross-slot-keys") return kScriptAllowCrossSlot;
  return 0;
}

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
      const uint32_t bit =
          ScriptFlagByName(std::string_view(flag.data(), flag.size()));
      if (bit != 0) {
        *flags |= bit;
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
  internal::OpenLibraries(lua);
  lua_newtable(lua);
  lua_setfield(lua, LUA_REGISTRYINDEX, kRegFunctions);

  // The error handler captures `debug`, which scripts never see.
  luaL_loadbuffer(lua, kErrHandler, sizeof(kErrHandler) - 1,
                  "@err_handler_def");
  lua_call(lua, 0, 1);
  lua_setfield(lua, LUA_REGISTRYINDEX, kRegErrHandler);

  internal::InstallRedisApi(lua);
  internal::LockGlobals(lua);
  internal::InstallLoadGlobals(lua);
  lua_getfield(lua, LUA_REGISTRYINDEX, kRegErrHandler);
  err_handler_ref_ = luaL_ref(lua, LUA_REGISTRYINDEX);
  lua_getfield(lua, LUA_REGISTRYINDEX, kRegRunGlobals);
  globals_ref_ = luaL_ref(lua, LUA_REGISTRYINDEX);
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
  const int ref = luaL_ref(lua_, LUA_REGISTRYINDEX);
  scripts_[sha] = Script{sha, std::string(body), flags, ref};
  return sha;
}

const LuaEngine::Script* LuaEngine::Find(std::string_view sha) const {
  // Clients send what SCRIPT LOAD answered, in lower case: no copy then.
  auto it = std::any_of(sha.begin(), sha.end(), absl::ascii_isupper)
                ? scripts_.find(absl::AsciiStrToLower(std::string(sha)))
                : scripts_.find(absl::string_view(sha.data(), sha.size()));
  return it == scripts_.end() ? nullptr : &it->second;
}

uint32_t LuaEngine::FlagsOf(std::string_view sha) const {
  const Script* script = Find(sha);
  return script == nullptr ? 0 : script->flags;
}

void LuaEngine::Flush() {
  for (const auto& [sha, script] : scripts_) {
    luaL_unref(lua_, LUA_REGISTRYINDEX, script.ref);
  }
  scripts_.clear();
  lua_gc(lua_, LUA_GCCOLLECT, 0);
}

namespace {

// Sets field `name` of the table on top of the stack to an array of
// `items`.
void SetArrayField(lua_State* lua, const char* name,
                   std::span<const std::string> items) {
  lua_createtable(lua, static_cast<int>(items.size()), 0);
  for (size_t i = 0; i < items.size(); ++i) {
    lua_pushlstring(lua, items[i].data(), items[i].size());
    lua_rawseti(lua, -2, static_cast<int>(i + 1));
  }
  lua_setfield(lua, -2, name);
}

}  // namespace

void LuaEngine::Run(std::string_view sha, std::span<const std::string> keys,
                    std::span<const std::string> argv, ScriptHost& host,
                    resp::ReplyWriter& reply) {
  Run(*Find(sha), keys, argv, host, reply);
}

void LuaEngine::Run(const Script& script, std::span<const std::string> keys,
                    std::span<const std::string> argv, ScriptHost& host,
                    resp::ReplyWriter& reply) {
  lua_State* lua = lua_;
  // New KEYS and ARGV tables each run, as Redis: a script may keep or
  // change the ones it got.
  lua_rawgeti(lua, LUA_REGISTRYINDEX, globals_ref_);
  SetArrayField(lua, "KEYS", keys);
  SetArrayField(lua, "ARGV", argv);
  lua_pop(lua, 1);
  lua_rawgeti(lua, LUA_REGISTRYINDEX, err_handler_ref_);
  lua_rawgeti(lua, LUA_REGISTRYINDEX, script.ref);
  CallAndReply(script.sha, 0, host, reply);
}

void LuaEngine::CallAndReply(std::string_view name_view, int nargs,
                             ScriptHost& host, resp::ReplyWriter& reply) {
  lua_State* lua = lua_;
  const std::string name(name_view);
  RunState state{&host, 2, &rand_state_};
  lua_pushlightuserdata(lua, &state);
  lua_setfield(lua, LUA_REGISTRYINDEX, kRegHost);
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
  // As Redis (LUA_GC_CYCLE_PERIOD): an incremental GC step of 50 units
  // every 50 runs keeps Lua from running a full, slow cycle; a step after
  // every run cost a quarter of a short script's time.
  constexpr int kGcCyclePeriod = 50;
  if (++runs_since_gc_ == kGcCyclePeriod) {
    lua_gc(lua, LUA_GCSTEP, kGcCyclePeriod);
    runs_since_gc_ = 0;
  }
}

absl::Status LuaEngine::CheckLibraries(const std::vector<std::string>& codes) {
  if (codes.empty()) return absl::OkStatus();
  LuaEngine scratch;
  for (const std::string& code : codes) {
    absl::StatusOr<std::string> lib = scratch.LoadLibrary(code, false);
    if (!lib.ok()) return lib.status();
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> LuaEngine::LoadLibrary(std::string_view code,
                                                   bool replace) {
  auto fail = [](const std::string& msg) {
    return absl::InvalidArgumentError(absl::StrCat("ERR ", msg));
  };
  if (code.substr(0, 2) != "#!") return fail("Missing library metadata");
  size_t eol = code.find('\n');
  if (eol == std::string_view::npos) return fail("Invalid library metadata");
  // Split as Redis' sdssplitargs: `name="foo"` names the library foo.
  std::vector<std::string> parts;
  if (!resp::SplitInlineArgs(code.substr(0, eol), &parts) || parts.empty()) {
    return fail("Invalid library metadata");
  }
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
  if (!internal::ValidName(name)) {
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
  lua_setfield(lua_, LUA_REGISTRYINDEX, kRegStaging);
  lua_pushlightuserdata(lua_, &lib);
  lua_setfield(lua_, LUA_REGISTRYINDEX, kRegLoading);
  lua_getfield(lua_, LUA_REGISTRYINDEX, kRegLoadGlobals);
  lua_setfield(lua_, LUA_REGISTRYINDEX, kRegGlobals);
  lua_pushnumber(lua_, static_cast<lua_Number>(NowMs()));
  lua_setfield(lua_, LUA_REGISTRYINDEX, kRegLoadStart);
  lua_sethook(lua_, LoadHook, LUA_MASKCOUNT, kHookInstructions);
  int err = lua_pcall(lua_, 0, 0, 0);
  lua_sethook(lua_, nullptr, 0, 0);
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
  lua_getfield(lua_, LUA_REGISTRYINDEX, kRegStaging);
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
  lua_rawgeti(lua, LUA_REGISTRYINDEX, err_handler_ref_);
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
