#include "rdb/dump.h"

#include "rdb/crc64.h"
#include "rdb/format.h"
#include "rdb/stream_skipper.h"
#include "rdb/stream_value.h"
#include "rdb/value_parser.h"

namespace reborn::rdb {

namespace {
constexpr size_t kFooterSize = 10;  // version:u16le crc:u64le
}  // namespace

std::string EncodeDump(const Value& value, const EncodeOptions& options) {
  std::string out;
  out.push_back('\0');
  out[0] = static_cast<char>(EncodeValue(value, options, &out));
  out.push_back(static_cast<char>(kRdbVersion & 0xff));
  out.push_back(static_cast<char>(kRdbVersion >> 8));
  uint64_t crc = Crc64(0, out);
  for (int i = 0; i < 8; ++i) out.push_back(static_cast<char>(crc >> (8 * i)));
  return out;
}

absl::StatusOr<Value> DecodeDump(std::string_view payload, const Limits& limits,
                                 std::string* detail) {
  auto fail = [&](const char* text, std::string why) -> absl::Status {
    if (detail != nullptr) *detail = std::move(why);
    return absl::InvalidArgumentError(text);
  };
  // Like Redis' verifyDumpPayload: at least type byte + footer.
  if (payload.size() < kFooterSize + 1) {
    return fail(kDumpChecksumError, "payload too short");
  }
  const auto* footer = reinterpret_cast<const unsigned char*>(
      payload.data() + payload.size() - kFooterSize);
  const int version = footer[0] | (footer[1] << 8);
  if (version > kRdbVersion) {
    return fail(kDumpChecksumError, "RDB version too new");
  }
  uint64_t stored = 0;
  for (int i = 7; i >= 0; --i) stored = (stored << 8) | footer[2 + i];
  if (Crc64(0, payload.substr(0, payload.size() - 8)) != stored) {
    return fail(kDumpChecksumError, "checksum mismatch");
  }
  const uint8_t type = static_cast<uint8_t>(payload[0]);
  const std::string_view body =
      payload.substr(1, payload.size() - 1 - kFooterSize);
  absl::StatusOr<Value> value;
  if (StreamSkipper::IsStreamType(type)) {
    absl::StatusOr<StreamData> stream = DecodeStream(type, body, limits);
    if (stream.ok()) {
      value = Value{};
      value->type = ValueType::kStream;
      value->stream = std::move(*stream);
    } else {
      value = stream.status();
    }
  } else {
    value = DecodeValue(type, body, limits);
  }
  if (!value.ok()) {
    return fail(kDumpBadFormatError, std::string(value.status().message()));
  }
  if (value->empty_collection()) {
    return fail(kDumpBadFormatError, "empty collection");
  }
  return value;
}

}  // namespace reborn::rdb
