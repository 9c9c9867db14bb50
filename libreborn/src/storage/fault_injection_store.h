#pragma once

#include <atomic>
#include <memory>
#include <string>

#include "storage/kv_store.h"

namespace reborn::storage {

// Wraps a KvStore and fails reads and/or writes on demand, to test that a
// storage failure (disk full, I/O error) becomes an error reply and leaves
// the engine consistent. Thread-safe: the switches are atomics.
class FaultInjectionKvStore final : public KvStore {
 public:
  explicit FaultInjectionKvStore(std::unique_ptr<KvStore> base)
      : base_(std::move(base)) {}

  void FailWritesForTest(bool on) { fail_writes_ = on; }
  void FailReadsForTest(bool on) { fail_reads_ = on; }

  absl::Status Get(const ReadOptions& options, Column column,
                   std::string_view key, std::string* value) override {
    if (fail_reads_) return absl::UnavailableError("injected read error");
    return base_->Get(options, column, key, value);
  }
  std::vector<absl::Status> MultiGet(
      const ReadOptions& options, Column column,
      const std::vector<std::string>& keys,
      std::vector<std::string>* values) override {
    if (fail_reads_) {
      values->assign(keys.size(), std::string());
      return std::vector<absl::Status>(
          keys.size(), absl::UnavailableError("injected read error"));
    }
    return base_->MultiGet(options, column, keys, values);
  }
  absl::Status Write(const WriteBatch& batch) override {
    if (fail_writes_) {
      return absl::ResourceExhaustedError(
          "IO error: No space left on device (injected)");
    }
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
  void SetSyncWrites(bool sync) override { base_->SetSyncWrites(sync); }
  uint64_t ApproximateDiskBytes() override {
    return base_->ApproximateDiskBytes();
  }
  uint64_t ApproximateMemoryBytes() override {
    return base_->ApproximateMemoryBytes();
  }
  void AppendStats(std::string* out) override { base_->AppendStats(out); }
  Engine engine() const override { return base_->engine(); }

 private:
  std::unique_ptr<KvStore> base_;
  std::atomic<bool> fail_writes_{false};
  std::atomic<bool> fail_reads_{false};
};

}  // namespace reborn::storage
