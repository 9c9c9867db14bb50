#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/node_hash_map.h"
#include "absl/status/statusor.h"
#include "resp/reply_writer.h"

struct lua_State;

namespace reborn::scripting {

// What a running script's redis.call()/redis.pcall() runs against; the
// server implements it (command table, checks, replication).
class ScriptHost {
 public:
  virtual ~ScriptHost() = default;
  // Runs `args` as a command of the running script and returns its RESP
  // reply encoded in `protocol`; a refused command is an error reply
  // ("-ERR ...\r\n") with Redis' text.
  virtual std::string Call(std::vector<std::string>& args, int protocol) = 0;
  // Asked every few thousand Lua instructions: true ends the script with
  // "Script killed by user with SCRIPT KILL..." (the hook keeps firing, so
  // a pcall cannot swallow it).
  virtual bool ShouldKill() = 0;
  // redis.log(level, message).
  virtual void Log(int level, std::string_view message) = 0;
  // redis.acl_check_cmd(args...): whether the script's user may run `args`;
  // nullopt for an unknown command.
  virtual std::optional<bool> AclCheck(
      const std::vector<std::string>& args) = 0;
};

// Shebang flags of a script (`#!lua flags=no-writes,...`), Redis 7.0.
enum ScriptFlag : uint32_t {
  kScriptNoWrites = 1u << 0,
  kScriptAllowOom = 1u << 1,
  kScriptAllowStale = 1u << 2,
  kScriptNoCluster = 1u << 3,
  kScriptAllowCrossSlot = 1u << 4,
  kScriptEvalCompat = 1u << 5,  // no shebang: Redis' pre-7.0 behaviour
};

// The flag a script shebang or a function's `flags` table names
// ("no-writes", ...), 0 for a name Redis does not know.
uint32_t ScriptFlagByName(std::string_view name);

// A function registered by a library (FUNCTION LOAD).
struct FunctionInfo {
  std::string name;
  std::string description;  // empty when not given
  bool has_description = false;
  uint32_t flags = 0;  // ScriptFlag
};

// A library: its `#!lua name=...` code and the functions it registered.
struct Library {
  std::string name;
  std::string code;
  std::vector<FunctionInfo> functions;
};

// One Lua 5.1 interpreter with Redis' API and sandbox, and the EVAL script
// cache. Not thread-safe: the server runs every script, load and flush
// under its exclusive exec lock (scripts are atomic), so one state serves
// all clients.
class LuaEngine {
 public:
  LuaEngine();
  ~LuaEngine();
  LuaEngine(const LuaEngine&) = delete;
  LuaEngine& operator=(const LuaEngine&) = delete;

  // A cached script: its compiled function stays in the Lua registry
  // (`ref`), so a run neither compiles nor looks it up by name.
  struct Script {
    std::string sha;  // lower-case hex
    std::string body;
    uint32_t flags = 0;
    int ref = 0;  // luaL_ref in the registry
  };

  // Compiles `body` into the cache (EVAL, SCRIPT LOAD) and returns its
  // SHA1. The error's message is the reply text ("ERR Error compiling
  // script (new function): ...").
  absl::StatusOr<std::string> Load(std::string_view body);
  // The cached script `sha` (any case), nullptr when unknown. Stays valid
  // until Flush() (scripts cannot load or flush scripts while they run).
  const Script* Find(std::string_view sha) const;
  bool Exists(std::string_view sha) const { return Find(sha) != nullptr; }
  // Flags of a cached script; 0 when unknown.
  uint32_t FlagsOf(std::string_view sha) const;
  // SCRIPT FLUSH: drops the cache and starts from a fresh interpreter.
  void Flush();
  size_t size() const { return scripts_.size(); }

  // Runs the cached script `sha` with KEYS and ARGV and writes its reply
  // into `reply` (in the client's protocol). The script must exist.
  void Run(std::string_view sha, std::span<const std::string> keys,
           std::span<const std::string> argv, ScriptHost& host,
           resp::ReplyWriter& reply);
  // Run() of a script Find() returned.
  void Run(const Script& script, std::span<const std::string> keys,
           std::span<const std::string> argv, ScriptHost& host,
           resp::ReplyWriter& reply);

  // --- Functions (FUNCTION LOAD / FCALL), Redis 7.0.
  // Runs a library's code, which must register at least one function with
  // redis.register_function(); returns the library name. Replaces a
  // library of the same name only when `replace`. The error's message is
  // the reply text.
  absl::StatusOr<std::string> LoadLibrary(std::string_view code, bool replace);
  // Whether `codes` load together into an engine of their own (each loads,
  // no two share a library or function name): what an RDB file's libraries
  // must pass before the file is accepted, as Redis refuses a file whose
  // library does not load. The error names the failing library's reason.
  static absl::Status CheckLibraries(const std::vector<std::string>& codes);
  // False when there is no such library.
  bool DeleteLibrary(std::string_view name);
  void FlushLibraries();
  const std::map<std::string, Library>& libraries() const { return libraries_; }
  // nullptr when unknown.
  const FunctionInfo* FindFunction(std::string_view name) const;
  // Runs function `name` (it must exist) with KEYS and ARGV as arguments.
  void CallFunction(std::string_view name, std::span<const std::string> keys,
                    std::span<const std::string> argv, ScriptHost& host,
                    resp::ReplyWriter& reply);

  lua_State* state_for_test() { return lua_; }

 private:
  void Init();
  void Close();
  // Calls the function on top of the stack (under the error handler below
  // it) with `nargs` arguments, writing its reply or error; `name` names it
  // in error texts.
  void CallAndReply(std::string_view name, int nargs, ScriptHost& host,
                    resp::ReplyWriter& reply);

  lua_State* lua_ = nullptr;
  // Registry refs of the error handler and of the real globals table
  // (where KEYS and ARGV go), looked up once rather than by name per run.
  int err_handler_ref_ = 0;
  int globals_ref_ = 0;
  // Runs since the last explicit GC step (see CallAndReply).
  int runs_since_gc_ = 0;
  // By sha; node-based, so Find()'s pointers survive later loads.
  absl::node_hash_map<std::string, Script> scripts_;
  std::map<std::string, Library> libraries_;  // by name
  // Lower-cased function name -> library name.
  absl::flat_hash_map<std::string, std::string> function_libs_;
  uint64_t rand_state_ = 0;  // math.random's, across runs (RunState::rand)
};

// Parses a `#!lua` shebang's flags; sets *skip to the shebang's length
// (the newline stays so line numbers are kept). Fails with Redis' texts.
absl::Status ParseShebang(std::string_view body, uint32_t* flags, size_t* skip);

}  // namespace reborn::scripting
