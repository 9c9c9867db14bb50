#include "command/key_flags.h"

#include <array>
#include <cstring>

namespace reborn {
namespace {

// One Redis key spec: its flags and where its search begins - an argument
// index, or (with a keyword) the keyword searched from `index` on; -1 for
// Redis' "unknown" begin search.
struct KeySpec {
  std::string_view command;
  uint32_t flags;
  int index;
  std::string_view keyword;
};

// Generated from redis 7.0's src/commands/*.json key_specs, every command
// by name (a subcommand as "container|sub").
constexpr KeySpec kKeySpecs[] = {
    {"append", kKeyRW | kKeyInsert, 1, ""},
    {"bitcount", kKeyRO | kKeyAccess, 1, ""},
    {"bitfield", kKeyRW | kKeyUpdate | kKeyAccess | kKeyVariableFlags, 1, ""},
    {"bitfield_ro", kKeyRO | kKeyAccess, 1, ""},
    {"bitop", kKeyOW | kKeyUpdate, 2, ""},
    {"bitop", kKeyRO | kKeyAccess, 3, ""},
    {"bitpos", kKeyRO | kKeyAccess, 1, ""},
    {"blmove", kKeyRW | kKeyAccess | kKeyDelete, 1, ""},
    {"blmove", kKeyRW | kKeyInsert, 2, ""},
    {"blmpop", kKeyRW | kKeyAccess | kKeyDelete, 2, ""},
    {"blpop", kKeyRW | kKeyAccess | kKeyDelete, 1, ""},
    {"brpop", kKeyRW | kKeyAccess | kKeyDelete, 1, ""},
    {"brpoplpush", kKeyRW | kKeyAccess | kKeyDelete, 1, ""},
    {"brpoplpush", kKeyRW | kKeyInsert, 2, ""},
    {"bzmpop", kKeyRW | kKeyAccess | kKeyDelete, 2, ""},
    {"bzpopmax", kKeyRW | kKeyAccess | kKeyDelete, 1, ""},
    {"bzpopmin", kKeyRW | kKeyAccess | kKeyDelete, 1, ""},
    {"copy", kKeyRO | kKeyAccess, 1, ""},
    {"copy", kKeyOW | kKeyUpdate, 2, ""},
    {"decr", kKeyRW | kKeyAccess | kKeyUpdate, 1, ""},
    {"decrby", kKeyRW | kKeyAccess | kKeyUpdate, 1, ""},
    {"del", kKeyRM | kKeyDelete, 1, ""},
    {"dump", kKeyRO | kKeyAccess, 1, ""},
    {"eval", kKeyRW | kKeyAccess | kKeyUpdate, 2, ""},
    {"eval_ro", kKeyRO | kKeyAccess, 2, ""},
    {"evalsha", kKeyRW | kKeyAccess | kKeyUpdate, 2, ""},
    {"evalsha_ro", kKeyRO | kKeyAccess, 2, ""},
    {"exists", kKeyRO, 1, ""},
    {"expire", kKeyRW | kKeyUpdate, 1, ""},
    {"expireat", kKeyRW | kKeyUpdate, 1, ""},
    {"expiretime", kKeyRO | kKeyAccess, 1, ""},
    {"fcall", kKeyRW | kKeyAccess | kKeyUpdate, 2, ""},
    {"fcall_ro", kKeyRO | kKeyAccess, 2, ""},
    {"geoadd", kKeyRW | kKeyUpdate, 1, ""},
    {"geodist", kKeyRO | kKeyAccess, 1, ""},
    {"geohash", kKeyRO | kKeyAccess, 1, ""},
    {"geopos", kKeyRO | kKeyAccess, 1, ""},
    {"georadius", kKeyRO | kKeyAccess, 1, ""},
    {"georadius", kKeyOW | kKeyUpdate, 6, "store"},
    {"georadius", kKeyOW | kKeyUpdate, 6, "storedist"},
    {"georadius_ro", kKeyRO | kKeyAccess, 1, ""},
    {"georadiusbymember", kKeyRO | kKeyAccess, 1, ""},
    {"georadiusbymember", kKeyOW | kKeyUpdate, 5, "store"},
    {"georadiusbymember", kKeyOW | kKeyUpdate, 5, "storedist"},
    {"georadiusbymember_ro", kKeyRO | kKeyAccess, 1, ""},
    {"geosearch", kKeyRO | kKeyAccess, 1, ""},
    {"geosearchstore", kKeyOW | kKeyUpdate, 1, ""},
    {"geosearchstore", kKeyRO | kKeyAccess, 2, ""},
    {"get", kKeyRO | kKeyAccess, 1, ""},
    {"getbit", kKeyRO | kKeyAccess, 1, ""},
    {"getdel", kKeyRW | kKeyAccess | kKeyDelete, 1, ""},
    {"getex", kKeyRW | kKeyAccess | kKeyUpdate, 1, ""},
    {"getrange", kKeyRO | kKeyAccess, 1, ""},
    {"getset", kKeyRW | kKeyAccess | kKeyUpdate, 1, ""},
    {"hdel", kKeyRW | kKeyDelete, 1, ""},
    {"hexists", kKeyRO, 1, ""},
    {"hget", kKeyRO | kKeyAccess, 1, ""},
    {"hgetall", kKeyRO | kKeyAccess, 1, ""},
    {"hincrby", kKeyRW | kKeyAccess | kKeyUpdate, 1, ""},
    {"hincrbyfloat", kKeyRW | kKeyAccess | kKeyUpdate, 1, ""},
    {"hkeys", kKeyRO | kKeyAccess, 1, ""},
    {"hlen", kKeyRO, 1, ""},
    {"hmget", kKeyRO | kKeyAccess, 1, ""},
    {"hmset", kKeyRW | kKeyUpdate, 1, ""},
    {"hrandfield", kKeyRO | kKeyAccess, 1, ""},
    {"hscan", kKeyRO | kKeyAccess, 1, ""},
    {"hset", kKeyRW | kKeyUpdate, 1, ""},
    {"hsetnx", kKeyRW | kKeyInsert, 1, ""},
    {"hstrlen", kKeyRO, 1, ""},
    {"hvals", kKeyRO | kKeyAccess, 1, ""},
    {"incr", kKeyRW | kKeyAccess | kKeyUpdate, 1, ""},
    {"incrby", kKeyRW | kKeyAccess | kKeyUpdate, 1, ""},
    {"incrbyfloat", kKeyRW | kKeyAccess | kKeyUpdate, 1, ""},
    {"lcs", kKeyRO | kKeyAccess, 1, ""},
    {"lindex", kKeyRO | kKeyAccess, 1, ""},
    {"linsert", kKeyRW | kKeyInsert, 1, ""},
    {"llen", kKeyRO, 1, ""},
    {"lmove", kKeyRW | kKeyAccess | kKeyDelete, 1, ""},
    {"lmove", kKeyRW | kKeyInsert, 2, ""},
    {"lmpop", kKeyRW | kKeyAccess | kKeyDelete, 1, ""},
    {"lpop", kKeyRW | kKeyAccess | kKeyDelete, 1, ""},
    {"lpos", kKeyRO | kKeyAccess, 1, ""},
    {"lpush", kKeyRW | kKeyInsert, 1, ""},
    {"lpushx", kKeyRW | kKeyInsert, 1, ""},
    {"lrange", kKeyRO | kKeyAccess, 1, ""},
    {"lrem", kKeyRW | kKeyDelete, 1, ""},
    {"lset", kKeyRW | kKeyUpdate, 1, ""},
    {"ltrim", kKeyRW | kKeyDelete, 1, ""},
    {"memory|usage", kKeyRO, 2, ""},
    {"mget", kKeyRO | kKeyAccess, 1, ""},
    {"migrate", kKeyRW | kKeyAccess | kKeyDelete, 3, ""},
    {"migrate", kKeyRW | kKeyAccess | kKeyDelete | kKeyIncomplete, -2, "keys"},
    {"move", kKeyRW | kKeyAccess | kKeyUpdate, 1, ""},
    {"mset", kKeyOW | kKeyUpdate, 1, ""},
    {"msetnx", kKeyOW | kKeyInsert, 1, ""},
    {"object|encoding", kKeyRO, 2, ""},
    {"object|freq", kKeyRO, 2, ""},
    {"object|idletime", kKeyRO, 2, ""},
    {"object|refcount", kKeyRO, 2, ""},
    {"persist", kKeyRW | kKeyUpdate, 1, ""},
    {"pexpire", kKeyRW | kKeyUpdate, 1, ""},
    {"pexpireat", kKeyRW | kKeyUpdate, 1, ""},
    {"pexpiretime", kKeyRO | kKeyAccess, 1, ""},
    {"pfadd", kKeyRW | kKeyInsert, 1, ""},
    {"pfcount", kKeyRW | kKeyAccess, 1, ""},
    {"pfdebug", kKeyRW | kKeyAccess, 2, ""},
    {"pfmerge", kKeyRW | kKeyAccess | kKeyInsert, 1, ""},
    {"pfmerge", kKeyRO | kKeyAccess, 2, ""},
    {"psetex", kKeyOW | kKeyUpdate, 1, ""},
    {"pttl", kKeyRO | kKeyAccess, 1, ""},
    {"rename", kKeyRW | kKeyAccess | kKeyDelete, 1, ""},
    {"rename", kKeyOW | kKeyUpdate, 2, ""},
    {"renamenx", kKeyRW | kKeyAccess | kKeyDelete, 1, ""},
    {"renamenx", kKeyOW | kKeyInsert, 2, ""},
    {"restore", kKeyOW | kKeyUpdate, 1, ""},
    {"restore-asking", kKeyOW | kKeyUpdate, 1, ""},
    {"rpop", kKeyRW | kKeyAccess | kKeyDelete, 1, ""},
    {"rpoplpush", kKeyRW | kKeyAccess | kKeyDelete, 1, ""},
    {"rpoplpush", kKeyRW | kKeyInsert, 2, ""},
    {"rpush", kKeyRW | kKeyInsert, 1, ""},
    {"rpushx", kKeyRW | kKeyInsert, 1, ""},
    {"sadd", kKeyRW | kKeyInsert, 1, ""},
    {"scard", kKeyRO, 1, ""},
    {"sdiff", kKeyRO | kKeyAccess, 1, ""},
    {"sdiffstore", kKeyOW | kKeyUpdate, 1, ""},
    {"sdiffstore", kKeyRO | kKeyAccess, 2, ""},
    {"set", kKeyRW | kKeyAccess | kKeyUpdate | kKeyVariableFlags, 1, ""},
    {"setbit", kKeyRW | kKeyAccess | kKeyUpdate, 1, ""},
    {"setex", kKeyOW | kKeyUpdate, 1, ""},
    {"setnx", kKeyOW | kKeyInsert, 1, ""},
    {"setrange", kKeyRW | kKeyUpdate, 1, ""},
    {"sinter", kKeyRO | kKeyAccess, 1, ""},
    {"sintercard", kKeyRO | kKeyAccess, 1, ""},
    {"sinterstore", kKeyRW | kKeyUpdate, 1, ""},
    {"sinterstore", kKeyRO | kKeyAccess, 2, ""},
    {"sismember", kKeyRO, 1, ""},
    {"smembers", kKeyRO | kKeyAccess, 1, ""},
    {"smismember", kKeyRO | kKeyAccess, 1, ""},
    {"smove", kKeyRW | kKeyAccess | kKeyDelete, 1, ""},
    {"smove", kKeyRW | kKeyInsert, 2, ""},
    {"sort", kKeyRO | kKeyAccess, 1, ""},
    {"sort", kKeyRO | kKeyAccess, -1, ""},
    {"sort", kKeyOW | kKeyUpdate, -1, ""},
    {"sort_ro", kKeyRO | kKeyAccess, 1, ""},
    {"sort_ro", kKeyRO | kKeyAccess, -1, ""},
    {"spop", kKeyRW | kKeyAccess | kKeyDelete, 1, ""},
    {"spublish", kKeyNotKey, 1, ""},
    {"srandmember", kKeyRO | kKeyAccess, 1, ""},
    {"srem", kKeyRW | kKeyDelete, 1, ""},
    {"sscan", kKeyRO | kKeyAccess, 1, ""},
    {"ssubscribe", kKeyNotKey, 1, ""},
    {"strlen", kKeyRO, 1, ""},
    {"substr", kKeyRO | kKeyAccess, 1, ""},
    {"sunion", kKeyRO | kKeyAccess, 1, ""},
    {"sunionstore", kKeyOW | kKeyUpdate, 1, ""},
    {"sunionstore", kKeyRO | kKeyAccess, 2, ""},
    {"sunsubscribe", kKeyNotKey, 1, ""},
    {"touch", kKeyRO, 1, ""},
    {"ttl", kKeyRO | kKeyAccess, 1, ""},
    {"type", kKeyRO, 1, ""},
    {"unlink", kKeyRM | kKeyDelete, 1, ""},
    {"watch", kKeyRO, 1, ""},
    {"xack", kKeyRW | kKeyUpdate, 1, ""},
    {"xadd", kKeyRW | kKeyUpdate, 1, ""},
    {"xautoclaim", kKeyRW | kKeyDelete, 1, ""},
    {"xclaim", kKeyRW | kKeyUpdate, 1, ""},
    {"xdel", kKeyRW | kKeyDelete, 1, ""},
    {"xgroup|create", kKeyRW | kKeyInsert, 2, ""},
    {"xgroup|createconsumer", kKeyRW | kKeyInsert, 2, ""},
    {"xgroup|delconsumer", kKeyRW | kKeyDelete, 2, ""},
    {"xgroup|destroy", kKeyRW | kKeyDelete, 2, ""},
    {"xgroup|setid", kKeyRW | kKeyUpdate, 2, ""},
    {"xinfo|consumers", kKeyRO | kKeyAccess, 2, ""},
    {"xinfo|groups", kKeyRO | kKeyAccess, 2, ""},
    {"xinfo|stream", kKeyRO | kKeyAccess, 2, ""},
    {"xlen", kKeyRO, 1, ""},
    {"xpending", kKeyRO | kKeyAccess, 1, ""},
    {"xrange", kKeyRO | kKeyAccess, 1, ""},
    {"xread", kKeyRO | kKeyAccess, 1, "streams"},
    {"xreadgroup", kKeyRO | kKeyAccess, 4, "streams"},
    {"xrevrange", kKeyRO | kKeyAccess, 1, ""},
    {"xsetid", kKeyRW | kKeyUpdate, 1, ""},
    {"xtrim", kKeyRW | kKeyDelete, 1, ""},
    {"zadd", kKeyRW | kKeyUpdate, 1, ""},
    {"zcard", kKeyRO, 1, ""},
    {"zcount", kKeyRO | kKeyAccess, 1, ""},
    {"zdiff", kKeyRO | kKeyAccess, 1, ""},
    {"zdiffstore", kKeyOW | kKeyUpdate, 1, ""},
    {"zdiffstore", kKeyRO | kKeyAccess, 2, ""},
    {"zincrby", kKeyRW | kKeyAccess | kKeyUpdate, 1, ""},
    {"zinter", kKeyRO | kKeyAccess, 1, ""},
    {"zintercard", kKeyRO | kKeyAccess, 1, ""},
    {"zinterstore", kKeyOW | kKeyUpdate, 1, ""},
    {"zinterstore", kKeyRO | kKeyAccess, 2, ""},
    {"zlexcount", kKeyRO | kKeyAccess, 1, ""},
    {"zmpop", kKeyRW | kKeyAccess | kKeyDelete, 1, ""},
    {"zmscore", kKeyRO | kKeyAccess, 1, ""},
    {"zpopmax", kKeyRW | kKeyAccess | kKeyDelete, 1, ""},
    {"zpopmin", kKeyRW | kKeyAccess | kKeyDelete, 1, ""},
    {"zrandmember", kKeyRO | kKeyAccess, 1, ""},
    {"zrange", kKeyRO | kKeyAccess, 1, ""},
    {"zrangebylex", kKeyRO | kKeyAccess, 1, ""},
    {"zrangebyscore", kKeyRO | kKeyAccess, 1, ""},
    {"zrangestore", kKeyOW | kKeyUpdate, 1, ""},
    {"zrangestore", kKeyRO | kKeyAccess, 2, ""},
    {"zrank", kKeyRO | kKeyAccess, 1, ""},
    {"zrem", kKeyRW | kKeyDelete, 1, ""},
    {"zremrangebylex", kKeyRW | kKeyDelete, 1, ""},
    {"zremrangebyrank", kKeyRW | kKeyDelete, 1, ""},
    {"zremrangebyscore", kKeyRW | kKeyDelete, 1, ""},
    {"zrevrange", kKeyRO | kKeyAccess, 1, ""},
    {"zrevrangebylex", kKeyRO | kKeyAccess, 1, ""},
    {"zrevrangebyscore", kKeyRO | kKeyAccess, 1, ""},
    {"zrevrank", kKeyRO | kKeyAccess, 1, ""},
    {"zscan", kKeyRO | kKeyAccess, 1, ""},
    {"zscore", kKeyRO | kKeyAccess, 1, ""},
    {"zunion", kKeyRO | kKeyAccess, 1, ""},
    {"zunionstore", kKeyOW | kKeyUpdate, 1, ""},
    {"zunionstore", kKeyRO | kKeyAccess, 2, ""},
};

uint32_t DefaultFlags(const CommandSpec& spec) {
  return spec.has(kCmdWrite) ? (kKeyRW | kKeyAccess | kKeyUpdate)
                             : (kKeyRO | kKeyAccess);
}

// SET and BITFIELD decide their flags from their options, as Redis'
// setGetKeys and bitfieldGetKeys.
uint32_t VariableFlags(const CommandSpec& spec,
                       const std::vector<std::string>& args) {
  if (spec.name == "set") {
    for (size_t i = 3; i < args.size(); ++i) {
      if (EqualsIgnoreCase(args[i], "get")) {
        return kKeyRW | kKeyAccess | kKeyUpdate;
      }
    }
    return kKeyOW | kKeyUpdate;
  }
  if (spec.name == "bitfield") {
    for (size_t i = 2; i < args.size(); ++i) {
      const bool more = i + 1 < args.size();
      if (EqualsIgnoreCase(args[i], "get") && i + 2 < args.size()) {
        i += 2;
      } else if ((EqualsIgnoreCase(args[i], "set") ||
                  EqualsIgnoreCase(args[i], "incrby")) &&
                 more) {
        return kKeyRW | kKeyAccess | kKeyUpdate;
      } else if (EqualsIgnoreCase(args[i], "overflow") && more) {
        ++i;
      }
    }
    return kKeyRO | kKeyAccess;
  }
  return 0;
}

}  // namespace

std::vector<std::string_view> KeyFlagNames(uint32_t flags) {
  static constexpr std::pair<uint32_t, std::string_view> kNames[] = {
      {kKeyRO, "RO"},
      {kKeyRW, "RW"},
      {kKeyOW, "OW"},
      {kKeyRM, "RM"},
      {kKeyAccess, "access"},
      {kKeyUpdate, "update"},
      {kKeyInsert, "insert"},
      {kKeyDelete, "delete"},
      {kKeyNotKey, "not_key"},
      {kKeyIncomplete, "incomplete"},
      {kKeyVariableFlags, "variable_flags"},
  };
  std::vector<std::string_view> out;
  for (const auto& [flag, name] : kNames) {
    if (flags & flag) out.push_back(name);
  }
  return out;
}

bool KeysAreNotKeys(const CommandSpec& spec) {
  for (const KeySpec& ks : kKeySpecs) {
    if (ks.command == spec.name) return (ks.flags & kKeyNotKey) != 0;
  }
  return false;
}

namespace {

// The key specs' name of a command line: "container|sub" when Redis has
// key specs for that subcommand, else the command's own name.
std::string KeySpecName(const CommandSpec& spec,
                        const std::vector<std::string>& args) {
  if (args.size() > 1) {
    std::string sub = std::string(spec.name) + "|" + ToLower(args[1]);
    for (const KeySpec& ks : kKeySpecs) {
      if (ks.command == sub) return sub;
    }
  }
  return std::string(spec.name);
}

}  // namespace

size_t SubcommandKeyPosition(const CommandSpec& spec,
                             const std::vector<std::string>& args) {
  if (args.size() < 2) return 0;
  const std::string name = KeySpecName(spec, args);
  if (name == spec.name) return 0;
  for (const KeySpec& ks : kKeySpecs) {
    if (ks.command == name && ks.keyword.empty() && ks.index > 0 &&
        static_cast<size_t>(ks.index) < args.size()) {
      return static_cast<size_t>(ks.index);
    }
  }
  return 0;
}

uint32_t KeyFlagsAt(const CommandSpec& spec,
                    const std::vector<std::string>& args, size_t pos) {
  // SORT's STORE target is found by Redis' sortGetKeys, not a key spec.
  if (spec.name == "sort" && pos >= 2 &&
      EqualsIgnoreCase(args[pos - 1], "store")) {
    return kKeyOW | kKeyUpdate;
  }
  // The spec whose search begins last before `pos` finds the key: an
  // index at or before it, or a keyword found before it.
  const std::string name = KeySpecName(spec, args);
  const KeySpec* first = nullptr;
  const KeySpec* best = nullptr;
  int best_at = -1;
  for (const KeySpec& ks : kKeySpecs) {
    if (ks.command != name) continue;
    if (first == nullptr) first = &ks;
    int at = -1;
    if (ks.keyword.empty()) {
      if (ks.index >= 0 && static_cast<size_t>(ks.index) <= pos) at = ks.index;
    } else {
      for (size_t k = static_cast<size_t>(ks.index); k < pos && k < args.size();
           ++k) {
        if (EqualsIgnoreCase(args[k], ks.keyword)) at = static_cast<int>(k);
      }
    }
    if (at > best_at) {
      best = &ks;
      best_at = at;
    }
  }
  if (best == nullptr) best = first;
  if (best == nullptr) return DefaultFlags(spec);
  if (best->flags & kKeyVariableFlags) return VariableFlags(spec, args);
  return best->flags;
}

}  // namespace reborn
