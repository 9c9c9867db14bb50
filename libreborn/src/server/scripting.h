#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <string>
#include <vector>

#include "command/command_table.h"
#include "scripting/lua_engine.h"

namespace reborn::server {

class QdbServerImpl;

// EVAL, EVALSHA, EVAL_RO, EVALSHA_RO, SCRIPT, FCALL, FCALL_RO and FUNCTION
// for the qdb-server (docs/scripting.md).
//
// Atomicity: a script runs while its thread holds the server's exec_mu_
// exclusively, so no other command runs in between; the commands it calls
// go through the server's command table (same checks, stats, WATCH and
// replication; the effects are replicated inside MULTI/EXEC).
//
// Busy scripts: other connections find the lock taken and `running_` set;
// they wait until the script ends or has run for busy-reply-threshold ms,
// and are then answered -BUSY. SCRIPT KILL takes no lock: it sets
// `kill_`, which the script's instruction-count hook polls.
//
// Thread safety: the Lua engine and the script cache are touched only
// under exec_mu_ (exclusively to run, load or flush; shared for EXISTS);
// the busy state is atomics.
class Scripting {
 public:
  explicit Scripting(QdbServerImpl& server);
  ~Scripting();

  absl::Status Register(CommandTable& table);

  // Takes `lock` (exec_mu_, shared) for a command of another client. While
  // a script is running past busy-reply-threshold, answers -BUSY instead
  // and returns false.
  bool LockShared(std::shared_lock<std::shared_mutex>& lock,
                  resp::ReplyWriter& reply);
  // Answers -BUSY and returns true while a script runs past
  // busy-reply-threshold: for commands that would wait on exec_mu_ for it
  // (EXEC, REPLICAOF), which may run on the script's own thread (a nested
  // poll, Session::poll_io).
  bool RefuseBusy(resp::ReplyWriter& reply);
  // Commands that take exec_mu_ themselves (or none, SCRIPT KILL).
  static bool LocksItself(std::string_view name);
  // Replaces the function libraries with the engine's stored ones (after a
  // full sync's RDB load); takes exec_mu_ exclusively.
  void ReloadLibraries();

  // EVAL/EVALSHA/FCALL of a script or function flagged `no-writes`:
  // CLIENT PAUSE WRITE lets it run. False when unknown, or when a running
  // script holds the cache.
  // INFO memory's number_of_cached_scripts / _functions / _libraries.
  int64_t cached_scripts() const { return scripts_count_.load(); }
  int64_t function_count() const { return functions_count_.load(); }
  int64_t library_count() const { return libraries_count_.load(); }
  bool DeclaresNoWrites(const CommandSpec& spec,
                        const std::vector<std::string>& args);
  // Redis' getCommandFlags: the flags the gates before a command (maxmemory,
  // writes on a replica or without enough replicas, a stale replica) judge
  // it by. For EVAL*/FCALL* of a script that declares flags (a shebang or a
  // function's flags) its write, deny-oom and stale flags come from them
  // (scriptFlagsToCmdFlags: write unless no-writes, deny-oom unless
  // allow-oom or no-writes, stale with allow-stale); FUNCTION's are its
  // subcommand's; else the spec's.
  uint32_t CommandFlags(const CommandSpec& spec,
                        const std::vector<std::string>& args);

 private:
  class Host;
  bool PastThreshold() const;
  // The flags the script or function EVAL*/FCALL* runs declares; nullopt
  // for another command, a script without shebang, one not known, or while
  // a running script holds the cache.
  std::optional<uint32_t> DeclaredFlags(const CommandSpec& spec,
                                        const std::vector<std::string>& args);
  // Takes `lock` (shared or exclusive); false after answering -BUSY.
  template <typename LockType>
  bool Lock(LockType& lock, resp::ReplyWriter& reply);
  // Takes exec_mu_ exclusively unless EXEC holds it; false after -BUSY.
  bool LockExclusive(CommandContext& ctx,
                     std::unique_lock<std::shared_mutex>& lock);
  void Eval(CommandContext& ctx, bool sha, bool read_only);
  void Fcall(CommandContext& ctx, bool read_only);
  // Runs `body` as the script or function of `ctx` under the held lock:
  // busy state, the replication scope, blocked clients served after.
  void RunScript(CommandContext& ctx, bool read_only, bool function,
                 std::string_view name, const std::function<void(Host&)>& body);
  // Refuses a script that may write where writes are refused, or over
  // maxmemory without allow-oom (Redis' scriptPrepareForRun); true if the
  // reply was written.
  bool RefuseWrites(CommandContext& ctx, uint32_t flags, bool read_only);
  void Script(CommandContext& ctx);
  void Function(CommandContext& ctx);
  void Kill(CommandContext& ctx, bool function);
  // FUNCTION STATS, without exec_mu_ (it answers during a busy script).
  void Stats(CommandContext& ctx);
  // Refreshes the counts FUNCTION STATS reads; under exec_mu_.
  void Recount();
  // FUNCTION RESTORE of `codes` with policy "append", "replace" or "flush".
  absl::Status Restore(const std::vector<std::string>& codes,
                       const std::string& policy);
  // The libraries' code, in name order.
  std::vector<std::string> LibraryCodes() const;
  // Stores the libraries in the engine, so they survive a restart; under
  // exec_mu_.
  absl::Status Persist();
  // Loads the engine's stored libraries into the (empty) Lua engine.
  void LoadStored();

  QdbServerImpl& server_;
  std::unique_ptr<scripting::LuaEngine> engine_;  // under exec_mu_
  std::atomic<bool> running_{false};
  std::atomic<bool> running_function_{false};  // FCALL, not EVAL
  std::atomic<int64_t> started_ms_{0};
  std::atomic<bool> kill_{false};
  std::atomic<bool> wrote_{false};  // the running script has written
  std::atomic<int64_t> threshold_ms_{5000};
  std::atomic<int64_t> libraries_count_{0};
  std::atomic<int64_t> functions_count_{0};
  std::atomic<int64_t> scripts_count_{0};  // EVAL's cache
  // The running script's name (function or SHA) and command, for FUNCTION
  // STATS from other threads.
  std::mutex info_mu_;
  std::string running_name_;
  std::vector<std::string> running_command_;
};

}  // namespace reborn::server
