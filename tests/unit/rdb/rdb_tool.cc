// Test helper for tests/integration/rdb: exposes the rdb library on the
// command line with JSON lines (binary strings hex-encoded, scores as "%.17g"
// text) so a Python test can compare it with a real redis-server.
//
//   rdb_tool decode-dumps            stdin: hex payload lines -> value JSON
//   rdb_tool encode-dumps [plain]    stdin: value JSON lines -> hex payloads
//   rdb_tool read-rdb FILE MAXCHUNK  entry JSON lines (chunks 1..MAXCHUNK)
//   rdb_tool write-rdb FILE          stdin: entry JSON lines (sorted by db)
#include <cstdio>
#include <fstream>
#include <iostream>
#include <random>
#include <string>

#include "absl/strings/escaping.h"
#include "nlohmann/json.hpp"
#include "rdb/dump.h"
#include "rdb/rdb_reader.h"
#include "rdb/rdb_writer.h"

namespace {

using json = nlohmann::json;
using reborn::rdb::Value;
using reborn::rdb::ValueType;

std::string ToHex(const std::string& s) { return absl::BytesToHexString(s); }
std::string FromHex(const std::string& s) { return absl::HexStringToBytes(s); }

std::string Score(double d) {
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%.17g", d);
  return buf;
}

json ValueToJson(const Value& v) {
  json j;
  j["type"] = reborn::rdb::ValueTypeName(v.type);
  switch (v.type) {
    case ValueType::kString:
      j["str"] = ToHex(v.str);
      break;
    case ValueType::kList:
    case ValueType::kSet:
      j["items"] = json::array();
      for (const auto& s : v.items) j["items"].push_back(ToHex(s));
      break;
    case ValueType::kZset:
      j["scores"] = json::array();
      for (const auto& [m, s] : v.scores) {
        j["scores"].push_back({ToHex(m), Score(s)});
      }
      break;
    case ValueType::kHash:
      j["fields"] = json::array();
      for (const auto& [f, val] : v.fields) {
        j["fields"].push_back({ToHex(f), ToHex(val)});
      }
      break;
    case ValueType::kStream:
      // The entries only (the tool compares collections).
      j["entries"] = json::array();
      for (const auto& e : v.stream.entries) {
        json fields = json::array();
        for (const auto& f : e.fields) fields.push_back(ToHex(f));
        j["entries"].push_back(
            {std::to_string(e.id.first) + "-" + std::to_string(e.id.second),
             fields});
      }
      break;
  }
  return j;
}

Value JsonToValue(const json& j) {
  const std::string type = j.at("type");
  if (type == "string") return Value::String(FromHex(j.at("str")));
  if (type == "list" || type == "set") {
    std::vector<std::string> items;
    for (const auto& s : j.at("items")) items.push_back(FromHex(s));
    return type == "list" ? Value::List(items) : Value::Set(items);
  }
  if (type == "zset") {
    std::vector<std::pair<std::string, double>> scores;
    for (const auto& p : j.at("scores")) {
      scores.emplace_back(
          FromHex(p[0]), std::strtod(p[1].get<std::string>().c_str(), nullptr));
    }
    return Value::Zset(scores);
  }
  std::vector<std::pair<std::string, std::string>> fields;
  for (const auto& p : j.at("fields")) {
    fields.emplace_back(FromHex(p[0]), FromHex(p[1]));
  }
  return Value::Hash(fields);
}

int DecodeDumps() {
  std::string line;
  while (std::getline(std::cin, line)) {
    std::string detail;
    auto v = reborn::rdb::DecodeDump(FromHex(line), {}, &detail);
    if (v.ok()) {
      std::cout << ValueToJson(*v).dump() << "\n";
    } else {
      std::cout << json{{"error", std::string(v.status().message())},
                        {"detail", detail}}
                       .dump()
                << "\n";
    }
  }
  return 0;
}

int EncodeDumps(bool plain) {
  reborn::rdb::EncodeOptions o;
  o.compact = !plain;
  std::string line;
  while (std::getline(std::cin, line)) {
    std::cout << ToHex(
                     reborn::rdb::EncodeDump(JsonToValue(json::parse(line)), o))
              << "\n";
  }
  return 0;
}

int ReadRdb(const std::string& path, size_t max_chunk) {
  std::ifstream f(path, std::ios::binary);
  std::string file((std::istreambuf_iterator<char>(f)),
                   std::istreambuf_iterator<char>());
  reborn::rdb::RdbReader::Callbacks cb;
  cb.on_entry = [](reborn::rdb::RdbEntry&& e) {
    std::cout << json{{"db", e.db},
                      {"key", ToHex(e.key)},
                      {"expire_ms", e.expire_ms},
                      {"value", ValueToJson(e.value)}}
                     .dump()
              << "\n";
    return absl::OkStatus();
  };
  cb.on_aux = [](std::string_view k, std::string_view v) {
    std::cerr << "aux " << k << "=" << v << "\n";
  };
  reborn::rdb::RdbReader reader(cb);
  std::mt19937 rng(42);
  size_t max_buffered = 0;
  for (size_t pos = 0; pos < file.size();) {
    size_t n = std::min<size_t>(1 + rng() % max_chunk, file.size() - pos);
    absl::Status s = reader.Feed(std::string_view(file).substr(pos, n));
    if (!s.ok()) {
      std::cerr << s << "\n";
      return 1;
    }
    max_buffered = std::max(max_buffered, reader.buffered_bytes());
    pos += n;
  }
  absl::Status s = reader.Finish();
  if (!s.ok()) {
    std::cerr << s << "\n";
    return 1;
  }
  std::cout << json{{"done", true},
                    {"keys", reader.keys_loaded()},
                    {"max_buffered", max_buffered}}
                   .dump()
            << "\n";
  return 0;
}

int WriteRdb(const std::string& path) {
  std::ofstream f(path, std::ios::binary | std::ios::trunc);
  reborn::rdb::RdbWriter w([&](std::string_view s) {
    f.write(s.data(), static_cast<std::streamsize>(s.size()));
    return f ? absl::OkStatus() : absl::DataLossError("write failed");
  });
  absl::Status s = w.Begin();
  int64_t db = -1;
  std::string line;
  while (s.ok() && std::getline(std::cin, line)) {
    json j = json::parse(line);
    if (j.at("db").get<int64_t>() != db) {
      db = j.at("db").get<int64_t>();
      s = w.SelectDb(static_cast<uint64_t>(db));
      if (!s.ok()) break;
    }
    s = w.Add(FromHex(j.at("key")), JsonToValue(j.at("value")),
              j.at("expire_ms").get<int64_t>());
  }
  if (s.ok()) s = w.Finish();
  if (!s.ok()) {
    std::cerr << s << "\n";
    return 1;
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  std::string cmd = argc > 1 ? argv[1] : "";
  if (cmd == "decode-dumps") return DecodeDumps();
  if (cmd == "encode-dumps") {
    return EncodeDumps(argc > 2 && std::string(argv[2]) == "plain");
  }
  if (cmd == "read-rdb" && argc == 4) {
    return ReadRdb(argv[2], std::stoul(argv[3]));
  }
  if (cmd == "write-rdb" && argc == 3) return WriteRdb(argv[2]);
  std::cerr << "usage: rdb_tool decode-dumps|encode-dumps [plain]|"
               "read-rdb FILE MAXCHUNK|write-rdb FILE\n";
  return 2;
}
