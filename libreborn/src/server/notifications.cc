#include "server/notifications.h"

#include <algorithm>
#include <cstdlib>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "resp/reply_parser.h"

namespace reborn::server {
namespace {

bool IntReply(std::string_view reply, int64_t* n) {
  if (reply.size() < 3 || reply[0] != ':') return false;
  return absl::SimpleAtoi(std::string(reply.substr(1, reply.find('\r') - 1)),
                          n);
}

// Nil, or an empty array: nothing was there to act on.
bool IsEmpty(std::string_view reply) {
  return reply == "$-1\r\n" || reply == "*-1\r\n" || reply == "_\r\n" ||
         reply == "*0\r\n";
}

// The first bulk string inside an array reply (LMPOP/ZMPOP: the key).
bool FirstBulkInArray(std::string_view reply, std::string* out) {
  size_t line = reply.find("\r\n");
  if (reply.empty() || reply[0] != '*' || line == std::string_view::npos) {
    return false;
  }
  std::string_view rest = reply.substr(line + 2);
  size_t end = rest.find("\r\n");
  if (rest.empty() || rest[0] != '$' || end == std::string_view::npos) {
    return false;
  }
  size_t len = 0;
  if (!absl::SimpleAtoi(std::string(rest.substr(1, end - 1)), &len) ||
      rest.size() < end + 2 + len) {
    return false;
  }
  *out = std::string(rest.substr(end + 2, len));
  return true;
}

bool HasOption(const std::vector<std::string>& args, size_t from,
               std::initializer_list<std::string_view> names) {
  for (size_t i = from; i < args.size(); ++i) {
    for (std::string_view n : names) {
      if (EqualsIgnoreCase(args[i], n)) return true;
    }
  }
  return false;
}

// The destination of a *STORE command ("" when it has none).
std::string StoreTarget(const std::string& name,
                        const std::vector<std::string>& args) {
  if (name == "sinterstore" || name == "sunionstore" || name == "sdiffstore" ||
      name == "zunionstore" || name == "zinterstore" || name == "zdiffstore" ||
      name == "zrangestore") {
    return args[1];
  }
  if (name == "sort") {
    for (size_t i = 2; i + 1 < args.size(); ++i) {
      if (EqualsIgnoreCase(args[i], "store")) return args[i + 1];
    }
  }
  if (name == "geosearchstore") return args[1];
  if (name == "bitop" && args.size() > 2) return args[2];
  if (name == "georadius" || name == "georadiusbymember") {
    std::string dst;  // the last STORE/STOREDIST wins
    for (size_t i = 5; i + 1 < args.size(); ++i) {
      if (EqualsIgnoreCase(args[i], "store") ||
          EqualsIgnoreCase(args[i], "storedist")) {
        dst = args[++i];
      }
    }
    return dst;
  }
  return "";
}

// The keys a write creates when they do not exist (Redis' dbAdd, which
// publishes "new"), in its order; RENAME, MOVE, COPY and RESTORE, which
// always add their target, are not listed.
std::vector<std::string> MayCreate(const std::string& name,
                                   const std::vector<std::string>& args) {
  static const auto* const kFirstKey = new absl::flat_hash_set<std::string>{
      "set",     "setex",       "psetex",       "setnx",    "getset",
      "append",  "setrange",    "incr",         "decr",     "incrby",
      "decrby",  "incrbyfloat", "setbit",       "bitfield", "pfadd",
      "pfmerge", "lpush",       "rpush",        "hset",     "hsetnx",
      "hmset",   "hincrby",     "hincrbyfloat", "sadd",     "zadd",
      "zincrby", "geoadd",      "xadd"};
  std::vector<std::string> keys;
  if (args.size() < 2) return keys;
  if (kFirstKey->contains(name)) {
    keys.push_back(args[1]);
  } else if (name == "mset" || name == "msetnx") {
    for (size_t i = 1; i < args.size(); i += 2) keys.push_back(args[i]);
  } else if ((name == "smove" || name == "rpoplpush" || name == "lmove") &&
             args.size() > 2) {
    keys.push_back(args[2]);
  } else if (name == "xgroup" && args.size() > 2 &&
             EqualsIgnoreCase(args[1], "create") &&
             HasOption(args, 5, {"mkstream"})) {
    keys.push_back(args[2]);
  } else if (std::string dst = StoreTarget(name, args); !dst.empty()) {
    keys.push_back(std::move(dst));
  }
  return keys;
}

// Whether BITFIELD has a SET or INCRBY operation (then it creates its key),
// and how many of them changed it: those whose reply is not nil (an
// OVERFLOW FAIL that overflowed).
void BitfieldWrites(const std::vector<std::string>& args,
                    std::string_view reply, bool* writes, int* changes) {
  *writes = false;
  *changes = 0;
  std::vector<bool> is_write;  // per reply element
  for (size_t i = 2; i < args.size();) {
    if (EqualsIgnoreCase(args[i], "get")) {
      is_write.push_back(false);
      i += 3;
    } else if (EqualsIgnoreCase(args[i], "set") ||
               EqualsIgnoreCase(args[i], "incrby")) {
      is_write.push_back(true);
      *writes = true;
      i += 4;
    } else {
      i += 2;  // OVERFLOW mode
    }
  }
  size_t used = 0;
  Reply parsed;
  if (resp::ReplyParser().Parse(reply, &used, &parsed) !=
          resp::ReplyParser::Result::kReply ||
      parsed.type != Reply::Type::kArray) {
    return;
  }
  for (size_t i = 0; i < parsed.elements.size() && i < is_write.size(); ++i) {
    if (is_write[i] && !parsed.elements[i].is_nil()) ++*changes;
  }
}

// ZMSCORE of the members GEOADD names: whether it added or moved one.
std::vector<std::string> GeoAddProbe(const std::vector<std::string>& args) {
  std::vector<std::string> probe = {"zmscore", args[1]};
  size_t i = 2;
  while (i < args.size() &&
         (EqualsIgnoreCase(args[i], "nx") || EqualsIgnoreCase(args[i], "xx") ||
          EqualsIgnoreCase(args[i], "ch"))) {
    ++i;
  }
  for (i += 2; i < args.size(); i += 3) probe.push_back(args[i]);
  return probe;
}

// The stream, group and consumer a consumer-group command names: XCLAIM,
// XAUTOCLAIM and XGROUP DELCONSUMER one key, XREADGROUP every key after
// STREAMS. False for anything else.
struct GroupCommand {
  std::vector<std::string> keys;
  std::string group;
  std::string consumer;
};
bool ParseGroupCommand(const std::string& name,
                       const std::vector<std::string>& args,
                       GroupCommand* out) {
  if (name == "xclaim" || name == "xautoclaim") {
    if (args.size() < 4) return false;
    *out = {{args[1]}, args[2], args[3]};
    return true;
  }
  if (name == "xgroup") {
    if (args.size() != 5 || !EqualsIgnoreCase(args[1], "delconsumer")) {
      return false;
    }
    *out = {{args[2]}, args[3], args[4]};
    return true;
  }
  if (name != "xreadgroup") return false;
  for (size_t i = 1; i < args.size(); ++i) {
    if (EqualsIgnoreCase(args[i], "group") && i + 2 < args.size()) {
      out->group = args[i + 1];
      out->consumer = args[i + 2];
      i += 2;
    } else if (EqualsIgnoreCase(args[i], "count") ||
               EqualsIgnoreCase(args[i], "block")) {
      ++i;  // their value
    } else if (EqualsIgnoreCase(args[i], "streams")) {
      const size_t n = (args.size() - i - 1) / 2;
      out->keys.assign(args.begin() + i + 1, args.begin() + i + 1 + n);
      return true;
    }
  }
  return false;
}

// Whether `consumer` is in `group` of the stream at `key` (XINFO CONSUMERS).
bool HasConsumer(const Notifications::Runner& run, int db,
                 const std::string& key, const std::string& group,
                 const std::string& consumer) {
  const std::string out = run(db, {"xinfo", "consumers", key, group});
  size_t used = 0;
  Reply reply;
  if (resp::ReplyParser().Parse(out, &used, &reply) !=
          resp::ReplyParser::Result::kReply ||
      reply.type != Reply::Type::kArray) {
    return false;
  }
  for (const Reply& c : reply.elements) {
    for (size_t i = 0; i + 1 < c.elements.size(); i += 2) {
      if (c.elements[i].str == "name") {
        if (c.elements[i + 1].str == consumer) return true;
        break;
      }
    }
  }
  return false;
}

}  // namespace

void Notifications::Notify(int type, std::string_view event,
                           std::string_view key, int db) {
  const int f = flags();
  if ((f & type) == 0) return;
  if (f & kNotifyKeyspace) {
    pubsub_.Publish(absl::StrCat("__keyspace@", db, "__:", std::string(key)),
                    event,
                    /*sharded=*/false);
  }
  if (f & kNotifyKeyevent) {
    pubsub_.Publish(absl::StrCat("__keyevent@", db, "__:", std::string(event)),
                    key,
                    /*sharded=*/false);
  }
}

Notifications::Before Notifications::Probe(int db, const CommandSpec& spec,
                                           const std::vector<std::string>& args,
                                           const Runner& run) const {
  Before before;
  const std::string name(spec.name);
  if ((flags() & kNotifyNew) != 0) {
    for (std::string& key : MayCreate(name, args)) {
      if (std::find(before.absent.begin(), before.absent.end(), key) ==
              before.absent.end() &&
          run(db, {"exists", key}) == ":0\r\n") {
        before.absent.push_back(std::move(key));
      }
    }
  }
  if (name == "setbit" && args.size() > 1) {
    IntReply(run(db, {"strlen", args[1]}), &before.string_length);
  }
  if ((name == "del" || name == "unlink") && args.size() > 2) {
    for (size_t i = 1; i < args.size(); ++i) {
      before.existed.push_back(run(db, {"exists", args[i]}) == ":1\r\n");
    }
  } else if (name == "getex" && HasOption(args, 2, {"persist"})) {
    std::string pttl = run(db, {"pttl", args[1]});
    before.had_ttl = pttl.size() > 1 && pttl[1] != '-';
  } else if (std::string dst = StoreTarget(name, args); !dst.empty()) {
    before.existed.push_back(run(db, {"exists", dst}) == ":1\r\n");
  } else if (name == "geoadd" && args.size() > 2) {
    before.positions = run(db, GeoAddProbe(args));
  } else if (name == "smove" && args.size() == 4) {
    // Whether the destination holds the member already (then SMOVE does
    // not change it).
    before.existed.push_back(run(db, {"sismember", args[2], args[3]}) ==
                             ":1\r\n");
  } else if ((flags() & kNotifyStream) != 0) {
    GroupCommand gc;
    if (name == "xadd" && args.size() > 1) {
      IntReply(run(db, {"xlen", args[1]}), &before.stream_length);
    } else if (ParseGroupCommand(name, args, &gc)) {
      for (const std::string& k : gc.keys) {
        before.had_consumer.push_back(
            HasConsumer(run, db, k, gc.group, gc.consumer));
      }
    }
  }
  return before;
}

void Notifications::AfterUnchangedWrite(int db, const Before& before,
                                        const Runner& run) {
  for (const std::string& k : before.absent) {
    if (run(db, {"exists", k}) == ":1\r\n") Notify(kNotifyNew, "new", k, db);
  }
}

void Notifications::AfterWrite(int db, const CommandSpec& spec,
                               const std::vector<std::string>& args,
                               std::string_view reply, const Before& before,
                               const Runner& run) {
  const std::string name(spec.name);
  if (args.size() < 2) return;
  const std::string& key = args[1];
  int64_t n = 0;
  IntReply(reply, &n);
  const bool empty = IsEmpty(reply);
  auto gone = [&](const std::string& k) {
    return run(db, {"exists", k}) == ":0\r\n";
  };
  auto del_if_empty = [&](const std::string& k) {
    if (gone(k)) Notify(kNotifyGeneric, "del", k, db);
  };
  auto has_expiry = [&](size_t from) {
    return HasOption(args, from, {"ex", "px", "exat", "pxat"});
  };
  // Redis' dbAdd: "new" for a key the write creates, before the write's own
  // event (once per key: MSET a 1 a 2 creates a once).
  std::vector<std::string> absent = before.absent;
  auto created = [&](const std::string& k) {
    auto it = std::find(absent.begin(), absent.end(), k);
    if (it == absent.end()) return;
    absent.erase(it);
    Notify(kNotifyNew, "new", k, db);
  };

  // Strings.
  if (name == "set") {
    bool done = !empty;
    if (HasOption(args, 3, {"get"})) {
      // The reply is the old value: NX/XX tell whether the SET happened.
      done = HasOption(args, 3, {"nx"})   ? empty
             : HasOption(args, 3, {"xx"}) ? !empty
                                          : true;
    }
    if (!done) return;
    created(key);
    Notify(kNotifyString, "set", key, db);
    if (has_expiry(3)) Notify(kNotifyGeneric, "expire", key, db);
  } else if (name == "setex" || name == "psetex") {
    created(key);
    Notify(kNotifyString, "set", key, db);
    Notify(kNotifyGeneric, "expire", key, db);
  } else if (name == "setnx") {
    if (n == 1) {
      created(key);
      Notify(kNotifyString, "set", key, db);
    }
  } else if (name == "getset") {
    created(key);
    Notify(kNotifyString, "set", key, db);
  } else if (name == "mset" || (name == "msetnx" && n == 1)) {
    for (size_t i = 1; i + 1 < args.size(); i += 2) {
      created(args[i]);
      Notify(kNotifyString, "set", args[i], db);
    }
  } else if (name == "append" ||
             (name == "setrange" && args.size() > 3 && !args[3].empty())) {
    // SETRANGE with an empty value changes nothing (nor creates the key).
    created(key);
    Notify(kNotifyString, name, key, db);
  } else if (name == "incr" || name == "decr" || name == "incrby" ||
             name == "decrby") {
    created(key);
    Notify(kNotifyString, "incrby", key, db);
  } else if (name == "incrbyfloat") {
    created(key);
    Notify(kNotifyString, "incrbyfloat", key, db);
  } else if (name == "setbit") {
    // "setbit" when the key was created or grew, or the bit changed.
    created(key);
    int64_t length = 0;
    IntReply(run(db, {"strlen", key}), &length);
    if (length > before.string_length ||
        (args.size() > 3 &&
         std::string_view(reply.substr(0, 2)) != absl::StrCat(":", args[3]))) {
      Notify(kNotifyString, "setbit", key, db);
    }
  } else if (name == "bitfield") {
    bool writes = false;
    int changes = 0;
    BitfieldWrites(args, reply, &writes, &changes);
    if (writes) created(key);
    if (changes > 0) Notify(kNotifyString, "setbit", key, db);
  } else if (name == "bitop" && args.size() > 2) {
    if (n > 0) {
      created(args[2]);
      Notify(kNotifyString, "set", args[2], db);
    } else if (!before.existed.empty() && before.existed[0]) {
      Notify(kNotifyGeneric, "del", args[2], db);
    }
  } else if ((name == "pfadd" && n == 1) || name == "pfmerge") {
    created(key);
    Notify(kNotifyString, "pfadd", key, db);
  } else if (name == "getdel") {
    if (!empty) Notify(kNotifyGeneric, "del", key, db);
  } else if (name == "getex") {
    if (empty) return;
    if (has_expiry(2)) {
      Notify(kNotifyGeneric, gone(key) ? "del" : "expire", key, db);
    } else if (before.had_ttl) {
      Notify(kNotifyGeneric, "persist", key, db);
    }
    // Generic keys.
  } else if (name == "del" || name == "unlink") {
    if (args.size() == 2) {
      if (n == 1) Notify(kNotifyGeneric, "del", key, db);
      return;
    }
    for (size_t i = 1; i < args.size() && i - 1 < before.existed.size(); ++i) {
      if (before.existed[i - 1]) Notify(kNotifyGeneric, "del", args[i], db);
    }
  } else if (name == "expire" || name == "pexpire" || name == "expireat" ||
             name == "pexpireat") {
    if (n == 1) Notify(kNotifyGeneric, gone(key) ? "del" : "expire", key, db);
  } else if (name == "persist") {
    if (n == 1) Notify(kNotifyGeneric, "persist", key, db);
  } else if ((name == "rename" || (name == "renamenx" && n == 1)) &&
             args.size() > 2 && key != args[2]) {
    // The target is deleted if it exists and added again; renaming a key
    // to itself does nothing.
    Notify(kNotifyNew, "new", args[2], db);
    Notify(kNotifyGeneric, "rename_from", key, db);
    Notify(kNotifyGeneric, "rename_to", args[2], db);
  } else if (name == "move") {
    if (n == 1) {
      Notify(kNotifyNew, "new", key, std::atoi(args[2].c_str()));
      Notify(kNotifyGeneric, "move_from", key, db);
      Notify(kNotifyGeneric, "move_to", key, std::atoi(args[2].c_str()));
    }
  } else if (name == "copy") {
    if (n == 1) {
      int dst_db = db;
      for (size_t i = 3; i + 1 < args.size(); ++i) {
        if (EqualsIgnoreCase(args[i], "db"))
          dst_db = std::atoi(args[i + 1].c_str());
      }
      Notify(kNotifyNew, "new", args[2], dst_db);
      Notify(kNotifyGeneric, "copy_to", args[2], dst_db);
    }
  } else if (name == "restore") {
    Notify(kNotifyNew, "new", key, db);
    Notify(kNotifyGeneric, "restore", key, db);
    // Lists.
  } else if (name == "lpush" || name == "rpush" || name == "lpushx" ||
             name == "rpushx") {
    if (n > 0) {
      created(key);
      Notify(kNotifyList, name.substr(0, 5), key, db);
    }
  } else if (name == "linsert") {
    if (n > 0) Notify(kNotifyList, "linsert", key, db);
  } else if (name == "lset") {
    Notify(kNotifyList, "lset", key, db);
  } else if (name == "lrem") {
    if (n > 0) {
      Notify(kNotifyList, "lrem", key, db);
      del_if_empty(key);
    }
  } else if (name == "ltrim") {
    Notify(kNotifyList, "ltrim", key, db);
    del_if_empty(key);
  } else if (name == "lpop" || name == "rpop") {
    if (empty) return;
    Notify(kNotifyList, name, key, db);
    del_if_empty(key);
  } else if (name == "rpoplpush" || name == "lmove") {
    if (empty) return;
    const bool from_left =
        name == "lmove" && args.size() > 3 && EqualsIgnoreCase(args[3], "left");
    const bool to_left = name == "rpoplpush" ||
                         (args.size() > 4 && EqualsIgnoreCase(args[4], "left"));
    created(args[2]);
    Notify(kNotifyList, to_left ? "lpush" : "rpush", args[2], db);
    Notify(kNotifyList, from_left ? "lpop" : "rpop", key, db);
    del_if_empty(key);
  } else if (name == "lmpop" || name == "zmpop") {
    std::string popped;
    if (empty || !FirstBulkInArray(reply, &popped)) return;
    const bool left_or_min = HasOption(args, 2, {"left", "min"});
    if (name == "lmpop") {
      Notify(kNotifyList, left_or_min ? "lpop" : "rpop", popped, db);
    } else {
      Notify(kNotifyZset, left_or_min ? "zpopmin" : "zpopmax", popped, db);
    }
    del_if_empty(popped);
    // Hashes.
  } else if (name == "hset" || name == "hmset" ||
             (name == "hsetnx" && n == 1)) {
    created(key);
    Notify(kNotifyHash, "hset", key, db);
  } else if (name == "hdel") {
    if (n > 0) {
      Notify(kNotifyHash, "hdel", key, db);
      del_if_empty(key);
    }
  } else if (name == "hincrby" || name == "hincrbyfloat") {
    created(key);
    Notify(kNotifyHash, name, key, db);
    // Sets.
  } else if (name == "sadd") {
    if (n > 0) {
      created(key);
      Notify(kNotifySet, "sadd", key, db);
    }
  } else if (name == "srem") {
    if (n > 0) {
      Notify(kNotifySet, "srem", key, db);
      del_if_empty(key);
    }
  } else if (name == "spop") {
    if (empty) return;
    Notify(kNotifySet, "spop", key, db);
    del_if_empty(key);
  } else if (name == "smove") {
    // As smoveCommand: nothing when source and destination are one key,
    // "sadd" only when the member was added.
    if (n == 1 && key != args[2]) {
      Notify(kNotifySet, "srem", key, db);
      del_if_empty(key);
      if (before.existed.empty() || !before.existed[0]) {
        created(args[2]);
        Notify(kNotifySet, "sadd", args[2], db);
      }
    }
    // Sorted sets.
  } else if (name == "zadd") {
    if (HasOption(args, 2, {"incr"})) {
      if (!empty) {
        created(key);
        Notify(kNotifyZset, "zincr", key, db);
      }
    } else if (n > 0) {
      created(key);
      Notify(kNotifyZset, "zadd", key, db);
    }
  } else if (name == "geoadd") {
    // GEOADD is ZADD underneath: "zadd" when a member was added or moved,
    // which its reply (without CH) does not tell.
    if (run(db, GeoAddProbe(args)) != before.positions) {
      created(key);
      Notify(kNotifyZset, "zadd", key, db);
    }
  } else if (name == "zincrby") {
    created(key);
    Notify(kNotifyZset, "zincr", key, db);
  } else if (name == "zrem" || name == "zremrangebyscore" ||
             name == "zremrangebyrank" || name == "zremrangebylex") {
    if (n > 0) {
      Notify(kNotifyZset, name, key, db);
      del_if_empty(key);
    }
  } else if (name == "zpopmin" || name == "zpopmax") {
    if (empty) return;
    Notify(kNotifyZset, name, key, db);
    del_if_empty(key);
    // Streams (t_stream.c's events).
  } else if (name == "xadd") {
    if (empty) return;  // NOMKSTREAM and no stream
    created(key);
    Notify(kNotifyStream, "xadd", key, db);
    // MAXLEN/MINID removed entries when the stream did not grow by one.
    int64_t length = 0;
    if (IntReply(run(db, {"xlen", key}), &length) &&
        length < before.stream_length + 1) {
      Notify(kNotifyStream, "xtrim", key, db);
    }
  } else if (name == "xtrim" || name == "xdel") {
    if (n > 0) Notify(kNotifyStream, name, key, db);
  } else if (name == "xsetid") {
    Notify(kNotifyStream, "xsetid", key, db);
  } else if (name == "xgroup" && args.size() > 2) {
    const std::string sub = absl::AsciiStrToLower(args[1]);
    const std::string& stream = args[2];
    if (sub == "create" || sub == "setid") {
      created(stream);  // CREATE ... MKSTREAM
      Notify(kNotifyStream, absl::StrCat("xgroup-", sub), stream, db);
    } else if ((sub == "destroy" || sub == "createconsumer") && n == 1) {
      Notify(kNotifyStream, absl::StrCat("xgroup-", sub), stream, db);
    } else if (sub == "delconsumer" && !before.had_consumer.empty() &&
               before.had_consumer[0]) {
      Notify(kNotifyStream, "xgroup-delconsumer", stream, db);
    }
  } else if (name == "xreadgroup" || name == "xclaim" || name == "xautoclaim") {
    // A consumer these name is created when they first give it an entry.
    GroupCommand gc;
    if (!ParseGroupCommand(name, args, &gc)) return;
    for (size_t i = 0; i < gc.keys.size() && i < before.had_consumer.size();
         ++i) {
      if (!before.had_consumer[i] &&
          HasConsumer(run, db, gc.keys[i], gc.group, gc.consumer)) {
        Notify(kNotifyStream, "xgroup-createconsumer", gc.keys[i], db);
      }
    }
  } else if (std::string dst = StoreTarget(name, args); !dst.empty()) {
    const int type = name == "sort"   ? kNotifyList
                     : name[0] == 's' ? kNotifySet
                                      : kNotifyZset;
    const std::string event = name == "sort"                  ? "sortstore"
                              : name.starts_with("georadius") ? "georadiusstore"
                                                              : name;
    if (n > 0) {
      created(dst);
      Notify(type, event, dst, db);
    } else if (!before.existed.empty() && before.existed[0]) {
      Notify(kNotifyGeneric, "del", dst, db);
    }
  }
}

}  // namespace reborn::server
