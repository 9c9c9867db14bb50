// The in-process sharded client: routes commands by slot straight to the
// group masters, no proxy hop. Shows the three ways to call it: typed,
// generic, asynchronous.
//   sharded_client static://127.0.0.1:6379,127.0.0.1:6380
#include <cstdio>
#include <future>

#include "reborn/client.h"

int main(int argc, char** argv) {
  std::string uri = argc > 1 ? argv[1] : "static://127.0.0.1:6379";
  auto client = reborn::Client::Open(uri, "demo");
  if (!client.ok()) {
    std::fprintf(stderr, "%s\n",
                 std::string(client.status().message()).c_str());
    return 1;
  }
  reborn::Client& c = **client;

  // Typed calls: C++ types in and out, errors as absl::Status.
  reborn::SetOptions session;
  session.ttl = absl::Minutes(30);
  if (!c.Set("session:42", "ada", session).ok()) return 1;
  if (!c.MSet({{"user:1", "ada"}, {"user:2", "alan"}}).ok()) return 1;
  auto users = c.MGet({"user:1", "user:2", "user:3"});
  if (!users.ok()) return 1;
  for (const auto& u : *users) std::printf("%s\n", u ? u->c_str() : "(nil)");
  auto visits = c.IncrBy("visits");
  if (visits.ok())
    std::printf("visits=%lld\n", static_cast<long long>(*visits));

  // Generic: any command, any reply.
  auto batch = c.ExecuteBatch({{"INCR", "hits"}, {"GET", "hits"}});
  if (batch.ok()) std::printf("hits=%s\n", (*batch)[1].str.c_str());

  // Asynchronous: a callback (or a future) per command; queued commands are
  // pipelined per server by the client's dispatcher threads.
  std::promise<void> done;
  c.ExecuteAsync(
      {"ZADD", "board", "10", "ada"}, [&done](absl::StatusOr<reborn::Reply> r) {
        std::printf("zadd=%lld\n",
                    r.ok() ? static_cast<long long>(r->integer) : -1);
        done.set_value();
      });
  done.get_future().wait();
  auto top = c.ExecuteFuture({"ZRANGE", "board", "0", "-1"}).get();
  if (top.ok() && !top->elements.empty()) {
    std::printf("top=%s\n", top->elements[0].str.c_str());
  }
  return 0;
}
