#include "scripting/function_dump.h"

#include <cstdint>

#include "rdb/crc64.h"
#include "rdb/cursor.h"
#include "rdb/dump.h"
#include "rdb/format.h"
#include "rdb/value_writer.h"

namespace reborn::scripting {
namespace {

constexpr size_t kFooterSize = 10;  // version:u16le crc:u64le

absl::Status Fail(const char* text) { return absl::InvalidArgumentError(text); }

}  // namespace

std::string EncodeFunctionDump(const std::vector<std::string>& codes,
                               bool compress) {
  std::string out;
  for (const std::string& code : codes) {
    out.push_back(static_cast<char>(rdb::kOpFunction2));
    rdb::WriteString(code, compress, &out);
  }
  out.push_back(static_cast<char>(rdb::kRdbVersion & 0xff));
  out.push_back(static_cast<char>(rdb::kRdbVersion >> 8));
  const uint64_t crc = rdb::Crc64(0, out);
  for (int i = 0; i < 8; ++i) out.push_back(static_cast<char>(crc >> (8 * i)));
  return out;
}

absl::StatusOr<std::vector<std::string>> DecodeFunctionDump(
    std::string_view payload) {
  // Redis' verifyDumpPayload: a footer with a known version and the CRC.
  if (payload.size() < kFooterSize) return Fail(rdb::kDumpChecksumError);
  const auto* footer = reinterpret_cast<const unsigned char*>(
      payload.data() + payload.size() - kFooterSize);
  const int version = footer[0] | (footer[1] << 8);
  if (version > rdb::kRdbVersion) return Fail(rdb::kDumpChecksumError);
  uint64_t stored = 0;
  for (int i = 7; i >= 0; --i) stored = (stored << 8) | footer[2 + i];
  if (rdb::Crc64(0, payload.substr(0, payload.size() - 8)) != stored) {
    return Fail(rdb::kDumpChecksumError);
  }
  const std::string_view body = payload.substr(0, payload.size() - kFooterSize);
  rdb::Limits limits;
  rdb::Cursor cursor(body, limits);
  std::vector<std::string> codes;
  while (cursor.remaining() > 0) {
    uint8_t type = 0;
    if (!cursor.ReadByte(&type)) {
      return Fail("ERR can not read data type");
    }
    if (type == rdb::kOpFunction2) {
      std::string code;
      if (!cursor.ReadString(&code)) {
        return Fail("ERR Failed loading library payload");
      }
      codes.push_back(std::move(code));
    } else if (type == rdb::kOpFunctionPreGa) {
      // Redis 7.0 rc1/rc2: name, engine, optional description, code; turned
      // into the GA form as rdbFunctionLoad does.
      std::string name, engine, description, blob;
      uint64_t has_description = 0;
      if (!cursor.ReadString(&name) || !cursor.ReadString(&engine) ||
          !cursor.ReadLength(&has_description) ||
          (has_description != 0 && !cursor.ReadString(&description)) ||
          !cursor.ReadString(&blob)) {
        return Fail("ERR failed loading the given functions payload");
      }
      codes.push_back("#!" + engine + " name=" + name + "\n" + blob);
    } else {
      return Fail("ERR given type is not a function");
    }
  }
  return codes;
}

}  // namespace reborn::scripting
