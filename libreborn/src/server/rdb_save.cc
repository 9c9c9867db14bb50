#include "server/rdb_save.h"

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <memory>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "command/command_spec.h"
#include "scripting/lua_engine.h"
#include "spdlog/spdlog.h"

namespace reborn::server {
namespace {

int64_t NowMs() { return absl::GetCurrentTimeNanos() / 1000000; }

absl::Status Errno(std::string_view what, const std::string& path) {
  return absl::InternalError(
      absl::StrCat(std::string(what), " ", path, ": ", std::strerror(errno)));
}

struct FileCloser {
  void operator()(std::FILE* f) const {
    if (f) std::fclose(f);
  }
};
using File = std::unique_ptr<std::FILE, FileCloser>;

}  // namespace

RdbSaver::RdbSaver(QdbEngine& engine, Config& config)
    : engine_(engine), config_(config), last_save_s_(NowMs() / 1000) {}

RdbSaver::~RdbSaver() {
  std::thread t;
  {
    absl::MutexLock lock(&mu_);
    t = std::move(thread_);
  }
  if (t.joinable()) t.join();
}

std::string RdbSaver::Path() const {
  return (std::filesystem::path(config_.GetString("dir")) /
          config_.GetString("dbfilename"))
      .string();
}

absl::Status RdbSaver::WriteFile(RdbSnapshot& snapshot,
                                 const std::string& path) {
  std::error_code ec;
  const std::filesystem::path target(path);
  if (target.has_parent_path()) {
    std::filesystem::create_directories(target.parent_path(), ec);
  }
  const std::string tmp =
      (target.parent_path() / absl::StrCat("temp-", ::getpid(), ".rdb"))
          .string();
  File f(std::fopen(tmp.c_str(), "wb"));
  if (!f) return Errno("cannot create", tmp);
  absl::Status s = snapshot.Write([&](std::string_view chunk) {
    if (std::fwrite(chunk.data(), 1, chunk.size(), f.get()) != chunk.size()) {
      return Errno("write error on", tmp);
    }
    return absl::OkStatus();
  });
  if (s.ok() && (std::fflush(f.get()) != 0 || ::fsync(fileno(f.get())) != 0)) {
    s = Errno("cannot sync", tmp);
  }
  if (std::fclose(f.release()) != 0 && s.ok()) s = Errno("cannot close", tmp);
  if (s.ok() && std::rename(tmp.c_str(), path.c_str()) != 0) {
    s = Errno("cannot rename to", path);
  }
  if (!s.ok()) std::remove(tmp.c_str());
  return s;
}

void RdbSaver::Finished(const absl::Status& status, int64_t started_ms, bool bg,
                        uint64_t changes_before) {
  absl::MutexLock lock(&mu_);
  if (bg) {
    in_progress_ = false;
    last_bgsave_ok_ = status.ok();
    last_bgsave_time_s_ = (NowMs() - started_ms) / 1000;
  }
  if (status.ok()) {
    last_save_s_ = NowMs() / 1000;
    ++saves_;
    changes_.fetch_sub(changes_before, std::memory_order_relaxed);
  }
}

absl::Status RdbSaver::Save() {
  {
    absl::MutexLock lock(&mu_);
    if (in_progress_) {
      return absl::FailedPreconditionError(
          "ERR Background save already in progress");
    }
  }
  const int64_t started = NowMs();
  const uint64_t changes_before = changes();
  auto snapshot = engine_.TakeRdbSnapshot();
  absl::Status s =
      snapshot.ok() ? WriteFile(**snapshot, Path()) : snapshot.status();
  if (s.ok()) {
    spdlog::info("DB saved on disk ({} keys, {} ms)",
                 (*snapshot)->keys_written(), NowMs() - started);
  } else {
    spdlog::error("SAVE failed: {}", s.ToString());
  }
  Finished(s, started, false, changes_before);
  return s;
}

absl::Status RdbSaver::BackgroundSave() {
  absl::MutexLock lock(&mu_);
  if (in_progress_) {
    return absl::FailedPreconditionError(
        "ERR Background save already in progress");
  }
  const uint64_t changes_before = changes();
  auto snapshot = engine_.TakeRdbSnapshot();
  if (!snapshot.ok()) return snapshot.status();
  if (thread_.joinable()) thread_.join();  // the previous one has finished
  in_progress_ = true;
  const int64_t started = NowMs();
  thread_ =
      std::thread([this, started, changes_before, path = Path(),
                   snap = std::shared_ptr<RdbSnapshot>(std::move(*snapshot))] {
        absl::Status s = WriteFile(*snap, path);
        if (s.ok()) {
          spdlog::info("Background saving terminated with success ({} keys)",
                       snap->keys_written());
        } else {
          spdlog::error("Background saving error: {}", s.ToString());
        }
        Finished(s, started, true, changes_before);
      });
  return absl::OkStatus();
}

int64_t RdbSaver::last_save_s() {
  absl::MutexLock lock(&mu_);
  return last_save_s_;
}

void RdbSaver::AppendInfo(std::string* out) {
  absl::MutexLock lock(&mu_);
  absl::StrAppend(out, "rdb_changes_since_last_save:", changes(), "\r\n",
                  "rdb_bgsave_in_progress:", in_progress_ ? 1 : 0, "\r\n",
                  "rdb_last_save_time:", last_save_s_, "\r\n",
                  "rdb_last_bgsave_status:", last_bgsave_ok_ ? "ok" : "err",
                  "\r\n", "rdb_last_bgsave_time_sec:", last_bgsave_time_s_,
                  "\r\n", "rdb_saves:", saves_, "\r\n");
}

absl::Status RdbSaver::Import(QdbEngine& engine, const std::string& path,
                              int key_load_delay_us) {
  const int64_t started = NowMs();
  File f(std::fopen(path.c_str(), "rb"));
  if (!f) return Errno("cannot open", path);
  RdbLoadOptions options;
  options.check_functions = scripting::LuaEngine::CheckLibraries;
  options.key_load_delay_us = key_load_delay_us;
  auto load = engine.BeginRdbLoad(options);
  if (!load.ok()) return load.status();
  std::vector<char> buf(1 << 20);
  while (true) {
    const size_t n = std::fread(buf.data(), 1, buf.size(), f.get());
    if (n > 0) {
      absl::Status s = (*load)->Feed(std::string_view(buf.data(), n));
      if (!s.ok()) return s;
    }
    if (n < buf.size()) {
      if (std::ferror(f.get())) return Errno("read error on", path);
      break;
    }
  }
  if (absl::Status s = (*load)->Commit(); !s.ok()) return s;
  const double secs = std::max<int64_t>(1, NowMs() - started) / 1000.0;
  const uint64_t keys = (*load)->keys_loaded();
  const double mb = (*load)->bytes_consumed() / 1048576.0;
  spdlog::info(
      "RDB imported from {}: {} keys, {:.1f} MB in {:.2f} s ({:.0f} keys/s, "
      "{:.1f} MB/s)",
      path, keys, mb, secs, keys / secs, mb / secs);
  return absl::OkStatus();
}

absl::Status RegisterSaveCommands(RdbSaver& saver, CommandTable& table) {
  auto reply_error = [](CommandContext& ctx, const absl::Status& s) {
    const std::string msg(s.message());
    ctx.reply.Error(msg.rfind("ERR ", 0) == 0 ? msg
                                              : absl::StrCat("ERR ", msg));
  };
  absl::Status s =
      table.Register("save", [&saver, reply_error](CommandContext& ctx) {
        absl::Status st = saver.Save();
        if (st.ok()) return ctx.reply.Ok();
        reply_error(ctx, st);
      });
  if (!s.ok()) return s;
  s = table.Register("bgsave", [&saver, reply_error](CommandContext& ctx) {
    // BGSAVE [SCHEDULE]: scheduling is not needed, there is no AOF rewrite.
    if (ctx.args.size() > 2 ||
        (ctx.args.size() == 2 && !EqualsIgnoreCase(ctx.args[1], "schedule"))) {
      return ctx.reply.Error("ERR syntax error");
    }
    absl::Status st = saver.BackgroundSave();
    if (st.ok()) return ctx.reply.SimpleString("Background saving started");
    reply_error(ctx, st);
  });
  if (!s.ok()) return s;
  return table.Register("lastsave", [&saver](CommandContext& ctx) {
    ctx.reply.Integer(saver.last_save_s());
  });
}

}  // namespace reborn::server
