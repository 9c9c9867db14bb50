#include "net/listeners.h"

#include <cerrno>

#include "absl/strings/str_cat.h"
#include "spdlog/spdlog.h"

namespace reborn::net {
namespace {

// Errors after which Redis' listenToPort goes on with the next address: the
// kernel lacks the protocol or family (no IPv6), whatever the address.
bool FamilyMissing(const asio::error_code& ec) {
  const int e = ec.value();
  return e == ENOPROTOOPT || e == EPROTONOSUPPORT || e == ESOCKTNOSUPPORT ||
         e == EPFNOSUPPORT || e == EAFNOSUPPORT;
}

std::string EndpointText(const asio::ip::tcp::endpoint& ep) {
  return ep.address().is_v6()
             ? absl::StrCat("[", ep.address().to_string(), "]:", ep.port())
             : absl::StrCat(ep.address().to_string(), ":", ep.port());
}

}  // namespace

Listeners::Listeners(asio::io_context& context, int backlog)
    : context_(context), backlog_(backlog) {}

Listeners::~Listeners() { CloseAll(); }

absl::Status Listeners::Resolve(const std::vector<std::string>& bind,
                                std::vector<Wanted>* wanted) {
  if (bind.size() > kMaxBindAddresses) {
    return absl::InvalidArgumentError("Too many bind addresses specified.");
  }
  for (const std::string& spec : bind) {
    Wanted w;
    w.spec = spec;
    std::string host = spec;
    if (!host.empty() && host[0] == '-') {
      w.optional = true;
      host.erase(0, 1);
    }
    // As Redis' anetTcpServer and anetTcp6Server: a ':' means IPv6, "*"
    // and "::*" every interface of the family.
    const bool v6 = host.find(':') != std::string::npos;
    if (host == "*") host = "0.0.0.0";
    if (host == "::*") host = "::";
    asio::error_code ec;
    w.address = asio::ip::make_address(host, ec);
    if (ec || w.address.is_v6() != v6) {
      // A host name: the first address of the family (getaddrinfo with
      // AI_PASSIVE in Redis).
      asio::ip::tcp::resolver resolver(context_);
      auto results =
          resolver.resolve(v6 ? asio::ip::tcp::v6() : asio::ip::tcp::v4(), host,
                           "0", asio::ip::tcp::resolver::passive, ec);
      if (ec || results.empty()) {
        return absl::UnavailableError(
            absl::StrCat("cannot resolve bind address '", spec,
                         "': ", ec ? ec.message() : std::string("no address")));
      }
      w.address = results.begin()->endpoint().address();
    }
    wanted->push_back(std::move(w));
  }
  return absl::OkStatus();
}

Listeners::Acceptor Listeners::Open(const asio::ip::tcp::endpoint& endpoint,
                                    asio::error_code* ec) {
  auto acceptor = std::make_shared<asio::ip::tcp::acceptor>(context_);
  acceptor->open(endpoint.protocol(), *ec);
  // IPv6 sockets take IPv6 only, so that "*" and "::*" share a port.
  if (!*ec && endpoint.address().is_v6()) {
    acceptor->set_option(asio::ip::v6_only(true), *ec);
  }
  if (!*ec) acceptor->set_option(asio::socket_base::reuse_address(true), *ec);
  if (!*ec) acceptor->bind(endpoint, *ec);
  if (!*ec) acceptor->listen(backlog_, *ec);
  if (*ec) {
    asio::error_code ignored;
    acceptor->close(ignored);
    return nullptr;
  }
  return acceptor;
}

absl::Status Listeners::Rebind(const std::vector<std::string>& bind, int port,
                               std::vector<Acceptor>* opened) {
  std::vector<Wanted> wanted;
  if (absl::Status s = Resolve(bind, &wanted); !s.ok()) return s;
  const int want_port = port != 0 ? port : port_;
  asio::ip::tcp::endpoint failed_at;
  absl::Status s = TryRebind(wanted, want_port, false, opened, &failed_at);
  if (s.ok()) return s;
  // Only an old listener in the way is a reason to close the old ones
  // first: closing a listener drops the connections in its backlog.
  bool in_the_way = false;
  for (const Listener& l : listeners_) {
    const asio::ip::address& a = l.endpoint.address();
    const asio::ip::address& b = failed_at.address();
    in_the_way =
        in_the_way ||
        (l.endpoint.port() == failed_at.port() && a.is_v6() == b.is_v6() &&
         (a == b || a.is_unspecified() || b.is_unspecified()));
  }
  if (!in_the_way) return s;
  return TryRebind(wanted, want_port, true, opened, &failed_at);
}

absl::Status Listeners::TryRebind(const std::vector<Wanted>& wanted, int port,
                                  bool close_others_first,
                                  std::vector<Acceptor>* opened,
                                  asio::ip::tcp::endpoint* failed_at) {
  auto kept_index = [&](const asio::ip::tcp::endpoint& ep) -> int {
    for (size_t i = 0; i < listeners_.size(); ++i) {
      if (listeners_[i].endpoint == ep) return static_cast<int>(i);
    }
    return -1;
  };
  auto wanted_endpoint = [&](const Wanted& w, int p) {
    return asio::ip::tcp::endpoint(w.address, static_cast<uint16_t>(p));
  };
  // Old listeners closed for this attempt, to reopen if it fails.
  std::vector<asio::ip::tcp::endpoint> closed;
  if (close_others_first) {
    std::vector<Listener> rest;
    for (Listener& l : listeners_) {
      bool stays = false;
      for (const Wanted& w : wanted) {
        stays = stays || (port != 0 && wanted_endpoint(w, port) == l.endpoint);
      }
      if (stays) {
        rest.push_back(std::move(l));
      } else {
        asio::error_code ignored;
        l.acceptor->close(ignored);
        closed.push_back(l.endpoint);
      }
    }
    listeners_ = std::move(rest);
  }
  std::vector<Listener> next;
  std::vector<bool> taken(listeners_.size(), false);
  std::vector<Acceptor> fresh;
  int bound_port = port;
  absl::Status failure;
  for (const Wanted& w : wanted) {
    asio::ip::tcp::endpoint ep = wanted_endpoint(w, bound_port);
    if (bound_port != 0) {
      const int k = kept_index(ep);
      if (k >= 0 && !taken[k]) {
        taken[k] = true;
        next.push_back(listeners_[k]);
        continue;
      }
    }
    asio::error_code ec;
    Acceptor acceptor = Open(ep, &ec);
    if (!acceptor) {
      if (FamilyMissing(ec) || (w.optional && ec.value() == EADDRNOTAVAIL)) {
        spdlog::warn("Skipping TCP listening socket {}:{}: {}", w.spec,
                     bound_port, ec.message());
        continue;
      }
      *failed_at = ep;
      failure = absl::UnavailableError(absl::StrCat(
          "cannot listen on ", w.spec, ":", bound_port, ": ", ec.message()));
      break;
    }
    asio::error_code ignored;
    ep = acceptor->local_endpoint(ignored);
    if (bound_port == 0) bound_port = ep.port();
    next.push_back({ep, acceptor});
    fresh.push_back(acceptor);
  }
  if (!failure.ok()) {
    for (const Acceptor& a : fresh) {
      asio::error_code ignored;
      a->close(ignored);
    }
    for (const asio::ip::tcp::endpoint& ep : closed) {
      asio::error_code ec;
      Acceptor acceptor = Open(ep, &ec);
      if (!acceptor) {
        spdlog::error("Could not listen again on {}: {}", EndpointText(ep),
                      ec.message());
        continue;
      }
      listeners_.push_back({ep, acceptor});
      opened->push_back(acceptor);
    }
    return failure;
  }
  for (size_t i = 0; i < listeners_.size(); ++i) {
    if (taken[i]) continue;
    asio::error_code ignored;
    listeners_[i].acceptor->close(ignored);
  }
  listeners_ = std::move(next);
  port_ = listeners_.empty() ? 0 : listeners_.front().endpoint.port();
  opened->insert(opened->end(), fresh.begin(), fresh.end());
  return absl::OkStatus();
}

void Listeners::CloseAll() {
  for (Listener& l : listeners_) {
    asio::error_code ignored;
    l.acceptor->close(ignored);
  }
  listeners_.clear();
  port_ = 0;
}

std::vector<std::string> Listeners::Describe() const {
  std::vector<std::string> out;
  for (const Listener& l : listeners_) out.push_back(EndpointText(l.endpoint));
  return out;
}

}  // namespace reborn::net
