#include "rdb/rdb_reader.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <vector>

#include "absl/strings/str_cat.h"
#include "rdb/crc64.h"
#include "rdb/cursor.h"
#include "rdb/format.h"
#include "rdb/stream_skipper.h"
#include "rdb/stream_value.h"
#include "rdb/value_parser.h"

namespace reborn::rdb {

RdbReader::RdbReader(Callbacks callbacks, Limits limits)
    : callbacks_(std::move(callbacks)), limits_(limits) {}

RdbReader::~RdbReader() = default;

absl::Status RdbReader::Feed(std::string_view data) {
  if (!error_.ok()) return error_;
  if (data.empty()) return absl::OkStatus();
  if (state_ == State::kDone) {
    error_ = absl::DataLossError("data after the end of the RDB file");
    return error_;
  }
  buffer_.append(data.data(), data.size());
  if (buffer_.size() - start_ < need_) return absl::OkStatus();
  error_ = Parse();
  // Drop consumed bytes once they dominate the buffer (amortized O(1)).
  if (start_ > 0 && start_ * 2 >= buffer_.size()) {
    buffer_.erase(0, start_);
    start_ = 0;
  }
  return error_;
}

absl::Status RdbReader::Finish() {
  if (!error_.ok()) return error_;
  if (state_ != State::kDone) {
    error_ = absl::DataLossError(absl::StrCat(
        "RDB file truncated after ", consumed_ + buffered_bytes(), " bytes"));
  }
  return error_;
}

absl::Status RdbReader::Parse() {
  std::string_view view(buffer_.data() + start_, buffer_.size() - start_);
  Cursor c(view, limits_, consumed_);
  committed_ = 0;
  auto commit = [&](size_t end) {
    if (state_ != State::kDone) {
      crc_ = Crc64(crc_, view.substr(committed_, end - committed_));
    }
    committed_ = end;
  };
  while (state_ != State::kDone) {
    const size_t mark = c.pos();
    const State before = state_;
    if (!Step(c)) {
      if (c.has_error()) return c.error();
      if (!error_.ok()) return error_;  // a callback failed
      // Short: a value parser keeps its complete items; anything else
      // restarts at its item's beginning.
      size_t keep = (before == State::kValue || before == State::kStreamValue)
                        ? c.pos()
                        : mark;
      commit(keep);
      need_ = c.need() - keep;
      break;
    }
    if (!error_.ok()) return error_;
    if (before == State::kChecksum) {
      committed_ = c.pos();  // the checksum itself is not checksummed
    } else {
      commit(c.pos());
    }
  }
  if (state_ == State::kDone) {
    need_ = 0;
    if (committed_ != view.size()) {
      return absl::DataLossError("data after the end of the RDB file");
    }
  }
  start_ += committed_;
  consumed_ += committed_;
  return absl::OkStatus();
}

bool RdbReader::Step(Cursor& c) {
  switch (state_) {
    case State::kHeader: {
      std::string_view magic;
      if (!c.ReadRaw(9, &magic)) return false;
      if (magic.substr(0, 5) != "REDIS") return c.Corrupt("not an RDB file");
      int v = 0;
      for (char ch : magic.substr(5)) {
        if (ch < '0' || ch > '9') return c.Corrupt("bad RDB version");
        v = v * 10 + (ch - '0');
      }
      if (v < kMinRdbVersion || v > kRdbVersion) {
        return c.Corrupt(
            absl::StrCat("RDB version ", v, " not supported (1..10)"));
      }
      version_ = v;
      state_ = State::kOpcode;
      return true;
    }
    case State::kOpcode:
      return StepOpcode(c);
    case State::kValue:
      return StepValue(c);
    case State::kStreamValue:
      return StepStreamValue(c);
    case State::kChecksum: {
      if (version_ >= 5) {
        uint64_t stored;
        if (!c.ReadLittleEndian(8, &stored)) return false;
        if (stored != 0 && stored != crc_) {
          return c.Corrupt("RDB checksum mismatch");
        }
      }
      state_ = State::kDone;
      return true;
    }
    case State::kDone:
      return true;
  }
  return false;
}

bool RdbReader::StepOpcode(Cursor& c) {
  uint8_t op;
  if (!c.ReadByte(&op)) return false;
  switch (op) {
    case kOpAux: {
      std::string k, v;
      if (!c.ReadString(&k) || !c.ReadString(&v)) return false;
      if (callbacks_.on_aux) callbacks_.on_aux(k, v);
      return true;
    }
    case kOpSelectDb: {
      uint64_t db;
      if (!c.ReadLength(&db)) return false;
      if (db > limits_.max_db_index) {
        return c.Corrupt(absl::StrCat("database index ", db, " too large"));
      }
      db_ = db;
      return true;
    }
    case kOpResizeDb: {
      uint64_t size, expires;
      if (!c.ReadLength(&size) || !c.ReadLength(&expires)) return false;
      if (callbacks_.on_resize_db) callbacks_.on_resize_db(size, expires);
      return true;
    }
    case kOpExpireTimeMs: {
      uint64_t ms;
      if (!c.ReadLittleEndian(8, &ms)) return false;
      pending_expire_ = static_cast<int64_t>(ms);
      if (pending_expire_ < 0) pending_expire_ = 0;  // long expired
      return true;
    }
    case kOpExpireTime: {
      uint64_t s;
      if (!c.ReadLittleEndian(4, &s)) return false;
      pending_expire_ = static_cast<int64_t>(static_cast<int32_t>(s)) * 1000;
      if (pending_expire_ < 0) pending_expire_ = 0;
      return true;
    }
    case kOpIdle: {
      uint64_t idle;
      return c.ReadLength(&idle);
    }
    case kOpFreq: {
      uint8_t freq;
      return c.ReadByte(&freq);
    }
    case kOpFunction2: {
      std::string code;
      if (!c.ReadString(&code)) return false;
      if (callbacks_.on_function) callbacks_.on_function(code);
      return true;
    }
    case kOpFunctionPreGa: {
      std::string name, engine, desc, blob;
      uint64_t has_desc;
      if (!c.ReadString(&name) || !c.ReadString(&engine) ||
          !c.ReadLength(&has_desc)) {
        return false;
      }
      if (has_desc && !c.ReadString(&desc)) return false;
      if (!c.ReadString(&blob)) return false;
      // Reported in the GA form, as Redis' rdbFunctionLoad converts it.
      if (callbacks_.on_function) {
        callbacks_.on_function(
            absl::StrCat("#!", engine, " name=", name, "\n", blob));
      }
      return true;
    }
    case kOpModuleAux:
      return c.Corrupt("module aux data (opcode 247) is not supported");
    case kOpEof:
      state_ = State::kChecksum;
      return true;
    default:
      break;
  }
  if (StreamSkipper::IsStreamType(op)) {
    if (!c.ReadString(&key_)) return false;
    stream_walker_ = std::make_unique<StreamSkipper>(op);
    stream_type_ = op;
    stream_body_.clear();
    state_ = State::kStreamValue;
    return true;
  }
  if (!ValueParser::IsSupportedType(op)) {
    ValueParser probe(op, limits_);
    (void)probe.Parse(c);  // sets the precise error
    if (!c.has_error()) c.Corrupt("unknown object type");
    return false;
  }
  if (!c.ReadString(&key_)) return false;
  parser_ = std::make_unique<ValueParser>(op, limits_);
  state_ = State::kValue;
  return true;
}

bool RdbReader::StepValue(Cursor& c) {
  absl::StatusOr<bool> done = parser_->Parse(c);
  if (!done.ok() || !*done) return false;  // error is in the cursor
  Value value = parser_->Take();
  parser_.reset();
  return Deliver(std::move(value));
}

bool RdbReader::StepStreamValue(Cursor& c) {
  // The walker consumes whole items only (rewinding a short one), so the
  // bytes it passed over are complete and belong to the value.
  const size_t from = c.pos();
  absl::StatusOr<bool> done = stream_walker_->Parse(c);
  stream_body_.append(c.data().substr(from, c.pos() - from));
  if (stream_body_.size() > limits_.max_value_bytes) {
    return c.Corrupt("stream value larger than the limit");
  }
  if (!done.ok() || !*done) return false;  // error is in the cursor
  stream_walker_.reset();
  absl::StatusOr<StreamData> stream =
      DecodeStream(stream_type_, stream_body_, limits_);
  stream_body_.clear();
  stream_body_.shrink_to_fit();
  if (!stream.ok()) {
    return c.Corrupt(
        absl::StrCat("stream '", key_, "': ", stream.status().message()));
  }
  Value value;
  value.type = ValueType::kStream;
  value.stream = std::move(*stream);
  return Deliver(std::move(value));
}

bool RdbReader::Deliver(Value value) {
  RdbEntry entry;
  entry.db = db_;
  entry.key = std::move(key_);
  entry.value = std::move(value);
  entry.expire_ms = pending_expire_;
  key_.clear();
  pending_expire_ = -1;
  state_ = State::kOpcode;
  if (entry.value.empty_collection()) {
    ++empty_keys_skipped_;
    return true;
  }
  ++keys_loaded_;
  absl::Status s = callbacks_.on_entry(std::move(entry));
  if (!s.ok()) {
    error_ = s;
    return false;
  }
  return true;
}

absl::Status ReadRdbFile(const std::string& path, RdbReader& reader,
                         size_t chunk_bytes) {
  struct Closer {
    void operator()(std::FILE* f) const { std::fclose(f); }
  };
  std::unique_ptr<std::FILE, Closer> f(std::fopen(path.c_str(), "rb"));
  if (!f) {
    return absl::NotFoundError(
        absl::StrCat("cannot open ", path, ": ", std::strerror(errno)));
  }
  std::vector<char> buf(chunk_bytes == 0 ? 1 : chunk_bytes);
  while (true) {
    size_t n = std::fread(buf.data(), 1, buf.size(), f.get());
    if (n > 0) {
      absl::Status s = reader.Feed(std::string_view(buf.data(), n));
      if (!s.ok()) return s;
    }
    if (n < buf.size()) {
      if (std::ferror(f.get())) {
        return absl::DataLossError(absl::StrCat("read error on ", path));
      }
      break;
    }
  }
  return reader.Finish();
}

}  // namespace reborn::rdb
