#include "coord/etcd_gateway.h"

#include <httplib.h>

#include <memory>
#include <utility>

#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "coord/sv.h"

namespace reborn::coord::etcd {
namespace {

void SetTimeouts(httplib::Client* cli, absl::Duration d) {
  int64_t us = absl::ToInt64Microseconds(d);
  cli->set_connection_timeout(us / 1000000, us % 1000000);
  cli->set_read_timeout(us / 1000000, us % 1000000);
  cli->set_write_timeout(us / 1000000, us % 1000000);
}

}  // namespace

absl::StatusOr<std::vector<HostPort>> ParseHosts(const CoordinatorUri& uri) {
  std::vector<HostPort> out;
  for (absl::string_view hp :
       absl::StrSplit(uri.hosts, ',', absl::SkipEmpty())) {
    size_t colon = hp.rfind(':');
    HostPort h;
    if (colon == absl::string_view::npos) {
      h.host = std::string(hp);
      h.port = 2379;
    } else {
      h.host = std::string(hp.substr(0, colon));
      if (!absl::SimpleAtoi(hp.substr(colon + 1), &h.port) || h.port <= 0 ||
          h.port > 65535) {
        return absl::InvalidArgumentError(
            absl::StrCat("bad port in coordinator URI ", uri.text));
      }
    }
    out.push_back(std::move(h));
  }
  if (out.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("no hosts in coordinator URI ", uri.text));
  }
  return out;
}

std::string B64(std::string_view s) { return absl::Base64Escape(Sv(s)); }

const json& At(const json& j, const char* key) {
  static const json* const kNull = new json();
  if (!j.is_object()) return *kNull;
  auto it = j.find(key);
  return it == j.end() ? *kNull : *it;
}

const json& At(const json& j, size_t index) {
  static const json* const kNull = new json();
  return j.is_array() && index < j.size() ? j[index] : *kNull;
}

std::string UnB64(const json& j) {
  if (!j.is_string()) return "";
  std::string out;
  absl::Base64Unescape(j.get<std::string>(), &out);
  return out;
}

int64_t JInt(const json& j, const char* key) {
  auto it = j.find(key);
  if (it == j.end()) return 0;
  if (it->is_number_integer()) return it->get<int64_t>();
  if (it->is_string()) {
    int64_t v = 0;
    if (absl::SimpleAtoi(it->get<std::string>(), &v)) return v;
  }
  return 0;
}

bool JBool(const json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_boolean() && it->get<bool>();
}

std::string PrefixEnd(std::string prefix) {
  while (!prefix.empty()) {
    unsigned char c = static_cast<unsigned char>(prefix.back());
    if (c < 0xff) {
      prefix.back() = static_cast<char>(c + 1);
      return prefix;
    }
    prefix.pop_back();
  }
  return std::string(1, '\0');
}

Gateway::Gateway(std::string uri, std::vector<HostPort> hosts,
                 absl::Duration timeout)
    : uri_(std::move(uri)), hosts_(std::move(hosts)), timeout_(timeout) {}

absl::StatusOr<json> Gateway::Call(const std::string& path, const json& body) {
  std::string payload = body.dump();
  size_t first;
  {
    absl::MutexLock lock(&mu_);
    first = preferred_host_;
  }
  std::string last_error;
  for (size_t n = 0; n < hosts_.size(); ++n) {
    size_t h = (first + n) % hosts_.size();
    httplib::Client cli(hosts_[h].host, hosts_[h].port);
    SetTimeouts(&cli, timeout_);
    httplib::Result res = cli.Post(path.c_str(), payload, "application/json");
    if (!res) {
      last_error = httplib::to_string(res.error());
      continue;
    }
    {
      absl::MutexLock lock(&mu_);
      preferred_host_ = h;
    }
    try {
      json j = json::parse(res->body);
      if (res->status != 200) {
        std::string msg = j.value("error", j.value("message", res->body));
        int code = j.value("code", 0);
        // gRPC codes, as the gateway reports them.
        if (code == 3) return absl::InvalidArgumentError(msg);
        if (code == 5) return absl::NotFoundError(msg);
        if (code == 14 || code == 4) return absl::UnavailableError(msg);
        return absl::InternalError(
            absl::StrCat("etcd ", path, ": ", res->status, " ", msg));
      }
      if (j.contains("result")) return j["result"];
      return j;
    } catch (const std::exception& e) {
      return absl::InternalError(
          absl::StrCat("etcd ", path, ": bad reply: ", e.what()));
    }
  }
  return absl::UnavailableError(
      absl::StrCat("coordinator ", uri_, ": ", path, ": ", last_error));
}

bool Gateway::Stream(size_t host, const std::string& path, const json& body,
                     absl::Duration idle,
                     const std::function<bool(const std::string&)>& on_message,
                     const std::function<bool()>& more) {
  auto cli =
      std::make_unique<httplib::Client>(hosts_[host].host, hosts_[host].port);
  SetTimeouts(cli.get(), timeout_);
  int64_t idle_us = absl::ToInt64Microseconds(idle);
  cli->set_read_timeout(idle_us / 1000000, idle_us % 1000000);
  {
    absl::MutexLock lock(&stream_mu_);
    if (streams_stopped_) return true;
    stream_client_ = cli.get();
  }
  std::string buffer;
  httplib::Request req;
  req.method = "POST";
  req.path = path;
  req.body = body.dump();
  req.set_header("Content-Type", "application/json");
  req.content_receiver = [&](const char* data, size_t len, uint64_t, uint64_t) {
    buffer.append(data, len);
    size_t nl;
    while ((nl = buffer.find('\n')) != std::string::npos) {
      std::string line = buffer.substr(0, nl);
      buffer.erase(0, nl + 1);
      if (!on_message(line)) return false;
    }
    return more();
  };
  httplib::Response res;
  httplib::Error err = httplib::Error::Success;
  cli->send(req, res, err);
  if (!buffer.empty()) (void)on_message(buffer);
  {
    absl::MutexLock lock(&stream_mu_);
    stream_client_ = nullptr;
  }
  return err == httplib::Error::Success || err == httplib::Error::Read;
}

void Gateway::StopStreams() {
  absl::MutexLock lock(&stream_mu_);
  streams_stopped_ = true;
  if (stream_client_) stream_client_->stop();
}

}  // namespace reborn::coord::etcd
