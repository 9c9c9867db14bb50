// A reborn proxy inside another program: serve the Redis protocol on a port
// of our choosing in front of a static set of groups, and publish a new
// topology while running.
//   embed_proxy 127.0.0.1:6379,127.0.0.1:6380 [listen-port]
#include <chrono>
#include <cstdio>
#include <thread>

#include "reborn/proxy.h"

int main(int argc, char** argv) {
  std::string backends = argc > 1 ? argv[1] : "127.0.0.1:6379";
  auto table = reborn::SlotTable::FromAddressList(backends);
  if (!table.ok()) {
    std::fprintf(stderr, "%s\n", std::string(table.status().message()).c_str());
    return 1;
  }
  auto source = reborn::MakeStaticSource(*table);
  reborn::ProxyOptions options;
  options.addr = std::string("127.0.0.1:") + (argc > 2 ? argv[2] : "0");
  options.threads = 1;
  auto proxy = reborn::Proxy::Start(options, source);
  if (!proxy.ok()) {
    std::fprintf(stderr, "%s\n", std::string(proxy.status().message()).c_str());
    return 1;
  }
  std::printf("proxy on 127.0.0.1:%d for 2 seconds\n", (*proxy)->port());
  std::fflush(stdout);  // a pipe would hold it until exit
  std::this_thread::sleep_for(std::chrono::seconds(2));
  // A topology change is a new immutable table, swapped in atomically.
  source->Publish(*table);
  (*proxy)->Stop();
  std::printf("%s\n", (*proxy)->StatsJson().c_str());
  return 0;
}
