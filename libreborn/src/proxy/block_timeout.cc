#include "proxy/block_timeout.h"

#include <algorithm>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "command/command_spec.h"

namespace reborn::proxy {
namespace {

using Clock = std::chrono::steady_clock;

bool IsXread(const std::vector<std::string>& args) {
  return EqualsIgnoreCase(args[0], "xread") ||
         EqualsIgnoreCase(args[0], "xreadgroup");
}

}  // namespace

size_t BlockTimeoutIndex(const std::vector<std::string>& args) {
  if (args.size() < 2) return 0;
  if (IsXread(args)) {
    for (size_t i = 1; i + 1 < args.size(); ++i) {
      if (EqualsIgnoreCase(args[i], "streams")) break;
      if (EqualsIgnoreCase(args[i], "block")) return i + 1;
    }
    return 0;
  }
  if (EqualsIgnoreCase(args[0], "blmpop") ||
      EqualsIgnoreCase(args[0], "bzmpop")) {
    return 1;
  }
  return args.size() - 1;
}

Clock::time_point BlockDeadline(const std::vector<std::string>& args) {
  double seconds = 0;
  const size_t index = BlockTimeoutIndex(args);
  if (index == 0 || !absl::SimpleAtod(args[index], &seconds) || seconds <= 0 ||
      seconds > 1e9) {
    return Clock::time_point::max();
  }
  if (IsXread(args)) seconds /= 1000;
  return Clock::now() + std::chrono::duration_cast<Clock::duration>(
                            std::chrono::duration<double>(seconds));
}

std::vector<std::string> WithRemainingTimeout(std::vector<std::string> args,
                                              Clock::time_point deadline) {
  const size_t index = BlockTimeoutIndex(args);
  if (deadline == Clock::time_point::max() || index == 0) return args;
  const double left =
      std::chrono::duration<double>(deadline - Clock::now()).count();
  if (IsXread(args)) {  // whole milliseconds
    args[index] =
        absl::StrCat(std::max<int64_t>(static_cast<int64_t>(left * 1000), 1));
  } else {
    args[index] = absl::StrFormat("%.3f", std::max(left, 0.001));
  }
  return args;
}

}  // namespace reborn::proxy
