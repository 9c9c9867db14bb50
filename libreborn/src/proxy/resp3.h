#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

// RESP3 for the proxy's clients. Backends (qdb-server) speak RESP2 to the
// proxy, so a client that said HELLO 3 gets each reply converted, knowing
// which command it answers: Redis 7.0 changes the reply type of a command in
// RESP3 (maps, sets, doubles, verbatim strings, pushes, score pairs) while
// the values stay the same. Every null ($-1, *-1) becomes _.
namespace reborn::proxy {

enum class Resp3Kind : uint8_t {
  kPlain,           // only nulls change
  kMap,             // HGETALL, CONFIG GET, HELLO, XINFO STREAM, LCS IDX
  kSet,             // SMEMBERS SINTER SUNION SDIFF, SPOP with a count
  kDouble,          // ZSCORE ZINCRBY, ZADD INCR
  kDoubleArray,     // ZMSCORE
  kScorePairs,      // WITHSCORES, ZPOPMIN/ZPOPMAX with a count: [m, ,s]...
  kFlatScore,       // ZPOPMIN/ZPOPMAX without a count: [m, ,s]
  kPairs,           // HRANDFIELD WITHVALUES: [f, v]...
  kKeyMemberScore,  // BZPOPMIN/BZPOPMAX: [k, m, ,s]
  kKeyScorePairs,   // ZMPOP/BZMPOP: [k, [[m, ,s]...]]
  kVerbatim,        // INFO, CLIENT INFO/LIST, CLUSTER INFO/NODES, LOLWUT
  kStreamMap,       // XREAD/XREADGROUP: {stream: entries}
  kArrayOfMaps,     // XINFO GROUPS/CONSUMERS
  kGeoCoords,       // GEOPOS: [[,lon ,lat]...]
  kGeoItems,        // GEORADIUS/GEOSEARCH WITHCOORD: coordinates doubles
  kCommandInfo,     // COMMAND / COMMAND INFO: flags are sets
  kPush,            // Pub/Sub confirmations and messages
  kExec,            // EXEC: each element as its queued command's kind
};

// The kind of the reply to `args` (args[0] is the command name).
Resp3Kind Resp3KindOf(const std::vector<std::string>& args);

// `reply` (one whole RESP2 reply) in RESP3. `exec_kinds` gives the kinds of
// an EXEC reply's elements. A reply that cannot be parsed is returned as it
// is.
std::string ToResp3(std::string_view reply, Resp3Kind kind,
                    const std::vector<Resp3Kind>* exec_kinds = nullptr);

}  // namespace reborn::proxy
