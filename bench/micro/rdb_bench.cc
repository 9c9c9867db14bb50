// Throughput of the rdb library: DUMP encode/decode per type, the streaming
// RDB reader and writer, CRC-64 and LZF.
#include <benchmark/benchmark.h>

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "rdb/crc64.h"
#include "rdb/dump.h"
#include "rdb/lzf.h"
#include "rdb/rdb_reader.h"
#include "rdb/rdb_writer.h"

namespace reborn::rdb {
namespace {

Value MakeValue(int kind, int n) {
  std::vector<std::string> items;
  for (int i = 0; i < n; ++i)
    items.push_back(absl::StrCat("member:", i * 7919));
  switch (kind) {
    case 0:
      return Value::List(items);
    case 1:
      return Value::Set(items);
    case 2: {
      std::vector<std::pair<std::string, double>> z;
      for (int i = 0; i < n; ++i) z.emplace_back(items[i], i * 0.25);
      return Value::Zset(z);
    }
    case 3: {
      std::vector<std::pair<std::string, std::string>> h;
      for (int i = 0; i < n; ++i)
        h.emplace_back(items[i], absl::StrCat("v", i));
      return Value::Hash(h);
    }
    default: {
      std::string s;
      for (int i = 0; i < n; ++i) s += absl::StrCat("text ", i % 100, " ");
      return Value::String(s);
    }
  }
}

const char* kKindNames[] = {"list", "set", "zset", "hash", "string"};

void BM_EncodeDump(benchmark::State& state) {
  Value v = MakeValue(static_cast<int>(state.range(0)),
                      static_cast<int>(state.range(1)));
  size_t bytes = 0;
  for (auto _ : state) {
    std::string p = EncodeDump(v);
    bytes += p.size();
    benchmark::DoNotOptimize(p);
  }
  state.SetBytesProcessed(static_cast<int64_t>(bytes));
  state.SetItemsProcessed(state.iterations() * state.range(1));
  state.SetLabel(kKindNames[state.range(0)]);
}

void BM_DecodeDump(benchmark::State& state) {
  Value v = MakeValue(static_cast<int>(state.range(0)),
                      static_cast<int>(state.range(1)));
  std::string p = EncodeDump(v);
  for (auto _ : state) {
    auto back = DecodeDump(p);
    if (!back.ok()) state.SkipWithError("decode failed");
    benchmark::DoNotOptimize(back);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * p.size()));
  state.SetItemsProcessed(state.iterations() * state.range(1));
  state.SetLabel(kKindNames[state.range(0)]);
}

void DumpArgs(benchmark::internal::Benchmark* b) {
  for (int kind = 0; kind < 5; ++kind) {
    b->Args({kind, 100});
    b->Args({kind, 100000});
  }
}
BENCHMARK(BM_EncodeDump)->Apply(DumpArgs);
BENCHMARK(BM_DecodeDump)->Apply(DumpArgs);

// 10,000 keys of every type (10 to 100 elements each), half with TTLs.
std::string MakeFile() {
  std::string file;
  RdbWriter w([&](std::string_view s) {
    file.append(s);
    return absl::OkStatus();
  });
  (void)w.Begin();
  (void)w.SelectDb(0);
  for (int i = 0; i < 10000; ++i) {
    (void)w.Add(absl::StrCat("key:", i), MakeValue(i % 5, 10 + i % 91),
                i % 2 ? 1893456000000 : -1);
  }
  (void)w.Finish();
  return file;
}

void BM_RdbWrite(benchmark::State& state) {
  std::vector<Value> values;
  for (int i = 0; i < 1000; ++i)
    values.push_back(MakeValue(i % 5, 10 + i % 91));
  size_t bytes = 0;
  for (auto _ : state) {
    RdbWriter w([&](std::string_view s) {
      bytes += s.size();
      return absl::OkStatus();
    });
    (void)w.Begin();
    (void)w.SelectDb(0);
    for (int i = 0; i < 1000; ++i) {
      (void)w.Add(absl::StrCat("key:", i), values[i], -1);
    }
    (void)w.Finish();
  }
  state.SetBytesProcessed(static_cast<int64_t>(bytes));
  state.SetItemsProcessed(state.iterations() * 1000);
}
BENCHMARK(BM_RdbWrite);

void BM_RdbRead(benchmark::State& state) {
  std::string file = MakeFile();
  const size_t chunk = static_cast<size_t>(state.range(0));
  for (auto _ : state) {
    RdbReader::Callbacks cb;
    cb.on_entry = [](RdbEntry&& e) {
      benchmark::DoNotOptimize(e);
      return absl::OkStatus();
    };
    RdbReader reader(cb);
    for (size_t pos = 0; pos < file.size(); pos += chunk) {
      if (!reader.Feed(std::string_view(file).substr(pos, chunk)).ok()) {
        state.SkipWithError("read failed");
      }
    }
    if (!reader.Finish().ok()) state.SkipWithError("read failed");
  }
  state.SetBytesProcessed(
      static_cast<int64_t>(state.iterations() * file.size()));
  state.SetItemsProcessed(state.iterations() * 10000);
}
BENCHMARK(BM_RdbRead)->Arg(16)->Arg(1 << 16);

void BM_Crc64(benchmark::State& state) {
  std::string data(1 << 20, 'x');
  for (auto _ : state) benchmark::DoNotOptimize(Crc64(0, data));
  state.SetBytesProcessed(
      static_cast<int64_t>(state.iterations() * data.size()));
}
BENCHMARK(BM_Crc64);

std::string Text(size_t n) {
  std::string s;
  for (int i = 0; s.size() < n; ++i) s += absl::StrCat("word", i % 997, " ");
  s.resize(n);
  return s;
}

void BM_LzfCompress(benchmark::State& state) {
  std::string text = Text(1 << 20);
  for (auto _ : state) benchmark::DoNotOptimize(LzfCompress(text));
  state.SetBytesProcessed(
      static_cast<int64_t>(state.iterations() * text.size()));
}
BENCHMARK(BM_LzfCompress);

void BM_LzfDecompress(benchmark::State& state) {
  std::string text = Text(1 << 20);
  std::string packed = *LzfCompress(text);
  for (auto _ : state) {
    benchmark::DoNotOptimize(LzfDecompress(packed, text.size()));
  }
  state.SetBytesProcessed(
      static_cast<int64_t>(state.iterations() * text.size()));
}
BENCHMARK(BM_LzfDecompress);

}  // namespace
}  // namespace reborn::rdb
