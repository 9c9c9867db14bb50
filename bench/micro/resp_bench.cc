// Parse throughput of pipelined SET/GET streams and reply writing.
#include <benchmark/benchmark.h>

#include <string>
#include <vector>

#include "resp/reply_writer.h"
#include "resp/request_parser.h"

namespace reborn::resp {
namespace {

std::string Pipeline(int commands, size_t value_size) {
  std::string value(value_size, 'v');
  std::string out;
  for (int i = 0; i < commands; ++i) {
    std::string key = "key:" + std::to_string(i);
    if (i % 2 == 0) {
      out += "*3\r\n$3\r\nSET\r\n$" + std::to_string(key.size()) + "\r\n" +
             key + "\r\n$" + std::to_string(value.size()) + "\r\n" + value +
             "\r\n";
    } else {
      out += "*2\r\n$3\r\nGET\r\n$" + std::to_string(key.size()) + "\r\n" +
             key + "\r\n";
    }
  }
  return out;
}

void BM_ParsePipeline(benchmark::State& state) {
  const std::string input = Pipeline(1000, static_cast<size_t>(state.range(0)));
  std::vector<std::string> args;
  for (auto _ : state) {
    RequestParser parser;
    size_t pos = 0;
    int commands = 0;
    while (pos < input.size()) {
      size_t consumed = 0;
      auto r =
          parser.Parse(std::string_view(input).substr(pos), &consumed, &args);
      pos += consumed;
      if (r != RequestParser::Result::kCommand) break;
      ++commands;
    }
    benchmark::DoNotOptimize(commands);
  }
  state.SetBytesProcessed(
      static_cast<int64_t>(state.iterations() * input.size()));
  state.SetItemsProcessed(state.iterations() * 1000);
}
BENCHMARK(BM_ParsePipeline)->Arg(3)->Arg(100)->Arg(4096);

void BM_ParseInline(benchmark::State& state) {
  std::string input;
  for (int i = 0; i < 1000; ++i) input += "PING\r\n";
  std::vector<std::string> args;
  for (auto _ : state) {
    RequestParser parser;
    size_t pos = 0;
    while (pos < input.size()) {
      size_t consumed = 0;
      parser.Parse(std::string_view(input).substr(pos), &consumed, &args);
      pos += consumed;
    }
  }
  state.SetItemsProcessed(state.iterations() * 1000);
}
BENCHMARK(BM_ParseInline);

void BM_WriteReplies(benchmark::State& state) {
  std::string value(static_cast<size_t>(state.range(0)), 'v');
  std::string out;
  for (auto _ : state) {
    out.clear();
    ReplyWriter w(&out);
    for (int i = 0; i < 1000; ++i) {
      if (i % 2 == 0) {
        w.Ok();
      } else {
        w.Bulk(value);
      }
    }
    benchmark::DoNotOptimize(out.data());
  }
  state.SetItemsProcessed(state.iterations() * 1000);
}
BENCHMARK(BM_WriteReplies)->Arg(3)->Arg(100);

void BM_WriteArray(benchmark::State& state) {
  std::vector<std::string> items(100, "member-value");
  std::string out;
  for (auto _ : state) {
    out.clear();
    ReplyWriter w(&out, 3);
    w.BulkArray(items);
    w.Double(3.14159);
    benchmark::DoNotOptimize(out.data());
  }
}
BENCHMARK(BM_WriteArray);

}  // namespace
}  // namespace reborn::resp
