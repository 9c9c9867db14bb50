#include "agent/apps.h"

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace reborn::agent {
namespace {

using json = nlohmann::json;

absl::StatusOr<int> PortField(const json& body, const char* name) {
  auto it = body.find(name);
  if (it == body.end() || it->is_null()) return 0;
  if (!it->is_number_integer() || it->get<int64_t>() < 0 ||
      it->get<int64_t>() > 65535) {
    return absl::InvalidArgumentError(
        absl::StrCat("field '", name, "' must be a port number 0..65535"));
  }
  return it->get<int>();
}

absl::StatusOr<std::string> StringField(const json& body, const char* name,
                                        std::string fallback) {
  auto it = body.find(name);
  if (it == body.end() || it->is_null()) return fallback;
  if (!it->is_string() || it->get<std::string>().empty() ||
      it->get<std::string>().find_first_of(" \t\r\n") != std::string::npos) {
    return absl::InvalidArgumentError(absl::StrCat(
        "field '", name, "' must be a non-empty string without spaces"));
  }
  return it->get<std::string>();
}

absl::StatusOr<std::vector<std::string>> ArgsField(const json& body) {
  auto it = body.find("args");
  if (it == body.end() || it->is_null()) return std::vector<std::string>{};
  if (!it->is_array()) {
    return absl::InvalidArgumentError(
        "field 'args' must be an array of strings");
  }
  std::vector<std::string> out;
  for (const json& a : *it) {
    if (!a.is_string()) {
      return absl::InvalidArgumentError(
          "field 'args' must be an array of strings");
    }
    out.push_back(a.get<std::string>());
  }
  return out;
}

// "host:port" -> {"host", "port"} for --replicaof.
absl::StatusOr<std::vector<std::string>> ReplicaOf(const json& body) {
  auto s = StringField(body, "replicaof", "");
  if (!s.ok()) return s.status();
  if (s->empty()) return std::vector<std::string>{};
  size_t colon = s->rfind(':');
  int port = 0;
  if (colon == std::string::npos || colon == 0 ||
      !absl::SimpleAtoi(s->substr(colon + 1), &port) || port <= 0 ||
      port > 65535) {
    return absl::InvalidArgumentError(
        "field 'replicaof' must be \"host:port\"");
  }
  return std::vector<std::string>{"--replicaof", s->substr(0, colon),
                                  std::to_string(port)};
}

}  // namespace

absl::StatusOr<int> PickFreePort() {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return absl::InternalError("socket() failed");
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  socklen_t len = sizeof(addr);
  int port = 0;
  if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0 &&
      getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0) {
    port = ntohs(addr.sin_port);
  }
  close(fd);
  if (port == 0) return absl::UnavailableError("no free port");
  return port;
}

std::string FindProgram(const std::string& flag, const std::string& self_dir,
                        const std::string& name) {
  if (!flag.empty()) return flag;
  namespace fs = std::filesystem;
  std::error_code ec;
  for (const fs::path& p :
       {fs::path(self_dir) / name, fs::path(self_dir) / ".." / name / name}) {
    if (fs::exists(p, ec)) return fs::weakly_canonical(p, ec).string();
  }
  const char* path = std::getenv("PATH");
  for (absl::string_view d : absl::StrSplit(path ? path : "", ':')) {
    fs::path p = fs::path(std::string(d)) / name;
    if (!d.empty() && access(p.c_str(), X_OK) == 0) return p.string();
  }
  return name;
}

absl::StatusOr<AppSpec> BuildAppSpec(std::string_view kind, const json& body,
                                     const AppContext& ctx) {
  if (!body.is_object()) {
    return absl::InvalidArgumentError("body: want a JSON object");
  }
  auto port = PortField(body, "port");
  if (!port.ok()) return port.status();
  auto host = StringField(body, "host", "127.0.0.1");
  if (!host.ok()) return host.status();
  if (*port == 0) {
    auto free = PickFreePort();
    if (!free.ok()) return free.status();
    *port = *free;
  }
  AppSpec spec;
  spec.kind = std::string(kind);
  spec.id = absl::StrCat(spec.kind, "-", *port);
  spec.ports = {*port};
  spec.dir = (std::filesystem::path(ctx.dir) / "apps" / spec.id).string();
  spec.log = (std::filesystem::path(spec.dir) / "log").string();
  const std::string addr = absl::StrCat(*host, ":", *port);

  if (kind == "qdb" || kind == "redis") {
    auto replicaof = ReplicaOf(body);
    if (!replicaof.ok()) return replicaof.status();
    auto args = ArgsField(body);
    if (!args.ok()) return args.status();
    if (kind == "qdb") {
      spec.argv = {ctx.qdb_bin, "--port", std::to_string(*port), "--bind",
                   *host,       "--dir",  spec.dir + "/data"};
      auto engine = StringField(body, "engine", "");
      if (!engine.ok()) return engine.status();
      if (!engine->empty()) {
        if (*engine != "rocksdb" && *engine != "leveldb" &&
            *engine != "memory") {
          return absl::InvalidArgumentError(
              "field 'engine' must be rocksdb, leveldb or memory");
        }
        spec.argv.insert(spec.argv.end(), {"--engine", *engine});
      }
    } else {
      spec.argv = {ctx.redis_bin, "--port",      std::to_string(*port),
                   "--bind",      *host,         "--dir",
                   spec.dir,      "--daemonize", "no"};
    }
    spec.argv.insert(spec.argv.end(), replicaof->begin(), replicaof->end());
    spec.argv.insert(spec.argv.end(), args->begin(), args->end());
    return spec;
  }
  if (kind == "proxy" || kind == "dashboard") {
    if (ctx.coordinator.empty() || ctx.product.empty()) {
      return absl::FailedPreconditionError(absl::StrCat(
          "a ", spec.kind, " needs the agent's --coordinator and --product"));
    }
    if (kind == "proxy") {
      spec.argv = {ctx.proxy_bin,   "--addr",    addr,       "--coordinator",
                   ctx.coordinator, "--product", ctx.product};
      auto admin = PortField(body, "admin_port");
      if (!admin.ok()) return admin.status();
      if (*admin != 0) {
        spec.argv.insert(spec.argv.end(),
                         {"--admin-addr", absl::StrCat(*host, ":", *admin)});
        spec.ports.push_back(*admin);
      }
      auto it = body.find("threads");
      if (it != body.end() && !it->is_null()) {
        if (!it->is_number_integer() || it->get<int64_t>() < 1 ||
            it->get<int64_t>() > 256) {
          return absl::InvalidArgumentError(
              "field 'threads' must be an integer 1..256");
        }
        spec.argv.insert(spec.argv.end(),
                         {"--threads", std::to_string(it->get<int>())});
      }
    } else {
      spec.argv = {
          ctx.config_bin, "--coordinator", ctx.coordinator, "--product",
          ctx.product,    "dashboard",     "--addr",        addr};
      auto token = StringField(body, "token", "");
      if (!token.ok()) return token.status();
      if (!token->empty())
        spec.argv.insert(spec.argv.end(), {"--token", *token});
    }
    return spec;
  }
  return absl::InvalidArgumentError(
      absl::StrCat("unknown kind ", std::string(kind)));
}

}  // namespace reborn::agent
