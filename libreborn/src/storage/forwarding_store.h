#pragma once

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "storage/kv_store.h"

namespace reborn::storage {

// A KvStore that passes every call on to another. Decorators (the hot
// cache, the fault injection of tests) derive from it and override only
// what they change.
class ForwardingKvStore : public KvStore {
 public:
  explicit ForwardingKvStore(std::unique_ptr<KvStore> base)
      : base_(std::move(base)) {}

  absl::Status Get(const ReadOptions& options, Column column,
                   std::string_view key, std::string* value) override {
    return base_->Get(options, column, key, value);
  }
  std::vector<absl::Status> MultiGet(
      const ReadOptions& options, Column column,
      const std::vector<std::string>& keys,
      std::vector<std::string>* values) override {
    return base_->MultiGet(options, column, keys, values);
  }
  absl::Status Write(const WriteBatch& batch) override {
    return base_->Write(batch);
  }
  std::unique_ptr<Iterator> NewIterator(const ReadOptions& options,
                                        Column column) override {
    return base_->NewIterator(options, column);
  }
  std::shared_ptr<const Snapshot> GetSnapshot() override {
    return base_->GetSnapshot();
  }
  absl::Status Flush() override { return base_->Flush(); }
  absl::StatusOr<uint64_t> CollectGarbage() override {
    return base_->CollectGarbage();
  }
  absl::Status SetBlockCacheCapacity(size_t bytes) override {
    return base_->SetBlockCacheCapacity(bytes);
  }
  absl::Status SetHotCacheCapacity(size_t bytes) override {
    return base_->SetHotCacheCapacity(bytes);
  }
  void SetSyncWrites(bool sync) override { base_->SetSyncWrites(sync); }
  bool HasUnflushedWrites() const override {
    return base_->HasUnflushedWrites();
  }
  absl::Status FlushWrites() override { return base_->FlushWrites(); }
  uint64_t ApproximateDiskBytes() override {
    return base_->ApproximateDiskBytes();
  }
  uint64_t ApproximateMemoryBytes() override {
    return base_->ApproximateMemoryBytes();
  }
  void AppendStats(std::string* out) override { base_->AppendStats(out); }
  Engine engine() const override { return base_->engine(); }

 protected:
  KvStore& base() { return *base_; }

 private:
  std::unique_ptr<KvStore> base_;
};

}  // namespace reborn::storage
