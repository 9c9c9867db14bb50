#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace reborn::qdb {

// Redis' string2ll: optional '-', no '+', no spaces, no leading zeros.
bool ParseInt64(std::string_view s, int64_t* out);
// Redis' string2ld: strtold over the whole string; no leading space, no NaN.
bool ParseLongDouble(std::string_view s, long double* out);
// Redis' double parsing for scores and floats (strtod, same rules).
bool ParseDouble(std::string_view s, double* out);
// ld2string(LD_STR_HUMAN): "%.17Lf" without trailing zeros.
std::string FormatLongDouble(long double v);

}  // namespace reborn::qdb
