// Starts an embedded qdb-server on a free port through the installed public
// API, then stops it.
#include <cstdio>

#include "reborn/qdb_server.h"

int main() {
  auto server = reborn::QdbServer::Create(
      {"--port", "0", "--engine", "memory", "--io-threads", "1"});
  if (!server.ok()) return 1;
  if (!(*server)->Start().ok()) return 2;
  std::printf("embedded qdb-server on port %d\n", (*server)->port());
  (*server)->Stop();
  return 0;
}
