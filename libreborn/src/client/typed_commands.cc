// The typed calls of reborn::Client: each builds the Redis command, runs it
// through Execute() and converts the reply. Shapes that do not match what
// Redis answers for the command become Internal errors rather than guesses.
#include <cmath>
#include <cstdlib>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "reborn/client.h"
#include "scripting/sha1.h"

namespace reborn {
namespace {

using Pairs = std::vector<std::pair<std::string, std::string>>;

std::string Str(std::string_view s) { return std::string(s); }

absl::Status Unexpected(const Reply& r, std::string_view what) {
  return absl::InternalError(absl::StrCat(
      "unexpected reply type ", static_cast<int>(r.type), " for ", Str(what)));
}

absl::StatusOr<int64_t> AsInteger(const Reply& r, std::string_view what) {
  if (r.type != Reply::Type::kInteger) return Unexpected(r, what);
  return r.integer;
}

absl::StatusOr<std::optional<std::string>> AsOptionalString(
    Reply r, std::string_view what) {
  if (r.is_nil()) return std::nullopt;
  if (r.type != Reply::Type::kString) return Unexpected(r, what);
  return std::optional<std::string>(std::move(r.str));
}

// A RESP2 double is a bulk string, a RESP3 one a double.
absl::StatusOr<double> AsDouble(const Reply& r, std::string_view what) {
  if (r.type != Reply::Type::kString && r.type != Reply::Type::kDouble) {
    return Unexpected(r, what);
  }
  if (r.str == "inf" || r.str == "+inf") return HUGE_VAL;
  if (r.str == "-inf") return -HUGE_VAL;
  double d = 0;
  if (!absl::SimpleAtod(r.str, &d)) {
    return absl::InternalError(absl::StrCat("bad double '", r.str, "'"));
  }
  return d;
}

absl::StatusOr<std::vector<std::string>> AsStrings(Reply r,
                                                   std::string_view what) {
  if (r.type != Reply::Type::kArray && r.type != Reply::Type::kSet) {
    return Unexpected(r, what);
  }
  std::vector<std::string> out;
  out.reserve(r.elements.size());
  for (Reply& e : r.elements) {
    if (e.type != Reply::Type::kString) return Unexpected(e, what);
    out.push_back(std::move(e.str));
  }
  return out;
}

// Flat [k1, v1, k2, v2] (RESP2) or a map (RESP3).
absl::StatusOr<Pairs> AsPairs(Reply r, std::string_view what) {
  if (r.type == Reply::Type::kMap) r.type = Reply::Type::kArray;
  auto flat = AsStrings(std::move(r), what);
  if (!flat.ok()) return flat.status();
  if (flat->size() % 2 != 0) {
    return absl::InternalError(
        absl::StrCat("odd reply length for ", Str(what)));
  }
  Pairs out;
  out.reserve(flat->size() / 2);
  for (size_t i = 0; i < flat->size(); i += 2) {
    out.emplace_back(std::move((*flat)[i]), std::move((*flat)[i + 1]));
  }
  return out;
}

std::string FormatScore(double score) {
  if (std::isinf(score)) return score > 0 ? "+inf" : "-inf";
  char buf[64];
  // %.17g round-trips every double, as Redis' own formatting does.
  std::snprintf(buf, sizeof(buf), "%.17g", score);
  return buf;
}

std::vector<std::string> KeyAnd(std::string_view cmd, std::string_view key,
                                const std::vector<std::string>& rest) {
  std::vector<std::string> args = {Str(cmd), Str(key)};
  args.insert(args.end(), rest.begin(), rest.end());
  return args;
}

std::vector<std::string> CommandAnd(std::string_view cmd,
                                    const std::vector<std::string>& rest) {
  std::vector<std::string> args = {Str(cmd)};
  args.insert(args.end(), rest.begin(), rest.end());
  return args;
}

}  // namespace

absl::Status StatusFromErrorReply(const Reply& error) {
  const std::string& text = error.str;
  std::string_view code(text);
  code = code.substr(0, code.find(' '));
  if (code == "WRONGTYPE") return absl::FailedPreconditionError(text);
  if (code == "CROSSSLOT") return absl::InvalidArgumentError(text);
  if (code == "TRYAGAIN" || code == "CLUSTERDOWN" || code == "LOADING" ||
      code == "MASTERDOWN" || code == "BUSY" ||
      absl::StrContains(text, "unavailable")) {
    return absl::UnavailableError(text);
  }
  if (code == "NOPERM" || code == "NOAUTH" || code == "WRONGPASS") {
    return absl::PermissionDeniedError(text);
  }
  if (code == "OOM") return absl::ResourceExhaustedError(text);
  if (code == "ERR" && (absl::StrContains(text, "syntax") ||
                        absl::StrContains(text, "wrong number of arguments") ||
                        absl::StrContains(text, "not an integer") ||
                        absl::StrContains(text, "not a valid float") ||
                        absl::StrContains(text, "invalid"))) {
    return absl::InvalidArgumentError(text);
  }
  return absl::UnknownError(text);
}

std::future<absl::StatusOr<Reply>> Client::ExecuteFuture(
    std::vector<std::string> args) {
  auto promise = std::make_shared<std::promise<absl::StatusOr<Reply>>>();
  std::future<absl::StatusOr<Reply>> future = promise->get_future();
  ExecuteAsync(std::move(args), [promise](absl::StatusOr<Reply> reply) {
    promise->set_value(std::move(reply));
  });
  return future;
}

absl::StatusOr<Reply> Client::Call(std::vector<std::string> args) {
  absl::StatusOr<Reply> reply = Execute(args);
  if (reply.ok() && reply->is_error()) return StatusFromErrorReply(*reply);
  return reply;
}

absl::StatusOr<std::optional<std::string>> Client::Get(std::string_view key) {
  auto r = Call({"GET", Str(key)});
  if (!r.ok()) return r.status();
  return AsOptionalString(std::move(*r), "GET");
}

absl::StatusOr<bool> Client::Set(std::string_view key, std::string_view value,
                                 const SetOptions& options) {
  if (options.keep_ttl && options.ttl != absl::ZeroDuration()) {
    return absl::InvalidArgumentError("SetOptions: ttl and keep_ttl");
  }
  if (options.ttl < absl::ZeroDuration()) {
    return absl::InvalidArgumentError("SetOptions: negative ttl");
  }
  std::vector<std::string> args = {"SET", Str(key), Str(value)};
  if (options.condition == SetOptions::Condition::kIfAbsent) {
    args.push_back("NX");
  } else if (options.condition == SetOptions::Condition::kIfPresent) {
    args.push_back("XX");
  }
  if (options.ttl > absl::ZeroDuration()) {
    args.push_back("PX");
    args.push_back(std::to_string(absl::ToInt64Milliseconds(options.ttl)));
  }
  if (options.keep_ttl) args.push_back("KEEPTTL");
  auto r = Call(std::move(args));
  if (!r.ok()) return r.status();
  if (r->is_nil()) return false;
  if (r->type != Reply::Type::kStatus) return Unexpected(*r, "SET");
  return true;
}

absl::StatusOr<std::vector<std::optional<std::string>>> Client::MGet(
    const std::vector<std::string>& keys) {
  if (keys.empty()) return std::vector<std::optional<std::string>>();
  auto r = Call(CommandAnd("MGET", keys));
  if (!r.ok()) return r.status();
  if (r->type != Reply::Type::kArray) return Unexpected(*r, "MGET");
  std::vector<std::optional<std::string>> out;
  out.reserve(r->elements.size());
  for (Reply& e : r->elements) {
    auto v = AsOptionalString(std::move(e), "MGET");
    if (!v.ok()) return v.status();
    out.push_back(std::move(*v));
  }
  return out;
}

absl::Status Client::MSet(const Pairs& pairs) {
  if (pairs.empty()) return absl::OkStatus();
  std::vector<std::string> args = {"MSET"};
  for (const auto& [k, v] : pairs) {
    args.push_back(k);
    args.push_back(v);
  }
  return Call(std::move(args)).status();
}

absl::StatusOr<int64_t> Client::IncrBy(std::string_view key, int64_t by) {
  auto r = Call({"INCRBY", Str(key), std::to_string(by)});
  if (!r.ok()) return r.status();
  return AsInteger(*r, "INCRBY");
}

absl::StatusOr<int64_t> Client::Del(const std::vector<std::string>& keys) {
  if (keys.empty()) return 0;
  auto r = Call(CommandAnd("DEL", keys));
  if (!r.ok()) return r.status();
  return AsInteger(*r, "DEL");
}

absl::StatusOr<int64_t> Client::Exists(const std::vector<std::string>& keys) {
  if (keys.empty()) return 0;
  auto r = Call(CommandAnd("EXISTS", keys));
  if (!r.ok()) return r.status();
  return AsInteger(*r, "EXISTS");
}

absl::StatusOr<bool> Client::Expire(std::string_view key, absl::Duration ttl) {
  auto r = Call(
      {"PEXPIRE", Str(key), std::to_string(absl::ToInt64Milliseconds(ttl))});
  if (!r.ok()) return r.status();
  auto n = AsInteger(*r, "PEXPIRE");
  if (!n.ok()) return n.status();
  return *n == 1;
}

absl::StatusOr<std::optional<absl::Duration>> Client::Ttl(
    std::string_view key) {
  auto r = Call({"PTTL", Str(key)});
  if (!r.ok()) return r.status();
  auto n = AsInteger(*r, "PTTL");
  if (!n.ok()) return n.status();
  if (*n == -2) return absl::NotFoundError(absl::StrCat("no such key"));
  if (*n == -1) return std::nullopt;
  return std::optional<absl::Duration>(absl::Milliseconds(*n));
}

absl::StatusOr<int64_t> Client::HSet(std::string_view key,
                                     const Pairs& fields) {
  if (fields.empty()) {
    return absl::InvalidArgumentError("HSet needs at least one field");
  }
  std::vector<std::string> args = {"HSET", Str(key)};
  for (const auto& [f, v] : fields) {
    args.push_back(f);
    args.push_back(v);
  }
  auto r = Call(std::move(args));
  if (!r.ok()) return r.status();
  return AsInteger(*r, "HSET");
}

absl::StatusOr<std::optional<std::string>> Client::HGet(
    std::string_view key, std::string_view field) {
  auto r = Call({"HGET", Str(key), Str(field)});
  if (!r.ok()) return r.status();
  return AsOptionalString(std::move(*r), "HGET");
}

absl::StatusOr<Pairs> Client::HGetAll(std::string_view key) {
  auto r = Call({"HGETALL", Str(key)});
  if (!r.ok()) return r.status();
  return AsPairs(std::move(*r), "HGETALL");
}

absl::StatusOr<int64_t> Client::HDel(std::string_view key,
                                     const std::vector<std::string>& fields) {
  if (fields.empty()) return 0;
  auto r = Call(KeyAnd("HDEL", key, fields));
  if (!r.ok()) return r.status();
  return AsInteger(*r, "HDEL");
}

absl::StatusOr<int64_t> Client::LPush(std::string_view key,
                                      const std::vector<std::string>& values) {
  if (values.empty()) {
    return absl::InvalidArgumentError("LPush needs at least one value");
  }
  auto r = Call(KeyAnd("LPUSH", key, values));
  if (!r.ok()) return r.status();
  return AsInteger(*r, "LPUSH");
}

absl::StatusOr<int64_t> Client::RPush(std::string_view key,
                                      const std::vector<std::string>& values) {
  if (values.empty()) {
    return absl::InvalidArgumentError("RPush needs at least one value");
  }
  auto r = Call(KeyAnd("RPUSH", key, values));
  if (!r.ok()) return r.status();
  return AsInteger(*r, "RPUSH");
}

absl::StatusOr<std::optional<std::string>> Client::LPop(std::string_view key) {
  auto r = Call({"LPOP", Str(key)});
  if (!r.ok()) return r.status();
  return AsOptionalString(std::move(*r), "LPOP");
}

absl::StatusOr<std::optional<std::string>> Client::RPop(std::string_view key) {
  auto r = Call({"RPOP", Str(key)});
  if (!r.ok()) return r.status();
  return AsOptionalString(std::move(*r), "RPOP");
}

absl::StatusOr<std::vector<std::string>> Client::LRange(std::string_view key,
                                                        int64_t start,
                                                        int64_t stop) {
  auto r =
      Call({"LRANGE", Str(key), std::to_string(start), std::to_string(stop)});
  if (!r.ok()) return r.status();
  return AsStrings(std::move(*r), "LRANGE");
}

absl::StatusOr<int64_t> Client::SAdd(std::string_view key,
                                     const std::vector<std::string>& members) {
  if (members.empty()) {
    return absl::InvalidArgumentError("SAdd needs at least one member");
  }
  auto r = Call(KeyAnd("SADD", key, members));
  if (!r.ok()) return r.status();
  return AsInteger(*r, "SADD");
}

absl::StatusOr<int64_t> Client::SRem(std::string_view key,
                                     const std::vector<std::string>& members) {
  if (members.empty()) return 0;
  auto r = Call(KeyAnd("SREM", key, members));
  if (!r.ok()) return r.status();
  return AsInteger(*r, "SREM");
}

absl::StatusOr<bool> Client::SIsMember(std::string_view key,
                                       std::string_view member) {
  auto r = Call({"SISMEMBER", Str(key), Str(member)});
  if (!r.ok()) return r.status();
  auto n = AsInteger(*r, "SISMEMBER");
  if (!n.ok()) return n.status();
  return *n == 1;
}

absl::StatusOr<std::vector<std::string>> Client::SMembers(
    std::string_view key) {
  auto r = Call({"SMEMBERS", Str(key)});
  if (!r.ok()) return r.status();
  return AsStrings(std::move(*r), "SMEMBERS");
}

absl::StatusOr<int64_t> Client::ZAdd(
    std::string_view key,
    const std::vector<std::pair<std::string, double>>& members) {
  if (members.empty()) {
    return absl::InvalidArgumentError("ZAdd needs at least one member");
  }
  std::vector<std::string> args = {"ZADD", Str(key)};
  for (const auto& [member, score] : members) {
    if (std::isnan(score)) {
      return absl::InvalidArgumentError("ZAdd: score is NaN");
    }
    args.push_back(FormatScore(score));
    args.push_back(member);
  }
  auto r = Call(std::move(args));
  if (!r.ok()) return r.status();
  return AsInteger(*r, "ZADD");
}

absl::StatusOr<std::optional<double>> Client::ZScore(std::string_view key,
                                                     std::string_view member) {
  auto r = Call({"ZSCORE", Str(key), Str(member)});
  if (!r.ok()) return r.status();
  if (r->is_nil()) return std::nullopt;
  auto d = AsDouble(*r, "ZSCORE");
  if (!d.ok()) return d.status();
  return std::optional<double>(*d);
}

absl::StatusOr<double> Client::ZIncrBy(std::string_view key, double by,
                                       std::string_view member) {
  if (std::isnan(by)) return absl::InvalidArgumentError("ZIncrBy: NaN");
  auto r = Call({"ZINCRBY", Str(key), FormatScore(by), Str(member)});
  if (!r.ok()) return r.status();
  return AsDouble(*r, "ZINCRBY");
}

absl::StatusOr<int64_t> Client::ZRem(std::string_view key,
                                     const std::vector<std::string>& members) {
  if (members.empty()) return 0;
  auto r = Call(KeyAnd("ZREM", key, members));
  if (!r.ok()) return r.status();
  return AsInteger(*r, "ZREM");
}

absl::StatusOr<std::vector<std::pair<std::string, double>>>
Client::ZRangeWithScores(std::string_view key, int64_t start, int64_t stop) {
  auto r = Call({"ZRANGE", Str(key), std::to_string(start),
                 std::to_string(stop), "WITHSCORES"});
  if (!r.ok()) return r.status();
  if (r->type != Reply::Type::kArray) return Unexpected(*r, "ZRANGE");
  std::vector<std::pair<std::string, double>> out;
  // RESP2: flat [m1, s1, m2, s2]; RESP3: [[m1, s1], [m2, s2]].
  std::vector<Reply> flat;
  for (Reply& e : r->elements) {
    if (e.type == Reply::Type::kArray) {
      for (Reply& inner : e.elements) flat.push_back(std::move(inner));
    } else {
      flat.push_back(std::move(e));
    }
  }
  if (flat.size() % 2 != 0) return Unexpected(*r, "ZRANGE");
  for (size_t i = 0; i < flat.size(); i += 2) {
    if (flat[i].type != Reply::Type::kString) return Unexpected(flat[i], "");
    auto score = AsDouble(flat[i + 1], "ZRANGE");
    if (!score.ok()) return score.status();
    out.emplace_back(std::move(flat[i].str), *score);
  }
  return out;
}

absl::StatusOr<Reply> Client::Eval(std::string_view script,
                                   const std::vector<std::string>& keys,
                                   const std::vector<std::string>& args) {
  auto with = [&](std::string cmd, std::string body) {
    std::vector<std::string> argv = {std::move(cmd), std::move(body),
                                     std::to_string(keys.size())};
    argv.insert(argv.end(), keys.begin(), keys.end());
    argv.insert(argv.end(), args.begin(), args.end());
    return argv;
  };
  auto r = Execute(with("EVALSHA", scripting::Sha1Hex(script)));
  if (r.ok() && r->is_error() && absl::StartsWith(r->str, "NOSCRIPT")) {
    r = Execute(with("EVAL", Str(script)));
  }
  if (r.ok() && r->is_error()) return StatusFromErrorReply(*r);
  return r;
}

}  // namespace reborn
