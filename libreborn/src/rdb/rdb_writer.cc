#include "rdb/rdb_writer.h"

#include <ctime>

#include "absl/strings/str_cat.h"
#include "rdb/crc64.h"
#include "rdb/format.h"

namespace reborn::rdb {

RdbWriter::RdbWriter(Sink sink, Options options)
    : sink_(std::move(sink)), options_(std::move(options)) {}

void RdbWriter::Aux(std::string_view key, std::string_view value) {
  buf_.push_back(static_cast<char>(kOpAux));
  WriteString(key, options_.encode.compress, &buf_);
  WriteString(value, options_.encode.compress, &buf_);
}

absl::Status RdbWriter::MaybeFlush(bool force) {
  if (buf_.empty() || (!force && buf_.size() < options_.flush_bytes)) {
    return absl::OkStatus();
  }
  crc_ = Crc64(crc_, buf_);
  written_ += buf_.size();
  absl::Status s = sink_(buf_);
  buf_.clear();
  return s;
}

absl::Status RdbWriter::Begin() {
  if (begun_) return absl::FailedPreconditionError("Begin called twice");
  begun_ = true;
  buf_.append(absl::StrCat("REDIS", absl::Dec(kRdbVersion, absl::kZeroPad4)));
  const int64_t ctime = options_.ctime_s >= 0
                            ? options_.ctime_s
                            : static_cast<int64_t>(std::time(nullptr));
  Aux("redis-ver", options_.redis_ver);
  Aux("redis-bits", "64");
  Aux("ctime", absl::StrCat(ctime));
  Aux("used-mem", absl::StrCat(options_.used_mem));
  Aux("aof-base", "0");
  for (const auto& [k, v] : options_.extra_aux) Aux(k, v);
  return MaybeFlush(false);
}

absl::Status RdbWriter::AddFunction(std::string_view code) {
  if (!begun_ || finished_) {
    return absl::FailedPreconditionError("AddFunction outside Begin..Finish");
  }
  buf_.push_back(static_cast<char>(kOpFunction2));
  WriteString(code, options_.encode.compress, &buf_);
  return MaybeFlush(false);
}

absl::Status RdbWriter::SelectDb(uint64_t db, uint64_t db_size,
                                 uint64_t expires_size) {
  if (!begun_ || finished_) {
    return absl::FailedPreconditionError("SelectDb outside Begin..Finish");
  }
  buf_.push_back(static_cast<char>(kOpSelectDb));
  WriteLength(db, &buf_);
  buf_.push_back(static_cast<char>(kOpResizeDb));
  WriteLength(db_size, &buf_);
  WriteLength(expires_size, &buf_);
  return MaybeFlush(false);
}

absl::Status RdbWriter::Add(std::string_view key, const Value& value,
                            int64_t expire_ms) {
  if (!begun_ || finished_) {
    return absl::FailedPreconditionError("Add outside Begin..Finish");
  }
  if (value.empty_collection()) {
    return absl::InvalidArgumentError("cannot write an empty collection");
  }
  if (expire_ms >= 0) {
    buf_.push_back(static_cast<char>(kOpExpireTimeMs));
    for (int i = 0; i < 8; ++i) {
      buf_.push_back(
          static_cast<char>(static_cast<uint64_t>(expire_ms) >> (8 * i)));
    }
  }
  const size_t type_pos = buf_.size();
  buf_.push_back('\0');
  WriteString(key, options_.encode.compress, &buf_);
  buf_[type_pos] =
      static_cast<char>(EncodeValue(value, options_.encode, &buf_));
  return MaybeFlush(false);
}

absl::Status RdbWriter::Finish() {
  if (!begun_ || finished_) {
    return absl::FailedPreconditionError("Finish outside Begin..Finish");
  }
  finished_ = true;
  buf_.push_back(static_cast<char>(kOpEof));
  crc_ = Crc64(crc_, buf_);
  std::string trailer;
  for (int i = 0; i < 8; ++i)
    trailer.push_back(static_cast<char>(crc_ >> (8 * i)));
  written_ += buf_.size() + trailer.size();
  buf_.append(trailer);
  absl::Status s = sink_(buf_);
  buf_.clear();
  return s;
}

}  // namespace reborn::rdb
