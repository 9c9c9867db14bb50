// DEL of a hash / set / zset / list with 10 .. 1,000,000 members on the
// rocksdb engine. DEL is a version bump (the metadata record goes; members
// become garbage for the compaction filter), so its time must not grow with
// the member count.
//
// Each benchmark instance opens a fresh engine and builds its one big key
// once, in a single write batch through the type's own PutAll (no 1M
// commands). Every iteration then re-creates the metadata record of that
// same version, untimed, and times one DEL through QdbEngine::Execute; the
// members stay on disk throughout (rocksdb only drops them on compaction).
#include <benchmark/benchmark.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "qdb/engine_access.h"
#include "qdb/engine_core.h"
#include "qdb/keyspace.h"
#include "reborn/qdb_engine.h"

namespace reborn {
namespace {

enum class Kind { kHash = 0, kSet = 1, kZSet = 2, kList = 3 };

constexpr char kKey[] = "big";

struct BigKey {
  std::unique_ptr<QdbEngine> engine;
  qdb::Metadata meta;
};

BigKey& Fixture() {
  static BigKey fixture;
  return fixture;
}

std::string Member(int64_t i) { return absl::StrCat("member:", i); }

void Setup(const benchmark::State& state) {
  const auto kind = static_cast<Kind>(state.range(0));
  const int64_t n = state.range(1);
  QdbOptions o;
  o.engine = StorageEngine::kRocksDb;
  o.dir = (std::filesystem::temp_directory_path() /
           absl::StrCat("qdb_del_bench_", ::getpid()))
              .string();
  std::filesystem::remove_all(o.dir);
  o.block_cache_mb = 64;
  o.write_buffer_mb = 64;
  BigKey& f = Fixture();
  absl::StatusOr<std::unique_ptr<QdbEngine>> engine = QdbEngine::Open(o);
  if (!engine.ok()) {
    std::fprintf(stderr, "open: %s\n", engine.status().ToString().c_str());
    std::abort();
  }
  f.engine = std::move(*engine);
  qdb::EngineCore& core = qdb::CoreOf(*f.engine);
  qdb::Txn txn(&core.keyspace());
  f.meta = qdb::Metadata{};
  switch (kind) {
    case Kind::kHash: {
      std::vector<qdb::MemberPair> fields;
      fields.reserve(n);
      for (int64_t i = 0; i < n; ++i) fields.emplace_back(Member(i), "value");
      core.hashes().PutAll(txn, 0, kKey, fields, &f.meta);
      break;
    }
    case Kind::kSet:
    case Kind::kList: {
      std::vector<std::string> items;
      items.reserve(n);
      for (int64_t i = 0; i < n; ++i) items.push_back(Member(i));
      if (kind == Kind::kSet) {
        core.sets().PutAll(txn, 0, kKey, items, &f.meta);
      } else {
        core.lists().PutAll(txn, 0, kKey, items, &f.meta);
      }
      break;
    }
    case Kind::kZSet: {
      std::vector<qdb::ScoredMember> members;
      members.reserve(n);
      for (int64_t i = 0; i < n; ++i) {
        members.push_back({Member(i), static_cast<double>(i)});
      }
      core.zsets().PutAll(txn, 0, kKey, members, &f.meta);
      break;
    }
  }
  if (absl::Status s = txn.Commit(); !s.ok()) {
    std::fprintf(stderr, "build: %s\n", s.ToString().c_str());
    std::abort();
  }
}

void Teardown(const benchmark::State&) {
  BigKey& f = Fixture();
  const std::string dir = f.engine->options().dir;
  f.engine.reset();
  std::filesystem::remove_all(dir);
}

// Args: kind (0 hash, 1 set, 2 zset, 3 list), member count.
void BM_DelBigKey(benchmark::State& state) {
  BigKey& f = Fixture();
  qdb::Keyspace& ks = qdb::CoreOf(*f.engine).keyspace();
  QdbEngine::Context ctx;
  const std::vector<std::string> del = {"DEL", kKey};
  for (auto _ : state) {
    qdb::Txn txn(&ks);
    txn.PutMeta(0, kKey, nullptr, f.meta);
    if (absl::Status s = txn.Commit(); !s.ok()) {
      state.SkipWithError(s.ToString().c_str());
      break;
    }
    const auto start = std::chrono::steady_clock::now();
    Reply r = f.engine->Execute(ctx, del);
    const auto end = std::chrono::steady_clock::now();
    if (r.type != Reply::Type::kInteger || r.integer != 1) {
      state.SkipWithError("DEL did not delete the key");
      break;
    }
    state.SetIterationTime(std::chrono::duration<double>(end - start).count());
  }
  state.counters["members"] = static_cast<double>(f.meta.size);
}

BENCHMARK(BM_DelBigKey)
    ->ArgNames({"kind", "members"})
    ->ArgsProduct({{0, 1, 2, 3}, {10, 1000, 100000, 1000000}})
    ->UseManualTime()
    ->Unit(benchmark::kMicrosecond)
    ->MinTime(0.2)
    ->Setup(Setup)
    ->Teardown(Teardown);

}  // namespace
}  // namespace reborn
