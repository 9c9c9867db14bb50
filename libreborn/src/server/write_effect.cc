#include "server/write_effect.h"

#include <algorithm>
#include <charconv>
#include <iterator>
#include <optional>

#include "command/command_spec.h"

namespace reborn::server {
namespace {

// Commands whose integer reply counts (or flags) what they changed.
constexpr std::string_view kCountsChanges[] = {"sadd",
                                               "srem",
                                               "smove",
                                               "hdel",
                                               "hsetnx",
                                               "zrem",
                                               "lrem",
                                               "setnx",
                                               "pfadd",
                                               "msetnx",
                                               "persist",
                                               "expire",
                                               "pexpire",
                                               "expireat",
                                               "pexpireat",
                                               "renamenx",
                                               "move",
                                               "copy",
                                               "lpushx",
                                               "rpushx",
                                               "del",
                                               "unlink",
                                               "zremrangebyscore",
                                               "zremrangebyrank",
                                               "zremrangebylex",
                                               "xack",
                                               "xdel",
                                               "xtrim"};

// Commands that answer nil or an empty array when there was nothing to take.
constexpr std::string_view kTakesSomething[] = {
    "getdel",  "getex", "lpop",  "rpop",      "spop", "zpopmin",
    "zpopmax", "lmpop", "zmpop", "rpoplpush", "lmove"};

template <size_t N>
bool Contains(const std::string_view (&names)[N], std::string_view command) {
  return std::find(std::begin(names), std::end(names), command) !=
         std::end(names);
}

bool IsNil(std::string_view reply) {
  return reply == "$-1\r\n" || reply == "*-1\r\n" || reply == "_\r\n" ||
         reply == "*0\r\n" || reply == "~0\r\n";
}

// The integer of a ":N\r\n" reply.
std::optional<int64_t> IntegerReply(std::string_view reply) {
  if (reply.size() < 4 || reply[0] != ':') return std::nullopt;
  int64_t n = 0;
  const char* end = reply.data() + reply.size() - 2;
  auto [ptr, ec] = std::from_chars(reply.data() + 1, end, n);
  if (ec != std::errc() || ptr != end) return std::nullopt;
  return n;
}

// Reads the aggregate or bulk header at reply[*pos] ("*3\r\n", "$5\r\n",
// "~2\r\n", ...): its type byte and number; *pos moves past it.
bool ReadHeader(std::string_view reply, size_t* pos, char* type, int64_t* n) {
  if (*pos >= reply.size()) return false;
  *type = reply[*pos];
  const size_t eol = reply.find("\r\n", *pos);
  if (eol == std::string_view::npos) return false;
  auto [ptr, ec] =
      std::from_chars(reply.data() + *pos + 1, reply.data() + eol, *n);
  if (ec != std::errc() || ptr != reply.data() + eol) return false;
  *pos = eol + 2;
  return true;
}

// Elements of an array or set reply (0 for anything else).
int64_t ElementCount(std::string_view reply) {
  size_t pos = 0;
  char type;
  int64_t n;
  if (!ReadHeader(reply, &pos, &type, &n)) return 0;
  return (type == '*' || type == '~') && n > 0 ? n : 0;
}

// ZPOPMIN/ZPOPMAX with a count: a flat member/score array in RESP2, an
// array of pairs in RESP3.
int64_t PairCount(std::string_view reply) {
  size_t pos = 0;
  char type;
  int64_t n;
  if (!ReadHeader(reply, &pos, &type, &n) || type != '*' || n <= 0) return 0;
  return pos < reply.size() && reply[pos] == '*' ? n : n / 2;
}

// LMPOP/ZMPOP: [key, [elements...]]; the elements of the second.
int64_t NestedCount(std::string_view reply) {
  size_t pos = 0;
  char type;
  int64_t n;
  if (!ReadHeader(reply, &pos, &type, &n) || type != '*' || n != 2) return 0;
  if (!ReadHeader(reply, &pos, &type, &n) || type != '$' || n < 0) return 0;
  pos += static_cast<size_t>(n) + 2;  // the key
  return ElementCount(reply.substr(std::min(pos, reply.size())));
}

bool HasOption(const std::vector<std::string>& args, size_t from,
               std::string_view option) {
  for (size_t i = from; i < args.size(); ++i) {
    if (EqualsIgnoreCase(args[i], option)) return true;
  }
  return false;
}

int64_t SetChanges(const std::vector<std::string>& args,
                   std::string_view reply) {
  // SET answers nil when NX/XX stopped it; with GET it answers the old
  // value, which is nil exactly when the key was absent.
  if (!HasOption(args, 3, "get")) return IsNil(reply) ? 0 : 1;
  if (HasOption(args, 3, "nx")) return IsNil(reply) ? 1 : 0;
  if (HasOption(args, 3, "xx")) return IsNil(reply) ? 0 : 1;
  return 1;
}

}  // namespace

bool WriteChangedNothing(std::string_view command, std::string_view reply) {
  if (Contains(kCountsChanges, command)) return reply == ":0\r\n";
  if (command == "linsert") return reply == ":0\r\n" || reply == ":-1\r\n";
  if (Contains(kTakesSomething, command)) return IsNil(reply);
  // Without STORE these "write" commands only read (they answer an array).
  if (command == "georadius" || command == "georadiusbymember") {
    return reply.empty() || reply[0] != ':';
  }
  return false;
}

int64_t WriteChanges(std::string_view command,
                     const std::vector<std::string>& args,
                     std::string_view reply) {
  if (reply.empty() || reply[0] == '-') return 0;
  const int64_t argc = static_cast<int64_t>(args.size());
  if (command == "function") {
    // Not a write command by its flags, but these change the libraries.
    if (argc < 2) return 0;
    for (std::string_view sub : {"load", "delete", "flush", "restore"}) {
      if (EqualsIgnoreCase(args[1], sub)) return 1;
    }
    return 0;
  }
  if (WriteChangedNothing(command, reply)) return 0;
  const std::optional<int64_t> n = IntegerReply(reply);
  if (command == "set") return SetChanges(args, reply);
  if (command == "mset") return (argc - 1) / 2;
  if (command == "msetnx") return n == 1 ? (argc - 1) / 2 : 0;
  if (command == "hset" || command == "hmset") return (argc - 2) / 2;
  if (command == "lpush" || command == "rpush") return argc - 2;
  if (command == "lpushx" || command == "rpushx") {
    return n.value_or(0) > 0 ? argc - 2 : 0;
  }
  if (command == "linsert") return 1;
  if (command == "getex") return argc > 2 ? 1 : 0;  // options change the TTL
  if (command == "setrange") return argc > 3 && !args[3].empty() ? 1 : 0;
  if (command == "lpop" || command == "rpop" || command == "spop") {
    return argc == 2 ? 1 : ElementCount(reply);
  }
  if (command == "zpopmin" || command == "zpopmax") {
    return argc == 2 ? 1 : PairCount(reply);
  }
  if (command == "lmpop" || command == "zmpop") return NestedCount(reply);
  if (command == "xclaim") return ElementCount(reply);
  if (command == "xgroup") {
    if (argc < 2) return 0;
    if (EqualsIgnoreCase(args[1], "help")) return 0;
    if (EqualsIgnoreCase(args[1], "destroy") ||
        EqualsIgnoreCase(args[1], "createconsumer")) {
      return n.value_or(0) > 0 ? 1 : 0;
    }
    return 1;
  }
  if (command == "sort" || command == "georadius" ||
      command == "georadiusbymember" || command == "geosearchstore") {
    // Only with STORE do they write: the stored element count (an emptied
    // destination counts one).
    if (!n) return 0;
    return *n > 0 ? *n : 1;
  }
  if (Contains(kCountsChanges, command)) return n ? *n : 1;
  return 1;
}

}  // namespace reborn::server
