// Coordinator registry, URI parsing and path helpers.

#include "reborn/coordinator.h"

#include <map>
#include <utility>

#include "absl/base/thread_annotations.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/synchronization/mutex.h"
#include "coord/builtin_backends.h"
#include "coord/memory_coordinator.h"
#include "coord/sv.h"
#if REBORN_WITH_ETCD
#include "coord/etcd_coordinator.h"
#endif
#if REBORN_WITH_ZOOKEEPER
#include "coord/zk_coordinator.h"
#endif

namespace reborn {
namespace {

// The scheme -> factory table. It is process-wide by nature (Register() is a
// static entry point); it lives in a function-local static, created on first
// use with the built-in backends, and is guarded by its own mutex.
class Registry {
 public:
  Registry() {
    factories_["memory"] = coord::MemoryCoordinatorFactory();
#if REBORN_WITH_ZOOKEEPER
    factories_["zk"] = coord::ZkCoordinatorFactory();
#else
    factories_["zk"] = NotBuilt("zk", "REBORN_WITH_ZOOKEEPER");
#endif
#if REBORN_WITH_ETCD
    factories_["etcd"] = coord::EtcdCoordinatorFactory();
#else
    factories_["etcd"] = NotBuilt("etcd", "REBORN_WITH_ETCD");
#endif
  }

  // A built-in scheme left out of this build answers with a clear error
  // instead of "unknown scheme" (Register() may still replace it).
  static Coordinator::Factory NotBuilt(std::string scheme, std::string option) {
    return
        [scheme, option](const CoordinatorUri& uri, const CoordinatorOptions&)
            -> absl::StatusOr<std::unique_ptr<Coordinator>> {
          return absl::InvalidArgumentError(absl::StrCat(
              "coordinator scheme '", scheme, "' is not available in ",
              uri.text, ": libreborn was built with ", option, "=OFF"));
        };
  }

  static Registry& Get() {
    static Registry* registry = new Registry();  // never destroyed
    return *registry;
  }

  void Register(std::string scheme, Coordinator::Factory factory) {
    absl::MutexLock lock(&mu_);
    factories_[std::move(scheme)] = std::move(factory);
  }

  absl::StatusOr<Coordinator::Factory> Find(const std::string& scheme) {
    absl::MutexLock lock(&mu_);
    auto it = factories_.find(scheme);
    if (it == factories_.end()) {
      std::string known;
      for (const auto& [name, f] : factories_) {
        absl::StrAppend(&known, known.empty() ? "" : ", ", name);
      }
      return absl::InvalidArgumentError(absl::StrCat(
          "unknown coordinator scheme '", scheme, "' (known: ", known, ")"));
    }
    return it->second;
  }

 private:
  absl::Mutex mu_;
  std::map<std::string, Coordinator::Factory> factories_ ABSL_GUARDED_BY(mu_);
};

absl::Status ApplyParams(const CoordinatorUri& uri,
                         CoordinatorOptions* options) {
  for (const auto& [k, v] : uri.params) {
    int64_t ms = 0;
    if (!absl::SimpleAtoi(v, &ms) || ms <= 0) {
      return absl::InvalidArgumentError(
          absl::StrCat("bad value for ", k, " in ", uri.text));
    }
    if (k == "session_timeout_ms") {
      options->session_timeout = absl::Milliseconds(ms);
    } else if (k == "connect_timeout_ms") {
      options->connect_timeout = absl::Milliseconds(ms);
    } else {
      return absl::InvalidArgumentError(
          absl::StrCat("unknown option '", k, "' in ", uri.text));
    }
  }
  return absl::OkStatus();
}

}  // namespace

std::string_view SessionStateName(SessionState state) {
  switch (state) {
    case SessionState::kConnected:
      return "connected";
    case SessionState::kSuspended:
      return "suspended";
    case SessionState::kExpired:
      return "expired";
    case SessionState::kClosed:
      return "closed";
  }
  return "?";
}

std::string_view WatchEventTypeName(WatchEvent::Type type) {
  switch (type) {
    case WatchEvent::Type::kCreated:
      return "created";
    case WatchEvent::Type::kDeleted:
      return "deleted";
    case WatchEvent::Type::kChanged:
      return "changed";
    case WatchEvent::Type::kChildren:
      return "children";
    case WatchEvent::Type::kResync:
      return "resync";
  }
  return "?";
}

CoordOp CoordOp::Check(std::string_view path, int64_t version) {
  CoordOp op;
  op.type = Type::kCheck;
  op.path = std::string(path);
  op.version = version;
  return op;
}

CoordOp CoordOp::Create(std::string_view path, std::string_view data,
                        CreateMode mode) {
  CoordOp op;
  op.type = Type::kCreate;
  op.path = std::string(path);
  op.data = std::string(data);
  op.mode = mode;
  return op;
}

CoordOp CoordOp::Set(std::string_view path, std::string_view data,
                     int64_t version) {
  CoordOp op;
  op.type = Type::kSet;
  op.path = std::string(path);
  op.data = std::string(data);
  op.version = version;
  return op;
}

CoordOp CoordOp::Delete(std::string_view path, int64_t version) {
  CoordOp op;
  op.type = Type::kDelete;
  op.path = std::string(path);
  op.version = version;
  return op;
}

namespace coord {

bool BuiltInBackendAvailable(std::string_view scheme) {
  if (scheme == "memory") return true;
#if REBORN_WITH_ZOOKEEPER
  if (scheme == "zk") return true;
#endif
#if REBORN_WITH_ETCD
  if (scheme == "etcd") return true;
#endif
  return false;
}

}  // namespace coord

absl::StatusOr<CoordinatorUri> CoordinatorUri::Parse(std::string_view uri) {
  CoordinatorUri out;
  out.text = std::string(uri);
  size_t sep = uri.find("://");
  if (sep == std::string_view::npos || sep == 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("bad coordinator URI '", coord::Sv(uri),
                     "' (want scheme://hosts/path)"));
  }
  out.scheme = std::string(uri.substr(0, sep));
  std::string_view rest = uri.substr(sep + 3);
  size_t q = rest.find('?');
  std::string_view query;
  if (q != std::string_view::npos) {
    query = rest.substr(q + 1);
    rest = rest.substr(0, q);
  }
  size_t slash = rest.find('/');
  if (slash == std::string_view::npos) {
    out.hosts = std::string(rest);
  } else {
    out.hosts = std::string(rest.substr(0, slash));
    out.path = std::string(rest.substr(slash));
    while (out.path.size() > 1 && out.path.back() == '/') out.path.pop_back();
    if (out.path == "/") out.path.clear();
    if (!out.path.empty() && !ValidateCoordPath(out.path).ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("bad path in coordinator URI '", coord::Sv(uri), "'"));
    }
  }
  if (!query.empty()) {
    for (absl::string_view kv :
         absl::StrSplit(absl::string_view(query.data(), query.size()), '&')) {
      if (kv.empty()) continue;
      std::pair<std::string, std::string> p =
          absl::StrSplit(kv, absl::MaxSplits('=', 1));
      out.params.push_back(std::move(p));
    }
  }
  return out;
}

absl::StatusOr<std::unique_ptr<Coordinator>> Coordinator::Open(
    std::string_view uri, CoordinatorOptions options) {
  absl::StatusOr<CoordinatorUri> parsed = CoordinatorUri::Parse(uri);
  if (!parsed.ok()) return parsed.status();
  if (absl::Status s = ApplyParams(*parsed, &options); !s.ok()) return s;
  absl::StatusOr<Factory> factory = Registry::Get().Find(parsed->scheme);
  if (!factory.ok()) return factory.status();
  return (*factory)(*parsed, options);
}

absl::Status Coordinator::Register(std::string_view scheme, Factory factory) {
  if (scheme.empty() || !factory) {
    return absl::InvalidArgumentError("Register: empty scheme or factory");
  }
  Registry::Get().Register(std::string(scheme), std::move(factory));
  return absl::OkStatus();
}

absl::Status Coordinator::CreateRecursive(std::string_view path) {
  if (absl::Status s = ValidateCoordPath(path); !s.ok()) return s;
  if (path == "/") return absl::OkStatus();
  absl::StatusOr<bool> exists = Exists(path);
  if (!exists.ok()) return exists.status();
  if (*exists) return absl::OkStatus();
  std::string parent = CoordParent(path);
  if (absl::Status s = CreateRecursive(parent); !s.ok()) return s;
  absl::StatusOr<std::string> created =
      Create(path, "", CreateMode::kPersistent);
  if (!created.ok() && !absl::IsAlreadyExists(created.status())) {
    return created.status();
  }
  return absl::OkStatus();
}

absl::Status ValidateCoordPath(std::string_view path) {
  if (path.empty() || path[0] != '/') {
    return absl::InvalidArgumentError(
        absl::StrCat("path must start with '/': '", coord::Sv(path), "'"));
  }
  if (path == "/") return absl::OkStatus();
  if (path.back() == '/') {
    return absl::InvalidArgumentError(
        absl::StrCat("path must not end with '/': '", coord::Sv(path), "'"));
  }
  if (path.find("//") != std::string_view::npos) {
    return absl::InvalidArgumentError(
        absl::StrCat("empty path component: '", coord::Sv(path), "'"));
  }
  for (char c : path) {
    if (c == '\0') return absl::InvalidArgumentError("NUL in path");
  }
  return absl::OkStatus();
}

std::string CoordParent(std::string_view path) {
  size_t pos = path.rfind('/');
  if (pos == 0 || pos == std::string_view::npos) return "/";
  return std::string(path.substr(0, pos));
}

std::string CoordJoin(std::string_view parent, std::string_view name) {
  if (parent == "/") return absl::StrCat("/", std::string(name));
  return absl::StrCat(std::string(parent), "/", std::string(name));
}

}  // namespace reborn
