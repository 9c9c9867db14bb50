// The in-process sharded client: routes commands by slot straight to the
// group masters, no proxy hop.
//   sharded_client static://127.0.0.1:6379,127.0.0.1:6380
#include <cstdio>

#include "reborn/client.h"

int main(int argc, char** argv) {
  std::string uri = argc > 1 ? argv[1] : "static://127.0.0.1:6379";
  auto client = reborn::Client::Open(uri, "demo");
  if (!client.ok()) {
    std::fprintf(stderr, "%s\n",
                 std::string(client.status().message()).c_str());
    return 1;
  }
  auto set = (*client)->Execute({"MSET", "user:1", "ada", "user:2", "alan"});
  auto get = (*client)->Execute({"MGET", "user:1", "user:2"});
  if (!set.ok() || !get.ok() || get->is_error()) {
    std::fprintf(stderr, "request failed\n");
    return 1;
  }
  for (const reborn::Reply& r : get->elements)
    std::printf("%s\n", r.str.c_str());
  auto batch = (*client)->ExecuteBatch(
      {{"INCR", "visits"}, {"INCR", "visits"}, {"GET", "visits"}});
  if (batch.ok()) std::printf("visits=%s\n", (*batch)[2].str.c_str());
  return 0;
}
