#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "command/command_table.h"

namespace reborn::server {

// The commands ACL rules name, each with an id (its bit in a selector's
// command bitmap): Redis 7.0's commands and subcommands ("config|get"),
// so that categories hold what they hold in Redis and ACL GETUSER
// describes a user the way Redis does, plus the commands of `table` that
// Redis does not have (SLOTS*, COMPACT) with the categories their flags
// imply. Built once at start; read-only afterwards.
class AclCommandIndex {
 public:
  // Bits per bitmap; the last one is Redis' "future commands" bit, set only
  // by +@all / allcommands.
  static constexpr size_t kBits = 1024;
  static constexpr size_t kFutureBit = kBits - 1;

  struct Command {
    std::string name;  // full name, lower case: "get", "config|get"
    int parent = -1;   // the container's id for a subcommand
    std::vector<int> children;
    uint32_t categories = 0;
    bool served = false;  // qdb-server has it (ACL CAT lists only those)
    // Redis has it: only those are weighed when a description picks its
    // categories, so that it picks the ones Redis picks.
    bool redis = false;
  };

  explicit AclCommandIndex(const CommandTable& table);

  // Case-insensitive; "config|get" finds a subcommand. -1 when unknown.
  int Find(std::string_view name) const;
  const Command& at(int id) const { return commands_[id]; }
  // Ids in description order: each command followed by its subcommands.
  const std::vector<int>& order() const { return order_; }
  // The id a command line runs as: its subcommand's when it names a known
  // one, else the command's. -1 when the command is not in the index.
  int IdOf(std::string_view command, const std::vector<std::string>& args,
           std::string* full_name) const;

 private:
  int Add(std::string name, uint32_t categories);

  std::vector<Command> commands_;
  std::vector<int> order_;
  absl::flat_hash_map<std::string, int> by_name_;
};

}  // namespace reborn::server
