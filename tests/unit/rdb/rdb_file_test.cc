// RDB file writer and streaming reader: round trips through chunked input of
// every size, hand-built files with every opcode, and bad input.
#include <gtest/gtest.h>

#include <random>

#include "rdb/crc64.h"
#include "rdb/format.h"
#include "rdb/rdb_reader.h"
#include "rdb/rdb_writer.h"
#include "rdb/value_writer.h"
#include "test_util.h"

namespace reborn::rdb {
namespace {

struct Loaded {
  std::vector<RdbEntry> entries;
  std::vector<std::pair<std::string, std::string>> aux;
  std::vector<std::string> functions;
  absl::Status status;
  uint64_t skipped = 0;
};

// Feeds `file` to a reader in chunks of 1..max_chunk bytes (random sizes).
Loaded Load(std::string_view file, size_t max_chunk, uint32_t seed = 1,
            Limits limits = {}) {
  Loaded out;
  RdbReader::Callbacks cb;
  cb.on_entry = [&](RdbEntry&& e) {
    out.entries.push_back(std::move(e));
    return absl::OkStatus();
  };
  cb.on_aux = [&](std::string_view k, std::string_view v) {
    out.aux.emplace_back(std::string(k), std::string(v));
  };
  cb.on_function = [&](std::string_view lib) {
    out.functions.emplace_back(lib);
  };
  RdbReader reader(cb, limits);
  std::mt19937 rng(seed);
  size_t pos = 0;
  while (pos < file.size()) {
    size_t n = std::min<size_t>(1 + rng() % max_chunk, file.size() - pos);
    out.status = reader.Feed(file.substr(pos, n));
    if (!out.status.ok()) return out;
    pos += n;
  }
  out.status = reader.Finish();
  out.skipped = reader.empty_keys_skipped();
  return out;
}

struct Written {
  std::string key;
  Value value;
  uint64_t db;
  int64_t expire_ms;
};

std::vector<Written> SampleEntries() {
  std::vector<Written> out;
  auto values = test_util::SampleValues(9);
  for (size_t i = 0; i < values.size(); ++i) {
    out.push_back(
        {absl::StrCat("key:", i), values[i], i % 3 == 2 ? 5u : 0u,
         i % 4 == 1 ? 1893456000000LL + static_cast<int64_t>(i) : -1});
  }
  std::stable_sort(
      out.begin(), out.end(),
      [](const Written& a, const Written& b) { return a.db < b.db; });
  return out;
}

std::string WriteFile(const std::vector<Written>& entries,
                      RdbWriter::Options options = {}) {
  std::string file;
  size_t pieces = 0;
  RdbWriter w(
      [&](std::string_view s) {
        file.append(s);
        ++pieces;
        return absl::OkStatus();
      },
      options);
  EXPECT_TRUE(w.Begin().ok());
  int64_t db = -1;
  for (const auto& e : entries) {
    if (static_cast<int64_t>(e.db) != db) {
      db = static_cast<int64_t>(e.db);
      EXPECT_TRUE(w.SelectDb(e.db, 10, 2).ok());
    }
    EXPECT_TRUE(w.Add(e.key, e.value, e.expire_ms).ok());
  }
  EXPECT_TRUE(w.Finish().ok());
  EXPECT_EQ(w.bytes_written(), file.size());
  EXPECT_GE(pieces, 1u);
  return file;
}

TEST(RdbFileTest, WriterOutputReadsBackInAnyChunking) {
  auto entries = SampleEntries();
  RdbWriter::Options options;
  options.flush_bytes = 100;
  options.extra_aux = {{"repl-offset", "42"}};
  std::string file = WriteFile(entries, options);
  EXPECT_EQ(file.substr(0, 9), "REDIS0010");
  for (size_t max_chunk : {1u, 2u, 7u, 64u, 100000u}) {
    Loaded got = Load(file, max_chunk, static_cast<uint32_t>(max_chunk));
    ASSERT_TRUE(got.status.ok()) << got.status;
    ASSERT_EQ(got.entries.size(), entries.size());
    for (size_t i = 0; i < entries.size(); ++i) {
      EXPECT_EQ(got.entries[i].key, entries[i].key);
      EXPECT_EQ(got.entries[i].db, entries[i].db);
      EXPECT_EQ(got.entries[i].expire_ms, entries[i].expire_ms);
      EXPECT_TRUE(SameContents(got.entries[i].value, entries[i].value)) << i;
    }
    ASSERT_GE(got.aux.size(), 6u);
    EXPECT_EQ(got.aux[0].first, "redis-ver");
    EXPECT_EQ(got.aux[1],
              std::make_pair(std::string("redis-bits"), std::string("64")));
    EXPECT_EQ(got.aux.back(),
              std::make_pair(std::string("repl-offset"), std::string("42")));
  }
}

TEST(RdbFileTest, WritesFunctionLibrariesBeforeTheData) {
  const std::vector<std::string> codes = {
      "#!lua name=a\nredis.register_function('f', function() return 1 end)",
      "#!lua name=b\n" + std::string(300, '-') + "\n"};  // LZF-compressed
  for (bool compress : {false, true}) {
    std::string file;
    RdbWriter::Options options;
    options.encode.compress = compress;
    RdbWriter w(
        [&](std::string_view s) {
          file.append(s);
          return absl::OkStatus();
        },
        options);
    ASSERT_TRUE(w.Begin().ok());
    for (const std::string& code : codes) ASSERT_TRUE(w.AddFunction(code).ok());
    ASSERT_TRUE(w.SelectDb(0).ok());
    ASSERT_TRUE(w.Add("k", Value::String("v")).ok());
    ASSERT_TRUE(w.Finish().ok());
    EXPECT_FALSE(w.AddFunction("late").ok());
    EXPECT_EQ(file.size() < 300, compress);
    Loaded got = Load(file, 5);
    ASSERT_TRUE(got.status.ok()) << got.status;
    EXPECT_EQ(got.functions, codes);
    ASSERT_EQ(got.entries.size(), 1u);
  }
}

TEST(RdbFileTest, EveryTruncationIsAnErrorAndChecksumIsChecked) {
  std::vector<Written> entries = {
      {"a", Value::String("x"), 0, -1},
      {"b", Value::List({"1", "2", "three"}), 0, 1700000000000},
      {"c", Value::Hash({{"f", "v"}}), 0, -1}};
  std::string file = WriteFile(entries);
  for (size_t cut = 0; cut < file.size(); ++cut) {
    Loaded got = Load(file.substr(0, cut), 3);
    EXPECT_FALSE(got.status.ok()) << cut;
  }
  for (size_t i = 9; i < file.size(); ++i) {
    std::string bad = file;
    bad[i] ^= 0x10;
    Loaded got = Load(bad, 5);
    EXPECT_FALSE(got.status.ok()) << "flip at " << i;
  }
  EXPECT_FALSE(Load(file + "x", 5).status.ok());  // trailing data
  std::string zero_crc = file.substr(0, file.size() - 8) + std::string(8, '\0');
  EXPECT_TRUE(Load(zero_crc, 5).status.ok());  // rdbchecksum no
}

// Hand-built RDB with every opcode the reader handles.
class FileBuilder {
 public:
  explicit FileBuilder(int version) {
    out_ = absl::StrCat("REDIS", absl::Dec(version, absl::kZeroPad4));
    version_ = version;
  }
  FileBuilder& Op(uint8_t op) {
    out_.push_back(static_cast<char>(op));
    return *this;
  }
  FileBuilder& Str(std::string_view s) {
    WriteString(s, false, &out_);
    return *this;
  }
  FileBuilder& Len(uint64_t n) {
    WriteLength(n, &out_);
    return *this;
  }
  FileBuilder& Raw(std::string_view s) {
    out_.append(s);
    return *this;
  }
  std::string Finish() {
    out_.push_back(static_cast<char>(kOpEof));
    if (version_ >= 5) test_util::PutLe(Crc64(0, out_), 8, &out_);
    return out_;
  }

 private:
  std::string out_;
  int version_;
};

TEST(RdbFileTest, ReadsEveryOpcode) {
  std::string expire_ms, expire_s;
  test_util::PutLe(1800000000123ULL, 8, &expire_ms);
  test_util::PutLe(1800000000ULL, 4, &expire_s);
  std::string list;
  WriteLength(1, &list);
  WriteString("e", false, &list);
  std::string file = FileBuilder(10)
                         .Op(kOpAux)
                         .Str("redis-ver")
                         .Str("7.0.15")
                         .Op(kOpAux)
                         .Str("aof-base")
                         .Str("0")
                         .Op(kOpFunction2)
                         .Str("#!lua name=lib\n...")
                         .Op(kOpFunctionPreGa)
                         .Str("old")
                         .Str("LUA")
                         .Len(1)
                         .Str("desc")
                         .Str("code")
                         .Op(kOpSelectDb)
                         .Len(3)
                         .Op(kOpResizeDb)
                         .Len(2)
                         .Len(1)
                         .Op(kOpExpireTimeMs)
                         .Raw(expire_ms)
                         .Op(kOpFreq)
                         .Raw("\x05")
                         .Op(kTypeString)
                         .Str("k1")
                         .Str("v1")
                         .Op(kOpIdle)
                         .Len(1000)
                         .Op(kOpExpireTime)
                         .Raw(expire_s)
                         .Op(kTypeList)
                         .Str("k2")
                         .Raw(list)
                         .Op(kTypeList)
                         .Str("empty")
                         .Len(0)
                         .Op(kOpSelectDb)
                         .Len(0)
                         .Op(kTypeString)
                         .Str("k3")
                         .Str("v3")
                         .Finish();
  for (size_t chunk : {1u, 4u, 1000u}) {
    Loaded got = Load(file, chunk);
    ASSERT_TRUE(got.status.ok()) << got.status;
    ASSERT_EQ(got.entries.size(), 3u);
    EXPECT_EQ(got.entries[0].db, 3u);
    EXPECT_EQ(got.entries[0].expire_ms, 1800000000123LL);
    EXPECT_EQ(got.entries[0].value, Value::String("v1"));
    EXPECT_EQ(got.entries[1].expire_ms, 1800000000000LL);
    EXPECT_EQ(got.entries[1].value, Value::List({"e"}));
    EXPECT_EQ(got.entries[2].db, 0u);
    EXPECT_EQ(got.entries[2].expire_ms, -1);
    EXPECT_EQ(got.functions,
              (std::vector<std::string>{"#!lua name=lib\n...",
                                        "#!LUA name=old\ncode"}));
    EXPECT_EQ(got.skipped, 1u);
    EXPECT_EQ(got.aux.size(), 2u);
  }
}

TEST(RdbFileTest, ReadsOldVersions) {
  for (int version : {1, 4, 6, 7, 8, 9}) {
    std::string file = FileBuilder(version)
                           .Op(kOpSelectDb)
                           .Len(0)
                           .Op(kTypeString)
                           .Str("k")
                           .Str("v")
                           .Finish();
    Loaded got = Load(file, 2);
    ASSERT_TRUE(got.status.ok()) << version << " " << got.status;
    ASSERT_EQ(got.entries.size(), 1u);
  }
  EXPECT_FALSE(Load(FileBuilder(11).Finish(), 4).status.ok());
  EXPECT_FALSE(Load(FileBuilder(0).Finish(), 4).status.ok());
  EXPECT_FALSE(Load("RADIS0009\xff", 4).status.ok());
}

TEST(RdbFileTest, RejectsUnsupportedContentClearly) {
  auto error_of = [](std::string file) {
    return std::string(Load(file, 3).status.message());
  };
  EXPECT_NE(error_of(FileBuilder(10).Op(kOpModuleAux).Len(1).Finish())
                .find("module aux"),
            std::string::npos);
  EXPECT_NE(error_of(FileBuilder(10).Op(kTypeModule2).Str("m").Finish())
                .find("module"),
            std::string::npos);
  EXPECT_NE(error_of(FileBuilder(10).Op(100).Finish()).find("unknown"),
            std::string::npos);
  Limits limits;
  limits.max_db_index = 15;
  Loaded got =
      Load(FileBuilder(10).Op(kOpSelectDb).Len(16).Finish(), 3, 1, limits);
  EXPECT_FALSE(got.status.ok());
}

StreamData SampleStream() {
  // 250 entries over three nodes, two groups (one with a PEL shared by two
  // consumers, one empty), as XADD/XREADGROUP leave them.
  StreamData s;
  for (uint64_t i = 1; i <= 250; ++i) {
    s.entries.push_back(
        {{1000 + i, i % 3},
         {"field", absl::StrCat("value-", i), "n", absl::StrCat(i * 7)}});
  }
  s.nodes = {100, 100, 50};
  s.last_id = {1250, 9};
  s.first_id = s.entries.front().id;
  s.max_deleted_id = {1100, 0};
  s.entries_added = 260;
  StreamData::Group g1;
  g1.name = "g1";
  g1.last_id = s.entries[9].id;
  g1.entries_read = 10;
  for (int i = 0; i < 10; ++i) {
    g1.pel.push_back(
        {s.entries[i].id, 1700000000000 + i, static_cast<uint64_t>(1 + i % 2)});
  }
  g1.consumers.push_back({"alice", 1700000000100, {}});
  g1.consumers.push_back({"bob", 1700000000200, {}});
  for (int i = 0; i < 10; ++i) {
    g1.consumers[i % 2].pending.push_back(s.entries[i].id);
  }
  StreamData::Group g2;
  g2.name = "g2";
  g2.last_id = s.last_id;
  s.groups = {g1, g2};
  return s;
}

TEST(RdbFileTest, LoadsStreams) {
  // A stream with groups, PELs and consumers, an empty stream (a key of its
  // own, as in Redis) and an ordinary key, in chunks of every size.
  Value stream;
  stream.type = ValueType::kStream;
  stream.stream = SampleStream();
  Value empty;
  empty.type = ValueType::kStream;
  empty.stream.last_id = {5, 0};
  empty.stream.entries_added = 1;
  empty.stream.max_deleted_id = {5, 0};
  for (bool compress : {true, false}) {
    RdbWriter::Options options;
    options.encode.compress = compress;
    std::string file = WriteFile({{"s", stream, 0, 1893456000000LL},
                                  {"e", empty, 0, -1},
                                  {"k", Value::String("v"), 0, -1}},
                                 options);
    for (size_t chunk : {1u, 3u, 1000u}) {
      Loaded got = Load(file, chunk);
      ASSERT_TRUE(got.status.ok()) << got.status;
      ASSERT_EQ(got.entries.size(), 3u);
      EXPECT_EQ(got.entries[0].key, "s");
      EXPECT_EQ(got.entries[0].expire_ms, 1893456000000LL);
      EXPECT_EQ(got.entries[0].value, stream);
      EXPECT_EQ(got.entries[1].value, empty);
      EXPECT_EQ(got.entries[2].value, Value::String("v"));
    }
  }
}

TEST(RdbFileTest, RejectsCorruptStreams) {
  Value stream;
  stream.type = ValueType::kStream;
  stream.stream = SampleStream();
  std::string file = WriteFile({{"s", stream, 0, -1}});
  // Flip bytes inside the value: every outcome is an error or a load, never
  // a crash; most are caught by the checksum, so clear it.
  int errors = 0;
  for (size_t at = 12; at < file.size() - 9; at += 7) {
    std::string bad = file;
    bad[at] = static_cast<char>(bad[at] ^ 0x5a);
    std::fill(bad.end() - 8, bad.end(), '\0');
    if (!Load(bad, 64).status.ok()) ++errors;
  }
  EXPECT_GT(errors, 0);
  // A stream larger than the value limit is refused.
  Limits small;
  small.max_value_bytes = 1000;
  EXPECT_FALSE(Load(file, 64, 1, small).status.ok());
}

TEST(RdbFileTest, CallbackErrorStopsTheLoad) {
  std::string file = WriteFile(
      {{"a", Value::String("1"), 0, -1}, {"b", Value::String("2"), 0, -1}});
  RdbReader::Callbacks cb;
  int calls = 0;
  cb.on_entry = [&](RdbEntry&&) {
    ++calls;
    return absl::ResourceExhaustedError("disk full");
  };
  RdbReader reader(cb);
  absl::Status s = reader.Feed(file);
  EXPECT_EQ(s.code(), absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(calls, 1);
  EXPECT_EQ(reader.Feed("more").code(), absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(reader.Finish().code(), absl::StatusCode::kResourceExhausted);
}

TEST(RdbFileTest, BuffersOnlyTheCurrentItem) {
  // A list of 20000 elements streamed 100 bytes at a time: the reader's
  // buffer never holds more than one element plus a chunk.
  std::vector<std::string> items;
  for (int i = 0; i < 20000; ++i) items.push_back(absl::StrCat("element-", i));
  EncodeOptions plain;
  plain.compact = false;
  RdbWriter::Options options;
  options.encode = plain;
  std::string file = WriteFile({{"big", Value::List(items), 0, -1}}, options);
  size_t max_buffered = 0;
  RdbReader::Callbacks cb;
  size_t got = 0;
  cb.on_entry = [&](RdbEntry&& e) {
    got = e.value.items.size();
    return absl::OkStatus();
  };
  RdbReader reader(cb);
  for (size_t pos = 0; pos < file.size(); pos += 100) {
    ASSERT_TRUE(reader.Feed(std::string_view(file).substr(pos, 100)).ok());
    max_buffered = std::max(max_buffered, reader.buffered_bytes());
  }
  ASSERT_TRUE(reader.Finish().ok());
  EXPECT_EQ(got, items.size());
  EXPECT_LT(max_buffered, 200u);
}

}  // namespace
}  // namespace reborn::rdb
