// QdbEngine::TakeRdbSnapshot / BeginRdbLoad (whole-dataset RDB export and
// atomic import), the expiry listener and SetActiveExpiry, on every backend.
#include <atomic>
#include <chrono>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "engine_fixture.h"
#include "qdb/engine_access.h"
#include "rdb/rdb_writer.h"

namespace reborn {
namespace {

class RdbIoTest : public EngineTest {
 protected:
  void TearDown() override {
    other_.reset();
    std::filesystem::remove_all(dir_.string() + "_other");
    EngineTest::TearDown();
  }
  // A second engine of the same backend.
  QdbEngine& Other() {
    if (!other_) {
      std::filesystem::remove_all(dir_.string() + "_other");
      QdbOptions o;
      o.engine = *ParseStorageEngine(GetParam());
      o.dir = dir_.string() + "_other";
      o.block_cache_mb = 8;
      o.write_buffer_mb = 4;
      auto e = QdbEngine::Open(o);
      EXPECT_TRUE(e.ok()) << e.status();
      other_ = std::move(*e);
    }
    return *other_;
  }
  static std::string Save(QdbEngine& engine) {
    auto snap = engine.TakeRdbSnapshot();
    EXPECT_TRUE(snap.ok()) << snap.status();
    std::string file;
    absl::Status s = (*snap)->Write([&](std::string_view chunk) {
      EXPECT_LE(chunk.size(), 1u << 20);  // bounded pieces
      file.append(chunk);
      return absl::OkStatus();
    });
    EXPECT_TRUE(s.ok()) << s;
    return file;
  }
  static absl::Status Load(QdbEngine& engine, std::string_view file,
                           size_t chunk = 7777, RdbLoadOptions options = {}) {
    auto load = engine.BeginRdbLoad(options);
    if (!load.ok()) return load.status();
    for (size_t i = 0; i < file.size(); i += chunk) {
      if (absl::Status s = (*load)->Feed(file.substr(i, chunk)); !s.ok()) {
        return s;
      }
    }
    absl::Status s = (*load)->Commit();
    if (s.ok()) {
      EXPECT_EQ((*load)->bytes_consumed(), file.size());
    }
    return s;
  }
  static Reply X(QdbEngine& e, int db, std::vector<std::string> args) {
    QdbEngine::Context c;
    c.db = db;
    return e.Execute(c, args);
  }
  // Every key of every db: (db, key, type, DUMP payload, has TTL).
  static std::vector<std::string> Contents(QdbEngine& e) {
    std::vector<std::string> out;
    for (int db = 0; db < qdb::kNumDbs; ++db) {
      Reply keys = X(e, db, {"KEYS", "*"});
      std::vector<std::string> names;
      for (const Reply& k : keys.elements) names.push_back(k.str);
      std::sort(names.begin(), names.end());
      for (const std::string& k : names) {
        Reply ttl = X(e, db, {"PTTL", k});
        out.push_back(absl::StrCat(db, "/", k, "/", X(e, db, {"TYPE", k}).str,
                                   "/", X(e, db, {"DUMP", k}).str, "/",
                                   ttl.integer > 0 ? "ttl" : "none"));
      }
    }
    return out;
  }
  void Populate(QdbEngine& e, int scale = 1) {
    auto x = [&](int db, std::vector<std::string> args) {
      Reply r = X(e, db, std::move(args));
      ASSERT_NE(r.type, Reply::Type::kError) << r.str;
    };
    x(0, {"SET", "int", "12345"});
    x(0, {"SET", "neg", "-7"});
    x(0, {"SET", "short", "hello"});
    x(0, {"SET", "long", std::string(1000, 'a')});
    x(0, {"SET", "ttl", "v", "PX", "600000"});
    x(3, {"SET", "other-db", "x"});
    x(15, {"SET", "last-db", "y"});
    x(0, {"HSET", "hsmall", "f1", "v1", "f2", "22"});
    x(0, {"HSET", "hlong", "f", std::string(100, 'z')});
    x(0, {"RPUSH", "lsmall", "a", "b", "12"});
    x(0, {"SADD", "sint", "1", "2", "-3"});
    x(0, {"SADD", "sstr", "a", "b"});
    x(0, {"ZADD", "zsmall", "1", "a", "2.5", "b", "-inf", "c"});
    x(2, {"EXPIRE", "nothing", "10"});
    std::vector<std::string> h = {"HSET", "hbig"}, s = {"SADD", "sbig"},
                             si = {"SADD", "sintbig"}, z = {"ZADD", "zbig"},
                             l = {"RPUSH", "lbig"};
    for (int i = 0; i < 300 * scale; ++i) {
      h.push_back(absl::StrCat("field", i));
      h.push_back(absl::StrCat("value", i));
      s.push_back(absl::StrCat("member", i));
      si.push_back(absl::StrCat(i * 3));
      z.push_back(absl::StrCat(i * 0.5));
      z.push_back(absl::StrCat("m", i));
    }
    for (int i = 0; i < 2000 * scale; ++i) {
      l.push_back(i % 200 == 0 ? std::string(9000, 'q') : absl::StrCat(i));
    }
    x(5, h);
    x(5, s);
    x(5, si);
    x(5, z);
    x(5, l);
    x(5, {"EXPIRE", "zbig", "1000"});
    for (int i = 0; i < 500; ++i) {
      x(7, {"SET", absl::StrCat("k", i), absl::StrCat(i)});
    }
  }

  std::unique_ptr<QdbEngine> other_;
};

TEST_P(RdbIoTest, RoundTripEveryTypeTtlAndDatabase) {
  Populate(*engine_);
  // The snapshot follows the logical databases, whatever SWAPDB did.
  EXPECT_EQ(R("SWAPDB", "5", "9"), Ok());
  EXPECT_EQ(R("SWAPDB", "9", "5"), Ok());
  EXPECT_EQ(R("SWAPDB", "0", "1"), Ok());
  const std::string file = Save(*engine_);
  ASSERT_EQ(file.substr(0, 9), "REDIS0010");
  // The target's own data is replaced entirely.
  X(Other(), 0, {"SET", "stale", "1"});
  X(Other(), 12, {"HSET", "stale-hash", "f", "v"});
  ASSERT_TRUE(Load(Other(), file).ok());
  EXPECT_EQ(Contents(Other()), Contents(*engine_));
  EXPECT_EQ(X(Other(), 1, {"GET", "int"}), Str("12345"));
  EXPECT_EQ(X(Other(), 0, {"EXISTS", "stale"}), Int(0));
  EXPECT_EQ(X(Other(), 12, {"DBSIZE"}), Int(0));
  EXPECT_EQ(X(Other(), 5, {"DBSIZE"}), Int(5));
  EXPECT_EQ(X(Other(), 7, {"DBSIZE"}), Int(500));
  EXPECT_GT(X(Other(), 5, {"TTL", "zbig"}).integer, 990);
  EXPECT_EQ(X(Other(), 1, {"TTL", "int"}), Int(-1));
  EXPECT_EQ(X(Other(), 5, {"OBJECT", "ENCODING", "lbig"}), Str("quicklist"));
  EXPECT_EQ(X(Other(), 0, {"SLOTSCHECK"}), Ok());
  // The loaded data is ordinary data: writable, and a second load works.
  EXPECT_EQ(X(Other(), 5, {"LPUSH", "lbig", "new"}), Int(2001));
  EXPECT_EQ(X(Other(), 7, {"INCR", "k7"}), Int(8));
  ASSERT_TRUE(Load(Other(), Save(*engine_), 1 << 20).ok());
  EXPECT_EQ(Contents(Other()), Contents(*engine_));
}

TEST_P(RdbIoTest, LoadedDataSurvivesRestart) {
  if (!persistent()) GTEST_SKIP() << "memory engine";
  Populate(*engine_);
  const std::string file = Save(*engine_);
  const auto want = Contents(*engine_);
  // Load into this engine itself, over data of its own.
  EXPECT_EQ(R("SET", "gone", "1"), Ok());
  ASSERT_TRUE(Load(*engine_, file).ok());
  Open();
  EXPECT_EQ(Contents(*engine_), want);
  EXPECT_EQ(R("EXISTS", "gone"), Int(0));
  EXPECT_EQ(R("SLOTSCHECK"), Ok());
}

TEST_P(RdbIoTest, FunctionLibrariesTravelWithTheDataAndAreNoKeys) {
  const std::vector<std::string> libs = {"#!lua name=a\ncode a",
                                         "#!lua name=b\ncode b"};
  ASSERT_TRUE(engine_->SetFunctionLibraries(libs).ok());
  EXPECT_EQ(R("SET", "k", "v"), Ok());
  // Outside every database: no key, and FLUSHALL keeps it (as Redis).
  EXPECT_EQ(R("DBSIZE"), Int(1));
  EXPECT_EQ(R("KEYS", "*").elements.size(), 1u);
  EXPECT_EQ(R("FLUSHALL"), Ok());
  EXPECT_EQ(R("DBSIZE"), Int(0));
  EXPECT_EQ(*engine_->FunctionLibraries(), libs);
  EXPECT_EQ(R("SET", "k", "v"), Ok());
  // A snapshot taken now carries them, whatever changes afterwards.
  auto snap = engine_->TakeRdbSnapshot();
  ASSERT_TRUE(snap.ok());
  ASSERT_TRUE(engine_->SetFunctionLibraries({}).ok());
  EXPECT_TRUE(engine_->FunctionLibraries()->empty());
  std::string file;
  ASSERT_TRUE((*snap)
                  ->Write([&](std::string_view c) {
                    file.append(c);
                    return absl::OkStatus();
                  })
                  .ok());
  // A load replaces the libraries with the file's, none included.
  ASSERT_TRUE(Other().SetFunctionLibraries({"#!lua name=old\nx"}).ok());
  ASSERT_TRUE(Load(Other(), file).ok());
  EXPECT_EQ(*Other().FunctionLibraries(), libs);
  EXPECT_EQ(X(Other(), 0, {"GET", "k"}), Str("v"));
  ASSERT_TRUE(Load(Other(), Save(*engine_)).ok());
  EXPECT_TRUE(Other().FunctionLibraries()->empty());
  snap->reset();  // before the engine closes
  if (!persistent()) return;
  ASSERT_TRUE(engine_->SetFunctionLibraries(libs).ok());
  Open();
  EXPECT_EQ(*engine_->FunctionLibraries(), libs);
  EXPECT_EQ(R("DBSIZE"), Int(1));
}

TEST_P(RdbIoTest, WritesAfterTheSnapshotAreNotInTheFile) {
  EXPECT_EQ(R("SET", "a", "1"), Ok());
  EXPECT_EQ(R("HSET", "h", "f", "1"), Int(1));
  EXPECT_EQ(R("RPUSH", "l", "x"), Int(1));
  EXPECT_EQ(R("SET", "doomed", "d"), Ok());
  auto snap = engine_->TakeRdbSnapshot();
  ASSERT_TRUE(snap.ok());
  EXPECT_EQ(R("SET", "a", "2"), Ok());
  EXPECT_EQ(R("HSET", "h", "f", "2", "g", "3"), Int(1));
  EXPECT_EQ(R("RPUSH", "l", "y"), Int(2));
  EXPECT_EQ(R("DEL", "doomed"), Int(1));
  EXPECT_EQ(R("SET", "new", "n"), Ok());
  EXPECT_EQ(R("FLUSHALL"), Ok());  // even this
  std::string file;
  ASSERT_TRUE((*snap)
                  ->Write([&](std::string_view c) {
                    file.append(c);
                    return absl::OkStatus();
                  })
                  .ok());
  EXPECT_EQ((*snap)->keys_written(), 4u);
  ASSERT_TRUE(Load(Other(), file).ok());
  EXPECT_EQ(X(Other(), 0, {"GET", "a"}), Str("1"));
  EXPECT_EQ(X(Other(), 0, {"HGETALL", "h"}), Arr({Str("f"), Str("1")}));
  EXPECT_EQ(X(Other(), 0, {"LLEN", "l"}), Int(1));
  EXPECT_EQ(X(Other(), 0, {"GET", "doomed"}), Str("d"));
  EXPECT_EQ(X(Other(), 0, {"EXISTS", "new"}), Int(0));
}

TEST_P(RdbIoTest, AbortedLoadLeavesOldDataAndReadsWorkMeanwhile) {
  Populate(Other());
  const std::string file = Save(Other());
  EXPECT_EQ(R("SET", "mine", "1"), Ok());
  EXPECT_EQ(R("SADD", "set", "a"), Int(1));
  {
    auto load = engine_->BeginRdbLoad();
    ASSERT_TRUE(load.ok());
    ASSERT_TRUE((*load)->Feed(file.substr(0, file.size() - 100)).ok());
    EXPECT_GT((*load)->keys_loaded(), 0u);
    // Readers and writers see the old data during the load.
    EXPECT_EQ(R("GET", "mine"), Str("1"));
    EXPECT_EQ(R("DBSIZE"), Int(2));
    EXPECT_EQ(R("SET", "during", "2"), Ok());
    EXPECT_EQ(R("FLUSHDB"), Ok());
    EXPECT_EQ(R("SET", "mine", "1"), Ok());
    EXPECT_EQ(R("SADD", "set", "a"), Int(1));
    EXPECT_EQ(R("SELECT", "5"), Ok());
    EXPECT_EQ(R("DBSIZE"), Int(0));
    EXPECT_EQ(R("SELECT", "0"), Ok());
  }  // destroyed without Commit
  EXPECT_EQ(R("KEYS", "*").elements.size(), 2u);
  EXPECT_EQ(R("SLOTSCHECK"), Ok());
  // Staged data is gone: a full load now gives exactly the file.
  ASSERT_TRUE(Load(*engine_, file).ok());
  EXPECT_EQ(Contents(*engine_), Contents(Other()));
}

TEST_P(RdbIoTest, CorruptInputFailsAndLeavesOldData) {
  Populate(Other());
  const std::string file = Save(Other());
  EXPECT_EQ(R("SET", "mine", "1"), Ok());
  const auto before = Contents(*engine_);
  std::string bad_crc = file;
  bad_crc.back() ^= 0x5a;
  absl::Status s = Load(*engine_, bad_crc);
  EXPECT_FALSE(s.ok());
  EXPECT_NE(s.message().find("checksum"), std::string_view::npos) << s;
  EXPECT_EQ(Contents(*engine_), before);

  s = Load(*engine_, file.substr(0, file.size() / 2));
  EXPECT_FALSE(s.ok());
  EXPECT_NE(s.message().find("truncated"), std::string_view::npos) << s;
  EXPECT_EQ(Contents(*engine_), before);

  // Header, SELECTDB 0, then object type 8 (unused).
  s = Load(*engine_, std::string("REDIS0010\xfe\x00\x08\x01k\x01v", 16));
  EXPECT_FALSE(s.ok());
  EXPECT_EQ(Contents(*engine_), before);

  // A database beyond 15.
  s = Load(*engine_, std::string("REDIS0010\xfe\x10\x00\x01k\x01v", 16));
  EXPECT_FALSE(s.ok());
  EXPECT_NE(s.message().find("out of range"), std::string_view::npos) << s;

  // A length far beyond the limits.
  s = Load(*engine_,
           std::string("REDIS0010\xfe\x00\x00\x01k\x81\xff\xff\xff\xff\xff"
                       "\xff\xff\x7f",
                       23));
  EXPECT_FALSE(s.ok());
  EXPECT_EQ(Contents(*engine_), before);
  EXPECT_EQ(R("SLOTSCHECK"), Ok());
}

TEST_P(RdbIoTest, OneLoadAtATime) {
  auto first = engine_->BeginRdbLoad();
  ASSERT_TRUE(first.ok());
  auto second = engine_->BeginRdbLoad();
  EXPECT_EQ(second.status().code(), absl::StatusCode::kFailedPrecondition);
  first->reset();
  EXPECT_TRUE(engine_->BeginRdbLoad().ok());
}

TEST_P(RdbIoTest, ExpiredKeysInTheFileAreKeptOrSkipped) {
  std::string file;
  rdb::RdbWriter w([&](std::string_view c) {
    file.append(c);
    return absl::OkStatus();
  });
  ASSERT_TRUE(w.Begin().ok());
  ASSERT_TRUE(w.SelectDb(0).ok());
  ASSERT_TRUE(w.Add("live", rdb::Value::String("1")).ok());
  ASSERT_TRUE(w.Add("past", rdb::Value::String("2"), 1000).ok());
  ASSERT_TRUE(w.Add("zero", rdb::Value::String("3"), 0).ok());
  ASSERT_TRUE(w.Finish().ok());
  engine_->SetActiveExpiry(false);
  // Default (a replica's load): kept, but invisible.
  ASSERT_TRUE(Load(*engine_, file).ok());
  EXPECT_EQ(R("EXISTS", "live", "past", "zero"), Int(1));
  std::string raw;
  EXPECT_TRUE(
      qdb::CoreOf(*engine_)
          .keyspace()
          .store()
          .Get(storage::ReadOptions{}, storage::Column::kMeta,
               qdb::EncodeMetaKey(qdb::CoreOf(*engine_).keyspace().Physical(0),
                                  "past"),
               &raw)
          .ok());
  RdbLoadOptions skip;
  skip.keep_expired = false;
  ASSERT_TRUE(Load(*engine_, file, 5, skip).ok());
  EXPECT_EQ(R("DBSIZE"), Int(1));
}

TEST_P(RdbIoTest, ActiveExpiryOffKeepsExpiredKeysStoredButInvisible) {
  engine_->SetActiveExpiry(false);
  EXPECT_EQ(R("SET", "k", "v", "PX", "30"), Ok());
  EXPECT_EQ(R("HSET", "h", "f", "v"), Int(1));
  EXPECT_EQ(R("PEXPIRE", "h", "30"), Int(1));
  EXPECT_EQ(R("SET", "gone", "v", "PX", "30"), Ok());
  std::this_thread::sleep_for(std::chrono::milliseconds(400));
  // Reads see them as absent.
  EXPECT_EQ(R("GET", "k"), Nil());
  EXPECT_EQ(R("TTL", "k"), Int(-2));
  EXPECT_EQ(R("EXISTS", "k", "h"), Int(0));
  qdb::Keyspace& ks = qdb::CoreOf(*engine_).keyspace();
  auto stored = [&](const std::string& key) {
    std::string raw;
    return ks.store()
        .Get(storage::ReadOptions{}, storage::Column::kMeta,
             qdb::EncodeMetaKey(0, key), &raw)
        .ok();
  };
  EXPECT_TRUE(stored("k"));
  EXPECT_TRUE(stored("h"));
  // Writes - on a replica, the master's stream - see the records as live,
  // as a Redis replica's master client does: the master decided on its own
  // clock, and its DEL follows.
  EXPECT_EQ(R("HDEL", "h", "f"), Int(1));
  EXPECT_FALSE(stored("h"));
  EXPECT_EQ(R("PEXPIREAT", "gone", "1"), Int(1));  // a past time is kept
  EXPECT_TRUE(stored("gone"));
  EXPECT_EQ(R("DEL", "gone"), Int(1));
  EXPECT_FALSE(stored("gone"));
  EXPECT_EQ(R("SET", "k", "new"), Ok());
  EXPECT_EQ(R("GET", "k"), Str("new"));
  EXPECT_EQ(R("DBSIZE"), Int(1));
}

TEST_P(RdbIoTest, ListenerSeesActiveAndLazyExpiries) {
  absl::Mutex mu;
  std::vector<std::pair<int, std::string>> seen;
  engine_->SetExpiryListener([&](int db, std::string_view key) {
    absl::MutexLock lock(&mu);
    seen.emplace_back(db, std::string(key));
  });
  EXPECT_EQ(R("SWAPDB", "2", "4"), Ok());  // the listener gets logical dbs
  EXPECT_EQ(X(*engine_, 2, {"SET", "lazy", "v", "PX", "20"}), Ok());
  EXPECT_EQ(X(*engine_, 4, {"SET", "active", "v", "PX", "20"}), Ok());
  std::this_thread::sleep_for(std::chrono::milliseconds(40));
  // Lazily: a write finds it expired first.
  EXPECT_EQ(X(*engine_, 2, {"SET", "lazy", "w", "NX"}), Ok());
  bool both = false;
  for (int i = 0; i < 300 && !both; ++i) {
    {
      absl::MutexLock lock(&mu);
      both = seen.size() >= 2;
    }
    if (!both) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  engine_->SetExpiryListener(nullptr);
  absl::MutexLock lock(&mu);
  std::sort(seen.begin(), seen.end());
  EXPECT_EQ(seen, (std::vector<std::pair<int, std::string>>{{2, "lazy"},
                                                            {4, "active"}}));
}

REBORN_ALL_ENGINES(RdbIoTest);

}  // namespace
}  // namespace reborn
