#include "qdb/function_record.h"

#include "absl/strings/str_cat.h"
#include "qdb/encoding.h"
#include "scripting/function_dump.h"

namespace reborn::qdb {

std::string FunctionsRecordKey() {
  return EncodeMetaKey(kInternalDb, "functions");
}

void PutFunctionsRecord(const std::vector<std::string>& codes,
                        storage::WriteBatch* batch) {
  if (codes.empty()) {
    batch->Delete(storage::Column::kMeta, FunctionsRecordKey());
  } else {
    batch->Put(storage::Column::kMeta, FunctionsRecordKey(),
               scripting::EncodeFunctionDump(codes, /*compress=*/false));
  }
}

absl::StatusOr<std::vector<std::string>> ReadFunctionsRecord(
    storage::KvStore& store, const storage::Snapshot* snapshot) {
  storage::ReadOptions ro;
  ro.snapshot = snapshot;
  std::string raw;
  absl::Status s =
      store.Get(ro, storage::Column::kMeta, FunctionsRecordKey(), &raw);
  if (absl::IsNotFound(s)) return std::vector<std::string>();
  if (!s.ok()) return s;
  absl::StatusOr<std::vector<std::string>> codes =
      scripting::DecodeFunctionDump(raw);
  if (!codes.ok()) {
    return absl::DataLossError(absl::StrCat(
        "corrupt function libraries record: ", codes.status().message()));
  }
  return codes;
}

}  // namespace reborn::qdb
