#pragma once

#include <atomic>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "storage/forwarding_store.h"

namespace reborn::storage {

// Wraps a KvStore and fails reads and/or writes on demand, to test that a
// storage failure (disk full, I/O error) becomes an error reply and leaves
// the engine consistent. Thread-safe: the switches are atomics.
class FaultInjectionKvStore final : public ForwardingKvStore {
 public:
  explicit FaultInjectionKvStore(std::unique_ptr<KvStore> base)
      : ForwardingKvStore(std::move(base)) {}

  void FailWritesForTest(bool on) { fail_writes_ = on; }
  void FailReadsForTest(bool on) { fail_reads_ = on; }

  absl::Status Get(const ReadOptions& options, Column column,
                   std::string_view key, std::string* value) override {
    if (fail_reads_) return absl::UnavailableError("injected read error");
    return ForwardingKvStore::Get(options, column, key, value);
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
    return ForwardingKvStore::MultiGet(options, column, keys, values);
  }
  absl::Status Write(const WriteBatch& batch) override {
    if (fail_writes_) {
      return absl::ResourceExhaustedError(
          "IO error: No space left on device (injected)");
    }
    return ForwardingKvStore::Write(batch);
  }

 private:
  std::atomic<bool> fail_writes_{false};
  std::atomic<bool> fail_reads_{false};
};

}  // namespace reborn::storage
