#include "command/command_spec.h"

#include <algorithm>
#include <array>
#include <charconv>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "command/key_finders.h"
#include "reborn/router.h"
#include "reborn/slot.h"

namespace reborn {
namespace {

constexpr uint32_t W = kCmdWrite;
constexpr uint32_t R = kCmdReadOnly;
constexpr uint32_t A = kCmdAdmin;
constexpr uint32_t F = kCmdFast;
constexpr uint32_t B = kCmdBlocking;
constexpr uint32_t D = kCmdDenyOom;
constexpr uint32_t L = kCmdLoading;
constexpr uint32_t S = kCmdStale;
constexpr uint32_t N = kCmdNoScript;
constexpr uint32_t P = kCmdPubSub;
constexpr uint32_t M = kCmdMovableKeys;
constexpr uint32_t X = kCmdNoProxy;
constexpr uint32_t Q = kCmdNoMulti;
constexpr uint32_t RND = kCmdRandom;
constexpr uint32_t NA = kCmdNoAuth;
constexpr uint32_t SL = kCmdSlot;
constexpr uint32_t NAL = kCmdNoAsyncLoading;

// Arity, flags and key positions follow redis-server 7.0's COMMAND INFO.
constexpr CommandSpec kSpecs[] = {
    // Connection and server.
    {"ping", -1, F | L, 0, 0, 0},
    {"echo", 2, F, 0, 0, 0},
    {"hello", -1, F | N | L | S | NA, 0, 0, 0},
    {"auth", -2, F | N | L | S | NA, 0, 0, 0},
    {"quit", -1, F | N | L | S | NA, 0, 0, 0},
    {"select", 2, F | L | S, 0, 0, 0},
    {"command", -1, L | S, 0, 0, 0},
    {"client", -2, A | N | L | S, 0, 0, 0},
    // A container without flags of its own (kClusterSubcommands has them);
    // reborn-proxy answers it itself (proxy/session_cluster.cc).
    {"cluster", -2, X, 0, 0, 0},
    {"info", -1, L | S | RND, 0, 0, 0},
    {"time", 1, F | L | S | RND, 0, 0, 0},
    {"config", -2, A | N | L | S | X, 0, 0, 0},
    {"dbsize", 1, R | F, 0, 0, 0},
    {"flushdb", -1, W, 0, 0, 0},
    {"flushall", -1, W, 0, 0, 0},
    {"swapdb", 3, W | F | X, 0, 0, 0},
    {"shutdown", -1, A | N | L | S | X | Q, 0, 0, 0},
    {"debug", -2, A | N | L | S | X, 0, 0, 0},
    {"monitor", 1, A | N | L | S | X, 0, 0, 0},
    {"role", 1, N | L | S | F | X, 0, 0, 0},
    {"replicaof", 3, A | N | S | X, 0, 0, 0},
    {"slaveof", 3, A | N | S | X, 0, 0, 0},
    {"replconf", -1, A | N | L | S | X, 0, 0, 0},
    {"sync", 1, A | N | X | Q, 0, 0, 0},
    {"psync", -3, A | N | X | Q, 0, 0, 0},
    {"wait", 3, N | X, 0, 0, 0},
    {"save", 1, A | N | X | Q, 0, 0, 0},
    {"bgsave", -1, A | N | X, 0, 0, 0},
    {"bgrewriteaof", 1, A | N | X, 0, 0, 0},
    {"lastsave", 1, L | S | F | RND | X, 0, 0, 0},
    {"slowlog", -2, A | L | S | X, 0, 0, 0},
    {"latency", -2, A | N | L | S | X, 0, 0, 0},
    {"memory", -2, R, 0, 0, 0},
    {"lolwut", -1, R | F, 0, 0, 0},
    {"compact", 1, A | N | X, 0, 0, 0},  // Kvrocks/Pika: full compaction
    {"reset", 1, N | L | S | F | NA, 0, 0, 0},
    {"acl", -2, N | L | S | X, 0, 0, 0},

    // Transactions.
    {"multi", 1, N | L | S | F, 0, 0, 0},
    {"exec", 1, N | L | S, 0, 0, 0},
    {"discard", 1, N | L | S | F, 0, 0, 0},
    {"watch", -2, N | L | S | F, 1, -1, 1},
    {"unwatch", 1, N | L | S | F, 0, 0, 0},

    // Generic keyspace.
    {"del", -2, W, 1, -1, 1},
    {"unlink", -2, W | F, 1, -1, 1},
    {"exists", -2, R | F, 1, -1, 1},
    {"type", 2, R | F, 1, 1, 1},
    {"expire", -3, W | F, 1, 1, 1},
    {"pexpire", -3, W | F, 1, 1, 1},
    {"expireat", -3, W | F, 1, 1, 1},
    {"pexpireat", -3, W | F, 1, 1, 1},
    {"ttl", 2, R | F | RND, 1, 1, 1},
    {"pttl", 2, R | F | RND, 1, 1, 1},
    {"expiretime", 2, R | F, 1, 1, 1},
    {"pexpiretime", 2, R | F, 1, 1, 1},
    {"persist", 2, W | F, 1, 1, 1},
    {"rename", 3, W, 1, 2, 1},
    {"renamenx", 3, W | F, 1, 2, 1},
    {"copy", -3, W | D, 1, 2, 1},
    {"move", 3, W | F | X, 1, 1, 1},
    {"scan", -2, R | RND, 0, 0, 0},
    {"keys", 2, R | RND, 0, 0, 0},
    {"randomkey", 1, R | RND, 0, 0, 0},
    {"touch", -2, R | F, 1, -1, 1},
    {"dump", 2, R | RND, 1, 1, 1},
    {"restore", -4, W | D, 1, 1, 1},
    // MIGRATE's keys: key_finders.h (the KEYS form). Not through the proxy,
    // as in Codis: the keys would leave the slot's group behind its back.
    {"migrate", -6, W | M | X, 3, 3, 1},
    {"object", -2, R | RND, 2, 2, 1},
    {"sort", -2, W | D | M, 1, 1, 1},
    {"sort_ro", -2, R | M, 1, 1, 1},

    // Strings.
    {"get", 2, R | F, 1, 1, 1},
    {"set", -3, W | D, 1, 1, 1},
    {"setnx", 3, W | D | F, 1, 1, 1},
    {"setex", 4, W | D, 1, 1, 1},
    {"psetex", 4, W | D, 1, 1, 1},
    {"getset", 3, W | D | F, 1, 1, 1},
    {"getdel", 2, W | F, 1, 1, 1},
    {"getex", -2, W | F, 1, 1, 1},
    {"mget", -2, R | F, 1, -1, 1},
    {"mset", -3, W | D, 1, -1, 2},
    {"msetnx", -3, W | D, 1, -1, 2},
    {"incr", 2, W | D | F, 1, 1, 1},
    {"incrby", 3, W | D | F, 1, 1, 1},
    {"incrbyfloat", 3, W | D | F, 1, 1, 1},
    {"decr", 2, W | D | F, 1, 1, 1},
    {"decrby", 3, W | D | F, 1, 1, 1},
    {"append", 3, W | D | F, 1, 1, 1},
    {"strlen", 2, R | F, 1, 1, 1},
    {"getrange", 4, R, 1, 1, 1},
    {"substr", 4, R, 1, 1, 1},
    {"setrange", 4, W | D, 1, 1, 1},
    {"setbit", 4, W | D, 1, 1, 1},
    {"getbit", 3, R | F, 1, 1, 1},
    {"bitcount", -2, R, 1, 1, 1},
    {"bitpos", -3, R, 1, 1, 1},
    {"bitop", -4, W | D, 2, -1, 1},
    // HyperLogLog (values are strings) and bit fields.
    {"pfadd", -2, W | D | F, 1, 1, 1},
    {"pfcount", -2, R, 1, -1, 1},
    {"pfmerge", -2, W | D, 1, -1, 1},
    {"pfdebug", 3, W | D | A, 2, 2, 1},
    {"pfselftest", 1, A, 0, 0, 0},
    {"bitfield", -2, W | D, 1, 1, 1},
    {"bitfield_ro", -2, R | F, 1, 1, 1},
    {"lcs", -3, R, 1, 2, 1},

    // Hashes.
    {"hset", -4, W | D | F, 1, 1, 1},
    {"hsetnx", 4, W | D | F, 1, 1, 1},
    {"hmset", -4, W | D | F, 1, 1, 1},
    {"hget", 3, R | F, 1, 1, 1},
    {"hmget", -3, R | F, 1, 1, 1},
    {"hdel", -3, W | F, 1, 1, 1},
    {"hlen", 2, R | F, 1, 1, 1},
    {"hstrlen", 3, R | F, 1, 1, 1},
    {"hexists", 3, R | F, 1, 1, 1},
    {"hgetall", 2, R | RND, 1, 1, 1},
    {"hkeys", 2, R | RND, 1, 1, 1},
    {"hvals", 2, R | RND, 1, 1, 1},
    {"hincrby", 4, W | D | F, 1, 1, 1},
    {"hincrbyfloat", 4, W | D | F, 1, 1, 1},
    {"hrandfield", -2, R | RND, 1, 1, 1},
    {"hscan", -3, R | RND, 1, 1, 1},

    // Lists.
    {"lpush", -3, W | D | F, 1, 1, 1},
    {"rpush", -3, W | D | F, 1, 1, 1},
    {"lpushx", -3, W | D | F, 1, 1, 1},
    {"rpushx", -3, W | D | F, 1, 1, 1},
    {"lpop", -2, W | F, 1, 1, 1},
    {"rpop", -2, W | F, 1, 1, 1},
    {"llen", 2, R | F, 1, 1, 1},
    {"lindex", 3, R, 1, 1, 1},
    {"lrange", 4, R, 1, 1, 1},
    {"lset", 4, W | D, 1, 1, 1},
    {"ltrim", 4, W, 1, 1, 1},
    {"lrem", 4, W, 1, 1, 1},
    {"linsert", 5, W | D, 1, 1, 1},
    {"lpos", -3, R, 1, 1, 1},
    {"rpoplpush", 3, W | D, 1, 2, 1},
    {"lmove", 5, W | D, 1, 2, 1},
    {"lmpop", -4, W | M, 0, 0, 0, 1, 1},
    {"blpop", -3, W | B | N, 1, -2, 1},
    {"brpop", -3, W | B | N, 1, -2, 1},
    {"brpoplpush", 4, W | D | B | N, 1, 2, 1},
    {"blmove", 6, W | D | B | N, 1, 2, 1},
    {"blmpop", -5, W | B | M, 0, 0, 0, 2, 1},

    // Sets.
    {"sadd", -3, W | D | F, 1, 1, 1},
    {"srem", -3, W | F, 1, 1, 1},
    {"smembers", 2, R | RND, 1, 1, 1},
    {"sismember", 3, R | F, 1, 1, 1},
    {"smismember", -3, R | F, 1, 1, 1},
    {"scard", 2, R | F, 1, 1, 1},
    {"spop", -2, W | F | RND, 1, 1, 1},
    {"srandmember", -2, R | RND, 1, 1, 1},
    {"smove", 4, W | F, 1, 2, 1},
    {"sinter", -2, R | RND, 1, -1, 1},
    {"sintercard", -3, R | M, 0, 0, 0, 1, 1},
    {"sunion", -2, R | RND, 1, -1, 1},
    {"sdiff", -2, R | RND, 1, -1, 1},
    {"sinterstore", -3, W | D, 1, -1, 1},
    {"sunionstore", -3, W | D, 1, -1, 1},
    {"sdiffstore", -3, W | D, 1, -1, 1},
    {"sscan", -3, R | RND, 1, 1, 1},

    // Sorted sets.
    {"zadd", -4, W | D | F, 1, 1, 1},
    {"zincrby", 4, W | D | F, 1, 1, 1},
    {"zrem", -3, W | F, 1, 1, 1},
    {"zscore", 3, R | F, 1, 1, 1},
    {"zmscore", -3, R | F, 1, 1, 1},
    {"zcard", 2, R | F, 1, 1, 1},
    {"zcount", 4, R | F, 1, 1, 1},
    {"zlexcount", 4, R | F, 1, 1, 1},
    {"zrange", -4, R, 1, 1, 1},
    {"zrangestore", -5, W | D, 1, 2, 1},
    {"zrevrange", -4, R, 1, 1, 1},
    {"zrangebyscore", -4, R, 1, 1, 1},
    {"zrevrangebyscore", -4, R, 1, 1, 1},
    {"zrangebylex", -4, R, 1, 1, 1},
    {"zrevrangebylex", -4, R, 1, 1, 1},
    {"zrank", 3, R | F, 1, 1, 1},
    {"zrevrank", 3, R | F, 1, 1, 1},
    {"zremrangebyrank", 4, W, 1, 1, 1},
    {"zremrangebyscore", 4, W, 1, 1, 1},
    {"zremrangebylex", 4, W, 1, 1, 1},
    {"zpopmin", -2, W | F, 1, 1, 1},
    {"zpopmax", -2, W | F, 1, 1, 1},
    {"bzpopmin", -3, W | B | F | N, 1, -2, 1},
    {"bzpopmax", -3, W | B | F | N, 1, -2, 1},
    {"zmpop", -4, W | M, 0, 0, 0, 1, 1},
    {"bzmpop", -5, W | B | M, 0, 0, 0, 2, 1},
    {"zrandmember", -2, R | RND, 1, 1, 1},
    {"zunion", -3, R | M, 0, 0, 0, 1, 1},
    {"zinter", -3, R | M, 0, 0, 0, 1, 1},
    {"zdiff", -3, R | M, 0, 0, 0, 1, 1},
    {"zunionstore", -4, W | D | M, 1, 1, 1, 2, 1},
    {"zinterstore", -4, W | D | M, 1, 1, 1, 2, 1},
    {"zdiffstore", -4, W | D | M, 1, 1, 1, 2, 1},
    {"zintercard", -3, R | M, 0, 0, 0, 1, 1},
    {"zscan", -3, R | RND, 1, 1, 1},

    // Geo (sorted sets). GEORADIUS[BYMEMBER]'s STORE key: key_finders.h.
    {"geoadd", -5, W | D, 1, 1, 1},
    {"geodist", -4, R, 1, 1, 1},
    {"geohash", -2, R, 1, 1, 1},
    {"geopos", -2, R, 1, 1, 1},
    {"georadius", -6, W | D | M, 1, 1, 1},
    {"georadiusbymember", -5, W | D | M, 1, 1, 1},
    {"georadius_ro", -6, R, 1, 1, 1},
    {"georadiusbymember_ro", -5, R, 1, 1, 1},
    {"geosearch", -7, R, 1, 1, 1},
    {"geosearchstore", -8, W | D, 1, 2, 1},
    // Streams. XREAD/XREADGROUP keys: the first half after STREAMS.
    {"xadd", -5, W | D | F, 1, 1, 1},
    {"xlen", 2, R | F, 1, 1, 1},
    {"xrange", -4, R, 1, 1, 1},
    {"xrevrange", -4, R, 1, 1, 1},
    {"xdel", -3, W | F, 1, 1, 1},
    {"xtrim", -4, W, 1, 1, 1},
    {"xsetid", -3, W | D | F, 1, 1, 1},
    {"xread", -4, R | B | M, 0, 0, 0},
    {"xreadgroup", -7, W | B | M, 0, 0, 0},
    {"xgroup", -2, W | D, 2, 2, 1},
    {"xack", -4, W | F, 1, 1, 1},
    {"xpending", -3, R, 1, 1, 1},
    {"xclaim", -6, W | F, 1, 1, 1},
    {"xautoclaim", -6, W | F, 1, 1, 1},
    {"xinfo", -2, R, 2, 2, 1},

    // Pub/Sub.
    {"subscribe", -2, P | N | L | S, 0, 0, 0},
    {"unsubscribe", -1, P | N | L | S, 0, 0, 0},
    {"psubscribe", -2, P | N | L | S, 0, 0, 0},
    {"punsubscribe", -1, P | N | L | S, 0, 0, 0},
    {"publish", 3, P | L | S | F, 0, 0, 0},
    {"pubsub", -2, P | L | S | RND, 0, 0, 0},
    // Sharded channels hash like keys (the channel is the "key").
    {"ssubscribe", -2, P | N | L | S, 1, -1, 1},
    {"sunsubscribe", -1, P | N | L | S, 1, -1, 1},
    {"spublish", 3, P | L | S | F, 1, 1, 1},

    // Codis slot commands (migration).
    {"slotsinfo", -1, R | SL | X, 0, 0, 0},
    {"slotsscan", -3, R | SL | X, 0, 0, 0},
    {"slotshashkey", -1, R | F | SL, 0, 0, 0},
    {"slotsdel", -2, W | SL | X, 0, 0, 0},
    {"slotscheck", 1, R | SL | X, 0, 0, 0},
    {"slotsrestore", -4, W | D | SL | X, 1, -1, 3},
    {"slotsrestore-chunk", -4, W | D | SL | X, 2, 2, 1},
    {"slotsmgrtone", 5, W | SL | X, 4, 4, 1},
    {"slotsmgrttagone", 5, W | SL, 4, 4, 1},
    {"slotsmgrtslot", 5, W | SL | X, 0, 0, 0},
    {"slotsmgrttagslot", 5, W | SL | X, 0, 0, 0},
    {"slotsmgrttagslotbatch", 7, W | SL | X, 0, 0, 0},
    // Scripting (docs/scripting.md): the keys follow numkeys (argument 2).
    {"eval", -3, N | S | M, 0, 0, 0, 2, 1},
    {"evalsha", -3, N | S | M, 0, 0, 0, 2, 1},
    {"eval_ro", -3, N | S | R | M, 0, 0, 0, 2, 1},
    {"evalsha_ro", -3, N | S | R | M, 0, 0, 0, 2, 1},
    {"script", -2, N, 0, 0, 0},
    {"fcall", -3, N | S | M, 0, 0, 0, 2, 1},
    {"fcall_ro", -3, N | S | R | M, 0, 0, 0, 2, 1},
    {"function", -2, N, 0, 0, 0},
};

// CLUSTER's subcommands, as redis-server 7.0 lists them in COMMAND INFO
// (sorted by name). RND marks those with Redis' nondeterministic_output tip.
constexpr CommandSpec kClusterSubcommands[] = {
    {"cluster|addslots", -3, A | S | NAL, 0, 0, 0},
    {"cluster|addslotsrange", -4, A | S | NAL, 0, 0, 0},
    {"cluster|bumpepoch", 2, A | S | NAL | RND, 0, 0, 0},
    {"cluster|count-failure-reports", 3, A | S | RND, 0, 0, 0},
    {"cluster|countkeysinslot", 3, S, 0, 0, 0},
    {"cluster|delslots", -3, A | S | NAL, 0, 0, 0},
    {"cluster|delslotsrange", -4, A | S | NAL, 0, 0, 0},
    {"cluster|failover", -2, A | S | NAL, 0, 0, 0},
    {"cluster|flushslots", 2, A | S | NAL, 0, 0, 0},
    {"cluster|forget", 3, A | S | NAL, 0, 0, 0},
    {"cluster|getkeysinslot", 4, S | RND, 0, 0, 0},
    {"cluster|help", 2, L | S, 0, 0, 0},
    {"cluster|info", 2, S | RND, 0, 0, 0},
    {"cluster|keyslot", 3, S, 0, 0, 0},
    {"cluster|links", 2, S | RND, 0, 0, 0},
    {"cluster|meet", -4, A | S | NAL, 0, 0, 0},
    {"cluster|myid", 2, S, 0, 0, 0},
    {"cluster|nodes", 2, S | RND, 0, 0, 0},
    {"cluster|replicas", 3, A | S | RND, 0, 0, 0},
    {"cluster|replicate", 3, A | S | NAL, 0, 0, 0},
    {"cluster|reset", -2, A | N | S, 0, 0, 0},
    {"cluster|saveconfig", 2, A | S | NAL, 0, 0, 0},
    {"cluster|set-config-epoch", 3, A | S | NAL, 0, 0, 0},
    {"cluster|setslot", -4, A | S | NAL, 0, 0, 0},
    {"cluster|shards", 2, S | RND, 0, 0, 0},
    {"cluster|slaves", 3, A | S | RND, 0, 0, 0},
    {"cluster|slots", 2, S | RND, 0, 0, 0},
};

using SpecIndex = absl::flat_hash_map<std::string_view, const CommandSpec*>;

const SpecIndex& Index() {
  static const SpecIndex* const index = [] {
    auto* map = new SpecIndex();
    for (const auto& spec : kSpecs) map->emplace(spec.name, &spec);
    return map;
  }();
  return *index;
}

// The key finder of each kSpecs entry (key_finders.h), found once by name.
KeyFinder FinderOf(const CommandSpec& spec) {
  static const auto* const finders = [] {
    auto* out = new std::array<KeyFinder, std::size(kSpecs)>();
    for (size_t i = 0; i < std::size(kSpecs); ++i) {
      (*out)[i] = SpecialKeyFinder(kSpecs[i].name);
    }
    return out;
  }();
  const CommandSpec* begin = std::begin(kSpecs);
  if (&spec >= begin && &spec < std::end(kSpecs)) {
    return (*finders)[static_cast<size_t>(&spec - begin)];
  }
  return SpecialKeyFinder(spec.name);  // a spec made elsewhere (tests)
}

bool IsSort(const CommandSpec& spec) {
  return spec.name == "sort" || spec.name == "sort_ro";
}

bool ParseCount(const std::string& s, int64_t* out) {
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), *out);
  return ec == std::errc() && ptr == s.data() + s.size();
}

}  // namespace

std::span<const CommandSpec> AllCommandSpecs() { return kSpecs; }

std::string ToLower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    char x = a[i], y = b[i];
    if (x >= 'A' && x <= 'Z') x = static_cast<char>(x - 'A' + 'a');
    if (y >= 'A' && y <= 'Z') y = static_cast<char>(y - 'A' + 'a');
    if (x != y) return false;
  }
  return true;
}

const CommandSpec* FindCommandSpec(std::string_view name) {
  if (name.size() > 32) return nullptr;
  char lower[32];
  for (size_t i = 0; i < name.size(); ++i) {
    char c = name[i];
    lower[i] = (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
  }
  auto it = Index().find(std::string_view(lower, name.size()));
  return it == Index().end() ? nullptr : it->second;
}

std::span<const CommandSpec> SubcommandSpecs(std::string_view container) {
  if (EqualsIgnoreCase(container, "cluster")) return kClusterSubcommands;
  return {};
}

const CommandSpec* FindSubcommandSpec(const CommandSpec& spec,
                                      const std::vector<std::string>& args) {
  if (args.size() < 2) return nullptr;
  for (const CommandSpec& sub : SubcommandSpecs(spec.name)) {
    const std::string_view name = sub.name.substr(spec.name.size() + 1);
    if (EqualsIgnoreCase(name, args[1])) return &sub;
  }
  return nullptr;
}

KeyPositionList KeyPositions(const CommandSpec& spec,
                             const std::vector<std::string>& args) {
  KeyPositionList keys;
  if (KeyFinder finder = FinderOf(spec)) {
    finder(args, &keys);
    return keys;
  }
  const int argc = static_cast<int>(args.size());
  if (spec.first_key > 0 && spec.first_key < argc) {
    int last = spec.last_key >= 0 ? spec.last_key : argc + spec.last_key;
    last = std::min(last, argc - 1);
    for (int i = spec.first_key; i <= last; i += spec.key_step) {
      keys.push_back(static_cast<size_t>(i));
    }
  }
  if (spec.numkeys_index > 0 && spec.numkeys_index < argc) {
    int64_t numkeys = 0;
    if (ParseCount(args[spec.numkeys_index], &numkeys) && numkeys > 0) {
      int64_t first = spec.numkeys_index + spec.keys_offset;
      for (int64_t i = first; i < first + numkeys && i < argc; ++i) {
        keys.push_back(static_cast<size_t>(i));
      }
    }
  }
  return keys;
}

absl::StatusOr<int> KeysSlot(const CommandSpec& spec,
                             const std::vector<std::string>& args) {
  int slot = -1;
  for (size_t pos : KeyPositions(spec, args)) {
    int s = SlotOf(args[pos]);
    if (slot >= 0 && s != slot) {
      return absl::FailedPreconditionError(Router::kCrossSlotError);
    }
    slot = s;
  }
  if (slot >= 0 && IsSort(spec)) {
    absl::Status patterns = CheckSortPatterns(args, slot);
    if (!patterns.ok()) return patterns;
  }
  return slot;
}

std::vector<std::string_view> FlagNames(uint32_t flags) {
  static constexpr std::pair<uint32_t, std::string_view> kNames[] = {
      {kCmdWrite, "write"},
      {kCmdReadOnly, "readonly"},
      {kCmdDenyOom, "denyoom"},
      {kCmdAdmin, "admin"},
      {kCmdPubSub, "pubsub"},
      {kCmdNoScript, "noscript"},
      {kCmdBlocking, "blocking"},
      {kCmdLoading, "loading"},
      {kCmdStale, "stale"},
      {kCmdFast, "fast"},
      {kCmdNoAuth, "no_auth"},
      {kCmdMovableKeys, "movablekeys"},
      {kCmdNoAsyncLoading, "no_async_loading"},
  };
  std::vector<std::string_view> names;
  for (const auto& [bit, name] : kNames) {
    if (flags & bit) names.push_back(name);
  }
  return names;
}

// Redis 7.0's container commands and their subcommands, sorted.
constexpr std::string_view kSubcommandNames[] = {
    "acl|cat",
    "acl|deluser",
    "acl|dryrun",
    "acl|genpass",
    "acl|getuser",
    "acl|help",
    "acl|list",
    "acl|load",
    "acl|log",
    "acl|save",
    "acl|setuser",
    "acl|users",
    "acl|whoami",
    "client|caching",
    "client|getname",
    "client|getredir",
    "client|help",
    "client|id",
    "client|info",
    "client|kill",
    "client|list",
    "client|no-evict",
    "client|pause",
    "client|reply",
    "client|setname",
    "client|tracking",
    "client|trackinginfo",
    "client|unblock",
    "client|unpause",
    "cluster|addslots",
    "cluster|addslotsrange",
    "cluster|bumpepoch",
    "cluster|count-failure-reports",
    "cluster|countkeysinslot",
    "cluster|delslots",
    "cluster|delslotsrange",
    "cluster|failover",
    "cluster|flushslots",
    "cluster|forget",
    "cluster|getkeysinslot",
    "cluster|help",
    "cluster|info",
    "cluster|keyslot",
    "cluster|links",
    "cluster|meet",
    "cluster|myid",
    "cluster|nodes",
    "cluster|replicas",
    "cluster|replicate",
    "cluster|reset",
    "cluster|saveconfig",
    "cluster|set-config-epoch",
    "cluster|setslot",
    "cluster|shards",
    "cluster|slaves",
    "cluster|slots",
    "command|count",
    "command|docs",
    "command|getkeys",
    "command|getkeysandflags",
    "command|help",
    "command|info",
    "command|list",
    "config|get",
    "config|help",
    "config|resetstat",
    "config|rewrite",
    "config|set",
    "function|delete",
    "function|dump",
    "function|flush",
    "function|help",
    "function|kill",
    "function|list",
    "function|load",
    "function|restore",
    "function|stats",
    "latency|doctor",
    "latency|graph",
    "latency|help",
    "latency|histogram",
    "latency|history",
    "latency|latest",
    "latency|reset",
    "memory|doctor",
    "memory|help",
    "memory|malloc-stats",
    "memory|purge",
    "memory|stats",
    "memory|usage",
    "object|encoding",
    "object|freq",
    "object|help",
    "object|idletime",
    "object|refcount",
    "pubsub|channels",
    "pubsub|help",
    "pubsub|numpat",
    "pubsub|numsub",
    "pubsub|shardchannels",
    "pubsub|shardnumsub",
    "script|debug",
    "script|exists",
    "script|flush",
    "script|help",
    "script|kill",
    "script|load",
    "slowlog|get",
    "slowlog|help",
    "slowlog|len",
    "slowlog|reset",
    "xgroup|create",
    "xgroup|createconsumer",
    "xgroup|delconsumer",
    "xgroup|destroy",
    "xgroup|help",
    "xgroup|setid",
    "xinfo|consumers",
    "xinfo|groups",
    "xinfo|help",
    "xinfo|stream",
};

const char* QualifiedCommandName(const CommandSpec& spec,
                                 const std::vector<std::string>& args) {
  // Every entry is in static storage and NUL-terminated (a literal).
  static_assert(std::size(kSubcommandNames) > 0);
  if (args.size() < 2 || args[1].size() > 24) return spec.name.data();
  std::string wanted = std::string(spec.name) + "|" + ToLower(args[1]);
  auto it = std::lower_bound(std::begin(kSubcommandNames),
                             std::end(kSubcommandNames), wanted);
  if (it != std::end(kSubcommandNames) && *it == wanted) return it->data();
  return spec.name.data();
}

}  // namespace reborn
