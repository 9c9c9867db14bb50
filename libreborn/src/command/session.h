#pragma once

#include <cstdint>
#include <string>

namespace reborn {

// Per-connection state that command handlers may read and change. Owned by
// the connection; touched only on the connection's thread.
struct Session {
  uint64_t id = 0;
  int db = 0;        // SELECTed database, 0..15
  int protocol = 2;  // RESP version, switched by HELLO
  bool authenticated = true;
  std::string name;   // CLIENT SETNAME
  std::string peer;   // "ip:port"
  std::string local;  // "ip:port"
  int64_t created_ms = 0;
  int64_t last_active_ms = 0;
  // Name of the last command run (a spec table literal), for CLIENT LIST.
  const char* last_command = "NULL";
  // Set by a handler (QUIT, a protocol error) to close the connection after
  // its reply is written.
  bool close_after_reply = false;
  // Set by CLIENT KILL from another connection; checked by the owner thread.
  bool killed = false;
};

}  // namespace reborn
