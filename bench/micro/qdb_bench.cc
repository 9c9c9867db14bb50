// Micro benchmarks of the QDB engine: key encoding, and engine Get/Set/Incr
// on each storage backend (single thread and 4 threads).
#include <benchmark/benchmark.h>
#include <unistd.h>

#include <filesystem>
#include <memory>
#include <random>

#include "absl/strings/str_cat.h"
#include "qdb/encoding.h"
#include "reborn/qdb_engine.h"

namespace reborn {
namespace {

void BM_EncodeMetaKey(benchmark::State& state) {
  std::string key = "user:1000:profile";
  for (auto _ : state) {
    benchmark::DoNotOptimize(qdb::EncodeMetaKey(0, key));
  }
}
BENCHMARK(BM_EncodeMetaKey);

void BM_EncodeDecodeStringMetadata(benchmark::State& state) {
  qdb::Metadata m;
  m.value = std::string(static_cast<size_t>(state.range(0)), 'x');
  m.expire_ms = 1700000000000;
  qdb::Metadata out;
  for (auto _ : state) {
    std::string enc = qdb::EncodeMetadata(m);
    benchmark::DoNotOptimize(qdb::DecodeMetadata(enc, &out));
  }
}
BENCHMARK(BM_EncodeDecodeStringMetadata)->Arg(16)->Arg(1024);

void BM_EncodeMemberKey(benchmark::State& state) {
  for (auto _ : state) {
    benchmark::DoNotOptimize(
        qdb::EncodeMemberKey(0, "myhash", 1234567, "field:42"));
  }
}
BENCHMARK(BM_EncodeMemberKey);

// The engine under test: opened and loaded by Setup() before each benchmark
// run (shared by its threads) and closed by Teardown(), so that nothing is
// left for static destruction at exit.
std::unique_ptr<QdbEngine>& Engine() {
  static std::unique_ptr<QdbEngine> engine;
  return engine;
}

void Setup(const benchmark::State& state) {
  const auto kind = static_cast<StorageEngine>(state.range(0));
  const std::string name(StorageEngineName(kind));
  QdbOptions o;
  o.engine = kind;
  o.dir = (std::filesystem::temp_directory_path() /
           absl::StrCat("qdb_bench_", ::getpid(), "_", name))
              .string();
  std::filesystem::remove_all(o.dir);
  o.block_cache_mb = 64;
  Engine() = std::move(*QdbEngine::Open(o));
  for (int i = 0; i < 100000; ++i) {
    (void)Engine()->Set(absl::StrCat("key:", i), std::string(64, 'v'));
  }
}

void Teardown(const benchmark::State& state) {
  const std::string dir = Engine()->options().dir;
  Engine().reset();
  std::filesystem::remove_all(dir);
}

void BM_EngineGet(benchmark::State& state) {
  QdbEngine& e = *Engine();
  std::mt19937 rng(static_cast<unsigned>(state.thread_index()));
  for (auto _ : state) {
    benchmark::DoNotOptimize(e.Get(absl::StrCat("key:", rng() % 100000)));
  }
  state.SetItemsProcessed(state.iterations());
}

void BM_EngineSet(benchmark::State& state) {
  QdbEngine& e = *Engine();
  std::mt19937 rng(static_cast<unsigned>(state.thread_index()) + 7);
  const std::string value(64, 'w');
  for (auto _ : state) {
    benchmark::DoNotOptimize(
        e.Set(absl::StrCat("key:", rng() % 100000), value));
  }
  state.SetItemsProcessed(state.iterations());
}

void BM_EngineIncr(benchmark::State& state) {
  QdbEngine& e = *Engine();
  std::mt19937 rng(static_cast<unsigned>(state.thread_index()) + 13);
  for (auto _ : state) {
    benchmark::DoNotOptimize(e.IncrBy(absl::StrCat("ctr:", rng() % 1000), 1));
  }
  state.SetItemsProcessed(state.iterations());
}

void BM_EngineExecuteGet(benchmark::State& state) {
  QdbEngine& e = *Engine();
  QdbEngine::Context ctx;
  std::mt19937 rng(static_cast<unsigned>(state.thread_index()) + 3);
  for (auto _ : state) {
    benchmark::DoNotOptimize(
        e.Execute(ctx, {"GET", absl::StrCat("key:", rng() % 100000)}));
  }
  state.SetItemsProcessed(state.iterations());
}

// Arg: 0 = rocksdb, 1 = leveldb, 2 = memory.
BENCHMARK(BM_EngineGet)
    ->DenseRange(0, 2)
    ->Threads(1)
    ->Threads(4)
    ->Setup(Setup)
    ->Teardown(Teardown);
BENCHMARK(BM_EngineSet)
    ->DenseRange(0, 2)
    ->Threads(1)
    ->Threads(4)
    ->Setup(Setup)
    ->Teardown(Teardown);
BENCHMARK(BM_EngineIncr)
    ->DenseRange(0, 2)
    ->Threads(1)
    ->Threads(4)
    ->Setup(Setup)
    ->Teardown(Teardown);
BENCHMARK(BM_EngineExecuteGet)
    ->DenseRange(0, 2)
    ->Setup(Setup)
    ->Teardown(Teardown);

}  // namespace
}  // namespace reborn
