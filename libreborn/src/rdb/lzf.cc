#include "rdb/lzf.h"

#include <cstdint>
#include <cstring>
#include <vector>

#include "absl/status/status.h"

namespace reborn::rdb {
namespace {

constexpr size_t kMaxLiteral = 32;        // literal run length limit
constexpr size_t kMaxOffset = 1 << 13;    // back reference distance limit
constexpr size_t kMaxRef = (1 << 8) + 8;  // 264: longest back reference
constexpr int kHashLog = 14;

inline uint32_t Hash3(const unsigned char* p) {
  uint32_t v = (static_cast<uint32_t>(p[0]) << 16) |
               (static_cast<uint32_t>(p[1]) << 8) | p[2];
  return (v * 2654435761u) >> (32 - kHashLog);
}

}  // namespace

std::optional<std::string> LzfCompress(std::string_view in) {
  const auto* src = reinterpret_cast<const unsigned char*>(in.data());
  const size_t n = in.size();
  if (n < 8) return std::nullopt;
  const size_t budget = n - 4;  // must save at least 4 bytes
  std::string out;
  out.reserve(budget);
  // Positions + 1 of the last occurrence of each 3-byte hash; 0 = none.
  std::vector<uint32_t> table(1u << kHashLog, 0);
  size_t lit_start = 0;
  size_t ip = 0;

  auto flush_literals = [&](size_t end) {
    while (lit_start < end) {
      size_t run = std::min(kMaxLiteral, end - lit_start);
      out.push_back(static_cast<char>(run - 1));
      out.append(in.data() + lit_start, run);
      lit_start += run;
    }
  };

  while (ip + 2 < n) {
    uint32_t h = Hash3(src + ip);
    size_t ref = table[h];
    table[h] = static_cast<uint32_t>(ip + 1);
    if (ref > 0) {
      --ref;
      size_t off = ip - ref - 1;
      if (off < kMaxOffset && std::memcmp(src + ref, src + ip, 3) == 0) {
        size_t max_len = std::min(kMaxRef, n - ip);
        size_t len = 3;
        while (len < max_len && src[ref + len] == src[ip + len]) ++len;
        flush_literals(ip);
        size_t code = len - 2;
        if (code < 7) {
          out.push_back(static_cast<char>((code << 5) | (off >> 8)));
        } else {
          out.push_back(static_cast<char>((7 << 5) | (off >> 8)));
          out.push_back(static_cast<char>(code - 7));
        }
        out.push_back(static_cast<char>(off & 0xff));
        // Index the positions inside the match so later repeats find it.
        for (size_t k = ip + 1; k < ip + len && k + 2 < n; ++k) {
          table[Hash3(src + k)] = static_cast<uint32_t>(k + 1);
        }
        ip += len;
        lit_start = ip;
        if (out.size() >= budget) return std::nullopt;
        continue;
      }
    }
    ++ip;
    size_t pending = ip - lit_start;
    if (out.size() + pending + (pending + kMaxLiteral - 1) / kMaxLiteral >
        budget) {
      return std::nullopt;
    }
  }
  flush_literals(n);
  if (out.size() > budget) return std::nullopt;
  return out;
}

absl::StatusOr<std::string> LzfDecompress(std::string_view in, size_t out_len) {
  std::string out(out_len, '\0');
  const auto* ip = reinterpret_cast<const unsigned char*>(in.data());
  const auto* in_end = ip + in.size();
  size_t op = 0;
  while (ip < in_end) {
    unsigned ctrl = *ip++;
    if (ctrl < 32) {
      size_t run = ctrl + 1;
      if (static_cast<size_t>(in_end - ip) < run) {
        return absl::DataLossError("LZF literal run past input end");
      }
      if (out_len - op < run) {
        return absl::DataLossError("LZF output overflow");
      }
      std::memcpy(out.data() + op, ip, run);
      ip += run;
      op += run;
    } else {
      size_t len = ctrl >> 5;
      if (len == 7) {
        if (ip >= in_end) return absl::DataLossError("LZF truncated");
        len += *ip++;
      }
      if (ip >= in_end) return absl::DataLossError("LZF truncated");
      size_t back = ((ctrl & 0x1f) << 8) + *ip++ + 1;
      len += 2;
      if (back > op) return absl::DataLossError("LZF reference before start");
      if (out_len - op < len) return absl::DataLossError("LZF output overflow");
      char* dst = out.data() + op;
      const char* ref = dst - back;
      for (size_t i = 0; i < len; ++i) dst[i] = ref[i];  // may overlap
      op += len;
    }
  }
  if (op != out_len) {
    return absl::DataLossError("LZF output shorter than declared");
  }
  return out;
}

}  // namespace reborn::rdb
