#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

#include "qdb/encoding.h"
#include "qdb/engine_access.h"
#include "qdb/engine_core.h"
#include "reborn/qdb_engine.h"
#include "resp/reply_parser.h"
#include "storage/kv_store.h"

namespace reborn {

inline void PrintTo(const Reply& r, std::ostream* os) {
  *os << resp::EncodeReply(r, 3);
}

inline constexpr std::string_view kWrongType =
    "WRONGTYPE Operation against a key holding the wrong kind of value";

// The strings of an array reply's elements.
inline std::vector<std::string> Strs(const Reply& r) {
  std::vector<std::string> out;
  for (const Reply& e : r.elements) out.push_back(e.str);
  return out;
}

// Runs the same engine tests on every storage backend.
class EngineTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    dir_ =
        std::filesystem::temp_directory_path() /
        ("qdb_engine_test_" + std::to_string(::getpid()) + "_" + GetParam() +
         "_" + ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    Open();
  }
  void TearDown() override {
    engine_.reset();
    std::filesystem::remove_all(dir_);
  }
  void Open() {
    engine_.reset();
    QdbOptions o;
    o.engine = *ParseStorageEngine(GetParam());
    o.dir = dir_.string();
    o.block_cache_mb = 8;
    o.write_buffer_mb = 4;
    o.proto_max_bulk_len = max_bulk_;
    auto e = QdbEngine::Open(o);
    ASSERT_TRUE(e.ok()) << e.status();
    engine_ = std::move(*e);
    ctx_ = QdbEngine::Context{};
  }
  // Writes a hash with one field through the key encoding, as the hash type
  // will, so keyspace code can be tested against non-string values.
  void PlantHash(const std::string& key, int db = 0) {
    qdb::Keyspace& ks = qdb::CoreOf(*engine_).keyspace();
    qdb::Txn txn(&ks);
    qdb::Metadata m;
    m.type = qdb::DataType::kHash;
    m.version = ks.NextVersion();
    m.size = 1;
    txn.PutMeta(static_cast<uint8_t>(db), key, nullptr, m);
    txn.batch().Put(
        storage::Column::kMembers,
        qdb::EncodeMemberKey(static_cast<uint8_t>(db), key, m.version, "field"),
        "value");
    ASSERT_TRUE(txn.Commit().ok());
  }
  // Member records stored for `key` (any version).
  int CountMembers(const std::string& key, int db = 0) {
    storage::ReadOptions ro;
    auto it = qdb::CoreOf(*engine_).keyspace().store().NewIterator(
        ro, storage::Column::kMembers);
    int n = 0;
    for (it->SeekToFirst(); it->Valid(); it->Next()) {
      uint8_t d;
      std::string_view k, member;
      uint64_t version;
      if (qdb::DecodeMemberKey(it->key(), &d, &k, &version, &member) &&
          d == db && k == key) {
        ++n;
      }
    }
    return n;
  }
  bool persistent() const { return GetParam() != "memory"; }

  template <typename... A>
  Reply R(A&&... args) {
    return engine_->Execute(ctx_, {std::string(args)...});
  }
  static Reply Ok() { return Reply::Status("OK"); }
  static Reply Int(int64_t v) { return Reply::Integer(v); }
  static Reply Str(std::string_view s) { return Reply::String(s); }
  static Reply Nil() { return Reply::Nil(); }
  static Reply Err(std::string_view s) { return Reply::Error(s); }
  static Reply Arr(std::vector<Reply> v) {
    Reply r;
    r.type = Reply::Type::kArray;
    r.elements = std::move(v);
    return r;
  }

  std::filesystem::path dir_;
  int64_t max_bulk_ = 512LL * 1024 * 1024;
  std::unique_ptr<QdbEngine> engine_;
  QdbEngine::Context ctx_;
};

inline std::string EngineName(const ::testing::TestParamInfo<std::string>& i) {
  return i.param;
}

// The storage engines of this build (leveldb only with REBORN_WITH_LEVELDB).
inline std::vector<std::string> BuiltEngineNames() {
  std::vector<std::string> names;
  for (StorageEngine e : AvailableStorageEngines()) {
    names.emplace_back(StorageEngineName(e));
  }
  return names;
}

#define REBORN_ALL_ENGINES(suite)                                             \
  INSTANTIATE_TEST_SUITE_P(AllEngines, suite,                                 \
                           ::testing::ValuesIn(::reborn::BuiltEngineNames()), \
                           ::reborn::EngineName)

}  // namespace reborn
