#include "repl/effects.h"

#include <charconv>

#include "absl/strings/str_cat.h"
#include "command/command_spec.h"

namespace reborn::repl {
namespace {

bool IsNil(std::string_view reply) {
  return reply == "$-1\r\n" || reply == "*-1\r\n" || reply == "_\r\n";
}

bool Int(std::string_view text, int64_t* out) {
  auto [ptr, ec] =
      std::from_chars(text.data(), text.data() + text.size(), *out);
  return !text.empty() && ec == std::errc() && ptr == text.data() + text.size();
}

// The value of a bulk reply ("$3\r\nabc\r\n"); false for anything else.
bool BulkValue(std::string_view reply, std::string* out) {
  if (reply.empty() || reply[0] != '$') return false;
  size_t eol = reply.find("\r\n");
  int64_t len = 0;
  if (eol == std::string_view::npos || !Int(reply.substr(1, eol - 1), &len) ||
      len < 0 || eol + 2 + static_cast<size_t>(len) > reply.size()) {
    return false;
  }
  out->assign(reply.substr(eol + 2, static_cast<size_t>(len)));
  return true;
}

// The bulk strings of a flat array reply of bulks (SPOP k n).
std::vector<std::string> BulkElements(std::string_view reply) {
  std::vector<std::string> out;
  if (reply.empty() || (reply[0] != '*' && reply[0] != '~')) return out;
  size_t pos = reply.find("\r\n");
  if (pos == std::string_view::npos) return out;
  pos += 2;
  while (pos < reply.size()) {
    std::string value;
    if (!BulkValue(reply.substr(pos), &value)) break;
    size_t eol = reply.find("\r\n", pos);
    pos = eol + 2 + value.size() + 2;
    out.push_back(std::move(value));
  }
  return out;
}

// The integer of ":N\r\n".
bool IntegerReply(std::string_view reply, int64_t* out) {
  return reply.size() > 3 && reply[0] == ':' &&
         Int(reply.substr(1, reply.size() - 3), out);
}

// PEXPIREAT k at, or DEL k when `at` has passed (Redis propagates the
// deletion an expiry in the past causes).
Command ExpireAt(const std::string& key, int64_t at_ms, int64_t now_ms) {
  if (at_ms <= now_ms) return {"DEL", key};
  return {"PEXPIREAT", key, std::to_string(at_ms)};
}

// Reads an EX|PX|EXAT|PXAT option at args[i] into an absolute time.
bool ExpiryOption(const Command& args, size_t i, int64_t now_ms,
                  int64_t* at_ms) {
  if (i + 1 >= args.size()) return false;
  int64_t v = 0;
  if (!Int(args[i + 1], &v)) return false;
  if (EqualsIgnoreCase(args[i], "ex")) {
    *at_ms = now_ms + v * 1000;
  } else if (EqualsIgnoreCase(args[i], "px")) {
    *at_ms = now_ms + v;
  } else if (EqualsIgnoreCase(args[i], "exat")) {
    *at_ms = v * 1000;
  } else if (EqualsIgnoreCase(args[i], "pxat")) {
    *at_ms = v;
  } else {
    return false;
  }
  return true;
}

std::vector<Command> SetEffect(const Command& args, std::string_view reply,
                               int64_t now_ms) {
  bool nx = false, xx = false, get = false, keepttl = false, expires = false;
  int64_t at_ms = 0;
  for (size_t i = 3; i < args.size(); ++i) {
    if (EqualsIgnoreCase(args[i], "nx")) {
      nx = true;
    } else if (EqualsIgnoreCase(args[i], "xx")) {
      xx = true;
    } else if (EqualsIgnoreCase(args[i], "get")) {
      get = true;
    } else if (EqualsIgnoreCase(args[i], "keepttl")) {
      keepttl = true;
    } else if (ExpiryOption(args, i, now_ms, &at_ms)) {
      expires = true;
      ++i;
    }
  }
  bool done = get ? (nx   ? IsNil(reply)
                     : xx ? !IsNil(reply)
                          : true)
                  : !IsNil(reply);
  if (!done) return {};
  if (expires && at_ms <= now_ms) return {{"DEL", args[1]}};
  Command out = {"SET", args[1], args[2]};
  if (expires) {
    out.insert(out.end(), {"PXAT", std::to_string(at_ms)});
  } else if (keepttl) {
    out.push_back("KEEPTTL");
  }
  return {out};
}

std::vector<Command> RestoreEffect(const Command& args, int64_t now_ms) {
  int64_t ttl = 0;
  if (!Int(args[2], &ttl)) return {args};
  bool absttl = false;
  for (size_t i = 4; i < args.size(); ++i) {
    if (EqualsIgnoreCase(args[i], "absttl")) absttl = true;
  }
  // As Redis' restoreCommand: only a relative TTL is rewritten (to the
  // absolute time, ABSTTL appended); the rest goes as the client sent it.
  if (ttl <= 0 || absttl) return {args};
  Command out = args;
  out[2] = std::to_string(ttl + now_ms);
  out.push_back("ABSTTL");
  return {out};
}

// LMPOP/ZMPOP (and BLMPOP/BZMPOP, run as them) go to replicas as Redis 7.0
// sends them: LPOP/RPOP or ZPOPMIN/ZPOPMAX of the key that answered, with
// the number of elements popped. The reply is [key, [elements...]].
std::vector<Command> MpopEffect(const Command& args, std::string_view reply,
                                bool list) {
  int64_t numkeys = 0;
  if (reply.empty() || reply[0] != '*' || args.size() < 3 ||
      !Int(args[1], &numkeys) || numkeys < 1 ||
      static_cast<size_t>(numkeys) + 2 >= args.size()) {
    return {};
  }
  size_t pos = reply.find("\r\n");
  std::string key;
  if (pos == std::string_view::npos ||
      !BulkValue(reply.substr(pos + 2), &key)) {
    return {};
  }
  pos = reply.find("\r\n", pos + 2);  // end of the key's length line
  pos += 2 + key.size() + 2;
  int64_t count = 0;
  const size_t eol = reply.find("\r\n", pos);
  if (pos >= reply.size() || reply[pos] != '*' ||
      eol == std::string_view::npos ||
      !Int(reply.substr(pos + 1, eol - pos - 1), &count) || count <= 0) {
    return {};
  }
  const std::string& where = args[2 + static_cast<size_t>(numkeys)];
  const bool first = EqualsIgnoreCase(where, list ? "left" : "min");
  const char* name =
      list ? (first ? "LPOP" : "RPOP") : (first ? "ZPOPMIN" : "ZPOPMAX");
  return {{name, key, std::to_string(count)}};
}

}  // namespace

std::vector<Command> EffectOf(const Command& args, std::string_view reply,
                              int64_t now_ms) {
  if (reply.empty() || reply[0] == '-' || reply[0] == '!') return {};
  const std::string name = ToLower(args[0]);
  int64_t n = 0;
  if (name == "expire" || name == "pexpire" || name == "expireat" ||
      name == "pexpireat") {
    if (!IntegerReply(reply, &n) || n == 0 || !Int(args[2], &n)) return {};
    int64_t at = name == "expire"     ? now_ms + n * 1000
                 : name == "pexpire"  ? now_ms + n
                 : name == "expireat" ? n * 1000
                                      : n;
    return {ExpireAt(args[1], at, now_ms)};
  }
  if (name == "set") return SetEffect(args, reply, now_ms);
  if (name == "setex" || name == "psetex") {
    if (!Int(args[2], &n)) return {};
    int64_t at = now_ms + (name == "setex" ? n * 1000 : n);
    return {{"SET", args[1], args[3], "PXAT", std::to_string(at)}};
  }
  if (name == "getex") {
    if (IsNil(reply) || args.size() < 3) return {};
    if (EqualsIgnoreCase(args[2], "persist")) return {{"PERSIST", args[1]}};
    int64_t at = 0;
    if (!ExpiryOption(args, 2, now_ms, &at)) return {};
    return {ExpireAt(args[1], at, now_ms)};
  }
  if (name == "incrbyfloat") {
    std::string value;
    if (!BulkValue(reply, &value)) return {};
    return {{"SET", args[1], value, "KEEPTTL"}};
  }
  if (name == "hincrbyfloat") {
    std::string value;
    if (!BulkValue(reply, &value)) return {};
    return {{"HSET", args[1], args[2], value}};
  }
  if (name == "spop") {
    Command srem = {"SREM", args[1]};
    std::string member;
    if (BulkValue(reply, &member)) {
      srem.push_back(std::move(member));
    } else {
      for (auto& m : BulkElements(reply)) srem.push_back(std::move(m));
    }
    if (srem.size() == 2) return {};
    return {srem};
  }
  if (name == "restore") return RestoreEffect(args, now_ms);
  if (name == "getdel") {
    if (IsNil(reply)) return {};
    return {{"DEL", args[1]}};
  }
  if (name == "lmpop" || name == "zmpop") {
    return MpopEffect(args, reply, name == "lmpop");
  }
  if (name == "slotsrestore") {
    std::vector<Command> out;
    for (size_t i = 1; i + 2 < args.size(); i += 3) {
      auto one = RestoreEffect(
          {"RESTORE", args[i], args[i + 1], args[i + 2], "REPLACE"}, now_ms);
      out.push_back(std::move(one[0]));
    }
    return out;
  }
  if (name == "blpop" || name == "brpop" || name == "brpoplpush" ||
      name == "blmove" || name == "blmpop" || name == "bzpopmin" ||
      name == "bzpopmax" || name == "bzmpop" ||
      name.rfind("slotsmgrt", 0) == 0) {
    return {};
  }
  // Commands that answer nil / 0 when they changed nothing.
  if (IsNil(reply) && (name == "lpop" || name == "rpop" || name == "getdel" ||
                       name == "rpoplpush" || name == "lmove" ||
                       name == "lmpop" || name == "zmpop" || name == "setnx")) {
    return {};
  }
  if ((name == "del" || name == "unlink" || name == "persist" ||
       name == "setnx" || name == "msetnx" || name == "renamenx" ||
       name == "hsetnx" || name == "move" || name == "copy") &&
      IntegerReply(reply, &n) && n == 0) {
    return {};
  }
  return {args};
}

void AppendCommand(const Command& args, std::string* out) {
  absl::StrAppend(out, "*", args.size(), "\r\n");
  for (const auto& a : args)
    absl::StrAppend(out, "$", a.size(), "\r\n", a, "\r\n");
}

}  // namespace reborn::repl
