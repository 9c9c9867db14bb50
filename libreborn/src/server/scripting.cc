#include "server/scripting.h"

#include <chrono>
#include <mutex>
#include <thread>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "scripting/function_dump.h"
#include "server/qdb_server_impl.h"
#include "spdlog/spdlog.h"
#include "util/glob.h"

namespace reborn::server {
namespace {

int64_t NowMs() { return absl::GetCurrentTimeNanos() / 1000000; }

constexpr char kBusyError[] =
    "BUSY Redis is busy running a script. You can only call SCRIPT KILL or "
    "SHUTDOWN NOSAVE.";
constexpr char kBusyFunctionError[] =
    "BUSY Redis is busy running a script. You can only call FUNCTION KILL or "
    "SHUTDOWN NOSAVE.";

bool ParseNumkeys(CommandContext& ctx, int64_t* numkeys,
                  const char* not_integer) {
  if (!absl::SimpleAtoi(ctx.args[2], numkeys)) {
    ctx.reply.Error(not_integer);
    return false;
  }
  if (*numkeys > static_cast<int64_t>(ctx.args.size()) - 3) {
    ctx.reply.Error("ERR Number of keys can't be greater than number of args");
    return false;
  }
  if (*numkeys < 0) {
    ctx.reply.Error("ERR Number of keys can't be negative");
    return false;
  }
  return true;
}

}  // namespace

// The command side of one script run: what redis.call() may do.
class Scripting::Host final : public scripting::ScriptHost {
 public:
  Host(Scripting& owner, Session& caller, bool read_only)
      : owner_(owner), read_only_(read_only), poll_io_(caller.poll_io) {
    session_.id = caller.id;
    session_.db = caller.db;
    session_.peer = caller.peer;
    session_.script = true;
    session_.authenticated = true;
    session_.user = caller.user;  // redis.call() runs with the caller's ACL
    // Blocking commands do not block in a script (as inside EXEC), and
    // blocked clients are served after the script.
    session_.txn = std::make_shared<TransactionState>();
    session_.txn->executing = true;
  }

  Session& session() { return session_; }
  // Whether the script called a read-only command: client tracking then
  // remembers the keys the script declared, as Redis does.
  bool read_called() const { return read_called_; }
  void set_allow_oom(bool allow) { allow_oom_ = allow; }

  std::optional<bool> AclCheck(const std::vector<std::string>& args) override {
    QdbServerImpl& server = owner_.server_;
    const CommandTable::Entry* entry = server.table().Find(args[0]);
    if (entry == nullptr) return std::nullopt;
    std::string full_name(entry->spec->name);
    size_t pos = 0;
    return server.CheckAcl(session_, *entry->spec, args, &full_name, &pos,
                           /*log_denial=*/false) == AclDenied::kNone;
  }

  std::string Call(std::vector<std::string>& args, int protocol) override {
    QdbServerImpl& server = owner_.server_;
    const CommandTable::Entry* entry = server.table().Find(args[0]);
    // Redis' scriptCall counts the error of a command it refuses (INFO
    // errorstats, even when redis.pcall catches it) and the command as
    // rejected.
    auto refuse = [&](std::string text) {
      server.CountErrorReply(session_, text);
      last_error_ = text.substr(1, text.find('\r') - 1);
      return text;
    };
    if (entry == nullptr) {
      return refuse("-ERR Unknown Redis command called from script\r\n");
    }
    const CommandSpec& spec = *entry->spec;
    if (std::string refused = Refuse(server, spec, args); !refused.empty()) {
      server.command_stats_.For(spec).rejected.fetch_add(
          1, std::memory_order_relaxed);
      return refuse(std::move(refused));
    }
    if (spec.has(kCmdWrite)) owner_.wrote_.store(true);
    if (spec.has(kCmdReadOnly)) read_called_ = true;
    std::string out;
    resp::ReplyWriter writer(&out, protocol);
    session_.protocol = protocol;
    server.Run(session_, *entry, args, writer);
    if (!out.empty() && out[0] == '-') {
      last_error_ = out.substr(1, out.find('\r') - 1);
    }
    return out;
  }

  bool ShouldKill() override {
    // Past busy-reply-threshold the clients of this I/O thread are served
    // in between (they get -BUSY; SCRIPT KILL gets through).
    if (!owner_.kill_.load() && poll_io_ && owner_.PastThreshold()) poll_io_();
    return owner_.kill_.load();
  }
  // The text of the last error a call answered (INFO errorstats).
  const std::string& last_error() const { return last_error_; }

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
  // What refuses a known command before it runs (Redis' scriptCall checks,
  // in its order): the error reply, or "" to run it.
  std::string Refuse(QdbServerImpl& server, const CommandSpec& spec,
                     std::vector<std::string>& args) {
    // A container with a subcommand table (CLUSTER) is judged by its
    // subcommand, which Redis' lookupCommand resolves: unknown, it is an
    // unknown command.
    const CommandSpec* sub = FindSubcommandSpec(spec, args);
    if (sub == nullptr && args.size() > 1 &&
        !SubcommandSpecs(spec.name).empty()) {
      return "-ERR Unknown Redis command called from script\r\n";
    }
    const CommandSpec& judged = sub != nullptr ? *sub : spec;
    if (!judged.ArityOk(args.size())) {
      return "-ERR Wrong number of args calling Redis command from script\r\n";
    }
    if (judged.has(kCmdNoScript)) {
      return "-ERR This Redis command is not allowed from script\r\n";
    }
    std::string full_name(spec.name);
    size_t pos = 0;
    switch (server.CheckAcl(session_, spec, args, &full_name, &pos)) {
      case AclDenied::kNone:
        break;
      case AclDenied::kCommand:
        return "-ERR The user executing the script can't run this command or "
               "subcommand\r\n";
      case AclDenied::kKey:
        return "-ERR The user executing the script can't access at least one "
               "of the keys mentioned in the command arguments\r\n";
      default:
        return "-ERR The user executing the script can't publish to the "
               "channel mentioned in the command\r\n";
    }
    // PUBLISH, PFCOUNT...: what may replicate counts as a write here too.
    if (read_only_ && ClientPause::MayReplicate(spec)) {
      return "-ERR Write commands are not allowed from read-only "
             "scripts.\r\n";
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
    }
    // Redis' scriptVerifyOOM: over maxmemory only the script's first write
    // may be refused (after one it cannot stop halfway).
    if (spec.has(kCmdDenyOom) && !allow_oom_ && !owner_.wrote_.load() &&
        server.maxmemory_->Exceeded()) {
      return "-OOM command not allowed when used memory > 'maxmemory'.\r\n";
    }
    return "";
  }

 private:
  Scripting& owner_;
  bool read_only_;
  bool read_called_ = false;
  bool allow_oom_ = false;  // the allow-oom flag
  std::function<void()> poll_io_;
  std::string last_error_;
  Session session_;
};

Scripting::Scripting(QdbServerImpl& server)
    : server_(server), engine_(std::make_unique<scripting::LuaEngine>()) {
  Config& config = server_.config();
  threshold_ms_ = config.GetInt("busy-reply-threshold");
  // lua-time-limit is an alias of it (config.cc).
  config.OnChange("busy-reply-threshold", [this](const std::string&) {
    threshold_ms_ = server_.config().GetInt("busy-reply-threshold");
    return absl::OkStatus();
  });
  LoadStored();
}

void Scripting::LoadStored() {
  absl::StatusOr<std::vector<std::string>> codes =
      server_.engine().FunctionLibraries();
  if (!codes.ok()) {
    spdlog::error("function libraries: {}", codes.status().ToString());
    return;
  }
  for (const std::string& code : *codes) {
    // An RDB file's libraries were checked before the file was accepted
    // (RdbLoadOptions::check_functions, as Redis refuses the file); one
    // stored that does not load any more is left out, not the data.
    if (absl::StatusOr<std::string> lib = engine_->LoadLibrary(code, true);
        !lib.ok()) {
      spdlog::error("function libraries: a library does not load: {}",
                    lib.status().ToString());
    }
  }
  Recount();
}

void Scripting::ReloadLibraries() {
  std::unique_lock<std::shared_mutex> lock(server_.exec_mutex());
  engine_->FlushLibraries();
  LoadStored();
}

std::vector<std::string> Scripting::LibraryCodes() const {
  std::vector<std::string> codes;
  for (const auto& [name, lib] : engine_->libraries())
    codes.push_back(lib.code);
  return codes;
}

absl::Status Scripting::Persist() {
  absl::Status s = server_.engine().SetFunctionLibraries(LibraryCodes());
  if (!s.ok()) spdlog::error("storing function libraries: {}", s.ToString());
  return s;
}

Scripting::~Scripting() = default;

bool Scripting::LocksItself(std::string_view name) {
  return name == "eval" || name == "evalsha" || name == "eval_ro" ||
         name == "evalsha_ro" || name == "script" || name == "fcall" ||
         name == "fcall_ro" || name == "function";
}

bool Scripting::PastThreshold() const {
  const int64_t threshold = threshold_ms_.load();
  return running_.load() && threshold > 0 &&
         NowMs() - started_ms_.load() >= threshold;
}

bool Scripting::RefuseBusy(resp::ReplyWriter& reply) {
  if (!PastThreshold()) return false;
  reply.Error(running_function_.load() ? kBusyFunctionError : kBusyError);
  return true;
}

template <typename LockType>
bool Scripting::Lock(LockType& lock, resp::ReplyWriter& reply) {
  if (lock.try_lock()) return true;
  if (!running_.load()) {
    lock.lock();  // EXEC, or a script that is just ending
    return true;
  }
  while (!lock.try_lock()) {
    if (RefuseBusy(reply)) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return true;
}

bool Scripting::LockShared(std::shared_lock<std::shared_mutex>& lock,
                           resp::ReplyWriter& reply) {
  return Lock(lock, reply);
}

bool Scripting::LockExclusive(CommandContext& ctx,
                              std::unique_lock<std::shared_mutex>& lock) {
  if (ctx.session.txn && ctx.session.txn->executing) return true;
  return Lock(lock, ctx.reply);
}

absl::Status Scripting::Register(CommandTable& table) {
  const std::pair<const char*, CommandHandler> handlers[] = {
      {"eval", [this](CommandContext& c) { Eval(c, false, false); }},
      {"evalsha", [this](CommandContext& c) { Eval(c, true, false); }},
      {"eval_ro", [this](CommandContext& c) { Eval(c, false, true); }},
      {"evalsha_ro", [this](CommandContext& c) { Eval(c, true, true); }},
      {"script", [this](CommandContext& c) { Script(c); }},
      {"fcall", [this](CommandContext& c) { Fcall(c, false); }},
      {"fcall_ro", [this](CommandContext& c) { Fcall(c, true); }},
      {"function", [this](CommandContext& c) { Function(c); }},
  };
  for (const auto& [name, handler] : handlers) {
    if (absl::Status s = table.Register(name, handler); !s.ok()) return s;
  }
  return absl::OkStatus();
}

bool Scripting::RefuseWrites(CommandContext& ctx, uint32_t flags,
                             bool read_only) {
  const bool compat = (flags & scripting::kScriptEvalCompat) != 0;
  if (compat || (flags & scripting::kScriptNoWrites)) return false;
  if (read_only) {
    ctx.reply.Error(
        "ERR Can not execute a script with write flag using *_ro command.");
    return true;
  }
  if (server_.replication().is_replica() &&
      !server_.replication().WriteError().empty()) {
    ctx.reply.Error("READONLY You can't write against a read only replica.");
    return true;
  }
  // min-replicas-to-write (the gate before the command judged it by the
  // same flags when it could read them).
  if (std::string_view error = server_.replication().WriteError();
      !error.empty()) {
    ctx.reply.Error(error);
    return true;
  }
  // scriptPrepareForRun: over maxmemory a script that may write runs only
  // with allow-oom, whatever it would do.
  if ((flags & scripting::kScriptAllowOom) == 0 &&
      server_.maxmemory_->Exceeded()) {
    ctx.reply.Error(
        "OOM allow-oom flag is not set on the script, can not run it when "
        "used memory > 'maxmemory'");
    return true;
  }
  return false;
}

void Scripting::RunScript(CommandContext& ctx, bool read_only, bool function,
                          std::string_view name,
                          const std::function<void(Host&)>& body) {
  Host host(*this, ctx.session, read_only);
  {
    std::lock_guard<std::mutex> info(info_mu_);
    running_name_ = std::string(name);
    running_command_ = ctx.args;
  }
  kill_ = false;
  wrote_ = false;
  started_ms_ = NowMs();
  running_function_ = function;
  running_ = true;
  const size_t mark = ctx.reply.buffer()->size();
  {
    Replication::Scope scope(server_.replication(), /*transaction=*/true);
    body(host);
  }
  running_ = false;
  // An error raised by redis.call() was counted when the call answered it:
  // as redis-server, the script's reply does not count it again.
  std::string_view reply = std::string_view(*ctx.reply.buffer()).substr(mark);
  if (!host.last_error().empty() && reply.size() > 1 && reply[0] == '-' &&
      reply.substr(1).starts_with(host.last_error())) {
    ctx.session.error_counted = true;
  }
  if (ctx.session.tracking && host.read_called()) {
    server_.tracking().RememberKeys(ctx.session, ctx.spec, ctx.args);
  }
  // Clients blocked on keys the script filled are served once it is whole.
  Replication::Scope scope(server_.replication(), /*transaction=*/false);
  for (const auto& [db, key] :
       std::exchange(host.session().txn->to_signal, {})) {
    server_.blocking_.Signal(db, key);
  }
}

std::optional<uint32_t> Scripting::DeclaredFlags(
    const CommandSpec& spec, const std::vector<std::string>& args) {
  if (args.size() < 2) return std::nullopt;
  const std::string_view name = spec.name;
  uint32_t flags = 0;
  if (name == "eval" || name == "eval_ro") {
    size_t skip = 0;
    if (!scripting::ParseShebang(args[1], &flags, &skip).ok()) {
      return std::nullopt;
    }
  } else if (name == "evalsha" || name == "evalsha_ro" || name == "fcall" ||
             name == "fcall_ro") {
    // The caches are touched under exec_mu_; a running script holds it.
    std::shared_lock<std::shared_mutex> lock(server_.exec_mutex(),
                                             std::try_to_lock);
    if (!lock.owns_lock()) return std::nullopt;
    if (name[0] == 'e') {
      const std::string sha = absl::AsciiStrToLower(args[1]);
      if (!engine_->Exists(sha)) return std::nullopt;
      flags = engine_->FlagsOf(sha);
    } else {
      const scripting::FunctionInfo* f = engine_->FindFunction(args[1]);
      if (f == nullptr) return std::nullopt;
      flags = f->flags;
    }
  } else {
    return std::nullopt;
  }
  if (flags & scripting::kScriptEvalCompat) return std::nullopt;
  return flags;
}

bool Scripting::DeclaresNoWrites(const CommandSpec& spec,
                                 const std::vector<std::string>& args) {
  std::optional<uint32_t> flags = DeclaredFlags(spec, args);
  return flags && (*flags & scripting::kScriptNoWrites) != 0;
}

uint32_t Scripting::CommandFlags(const CommandSpec& spec,
                                 const std::vector<std::string>& args) {
  if (const CommandSpec* sub = FindSubcommandSpec(spec, args)) {
    return sub->flags;  // CLUSTER's subcommands: stale, admin...
  }
  if (spec.name == "function" && args.size() > 1) {
    // The FUNCTION container's flags are its subcommands' in Redis: LOAD
    // and RESTORE write and are deny-oom, DELETE and FLUSH write.
    const std::string sub = absl::AsciiStrToLower(args[1]);
    if (sub == "load" || sub == "restore") {
      return spec.flags | kCmdWrite | kCmdDenyOom;
    }
    if (sub == "delete" || sub == "flush") return spec.flags | kCmdWrite;
    return spec.flags;
  }
  std::optional<uint32_t> script = DeclaredFlags(spec, args);
  if (!script) return spec.flags;
  uint32_t flags = spec.flags & ~(kCmdStale | kCmdDenyOom | kCmdWrite);
  const bool no_writes = (*script & scripting::kScriptNoWrites) != 0;
  if (!no_writes && (*script & scripting::kScriptAllowOom) == 0) {
    flags |= kCmdDenyOom;
  }
  if (!no_writes) flags |= kCmdWrite;
  if (*script & scripting::kScriptAllowStale) flags |= kCmdStale;
  return flags;
}

void Scripting::Eval(CommandContext& ctx, bool sha, bool read_only) {
  auto& args = ctx.args;
  int64_t numkeys = 0;
  if (!ParseNumkeys(ctx, &numkeys,
                    "ERR value is not an integer or out of range")) {
    return;
  }
  std::unique_lock<std::shared_mutex> lock(server_.exec_mutex(),
                                           std::defer_lock);
  if (!LockExclusive(ctx, lock)) return;
  // One cache lookup: the script's flags and compiled function.
  const scripting::LuaEngine::Script* script = nullptr;
  if (sha) {
    script = engine_->Find(args[1]);
    if (script == nullptr) {
      ctx.reply.Error("NOSCRIPT No matching script. Please use EVAL.");
      return;
    }
  } else {
    absl::StatusOr<std::string> loaded = engine_->Load(args[1]);
    scripts_count_ = static_cast<int64_t>(engine_->size());
    if (!loaded.ok()) {
      ctx.reply.Error(std::string(loaded.status().message()));
      return;
    }
    script = engine_->Find(*loaded);
  }
  const std::string& name = script->sha;
  const uint32_t flags = script->flags;
  if (RefuseWrites(ctx, flags, read_only)) return;
  const bool compat = (flags & scripting::kScriptEvalCompat) != 0;
  const bool ro =
      read_only || (!compat && (flags & scripting::kScriptNoWrites));
  std::span<const std::string> all(args);
  auto keys = all.subspan(3, static_cast<size_t>(numkeys));
  auto argv = all.subspan(3 + static_cast<size_t>(numkeys));
  RunScript(ctx, ro, /*function=*/false, name, [&](Host& host) {
    host.set_allow_oom((flags & scripting::kScriptAllowOom) != 0);
    engine_->Run(*script, keys, argv, host, ctx.reply);
  });
}

void Scripting::Fcall(CommandContext& ctx, bool read_only) {
  auto& args = ctx.args;
  int64_t numkeys = 0;
  if (!ParseNumkeys(ctx, &numkeys, "ERR Bad number of keys provided")) return;
  std::unique_lock<std::shared_mutex> lock(server_.exec_mutex(),
                                           std::defer_lock);
  if (!LockExclusive(ctx, lock)) return;
  const scripting::FunctionInfo* f = engine_->FindFunction(args[1]);
  if (f == nullptr) {
    ctx.reply.Error("ERR Function not found");
    return;
  }
  if (RefuseWrites(ctx, f->flags, read_only)) return;
  const bool ro = read_only || (f->flags & scripting::kScriptNoWrites);
  const std::string name = f->name;
  std::span<const std::string> all(args);
  auto keys = all.subspan(3, static_cast<size_t>(numkeys));
  auto argv = all.subspan(3 + static_cast<size_t>(numkeys));
  const bool allow_oom = (f->flags & scripting::kScriptAllowOom) != 0;
  RunScript(ctx, ro, /*function=*/true, name, [&](Host& host) {
    host.set_allow_oom(allow_oom);
    engine_->CallFunction(name, keys, argv, host, ctx.reply);
  });
}

void Scripting::Kill(CommandContext& ctx, bool function) {
  if (!running_.load()) {
    ctx.reply.Error("NOTBUSY No scripts in execution right now.");
  } else if (running_function_.load() != function) {
    // The other kind is running: its BUSY text names its KILL.
    ctx.reply.Error(running_function_.load() ? kBusyFunctionError : kBusyError);
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
}

void Scripting::Function(CommandContext& ctx) {
  auto& args = ctx.args;
  const std::string sub = absl::AsciiStrToLower(args[1]);
  if (sub == "kill" && args.size() == 2) {
    Kill(ctx, /*function=*/true);
    return;
  }
  if (sub == "stats" && args.size() == 2) {
    Stats(ctx);  // answers while a script is busy, as in Redis
    return;
  }
  std::unique_lock<std::shared_mutex> lock(server_.exec_mutex(),
                                           std::defer_lock);
  if (!LockExclusive(ctx, lock)) return;
  // FUNCTION STATS reads the counts without exec_mu_.
  struct Recount {
    Scripting& owner;
    ~Recount() { owner.Recount(); }
  } recount{*this};
  // Changes are stored (a failure is the reply) and replicate as the
  // command itself, as in Redis.
  auto stored = [&]() {
    absl::Status s = Persist();
    if (!s.ok()) ctx.reply.Error(absl::StrCat("ERR ", s.message()));
    return s.ok();
  };
  auto replicate = [&](size_t mark) {
    const std::string& out = *ctx.reply.buffer();
    if (out.size() > mark && out[mark] != '-') {
      Replication::Scope scope(server_.replication(), /*transaction=*/false);
      server_.replication().Record(ctx.session.db, args,
                                   std::string_view(out).substr(mark));
    }
  };
  const size_t mark = ctx.reply.buffer()->size();
  // LOAD and RESTORE are deny-oom subcommands in Redis. Inside EXEC (and
  // for the master's stream, which runs as inside EXEC) nothing is refused
  // halfway, as in Redis.
  if ((sub == "load" || sub == "restore") &&
      !(ctx.session.txn && ctx.session.txn->executing) &&
      server_.maxmemory_->Exceeded()) {
    ctx.reply.Error("OOM command not allowed when used memory > 'maxmemory'.");
    return;
  }
  if (sub == "load" && args.size() >= 3) {
    bool replace = false;
    size_t pos = 2;
    for (; pos + 1 < args.size(); ++pos) {
      if (absl::AsciiStrToLower(args[pos]) == "replace") {
        replace = true;
      } else {
        ctx.reply.Error(absl::StrCat("ERR Unknown option given: ", args[pos]));
        return;
      }
    }
    absl::StatusOr<std::string> lib = engine_->LoadLibrary(args[pos], replace);
    if (!lib.ok()) {
      ctx.reply.Error(std::string(lib.status().message()));
      return;
    }
    if (!stored()) return;
    ctx.reply.Bulk(*lib);
    replicate(mark);
  } else if (sub == "delete" && args.size() == 3) {
    if (!engine_->DeleteLibrary(args[2])) {
      ctx.reply.Error("ERR Library not found");
      return;
    }
    if (!stored()) return;
    ctx.reply.Ok();
    replicate(mark);
  } else if (sub == "flush" && args.size() <= 3) {
    if (args.size() == 3) {
      const std::string mode = absl::AsciiStrToLower(args[2]);
      if (mode != "sync" && mode != "async") {
        ctx.reply.Error("ERR FUNCTION FLUSH only supports SYNC|ASYNC option");
        return;
      }
    }
    engine_->FlushLibraries();
    if (!stored()) return;
    ctx.reply.Ok();
    replicate(mark);
  } else if (sub == "list") {
    bool with_code = false;
    std::string pattern;
    bool has_pattern = false;
    for (size_t i = 2; i < args.size(); ++i) {
      // Each option once (Redis' functionListCommand).
      const std::string opt = absl::AsciiStrToLower(args[i]);
      if (opt == "withcode" && !with_code) {
        with_code = true;
      } else if (opt == "libraryname" && !has_pattern) {
        if (i + 1 >= args.size()) {
          ctx.reply.Error("ERR library name argument was not given");
          return;
        }
        pattern = args[++i];
        has_pattern = true;
      } else {
        ctx.reply.Error(absl::StrCat("ERR Unknown argument ", args[i]));
        return;
      }
    }
    std::vector<const scripting::Library*> libs;
    for (const auto& [name, lib] : engine_->libraries()) {
      if (!has_pattern || GlobMatch(pattern, name, false)) {
        libs.push_back(&lib);
      }
    }
    resp::ReplyWriter& r = ctx.reply;
    r.ArrayHeader(libs.size());
    for (const scripting::Library* lib : libs) {
      r.MapHeader(with_code ? 4 : 3);
      r.Bulk("library_name");
      r.Bulk(lib->name);
      r.Bulk("engine");
      r.Bulk("LUA");
      r.Bulk("functions");
      r.ArrayHeader(lib->functions.size());
      for (const scripting::FunctionInfo& f : lib->functions) {
        r.MapHeader(3);
        r.Bulk("name");
        r.Bulk(f.name);
        r.Bulk("description");
        if (f.has_description) {
          r.Bulk(f.description);
        } else {
          r.Null();
        }
        r.Bulk("flags");
        std::vector<std::string> names;
        if (f.flags & scripting::kScriptNoWrites) names.push_back("no-writes");
        if (f.flags & scripting::kScriptAllowOom) names.push_back("allow-oom");
        if (f.flags & scripting::kScriptAllowStale) {
          names.push_back("allow-stale");
        }
        if (f.flags & scripting::kScriptNoCluster) {
          names.push_back("no-cluster");
        }
        if (f.flags & scripting::kScriptAllowCrossSlot) {
          names.push_back("allow-cross-slot-keys");
        }
        r.SetHeader(names.size());
        for (const auto& n : names) r.SimpleString(n);
      }
      if (with_code) {
        r.Bulk("library_code");
        r.Bulk(lib->code);
      }
    }
  } else if (sub == "dump" && args.size() == 2) {
    ctx.reply.Bulk(scripting::EncodeFunctionDump(
        LibraryCodes(), server_.config().GetBool("rdbcompression")));
  } else if ((sub == "restore" && args.size() > 4) ||
             (sub == "flush" && args.size() > 3)) {
    ctx.reply.Error(absl::StrCat(
        "ERR unknown subcommand or wrong number of arguments for '", args[1],
        "'. Try FUNCTION HELP."));
  } else if (sub == "restore" && (args.size() == 3 || args.size() == 4)) {
    std::string policy = args.size() == 4 ? absl::AsciiStrToLower(args[3])
                                          : std::string("append");
    if (policy != "append" && policy != "flush" && policy != "replace") {
      ctx.reply.Error(
          "ERR Wrong restore policy given, value should be either FLUSH, "
          "APPEND or REPLACE.");
      return;
    }
    absl::StatusOr<std::vector<std::string>> codes =
        scripting::DecodeFunctionDump(args[2]);
    if (!codes.ok()) {
      ctx.reply.Error(std::string(codes.status().message()));
      return;
    }
    if (absl::Status s = Restore(*codes, policy); !s.ok()) {
      ctx.reply.Error(std::string(s.message()));
      return;
    }
    if (!stored()) return;
    ctx.reply.Ok();
    replicate(mark);
  } else if (sub == "load" || sub == "delete" || sub == "flush" ||
             sub == "dump" || sub == "restore" || sub == "stats" ||
             sub == "kill") {
    ctx.reply.Error(WrongArityError(absl::StrCat("function|", sub)));
  } else {
    ctx.reply.Error(UnknownSubcommandError("FUNCTION", args[1]));
  }
}

void Scripting::Recount() {
  int64_t functions = 0;
  for (const auto& [name, lib] : engine_->libraries()) {
    functions += static_cast<int64_t>(lib.functions.size());
  }
  libraries_count_ = static_cast<int64_t>(engine_->libraries().size());
  functions_count_ = functions;
}

void Scripting::Stats(CommandContext& ctx) {
  resp::ReplyWriter& r = ctx.reply;
  r.MapHeader(2);
  r.Bulk("running_script");
  if (running_.load()) {
    std::lock_guard<std::mutex> info(info_mu_);
    r.MapHeader(3);
    r.Bulk("name");
    r.Bulk(running_name_);
    r.Bulk("command");
    r.ArrayHeader(running_command_.size());
    for (const std::string& arg : running_command_) r.Bulk(arg);
    r.Bulk("duration_ms");
    r.Integer(NowMs() - started_ms_.load());
  } else {
    r.Null();
  }
  r.Bulk("engines");
  r.MapHeader(1);
  r.Bulk("LUA");
  r.MapHeader(2);
  r.Bulk("libraries_count");
  r.Integer(libraries_count_.load());
  r.Bulk("functions_count");
  r.Integer(functions_count_.load());
}

absl::Status Scripting::Restore(const std::vector<std::string>& codes,
                                const std::string& policy) {
  // All or nothing, as Redis' FUNCTION RESTORE: on an error the libraries
  // from before are put back.
  const std::vector<std::string> before = LibraryCodes();
  if (policy == "flush") engine_->FlushLibraries();
  absl::Status status;
  for (const std::string& code : codes) {
    absl::StatusOr<std::string> lib =
        engine_->LoadLibrary(code, policy == "replace");
    if (!lib.ok()) {
      status = lib.status();
      break;
    }
  }
  if (status.ok()) return status;
  // libraryJoin's text for an APPEND clash has no quotes around the name.
  const std::string msg(status.message());
  const std::string kPrefix = "ERR Library '";
  const std::string kSuffix = "' already exists";
  if (absl::StartsWith(msg, kPrefix) && absl::EndsWith(msg, kSuffix)) {
    status = absl::InvalidArgumentError(
        absl::StrCat("ERR Library ",
                     msg.substr(kPrefix.size(),
                                msg.size() - kPrefix.size() - kSuffix.size()),
                     " already exists"));
  }
  engine_->FlushLibraries();
  for (const std::string& code : before) {
    if (absl::StatusOr<std::string> lib = engine_->LoadLibrary(code, false);
        !lib.ok()) {
      spdlog::error("FUNCTION RESTORE: reloading library failed: {}",
                    lib.status().ToString());
    }
  }
  return status;
}

void Scripting::Script(CommandContext& ctx) {
  auto& args = ctx.args;
  const std::string sub = absl::AsciiStrToLower(args[1]);
  if (sub == "kill" && args.size() == 2) {
    Kill(ctx, /*function=*/false);
    return;
  }
  if (sub == "load" && args.size() == 3) {
    std::unique_lock<std::shared_mutex> lock(server_.exec_mutex(),
                                             std::defer_lock);
    if (!LockExclusive(ctx, lock)) return;
    absl::StatusOr<std::string> loaded = engine_->Load(args[2]);
    scripts_count_ = static_cast<int64_t>(engine_->size());
    if (!loaded.ok()) {
      ctx.reply.Error(std::string(loaded.status().message()));
    } else {
      ctx.reply.Bulk(*loaded);
    }
  } else if (sub == "exists" && args.size() >= 3) {
    std::unique_lock<std::shared_mutex> lock(server_.exec_mutex(),
                                             std::defer_lock);
    if (!LockExclusive(ctx, lock)) return;
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
    if (!LockExclusive(ctx, lock)) return;
    engine_->Flush();
    scripts_count_ = 0;
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
