#include "server/acl_command_index.h"

#include <algorithm>

#include "absl/strings/match.h"
#include "command/acl_categories.h"

namespace reborn::server {

AclCommandIndex::AclCommandIndex(const CommandTable& table) {
  for (const AclCommandCategories& c : RedisAclCommands()) {
    // Sentinel's commands exist only in sentinel mode.
    if (c.name == "sentinel" || c.name.starts_with("sentinel|")) continue;
    const int id = Add(std::string(c.name), c.categories);
    if (id >= 0) commands_[id].redis = true;
  }
  for (const CommandTable::Entry* e : table.Entries()) {
    const std::string name(e->spec->name);
    int id = Find(name);
    if (id < 0) id = Add(name, AclCategoryMask(name, *e->spec));
    if (id < 0) continue;
    commands_[id].served = true;
    for (int child : commands_[id].children) commands_[child].served = true;
  }
  // Description order: by name, subcommands right after their command.
  std::vector<int> top;
  for (size_t i = 0; i < commands_.size(); ++i) {
    if (commands_[i].parent < 0) top.push_back(static_cast<int>(i));
  }
  auto by_name = [this](int a, int b) {
    return commands_[a].name < commands_[b].name;
  };
  std::sort(top.begin(), top.end(), by_name);
  for (int id : top) {
    order_.push_back(id);
    std::vector<int> children = commands_[id].children;
    std::sort(children.begin(), children.end(), by_name);
    order_.insert(order_.end(), children.begin(), children.end());
  }
}

int AclCommandIndex::Add(std::string name, uint32_t categories) {
  const int id = static_cast<int>(commands_.size());
  if (commands_.size() >= kFutureBit) return -1;  // never: ~400 commands
  Command c;
  c.categories = categories;
  if (size_t bar = name.find('|'); bar != std::string::npos) {
    c.parent = Find(std::string_view(name).substr(0, bar));
    if (c.parent >= 0) commands_[c.parent].children.push_back(id);
  }
  c.name = name;
  by_name_[name] = id;
  commands_.push_back(std::move(c));
  return id;
}

int AclCommandIndex::Find(std::string_view name) const {
  auto it = by_name_.find(ToLower(name));
  return it == by_name_.end() ? -1 : it->second;
}

int AclCommandIndex::IdOf(std::string_view command,
                          const std::vector<std::string>& args,
                          std::string* full_name) const {
  const int id = Find(command);
  if (id < 0) return -1;
  if (!commands_[id].children.empty() && args.size() >= 2) {
    const int sub = Find(commands_[id].name + "|" + ToLower(args[1]));
    if (sub >= 0) {
      if (full_name) *full_name = commands_[sub].name;
      return sub;
    }
  }
  if (full_name) *full_name = commands_[id].name;
  return id;
}

}  // namespace reborn::server
