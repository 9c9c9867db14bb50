#include "server/scripting.h"

#include <chrono>
#include <mutex>
#include <thread>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "server/qdb_server_impl.h"
#include "spdlog/spdlog.h"

namespace reborn::server {
namespace {

int64_t NowMs() { return absl::GetCurrentTimeNanos() / 1000000; }

constexpr char kBusyError[] =
    "BUSY Redis is busy running a script. You can only call SCRIPT KILL or "
    "SHUTDOWN NOSAVE.";

}  // namespace

// The command side of one script run: what redis.call() may do.
class Scripting::Host final : public scripting::ScriptHost {
 public:
  Host(Scripting& owner, Session& caller, bool read_only)
      : owner_(owner), read_only_(read_only) {
    session_.id = caller.id;
    session_.db = caller.db;
    session_.peer = caller.peer;
    session_.authenticated = true;
    // Blocking commands do not block in a script (as inside EXEC), and
    // blocked clients are served after the script.
    session_.txn = std::make_shared<TransactionState>();
    session_.txn->executing = true;
  }

  Session& session() { return session_; }

  std::string Call(std::vector<std::string>& args, int protocol) override {
    QdbServerImpl& server = owner_.server_;
    const CommandTable::Entry* entry = server.table().Find(args[0]);
    if (entry == nullptr) {
      return "-ERR Unknown Redis command called from script\r\n";
    }
    const CommandSpec& spec = *entry->spec;
    if (!spec.ArityOk(args.size())) {
      return "-ERR Wrong number of args calling Redis command from script\r\n";
    }
    if (spec.has(kCmdNoScript)) {
      return "-ERR This Redis command is not allowed from script\r\n";
    }
    if (spec.has(kCmdWrite)) {
      if (read_only_) {
        return "-ERR Write commands are not allowed from read-only "
               "scripts.\r\n";
      }
      if (!owner_.wrote_.load()) {
        std::string_view error = server.replication().WriteError();
        if (!error.empty())
          return absl::StrCat("-", std::string(error), "\r\n");
      }
      owner_.wrote_.store(true);
    }
    std::string out;
    resp::ReplyWriter writer(&out, protocol);
    session_.protocol = protocol;
    server.Run(session_, *entry, args, writer);
    return out;
  }

  bool ShouldKill() override { return owner_.kill_.load(); }

  void Log(int level, std::string_view message) override {
    switch (level) {
      case 0:
      case 1:
        spdlog::debug("lua: {}", message);
        break;
      case 2:
        spdlog::info("lua: {}", message);
        break;
      default:
        spdlog::warn("lua: {}", message);
        break;
    }
  }

 private:
  Scripting& owner_;
  bool read_only_;
  Session session_;
};

Scripting::Scripting(QdbServerImpl& server)
    : server_(server), engine_(std::make_unique<scripting::LuaEngine>()) {
  Config& config = server_.config();
  threshold_ms_ = config.GetInt("busy-reply-threshold");
  for (const char* name : {"busy-reply-threshold", "lua-time-limit"}) {
    config.OnChange(name, [this, name](const std::string&) {
      threshold_ms_ = server_.config().GetInt(name);
      return absl::OkStatus();
    });
  }
}

Scripting::~Scripting() = default;

bool Scripting::LocksItself(std::string_view name) {
  return name == "eval" || name == "evalsha" || name == "eval_ro" ||
         name == "evalsha_ro" || name == "script";
}

bool Scripting::LockShared(std::shared_lock<std::shared_mutex>& lock,
                           resp::ReplyWriter& reply) {
  if (lock.try_lock()) return true;
  if (!running_.load()) {
    lock.lock();  // EXEC, or a script that is just ending
    return true;
  }
  while (!lock.try_lock()) {
    int64_t threshold = threshold_ms_.load();
    if (running_.load() && threshold > 0 &&
        NowMs() - started_ms_.load() >= threshold) {
      reply.Error(kBusyError);
      return false;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return true;
}

absl::Status Scripting::Register(CommandTable& table) {
  const std::pair<const char*, CommandHandler> handlers[] = {
      {"eval", [this](CommandContext& c) { Eval(c, false, false); }},
      {"evalsha", [this](CommandContext& c) { Eval(c, true, false); }},
      {"eval_ro", [this](CommandContext& c) { Eval(c, false, true); }},
      {"evalsha_ro", [this](CommandContext& c) { Eval(c, true, true); }},
      {"script", [this](CommandContext& c) { Script(c); }},
  };
  for (const auto& [name, handler] : handlers) {
    if (absl::Status s = table.Register(name, handler); !s.ok()) return s;
  }
  return absl::OkStatus();
}

void Scripting::Eval(CommandContext& ctx, bool sha, bool read_only) {
  auto& args = ctx.args;
  int64_t numkeys = 0;
  if (!absl::SimpleAtoi(args[2], &numkeys)) {
    ctx.reply.Error("ERR value is not an integer or out of range");
    return;
  }
  if (numkeys > static_cast<int64_t>(args.size()) - 3) {
    ctx.reply.Error("ERR Number of keys can't be greater than number of args");
    return;
  }
  if (numkeys < 0) {
    ctx.reply.Error("ERR Number of keys can't be negative");
    return;
  }
  // Inside EXEC the lock is already held exclusively.
  const bool in_exec = ctx.session.txn && ctx.session.txn->executing;
  std::unique_lock<std::shared_mutex> lock(server_.exec_mutex(),
                                           std::defer_lock);
  if (!in_exec) lock.lock();
  std::string name;
  if (sha) {
    name = absl::AsciiStrToLower(args[1]);
    if (!engine_->Exists(name)) {
      ctx.reply.Error("NOSCRIPT No matching script. Please use EVAL.");
      return;
    }
  } else {
    absl::StatusOr<std::string> loaded = engine_->Load(args[1]);
    if (!loaded.ok()) {
      ctx.reply.Error(std::string(loaded.status().message()));
      return;
    }
    name = *loaded;
  }
  const uint32_t flags = engine_->FlagsOf(name);
  const bool compat = (flags & scripting::kScriptEvalCompat) != 0;
  if (!compat && !(flags & scripting::kScriptNoWrites)) {
    if (read_only) {
      ctx.reply.Error(
          "ERR Can not execute a script with write flag using *_ro command.");
      return;
    }
    if (!server_.replication().WriteError().empty() &&
        server_.replication().is_replica()) {
      ctx.reply.Error("READONLY You can't write against a read only replica.");
      return;
    }
  }
  const bool ro =
      read_only || (!compat && (flags & scripting::kScriptNoWrites));
  std::span<const std::string> all(args);
  auto keys = all.subspan(3, static_cast<size_t>(numkeys));
  auto argv = all.subspan(3 + static_cast<size_t>(numkeys));
  Host host(*this, ctx.session, ro);
  kill_ = false;
  wrote_ = false;
  started_ms_ = NowMs();
  running_ = true;
  {
    Replication::Scope scope(server_.replication(), /*transaction=*/true);
    engine_->Run(name, keys, argv, host, ctx.reply);
  }
  running_ = false;
  // Clients blocked on keys the script filled are served once it is whole.
  Replication::Scope scope(server_.replication(), /*transaction=*/false);
  for (const auto& [db, key] :
       std::exchange(host.session().txn->to_signal, {})) {
    server_.blocking_.Signal(db, key);
  }
}

void Scripting::Script(CommandContext& ctx) {
  auto& args = ctx.args;
  const std::string sub = absl::AsciiStrToLower(args[1]);
  if (sub == "kill" && args.size() == 2) {
    if (!running_.load()) {
      ctx.reply.Error("NOTBUSY No scripts in execution right now.");
    } else if (wrote_.load()) {
      ctx.reply.Error(
          "UNKILLABLE Sorry the script already executed write commands "
          "against the dataset. You can either wait the script termination "
          "or kill the server in a hard way using the SHUTDOWN NOSAVE "
          "command.");
    } else {
      kill_ = true;
      ctx.reply.Ok();
    }
    return;
  }
  const bool in_exec = ctx.session.txn && ctx.session.txn->executing;
  if (sub == "load" && args.size() == 3) {
    std::unique_lock<std::shared_mutex> lock(server_.exec_mutex(),
                                             std::defer_lock);
    if (!in_exec) lock.lock();
    absl::StatusOr<std::string> loaded = engine_->Load(args[2]);
    if (!loaded.ok()) {
      ctx.reply.Error(std::string(loaded.status().message()));
    } else {
      ctx.reply.Bulk(*loaded);
    }
  } else if (sub == "exists" && args.size() >= 3) {
    std::unique_lock<std::shared_mutex> lock(server_.exec_mutex(),
                                             std::defer_lock);
    if (!in_exec) lock.lock();
    ctx.reply.ArrayHeader(args.size() - 2);
    for (size_t i = 2; i < args.size(); ++i) {
      ctx.reply.Integer(engine_->Exists(args[i]) ? 1 : 0);
    }
  } else if (sub == "flush" && args.size() <= 3) {
    if (args.size() == 3) {
      const std::string mode = absl::AsciiStrToLower(args[2]);
      if (mode != "sync" && mode != "async") {
        ctx.reply.Error("ERR SCRIPT FLUSH only support SYNC|ASYNC option");
        return;
      }
    }
    std::unique_lock<std::shared_mutex> lock(server_.exec_mutex(),
                                             std::defer_lock);
    if (!in_exec) lock.lock();
    engine_->Flush();
    ctx.reply.Ok();
  } else if (sub == "help" && args.size() == 2) {
    ctx.reply.BulkArray({
        "SCRIPT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
        "EXISTS <sha1> [<sha1> ...]",
        "    Return information about the existence of the scripts in the "
        "script cache.",
        "FLUSH [ASYNC|SYNC]",
        "    Flush the Lua scripts cache. Very dangerous on replicas.",
        "    When called without the optional mode argument, the behavior is "
        "determined by the",
        "    lazyfree-lazy-user-flush configuration directive. Valid modes "
        "are:",
        "    * ASYNC: Asynchronously flush the scripts cache.",
        "    * SYNC: Synchronously flush the scripts cache.",
        "KILL",
        "    Kill the currently executing Lua script.",
        "LOAD <script>",
        "    Load a script into the scripts cache without executing it.",
        "HELP",
        "    Prints this help.",
    });
  } else if (sub == "load" || sub == "exists" || sub == "flush" ||
             sub == "kill" || sub == "help") {
    ctx.reply.Error(WrongArityError(absl::StrCat("script|", sub)));
  } else {
    ctx.reply.Error(UnknownSubcommandError("SCRIPT", args[1]));
  }
}

}  // namespace reborn::server
