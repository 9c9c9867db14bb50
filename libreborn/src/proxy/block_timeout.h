#pragma once

#include <chrono>
#include <cstddef>
#include <string>
#include <vector>

// Where a blocking command keeps its timeout, and how the proxy resends it
// with what is left of it (a parked command moved to a slot's new server).
namespace reborn::proxy {

// The index of the timeout argument: first for BLMPOP and BZMPOP, after
// BLOCK (milliseconds) for XREAD and XREADGROUP, last for the others. 0 when
// there is none: an XREAD without BLOCK does not block.
size_t BlockTimeoutIndex(const std::vector<std::string>& args);

// When the command's timeout ends; max() when it waits forever (0) or the
// timeout is not a positive number (the server reports those).
std::chrono::steady_clock::time_point BlockDeadline(
    const std::vector<std::string>& args);

// `args` with the timeout cut to what is left until `deadline`.
std::vector<std::string> WithRemainingTimeout(
    std::vector<std::string> args,
    std::chrono::steady_clock::time_point deadline);

}  // namespace reborn::proxy
