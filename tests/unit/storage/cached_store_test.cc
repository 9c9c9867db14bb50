#include "storage/cached_store.h"

#include <gtest/gtest.h>

#include <condition_variable>
#include <mutex>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "storage/fault_injection_store.h"
#include "storage/memory_store.h"

namespace reborn::storage {
namespace {

constexpr size_t kCapacity = 1 << 20;

class CachedStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto base = OpenMemoryStore(Options{});
    ASSERT_TRUE(base.ok());
    auto faulty = std::make_unique<FaultInjectionKvStore>(std::move(*base));
    faulty_ = faulty.get();
    store_ = std::make_unique<CachedStore>(std::move(faulty), Column::kMeta,
                                           kCapacity);
  }
  absl::Status Put(Column c, std::string_view k, std::string_view v) {
    WriteBatch b;
    b.Put(c, k, v);
    return store_->Write(b);
  }
  std::string Get(std::string_view key, Column c = Column::kMeta) {
    std::string v;
    absl::Status s = store_->Get(ReadOptions{}, c, key, &v);
    if (absl::IsNotFound(s)) return "<none>";
    EXPECT_TRUE(s.ok()) << s;
    return v;
  }

  FaultInjectionKvStore* faulty_ = nullptr;
  std::unique_ptr<CachedStore> store_;
};

TEST_F(CachedStoreTest, MissesFillAndHitsSkipTheStore) {
  ASSERT_TRUE(Put(Column::kMeta, "a", "1").ok());
  EXPECT_EQ(Get("a"), "1");
  EXPECT_EQ(Get("nope"), "<none>");
  const uint64_t misses = store_->misses();
  faulty_->FailReadsForTest(true);  // the store is not asked again
  EXPECT_EQ(Get("a"), "1");
  EXPECT_EQ(Get("nope"), "<none>");
  EXPECT_EQ(store_->misses(), misses);
  EXPECT_GE(store_->hits(), 2u);
  // Other columns are not cached.
  std::string v;
  EXPECT_FALSE(store_->Get(ReadOptions{}, Column::kMembers, "a", &v).ok());
}

TEST_F(CachedStoreTest, WritesKeepTheCacheExact) {
  EXPECT_EQ(Get("a"), "<none>");  // cached as absent
  ASSERT_TRUE(Put(Column::kMeta, "a", "1").ok());
  EXPECT_EQ(Get("a"), "1");
  WriteBatch b;
  b.Put(Column::kMeta, "a", "2");
  b.Delete(Column::kMeta, "b");
  b.Put(Column::kMeta, "c", "3");
  b.Delete(Column::kMeta, "c");
  ASSERT_TRUE(store_->Write(b).ok());
  EXPECT_EQ(Get("a"), "2");
  EXPECT_EQ(Get("c"), "<none>");
  WriteBatch range;
  range.DeleteRange(Column::kMeta, "a", "b");
  ASSERT_TRUE(store_->Write(range).ok());
  EXPECT_EQ(Get("a"), "<none>");
}

TEST_F(CachedStoreTest, FailedWriteForgetsTheKeysItTouched) {
  ASSERT_TRUE(Put(Column::kMeta, "a", "1").ok());
  EXPECT_EQ(Get("a"), "1");
  faulty_->FailWritesForTest(true);
  EXPECT_FALSE(Put(Column::kMeta, "a", "2").ok());
  faulty_->FailWritesForTest(false);
  const uint64_t misses = store_->misses();
  EXPECT_EQ(Get("a"), "1");  // read again from the store
  EXPECT_EQ(store_->misses(), misses + 1);
}

TEST_F(CachedStoreTest, SnapshotReadsBypassTheCache) {
  ASSERT_TRUE(Put(Column::kMeta, "a", "1").ok());
  auto snap = store_->GetSnapshot();
  ASSERT_TRUE(Put(Column::kMeta, "a", "2").ok());
  ReadOptions ro;
  ro.snapshot = snap.get();
  std::string v;
  ASSERT_TRUE(store_->Get(ro, Column::kMeta, "a", &v).ok());
  EXPECT_EQ(v, "1");
  EXPECT_EQ(Get("a"), "2");
}

TEST_F(CachedStoreTest, MultiGetMixesHitsAndMisses) {
  ASSERT_TRUE(Put(Column::kMeta, "a", "1").ok());
  ASSERT_TRUE(Put(Column::kMeta, "b", "2").ok());
  EXPECT_EQ(Get("a"), "1");
  std::vector<std::string> values;
  auto st =
      store_->MultiGet(ReadOptions{}, Column::kMeta, {"a", "x", "b"}, &values);
  ASSERT_EQ(st.size(), 3u);
  EXPECT_TRUE(st[0].ok());
  EXPECT_TRUE(absl::IsNotFound(st[1]));
  EXPECT_TRUE(st[2].ok());
  EXPECT_EQ(values[0], "1");
  EXPECT_EQ(values[2], "2");
  faulty_->FailReadsForTest(true);
  st = store_->MultiGet(ReadOptions{}, Column::kMeta, {"b", "x"}, &values);
  EXPECT_TRUE(st[0].ok());
  EXPECT_TRUE(absl::IsNotFound(st[1]));
}

TEST_F(CachedStoreTest, StaysWithinCapacityAndSkipsBigRecords) {
  const std::string value(1000, 'v');
  for (int i = 0; i < 5000; ++i) {
    ASSERT_TRUE(Put(Column::kMeta, absl::StrCat("k", i), value).ok());
  }
  EXPECT_LE(store_->used_bytes(), kCapacity);
  EXPECT_GT(store_->used_bytes(), kCapacity / 2);
  // Older keys were evicted but still read right.
  EXPECT_EQ(Get("k0"), value);
  // A record bigger than an eighth of a shard is never kept.
  const std::string big(kCapacity / CachedStore::kShards, 'b');
  ASSERT_TRUE(Put(Column::kMeta, "big", big).ok());
  const uint64_t misses = store_->misses();
  EXPECT_EQ(Get("big"), big);
  EXPECT_EQ(Get("big"), big);
  EXPECT_EQ(store_->misses(), misses + 2);
  ASSERT_TRUE(store_->SetHotCacheCapacity(0).ok());
  EXPECT_EQ(store_->used_bytes(), 0u);
  EXPECT_EQ(Get("k1"), value);
}

// A store whose Get of one key, once armed, reads its value and then waits
// until released: the window in which a write lands between a cache miss's
// read and its fill.
class PausingStore final : public ForwardingKvStore {
 public:
  explicit PausingStore(std::unique_ptr<KvStore> base)
      : ForwardingKvStore(std::move(base)) {}
  void Arm(std::string key) {
    std::lock_guard<std::mutex> lock(mu_);
    armed_ = std::move(key);
    reading_ = released_ = false;
  }
  void WaitUntilReading() {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait(lock, [&] { return reading_; });
  }
  void Release() {
    std::lock_guard<std::mutex> lock(mu_);
    released_ = true;
    cv_.notify_all();
  }

  absl::Status Get(const ReadOptions& options, Column column,
                   std::string_view key, std::string* value) override {
    absl::Status s = ForwardingKvStore::Get(options, column, key, value);
    std::unique_lock<std::mutex> lock(mu_);
    if (key == armed_) {
      armed_.clear();
      reading_ = true;
      cv_.notify_all();
      cv_.wait(lock, [&] { return released_; });
    }
    return s;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::string armed_;
  bool reading_ = false;
  bool released_ = false;
};

// A miss reads "old", then a write lands before the miss fills the cache:
// the fill must be dropped, or the cache would serve "old" for good.
TEST(CachedStoreRaceTest, FillNeverPutsBackAValueOlderThanAWrite) {
  for (const bool delete_range : {false, true}) {
    auto base = OpenMemoryStore(Options{});
    ASSERT_TRUE(base.ok());
    auto pausing = std::make_unique<PausingStore>(std::move(*base));
    PausingStore* pause = pausing.get();
    CachedStore store(std::move(pausing), Column::kMeta, kCapacity);
    WriteBatch put;
    put.Put(Column::kMeta, "k", "old");
    ASSERT_TRUE(store.Write(put).ok());
    // Drop the entry the write left, so that the next read misses.
    ASSERT_TRUE(store.SetHotCacheCapacity(0).ok());
    ASSERT_TRUE(store.SetHotCacheCapacity(kCapacity).ok());

    pause->Arm("k");
    std::string seen;
    std::thread reader([&] {
      ASSERT_TRUE(store.Get(ReadOptions{}, Column::kMeta, "k", &seen).ok());
    });
    pause->WaitUntilReading();
    WriteBatch del;
    if (delete_range) {
      del.DeleteRange(Column::kMeta, "k", "l");
    } else {
      del.Delete(Column::kMeta, "k");
    }
    ASSERT_TRUE(store.Write(del).ok());
    pause->Release();
    reader.join();
    EXPECT_EQ(seen, "old");  // the read began before the write
    std::string v;
    EXPECT_TRUE(
        absl::IsNotFound(store.Get(ReadOptions{}, Column::kMeta, "k", &v)))
        << "cache kept " << v << (delete_range ? " (range)" : "");
  }
}

}  // namespace
}  // namespace reborn::storage
