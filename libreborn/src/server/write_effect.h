// Whether a write command's reply says it changed nothing. Redis propagates a
// command, wakes blocked clients and invalidates WATCHes only when the dataset
// changed (server.dirty, signalModifiedKey); qdb's engine commands do not
// report that, but for these commands the reply does.
#ifndef REBORN_SERVER_WRITE_EFFECT_H_
#define REBORN_SERVER_WRITE_EFFECT_H_

#include <string_view>

namespace reborn::server {

// True when `reply` (the command's whole RESP reply) shows that `command`
// (lower case) left every key as it was: SADD/SREM/SMOVE/HDEL/... answering
// 0, GETDEL/LPOP/SPOP/... answering nil or an empty array. False when the
// reply cannot tell (HSET and ZADD answer 0 for updates, which do change).
bool WriteChangedNothing(std::string_view command, std::string_view reply);

}  // namespace reborn::server

#endif  // REBORN_SERVER_WRITE_EFFECT_H_
