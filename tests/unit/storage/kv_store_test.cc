#include "storage/kv_store.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"

namespace reborn::storage {
namespace {

class KvStoreTest : public ::testing::TestWithParam<Engine> {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("kv_store_test_" + std::to_string(::getpid()) + "_" +
            std::string(StorageEngineName(GetParam())) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    Reopen();
  }
  void TearDown() override {
    store_.reset();
    std::filesystem::remove_all(dir_);
  }
  void Reopen(GarbageFilter garbage_filter = nullptr) {
    store_.reset();
    Options o;
    o.garbage_filter = std::move(garbage_filter);
    o.engine = GetParam();
    o.dir = dir_.string();
    o.block_cache_mb = 8;
    o.write_buffer_mb = 4;
    o.hot_cache_mb = 1;  // every test also runs through the hot cache
    auto s = OpenKvStore(o);
    ASSERT_TRUE(s.ok()) << s.status();
    store_ = std::move(*s);
  }
  std::string Get(Column c, std::string_view key,
                  const Snapshot* snap = nullptr) {
    ReadOptions ro;
    ro.snapshot = snap;
    std::string v;
    absl::Status s = store_->Get(ro, c, key, &v);
    if (absl::IsNotFound(s)) return "<none>";
    EXPECT_TRUE(s.ok()) << s;
    return v;
  }
  void Put(Column c, std::string_view k, std::string_view v) {
    WriteBatch b;
    b.Put(c, k, v);
    ASSERT_TRUE(store_->Write(b).ok());
  }
  std::vector<std::string> Keys(Column c, std::string lower = "",
                                std::string upper = "") {
    ReadOptions ro;
    ro.lower_bound = std::move(lower);
    ro.upper_bound = std::move(upper);
    auto it = store_->NewIterator(ro, c);
    std::vector<std::string> out;
    for (it->SeekToFirst(); it->Valid(); it->Next())
      out.emplace_back(it->key());
    EXPECT_TRUE(it->status().ok());
    return out;
  }

  std::filesystem::path dir_;
  std::unique_ptr<KvStore> store_;
};

TEST_P(KvStoreTest, GetPutDeleteAndColumnsAreSeparate) {
  EXPECT_EQ(Get(Column::kMeta, "a"), "<none>");
  Put(Column::kMeta, "a", "1");
  Put(Column::kMembers, "a", "2");
  EXPECT_EQ(Get(Column::kMeta, "a"), "1");
  EXPECT_EQ(Get(Column::kMembers, "a"), "2");
  EXPECT_EQ(Get(Column::kScoreIndex, "a"), "<none>");
  WriteBatch b;
  b.Delete(Column::kMeta, "a");
  ASSERT_TRUE(store_->Write(b).ok());
  EXPECT_EQ(Get(Column::kMeta, "a"), "<none>");
  EXPECT_EQ(Get(Column::kMembers, "a"), "2");
}

TEST_P(KvStoreTest, BatchIsAppliedInOrderAndAtomically) {
  WriteBatch b;
  b.Put(Column::kMeta, "k", "old");
  b.Delete(Column::kMeta, "k");
  b.Put(Column::kMeta, "k", "new");
  b.Put(Column::kMembers, "m", "x");
  ASSERT_TRUE(store_->Write(b).ok());
  EXPECT_EQ(Get(Column::kMeta, "k"), "new");
  EXPECT_EQ(Get(Column::kMembers, "m"), "x");
}

TEST_P(KvStoreTest, MultiGetReportsEachKey) {
  Put(Column::kMeta, "a", "1");
  Put(Column::kMeta, "c", "3");
  std::vector<std::string> values;
  auto st =
      store_->MultiGet(ReadOptions{}, Column::kMeta, {"a", "b", "c"}, &values);
  ASSERT_EQ(st.size(), 3u);
  EXPECT_TRUE(st[0].ok());
  EXPECT_TRUE(absl::IsNotFound(st[1]));
  EXPECT_EQ(values[0], "1");
  EXPECT_EQ(values[2], "3");
}

TEST_P(KvStoreTest, IteratorHonoursBoundsBothWays) {
  for (const char* k : {"a", "b", "ba", "bb", "c"}) Put(Column::kMeta, k, k);
  Put(Column::kMembers, "bz", "other column");
  EXPECT_EQ(Keys(Column::kMeta),
            (std::vector<std::string>{"a", "b", "ba", "bb", "c"}));
  EXPECT_EQ(Keys(Column::kMeta, "b", "c"),
            (std::vector<std::string>{"b", "ba", "bb"}));
  ReadOptions ro;
  ro.lower_bound = "b";
  ro.upper_bound = "c";
  auto it = store_->NewIterator(ro, Column::kMeta);
  it->SeekToLast();
  ASSERT_TRUE(it->Valid());
  EXPECT_EQ(it->key(), "bb");
  it->Prev();
  EXPECT_EQ(it->key(), "ba");
  it->Seek("baa");
  EXPECT_EQ(it->key(), "bb");
  it->Next();
  EXPECT_FALSE(it->Valid());
  it->Seek("a");  // below the lower bound
  ASSERT_TRUE(it->Valid());
  EXPECT_EQ(it->key(), "b");
  it->Prev();
  EXPECT_FALSE(it->Valid());
}

TEST_P(KvStoreTest, SnapshotSeesOnlyEarlierWrites) {
  Put(Column::kMeta, "a", "1");
  Put(Column::kMeta, "b", "1");
  auto snap = store_->GetSnapshot();
  Put(Column::kMeta, "a", "2");
  WriteBatch b;
  b.Delete(Column::kMeta, "b");
  b.Put(Column::kMeta, "c", "new");
  ASSERT_TRUE(store_->Write(b).ok());
  EXPECT_EQ(Get(Column::kMeta, "a", snap.get()), "1");
  EXPECT_EQ(Get(Column::kMeta, "b", snap.get()), "1");
  EXPECT_EQ(Get(Column::kMeta, "c", snap.get()), "<none>");
  ReadOptions ro;
  ro.snapshot = snap.get();
  auto it = store_->NewIterator(ro, Column::kMeta);
  std::vector<std::string> keys;
  for (it->SeekToFirst(); it->Valid(); it->Next()) keys.emplace_back(it->key());
  EXPECT_EQ(keys, (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(Get(Column::kMeta, "a"), "2");
  EXPECT_EQ(Get(Column::kMeta, "b"), "<none>");
  snap.reset();
  EXPECT_EQ(Keys(Column::kMeta), (std::vector<std::string>{"a", "c"}));
}

TEST_P(KvStoreTest, DeleteRangeRemovesHalfOpenRange) {
  for (const char* k : {"a", "b1", "b2", "c"}) Put(Column::kMembers, k, "v");
  Put(Column::kMeta, "b1", "v");
  WriteBatch b;
  b.DeleteRange(Column::kMembers, "b", "c");
  ASSERT_TRUE(store_->Write(b).ok());
  EXPECT_EQ(Keys(Column::kMembers), (std::vector<std::string>{"a", "c"}));
  EXPECT_EQ(Get(Column::kMeta, "b1"), "v");
}

TEST_P(KvStoreTest, IteratorSurvivesConcurrentWrites) {
  for (int i = 0; i < 100; ++i)
    Put(Column::kMeta, absl::StrCat("k", 1000 + i), "v");
  auto it = store_->NewIterator(ReadOptions{}, Column::kMeta);
  std::thread writer([&] {
    for (int i = 0; i < 100; ++i) {
      WriteBatch b;
      b.Delete(Column::kMeta, absl::StrCat("k", 1000 + i));
      b.Put(Column::kMeta, absl::StrCat("j", i), "v");
      ASSERT_TRUE(store_->Write(b).ok());
    }
  });
  int n = 0;
  for (it->SeekToFirst(); it->Valid(); it->Next()) ++n;
  writer.join();
  EXPECT_EQ(n, 100);  // the iterator reads one consistent view
}

TEST_P(KvStoreTest, DataSurvivesReopen) {
  if (GetParam() == Engine::kMemory) GTEST_SKIP() << "memory is volatile";
  Put(Column::kMeta, "durable", "yes");
  Put(Column::kScoreIndex, "s", "");
  ASSERT_TRUE(store_->Flush().ok());
  Reopen();
  EXPECT_EQ(Get(Column::kMeta, "durable"), "yes");
  EXPECT_EQ(Get(Column::kScoreIndex, "s"), "");
}

TEST_P(KvStoreTest, GarbageSweepDropsFlaggedMembers) {
  Put(Column::kMembers, "keep", "1");
  Put(Column::kMembers, "drop", "1");
  Put(Column::kMeta, "drop", "meta is never swept");
  auto dropped =
      SweepGarbage(*store_, [](KvStore&, Column, std::string_view key,
                               std::string_view) { return key == "drop"; });
  ASSERT_TRUE(dropped.ok());
  EXPECT_EQ(*dropped, 1u);
  EXPECT_EQ(Keys(Column::kMembers), (std::vector<std::string>{"keep"}));
  EXPECT_EQ(Get(Column::kMeta, "drop"), "meta is never swept");
}

// RocksDB runs compaction filters regardless of snapshots; ours keeps
// everything while a snapshot is open, so an RDB export reading an old
// version of a key still finds its members.
TEST_P(KvStoreTest, CompactionKeepsGarbageWhileASnapshotIsOpen) {
  Reopen([](KvStore&, Column, std::string_view key, std::string_view) {
    return key == "old-member";
  });
  Put(Column::kMembers, "old-member", "1");
  ASSERT_TRUE(store_->Flush().ok());
  auto snap = store_->GetSnapshot();
  ASSERT_TRUE(store_->CollectGarbage().ok());
  EXPECT_EQ(Get(Column::kMembers, "old-member", snap.get()), "1");
  snap.reset();
  ASSERT_TRUE(store_->CollectGarbage().ok());
  EXPECT_EQ(Get(Column::kMembers, "old-member"), "<none>");
}

// A background compaction may be inside its garbage filter, which reads the
// store, when the store closes: the close waits for that call, and the
// compaction reads the store no more (it keeps the rest).
TEST_P(KvStoreTest, CloseWaitsForTheGarbageFilterAndStopsIt) {
  if (GetParam() != Engine::kRocksDb) GTEST_SKIP() << "compaction filters";
  absl::Notification in_filter, go_on;
  std::atomic<int> calls{0};
  std::atomic<bool> read_ok{false};
  Reopen([&](KvStore& store, Column, std::string_view, std::string_view) {
    if (calls++ == 0) {
      in_filter.Notify();
      go_on.WaitForNotificationWithTimeout(absl::Seconds(10));
    }
    std::string v;
    absl::Status s = store.Get(ReadOptions{}, Column::kMeta, "meta", &v);
    read_ok = s.ok() || absl::IsNotFound(s);
    return false;
  });
  // Enough level-0 files for an automatic compaction.
  for (int file = 0; file < 8; ++file) {
    WriteBatch b;
    for (int i = 0; i < 1000; ++i) {
      b.Put(Column::kMembers, absl::StrCat("member-", i, "-", file), "v");
    }
    ASSERT_TRUE(store_->Write(b).ok());
    ASSERT_TRUE(store_->Flush().ok());
  }
  ASSERT_TRUE(in_filter.WaitForNotificationWithTimeout(absl::Seconds(10)))
      << "no compaction started";
  std::thread close([&] { store_.reset(); });
  // The close has begun and waits for the compaction, which then goes on.
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  go_on.Notify();
  close.join();
  EXPECT_EQ(calls.load(), 1);
  EXPECT_TRUE(read_ok.load());
}

TEST_P(KvStoreTest, StatsAndSizesAreReported) {
  Put(Column::kMeta, "a", std::string(1000, 'x'));
  std::string stats;
  store_->AppendStats(&stats);
  EXPECT_NE(stats.find("engine:" + std::string(StorageEngineName(GetParam()))),
            std::string::npos);
  if (GetParam() == Engine::kRocksDb) {
    EXPECT_NE(stats.find("block_cache_hit_ratio:"), std::string::npos);
    EXPECT_TRUE(store_->SetBlockCacheCapacity(16 << 20).ok());
    stats.clear();
    store_->AppendStats(&stats);
    EXPECT_NE(stats.find("block_cache_capacity:16777216"), std::string::npos);
  }
}

INSTANTIATE_TEST_SUITE_P(AllEngines, KvStoreTest,
                         ::testing::ValuesIn(AvailableStorageEngines()),
                         [](const auto& info) {
                           return std::string(StorageEngineName(info.param));
                         });

}  // namespace
}  // namespace reborn::storage
