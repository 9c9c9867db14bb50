#pragma once

#include <string_view>
#include <vector>

#include "command/command_spec.h"

namespace reborn {

// Redis 7.0's ACL categories of a command ("set", "config|get"): the ones
// its command table declares plus those its flags imply (write, read,
// admin and dangerous, pubsub, fast or slow, blocking), in Redis' order
// and without the '@'. Commands Redis does not have get the implied ones
// from `spec`'s flags.
std::vector<std::string_view> AclCategoriesOf(std::string_view full_name,
                                              const CommandSpec& spec);

}  // namespace reborn
