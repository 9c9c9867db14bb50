#include "proxy/resp3.h"

#include <optional>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "command/command_spec.h"

namespace reborn::proxy {
namespace {

// One parsed RESP2 reply. `text` is the line after the type byte, or a
// bulk string's content.
struct Node {
  char type = '+';
  bool null = false;
  absl::string_view text;
  std::vector<Node> kids;
};

constexpr int kMaxDepth = 128;

// Parses one reply at the front of `in`; the bytes used, 0 on a malformed
// or unsupported (non-RESP2) reply.
size_t Parse(absl::string_view in, Node* out, int depth) {
  if (in.empty() || depth > kMaxDepth) return 0;
  const size_t eol = in.find("\r\n");
  if (eol == absl::string_view::npos) return 0;
  out->type = in[0];
  absl::string_view line = in.substr(1, eol - 1);
  size_t used = eol + 2;
  switch (out->type) {
    case '+':
    case '-':
    case ':':
      out->text = line;
      return used;
    case '$': {
      int64_t n = 0;
      if (!absl::SimpleAtoi(line, &n)) return 0;
      if (n < 0) {
        out->null = true;
        return used;
      }
      if (in.size() < used + static_cast<size_t>(n) + 2) return 0;
      out->text = in.substr(used, static_cast<size_t>(n));
      return used + static_cast<size_t>(n) + 2;
    }
    case '*': {
      int64_t n = 0;
      if (!absl::SimpleAtoi(line, &n)) return 0;
      if (n < 0) {
        out->null = true;
        return used;
      }
      if (static_cast<uint64_t>(n) > in.size()) return 0;  // >= 3 bytes each
      out->kids.resize(static_cast<size_t>(n));
      for (Node& kid : out->kids) {
        size_t k = Parse(in.substr(used), &kid, depth + 1);
        if (k == 0) return 0;
        used += k;
      }
      return used;
    }
    default:
      return 0;
  }
}

void Write(const Node& n, std::string* out) {
  if (n.null) {
    out->append("_\r\n");
    return;
  }
  switch (n.type) {
    case '$':
      absl::StrAppend(out, "$", n.text.size(), "\r\n", n.text, "\r\n");
      return;
    case ',':
      absl::StrAppend(out, ",", n.text, "\r\n");
      return;
    case '=':
      absl::StrAppend(out, "=", n.text.size() + 4, "\r\ntxt:", n.text, "\r\n");
      return;
    case '*':
    case '~':
    case '>':
      absl::StrAppend(out, absl::string_view(&n.type, 1), n.kids.size(),
                      "\r\n");
      break;
    case '%':
      absl::StrAppend(out, "%", n.kids.size() / 2, "\r\n");
      break;
    default:
      absl::StrAppend(out, absl::string_view(&n.type, 1), n.text, "\r\n");
      return;
  }
  for (const Node& kid : n.kids) Write(kid, out);
}

bool IsArray(const Node& n) { return n.type == '*' && !n.null; }

void ToDouble(Node* n) {
  if (n->type == '$' && !n->null) n->type = ',';
}

// [a, b, c, d] -> [[a, b], [c, d]], the second of each a double when
// `doubles`.
void Pair(Node* n, bool doubles) {
  if (!IsArray(*n) || n->kids.size() % 2 != 0) return;
  std::vector<Node> pairs(n->kids.size() / 2);
  for (size_t i = 0; i < pairs.size(); ++i) {
    pairs[i].type = '*';
    pairs[i].kids = {std::move(n->kids[2 * i]), std::move(n->kids[2 * i + 1])};
    if (doubles) ToDouble(&pairs[i].kids[1]);
  }
  n->kids = std::move(pairs);
}

void Convert(Node* n, Resp3Kind kind, const std::vector<Resp3Kind>* exec) {
  if (n->type == '-') return;  // errors are the same
  switch (kind) {
    case Resp3Kind::kPlain:
      return;
    case Resp3Kind::kMap:
      if (IsArray(*n) && n->kids.size() % 2 == 0) n->type = '%';
      return;
    case Resp3Kind::kSet:
      if (IsArray(*n)) n->type = '~';
      return;
    case Resp3Kind::kDouble:
      ToDouble(n);
      return;
    case Resp3Kind::kDoubleArray:
      if (IsArray(*n)) {
        for (Node& kid : n->kids) ToDouble(&kid);
      }
      return;
    case Resp3Kind::kScorePairs:
      Pair(n, true);
      return;
    case Resp3Kind::kFlatScore:
      if (IsArray(*n) && n->kids.size() == 2) ToDouble(&n->kids[1]);
      return;
    case Resp3Kind::kPairs:
      Pair(n, false);
      return;
    case Resp3Kind::kKeyMemberScore:
      if (IsArray(*n) && n->kids.size() == 3) ToDouble(&n->kids[2]);
      return;
    case Resp3Kind::kKeyScorePairs:
      if (IsArray(*n) && n->kids.size() == 2 && IsArray(n->kids[1])) {
        for (Node& pair : n->kids[1].kids) {
          if (IsArray(pair) && pair.kids.size() == 2) ToDouble(&pair.kids[1]);
        }
      }
      return;
    case Resp3Kind::kVerbatim:
      if (n->type == '$' && !n->null) n->type = '=';
      return;
    case Resp3Kind::kStreamMap:
      if (IsArray(*n)) {
        std::vector<Node> flat;
        for (Node& kv : n->kids) {
          if (!IsArray(kv) || kv.kids.size() != 2) return;
        }
        for (Node& kv : n->kids) {
          flat.push_back(std::move(kv.kids[0]));
          flat.push_back(std::move(kv.kids[1]));
        }
        n->kids = std::move(flat);
        n->type = '%';
      }
      return;
    case Resp3Kind::kArrayOfMaps:
      if (IsArray(*n)) {
        for (Node& kid : n->kids) Convert(&kid, Resp3Kind::kMap, nullptr);
      }
      return;
    case Resp3Kind::kGeoCoords:
      if (IsArray(*n)) {
        for (Node& kid : n->kids) {
          if (IsArray(kid)) {
            for (Node& c : kid.kids) ToDouble(&c);
          }
        }
      }
      return;
    case Resp3Kind::kGeoItems:
      if (IsArray(*n)) {
        for (Node& item : n->kids) {
          if (IsArray(item) && !item.kids.empty() &&
              IsArray(item.kids.back()) && item.kids.back().kids.size() == 2) {
            for (Node& c : item.kids.back().kids) ToDouble(&c);
          }
        }
      }
      return;
    case Resp3Kind::kCommandInfo:
      if (IsArray(*n)) {
        for (Node& info : n->kids) {
          if (IsArray(info) && info.kids.size() > 2 && IsArray(info.kids[2])) {
            info.kids[2].type = '~';
          }
        }
      }
      return;
    case Resp3Kind::kPush:
      if (IsArray(*n)) n->type = '>';
      return;
    case Resp3Kind::kExec:
      if (IsArray(*n) && exec != nullptr && exec->size() == n->kids.size()) {
        for (size_t i = 0; i < n->kids.size(); ++i) {
          Convert(&n->kids[i], (*exec)[i], nullptr);
        }
      }
      return;
  }
}

bool HasArg(const std::vector<std::string>& args, size_t from,
            std::string_view word) {
  for (size_t i = from; i < args.size(); ++i) {
    if (EqualsIgnoreCase(args[i], word)) return true;
  }
  return false;
}

}  // namespace

Resp3Kind Resp3KindOf(const std::vector<std::string>& args) {
  using K = Resp3Kind;
  if (args.empty()) return K::kPlain;
  const std::string cmd = ToLower(args[0]);
  const std::string sub = args.size() > 1 ? ToLower(args[1]) : std::string();
  if (cmd == "hgetall" || cmd == "hello") return K::kMap;
  if (cmd == "smembers" || cmd == "sinter" || cmd == "sunion" ||
      cmd == "sdiff") {
    return K::kSet;
  }
  if (cmd == "spop") return args.size() == 3 ? K::kSet : K::kPlain;
  if (cmd == "zscore" || cmd == "zincrby") return K::kDouble;
  if (cmd == "zadd") return HasArg(args, 2, "incr") ? K::kDouble : K::kPlain;
  if (cmd == "zmscore") return K::kDoubleArray;
  if (cmd == "zrange" || cmd == "zrevrange" || cmd == "zrangebyscore" ||
      cmd == "zrevrangebyscore" || cmd == "zunion" || cmd == "zinter" ||
      cmd == "zdiff") {
    return HasArg(args, 2, "withscores") ? K::kScorePairs : K::kPlain;
  }
  if (cmd == "zrandmember") {
    return args.size() == 4 && EqualsIgnoreCase(args[3], "withscores")
               ? K::kScorePairs
               : K::kPlain;
  }
  if (cmd == "zpopmin" || cmd == "zpopmax") {
    return args.size() == 3 ? K::kScorePairs : K::kFlatScore;
  }
  if (cmd == "hrandfield") {
    return args.size() == 4 && EqualsIgnoreCase(args[3], "withvalues")
               ? K::kPairs
               : K::kPlain;
  }
  if (cmd == "bzpopmin" || cmd == "bzpopmax") return K::kKeyMemberScore;
  if (cmd == "zmpop" || cmd == "bzmpop") return K::kKeyScorePairs;
  if (cmd == "info" || cmd == "lolwut") return K::kVerbatim;
  if ((cmd == "client" && (sub == "info" || sub == "list")) ||
      (cmd == "cluster" && (sub == "info" || sub == "nodes")) ||
      (cmd == "memory" && sub == "doctor")) {
    return K::kVerbatim;
  }
  if (cmd == "config" && sub == "get") return K::kMap;
  if (cmd == "memory" && sub == "stats") return K::kMap;
  if (cmd == "lcs") return HasArg(args, 3, "idx") ? K::kMap : K::kPlain;
  if (cmd == "xread" || cmd == "xreadgroup") return K::kStreamMap;
  if (cmd == "xinfo") {
    if (sub == "stream") return HasArg(args, 3, "full") ? K::kPlain : K::kMap;
    if (sub == "groups" || sub == "consumers") return K::kArrayOfMaps;
  }
  if (cmd == "geopos") return K::kGeoCoords;
  if (cmd == "georadius" || cmd == "georadius_ro" ||
      cmd == "georadiusbymember" || cmd == "georadiusbymember_ro" ||
      cmd == "geosearch") {
    return HasArg(args, 2, "withcoord") ? K::kGeoItems : K::kPlain;
  }
  if (cmd == "command") {
    if (sub.empty() || sub == "info") return K::kCommandInfo;
    if (sub == "docs") return K::kMap;
  }
  if (cmd == "subscribe" || cmd == "psubscribe" || cmd == "unsubscribe" ||
      cmd == "punsubscribe") {
    return K::kPush;
  }
  if (cmd == "exec") return K::kExec;
  return K::kPlain;
}

std::string ToResp3(std::string_view reply, Resp3Kind kind,
                    const std::vector<Resp3Kind>* exec_kinds) {
  if (reply.empty()) return std::string(reply);
  const char t = reply[0];
  // The common replies that are the same in RESP3.
  if (t == '+' || t == '-' || t == ':') return std::string(reply);
  if (t == '$' && kind == Resp3Kind::kPlain && reply[1] != '-') {
    return std::string(reply);
  }
  Node root;
  if (Parse(absl::string_view(reply.data(), reply.size()), &root, 0) !=
      reply.size()) {
    return std::string(reply);
  }
  Convert(&root, kind, exec_kinds);
  std::string out;
  out.reserve(reply.size() + 16);
  Write(root, &out);
  return out;
}

}  // namespace reborn::proxy
