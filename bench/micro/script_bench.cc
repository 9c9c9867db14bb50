// Micro benchmarks of the qdb-server's scripting path (issue 22): EVALSHA,
// EVAL and FCALL of short scripts next to the plain commands they call,
// driven in process through the server's command handler (no network), on
// the rocksdb and memory engines. The difference between a script row and
// its plain command row is what running it as a script costs.
//
// As qdb-server does after each I/O round, the engine's log is flushed
// every kPipeline commands (a redis-benchmark -P 16 round).
#include <benchmark/benchmark.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "command/session.h"
#include "resp/reply_writer.h"
#include "scripting/sha1.h"
#include "server/qdb_server_impl.h"

namespace reborn {
namespace {

constexpr int kPipeline = 16;

// Keys counter:0..Keys()-1 exist; SCRIPT_BENCH_KEYS sets how many (fewer
// make the setup quick under valgrind --tool=callgrind, which counts the
// instructions of a run where timings on a shared machine are noisy).
int Keys() {
  static const int keys = [] {
    const char* env = std::getenv("SCRIPT_BENCH_KEYS");
    return env != nullptr && std::atoi(env) > 0 ? std::atoi(env) : 100000;
  }();
  return keys;
}

constexpr char kIncrScript[] = "return redis.call('incr', KEYS[1])";
constexpr char kGetScript[] = "return redis.call('get', KEYS[1])";
constexpr char kNoopScript[] = "return 1";
constexpr char kFiveIncrScript[] =
    "for i = 1, 5 do redis.call('incr', KEYS[1]) end\n"
    "return redis.call('get', KEYS[1])";
constexpr char kLibrary[] =
    "#!lua name=benchlib\n"
    "redis.register_function('bench_incr', function(keys, args)\n"
    "  return redis.call('incr', keys[1])\n"
    "end)";

// The server under test, made by Setup() and stopped by Teardown().
struct Bench {
  std::unique_ptr<QdbServer> owner;
  server::QdbServerImpl* server = nullptr;
  std::string dir;
  Session session;
  std::string out;
};

std::unique_ptr<Bench>& Current() {
  static std::unique_ptr<Bench> bench;
  return bench;
}

void Run(Bench& b, std::vector<std::string> args) {
  resp::ReplyWriter reply(&b.out, 2);
  b.server->Handle(b.session, args, reply);
}

void Setup(const benchmark::State& state) {
  static const char* kEngines[2] = {"rocksdb", "memory"};
  const char* engine = kEngines[state.range(0)];
  auto b = std::make_unique<Bench>();
  b->dir = (std::filesystem::temp_directory_path() /
            absl::StrCat("script_bench_", ::getpid(), "_", engine))
               .string();
  std::filesystem::remove_all(b->dir);
  auto created =
      QdbServer::Create({"--port", "0", "--bind", "127.0.0.1", "--dir", b->dir,
                         "--engine", engine, "--loglevel", "warning"});
  if (!created.ok() || !(*created)->Start().ok()) std::abort();
  b->owner = std::move(*created);
  b->server = static_cast<server::QdbServerImpl*>(b->owner.get());
  b->session.id = 1;
  b->session.peer = "127.0.0.1:1";
  b->server->OnConnect(b->session);
  for (const char* script :
       {kIncrScript, kGetScript, kNoopScript, kFiveIncrScript}) {
    Run(*b, {"SCRIPT", "LOAD", script});
  }
  Run(*b, {"FUNCTION", "LOAD", kLibrary});
  for (int i = 0; i < Keys(); ++i) {
    Run(*b, {"SET", absl::StrCat("counter:", i), "1"});
    if (i % kPipeline == 0) b->server->FlushWrites();
  }
  b->server->FlushWrites();
  b->out.clear();
  Current() = std::move(b);
}

void Teardown(const benchmark::State&) {
  Bench& b = *Current();
  b.server->OnDisconnect(b.session);
  b.owner->Stop();
  const std::string dir = b.dir;
  Current().reset();
  std::filesystem::remove_all(dir);
}

// Runs the command `make(key)` builds, on the keys in turn.
template <typename Make>
void Loop(benchmark::State& state, Make make) {
  Bench& b = *Current();
  uint64_t n = 0;
  for (auto _ : state) {
    std::vector<std::string> args = make(
        absl::StrCat("counter:", (n * 7919) % static_cast<uint64_t>(Keys())));
    resp::ReplyWriter reply(&b.out, 2);
    b.server->Handle(b.session, args, reply);
    if (++n % kPipeline == 0) {
      b.server->FlushWrites();
      b.out.clear();
    }
  }
  b.server->FlushWrites();
  b.out.clear();
  state.SetItemsProcessed(state.iterations());
}

std::string Sha(const char* script) { return scripting::Sha1Hex(script); }

void BM_Ping(benchmark::State& state) {
  Loop(state,
       [](const std::string&) { return std::vector<std::string>{"PING"}; });
}
void BM_Incr(benchmark::State& state) {
  Loop(state, [](const std::string& key) {
    return std::vector<std::string>{"INCR", key};
  });
}
void BM_Get(benchmark::State& state) {
  Loop(state, [](const std::string& key) {
    return std::vector<std::string>{"GET", key};
  });
}
void BM_EvalshaNoop(benchmark::State& state) {
  const std::string sha = Sha(kNoopScript);
  Loop(state, [&](const std::string&) {
    return std::vector<std::string>{"EVALSHA", sha, "0"};
  });
}
void BM_EvalshaIncr(benchmark::State& state) {
  const std::string sha = Sha(kIncrScript);
  Loop(state, [&](const std::string& key) {
    return std::vector<std::string>{"EVALSHA", sha, "1", key};
  });
}
void BM_EvalshaGet(benchmark::State& state) {
  const std::string sha = Sha(kGetScript);
  Loop(state, [&](const std::string& key) {
    return std::vector<std::string>{"EVALSHA", sha, "1", key};
  });
}
void BM_EvalshaRoGet(benchmark::State& state) {
  const std::string sha = Sha(kGetScript);
  Loop(state, [&](const std::string& key) {
    return std::vector<std::string>{"EVALSHA_RO", sha, "1", key};
  });
}
void BM_EvalshaFiveIncr(benchmark::State& state) {
  const std::string sha = Sha(kFiveIncrScript);
  Loop(state, [&](const std::string& key) {
    return std::vector<std::string>{"EVALSHA", sha, "1", key};
  });
}
void BM_EvalIncr(benchmark::State& state) {
  Loop(state, [](const std::string& key) {
    return std::vector<std::string>{"EVAL", kIncrScript, "1", key};
  });
}
void BM_FcallIncr(benchmark::State& state) {
  Loop(state, [](const std::string& key) {
    return std::vector<std::string>{"FCALL", "bench_incr", "1", key};
  });
}

// Arg: 0 = rocksdb, 1 = memory. SCRIPT_BENCH_ITERS fixes the iterations
// (one run, no calibration runs: for callgrind's instruction counts).
benchmark::internal::Benchmark* Configure(benchmark::internal::Benchmark* b) {
  b->DenseRange(0, 1)->Setup(Setup)->Teardown(Teardown);
  const char* iters = std::getenv("SCRIPT_BENCH_ITERS");
  if (iters != nullptr && std::atoi(iters) > 0) b->Iterations(std::atoi(iters));
  return b;
}
#define SCRIPT_BENCH(fn) BENCHMARK(fn)->Apply([](auto* b) { Configure(b); })
SCRIPT_BENCH(BM_Ping);
SCRIPT_BENCH(BM_Incr);
SCRIPT_BENCH(BM_Get);
SCRIPT_BENCH(BM_EvalshaNoop);
SCRIPT_BENCH(BM_EvalshaIncr);
SCRIPT_BENCH(BM_EvalshaGet);
SCRIPT_BENCH(BM_EvalshaRoGet);
SCRIPT_BENCH(BM_EvalshaFiveIncr);
SCRIPT_BENCH(BM_EvalIncr);
SCRIPT_BENCH(BM_FcallIncr);
#undef SCRIPT_BENCH

}  // namespace
}  // namespace reborn
