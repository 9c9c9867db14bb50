// Whether a write command's reply says it changed nothing. Redis propagates a
// command, wakes blocked clients and invalidates WATCHes only when the dataset
// changed (server.dirty, signalModifiedKey); qdb's engine commands do not
// report that, but for these commands the reply does.
#ifndef REBORN_SERVER_WRITE_EFFECT_H_
#define REBORN_SERVER_WRITE_EFFECT_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace reborn::server {

// True when `reply` (the command's whole RESP reply) shows that `command`
// (lower case) left every key as it was: SADD/SREM/SMOVE/HDEL/... answering
// 0, GETDEL/LPOP/SPOP/... answering nil or an empty array. False when the
// reply cannot tell (HSET and ZADD answer 0 for updates, which do change).
bool WriteChangedNothing(std::string_view command, std::string_view reply);

// How much Redis 7.0 adds to server.dirty (INFO persistence's
// rdb_changes_since_last_save) for `command` (lower case) run with `args`
// that answered `reply`: a key or element per change as each command counts
// them (SADD its added members, MSET its keys, LPUSH its elements, DEL its
// deleted keys, FUNCTION LOAD one, ...); 0 for an error, a read, or a write
// whose reply shows it changed nothing. Where the reply cannot tell (LTRIM,
// SMOVE's destination, a STORE into an emptied destination) one change is
// counted. SETBIT, BITFIELD and ZADD count for themselves (Session::changes).
int64_t WriteChanges(std::string_view command,
                     const std::vector<std::string>& args,
                     std::string_view reply);

}  // namespace reborn::server

#endif  // REBORN_SERVER_WRITE_EFFECT_H_
