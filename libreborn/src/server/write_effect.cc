#include "server/write_effect.h"

#include <algorithm>
#include <iterator>

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
                                               "zremrangebylex"};

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

}  // namespace reborn::server
