#pragma once

#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "asio.hpp"
#include "net/server.h"

namespace reborn::net {

// The listening sockets of a server: one per bind address, all on one port,
// replaced as a set by Rebind() (CONFIG SET bind / port).
//
// Bind addresses use redis.conf's syntax: an IPv4 or IPv6 address or a host
// name, "*" for every IPv4 interface, "::*" for every IPv6 one, and a
// leading "-" marks an address that may be missing on this machine (it is
// skipped when unavailable). An address family the kernel lacks is skipped
// too, as Redis does. No addresses means no listener.
//
// Not thread-safe: the owner serialises every call and every operation on
// the acceptors it hands out (net::Server holds one mutex for both).
class Listeners {
 public:
  using Acceptor = std::shared_ptr<asio::ip::tcp::acceptor>;

  Listeners(asio::io_context& context, int backlog);
  ~Listeners();
  Listeners(const Listeners&) = delete;
  Listeners& operator=(const Listeners&) = delete;

  // Listens on every address of `bind` at `port`. Port 0 keeps the port in
  // use, or lets the system pick one when nothing listens yet. A listener
  // whose address and port stay is kept as it is (its pending accepts and
  // backlog untouched); the others are opened beside the old ones, and the
  // old ones that are no longer wanted are closed only once the whole new
  // set listens. If an address cannot be opened beside an old listener
  // (0.0.0.0 and 127.0.0.1 on one port), the old ones are closed first and
  // reopened if the new set still fails. On error the set is as before
  // (listening on the same addresses and port).
  // `opened` receives the acceptors that are new (also reopened ones, on
  // error): the caller starts accepting on them.
  absl::Status Rebind(const std::vector<std::string>& bind, int port,
                      std::vector<Acceptor>* opened);
  // Closes every listener (pending accepts complete with
  // operation_aborted).
  void CloseAll();

  // The port listened on; 0 when there is no listener.
  int port() const { return port_; }
  // "addr:port" of each listener, in bind order.
  std::vector<std::string> Describe() const;

 private:
  struct Listener {
    asio::ip::tcp::endpoint endpoint;  // as bound (the real port)
    Acceptor acceptor;
  };
  struct Wanted {
    std::string spec;  // as configured, for messages
    asio::ip::address address;
    bool optional = false;
  };

  absl::Status Resolve(const std::vector<std::string>& bind,
                       std::vector<Wanted>* wanted);
  // One attempt of Rebind(); `close_others_first`: close the old listeners
  // that are not kept before opening the new ones. On error `failed_at` is
  // the endpoint that could not listen.
  absl::Status TryRebind(const std::vector<Wanted>& wanted, int port,
                         bool close_others_first, std::vector<Acceptor>* opened,
                         asio::ip::tcp::endpoint* failed_at);
  Acceptor Open(const asio::ip::tcp::endpoint& endpoint, asio::error_code* ec);

  asio::io_context& context_;
  const int backlog_;
  std::vector<Listener> listeners_;
  int port_ = 0;
};

}  // namespace reborn::net
