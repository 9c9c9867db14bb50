// libFuzzer target for the RDB library: the DUMP payload decoder, the value
// decoder of every RDB type (bypassing the checksum so the fuzzer reaches the
// encodings) and the streaming file reader fed in input-chosen chunk sizes.
// Whatever decodes must re-encode and decode to the same contents.
//
// Build (standalone, from the repository root):
//   clang++ -std=c++20 -g -O1 -fsanitize=fuzzer,address,undefined \
//     -Ilibreborn/src -Ilibreborn/include libreborn/src/rdb/*.cc \
//     tests/fuzz/rdb_fuzz.cc -o rdb_fuzz $(pkg-config --libs absl_status \
//     absl_statusor absl_strings)
// Run: ./rdb_fuzz -max_total_time=60 tests/fuzz/corpus/rdb
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "rdb/dump.h"
#include "rdb/rdb_reader.h"
#include "rdb/value_parser.h"

namespace {

using reborn::rdb::Limits;
using reborn::rdb::Value;

Limits FuzzLimits() {
  Limits l;
  l.max_string_bytes = 1 << 20;
  l.max_value_bytes = 4 << 20;
  l.max_elements = 100000;
  return l;
}

void CheckRoundTrip(const Value& v, const Limits& limits) {
  if (v.empty_collection()) return;
  for (bool compact : {true, false}) {
    reborn::rdb::EncodeOptions o;
    o.compact = compact;
    std::string payload = reborn::rdb::EncodeDump(v, o);
    auto back = reborn::rdb::DecodeDump(payload, limits);
    if (!back.ok() || !reborn::rdb::SameContents(*back, v)) std::abort();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  const Limits limits = FuzzLimits();
  const uint8_t mode = data[0];
  std::string_view in(reinterpret_cast<const char*>(data + 1), size - 1);
  switch (mode % 3) {
    case 0: {  // a whole DUMP payload, checksum and all
      auto v = reborn::rdb::DecodeDump(in, limits);
      if (v.ok()) CheckRoundTrip(*v, limits);
      break;
    }
    case 1: {  // type byte + value body, no footer
      if (in.empty()) return 0;
      auto v = reborn::rdb::DecodeValue(static_cast<uint8_t>(in[0]),
                                        in.substr(1), limits);
      if (v.ok()) CheckRoundTrip(*v, limits);
      break;
    }
    case 2: {  // an RDB file, fed in chunks of 1..8 bytes chosen by `mode`
      reborn::rdb::RdbReader::Callbacks cb;
      cb.on_entry = [&](reborn::rdb::RdbEntry&& e) {
        CheckRoundTrip(e.value, limits);
        return absl::OkStatus();
      };
      reborn::rdb::RdbReader reader(cb, limits);
      const size_t step = 1 + (mode >> 2) % 8;
      const bool whole = (mode >> 2) >= 32;
      absl::Status s;
      if (whole) {
        s = reader.Feed(in);
      } else {
        for (size_t pos = 0; pos < in.size() && s.ok(); pos += step) {
          s = reader.Feed(in.substr(pos, step));
        }
      }
      if (s.ok()) (void)reader.Finish();
      break;
    }
  }
  return 0;
}
