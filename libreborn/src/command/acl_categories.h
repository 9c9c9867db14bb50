#pragma once

#include <cstdint>
#include <span>
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

// The same as a mask: bit i is category AclCategoryNames()[i].
uint32_t AclCategoryMask(std::string_view full_name, const CommandSpec& spec);

// Redis' categories in its order (ACL CAT), without the '@'.
std::span<const std::string_view> AclCategoryNames();

// The bit of a category name (case-insensitive, no '@'); 0 when unknown.
uint32_t AclCategoryBit(std::string_view name);

// Every command and subcommand of Redis 7.0's table ("acl", "acl|cat", ...)
// with its categories, sorted by name: the commands ACL rules may name.
struct AclCommandCategories {
  std::string_view name;
  uint32_t categories;
};
std::vector<AclCommandCategories> RedisAclCommands();

}  // namespace reborn
