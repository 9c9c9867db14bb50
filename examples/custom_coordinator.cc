// A coordinator backend of one's own, registered with Coordinator::Register()
// and used for routing by the in-process Client.
//
// The backend is a read-only `file://` coordinator serving a static topology
// (twemproxy-style static deployments: the layout is written by hand or by a
// deploy script, and nothing changes while the process runs):
//
//   file:///etc/reborn/tree    a directory tree: a directory is a node whose
//                              children are its entries (names starting with
//                              '.' are skipped) and whose data is the content
//                              of its ".data" file, if any; a regular file is
//                              a leaf node holding the file's bytes.
//   file:///etc/reborn/t.json  one JSON object mapping absolute node paths to
//                              data: a string is taken as is, anything else is
//                              stored as its JSON text. Missing ancestors
//                              exist with empty data.
//
// The whole tree is read once when the coordinator is opened. Semantics:
//   Get, Children, Exists  served from that snapshot; every version is 0 and
//                          no node is ephemeral.
//   Create                 AlreadyExists if the node exists (so
//                          CreateRecursive() of an existing path succeeds),
//                          otherwise FailedPrecondition ("read-only").
//   Set, Delete            NotFound for a missing node, else
//   FailedPrecondition. Multi                  only kCheck operations are
//   allowed (they are
//                          checked); any write is FailedPrecondition.
//   Watch                  accepted, never fires: nothing changes.
//   Session                always kConnected; listeners are never called.
//
// The Client (like reborn-proxy) opens its topology with
// CreateRecursive("/reborn/<product>/{slots,groups,proxies,actions}") and
// registers nothing (no proxy id), so the tree must contain those four
// directories; it may leave proxies/ and actions/ empty.
//
// Usage: custom_coordinator [host:port ...]   (default 127.0.0.1:6379)
// Writes the docs/design.md §5 layout for product "demo" to a temp directory,
// with one group per server and the 1024 slots split evenly, then routes a few
// commands through it. Exits non-zero if anything goes wrong.
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "nlohmann/json.hpp"
#include "reborn/client.h"
#include "reborn/coordinator.h"

namespace {

namespace fs = std::filesystem;
using reborn::Coordinator;
using reborn::CoordinatorOptions;
using reborn::CoordinatorUri;
using reborn::CoordOp;
using reborn::CoordOpResult;
using reborn::CreateMode;
using reborn::NodeData;
using reborn::SessionCallback;
using reborn::SessionState;
using reborn::Subscription;
using reborn::WatchCallback;
using reborn::WatchKind;

class NoopSubscription : public Subscription {};

absl::StatusOr<std::string> ReadFile(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return absl::NotFoundError(absl::StrCat("cannot read ", path.string()));
  }
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

// Node path -> data. Every ancestor of a node is present too.
using NodeMap = std::map<std::string, std::string>;

void AddWithAncestors(NodeMap* nodes, const std::string& path,
                      std::string data) {
  (*nodes)[path] = std::move(data);
  for (std::string p = reborn::CoordParent(path); p != "/";
       p = reborn::CoordParent(p)) {
    nodes->emplace(p, "");  // keeps data a directory's .data already set
  }
}

absl::Status LoadTree(const fs::path& dir, const std::string& node,
                      NodeMap* nodes) {
  std::error_code ec;
  for (const fs::directory_entry& entry : fs::directory_iterator(dir, ec)) {
    std::string name = entry.path().filename().string();
    if (name.empty() || name[0] == '.') continue;
    std::string child = reborn::CoordJoin(node, name);
    if (entry.is_directory()) {
      std::string data;
      if (fs::exists(entry.path() / ".data")) {
        auto d = ReadFile(entry.path() / ".data");
        if (!d.ok()) return d.status();
        data = *std::move(d);
      }
      (*nodes)[child] = std::move(data);
      if (absl::Status s = LoadTree(entry.path(), child, nodes); !s.ok()) {
        return s;
      }
    } else if (entry.is_regular_file()) {
      auto d = ReadFile(entry.path());
      if (!d.ok()) return d.status();
      (*nodes)[child] = *std::move(d);
    }
  }
  if (ec) {
    return absl::NotFoundError(
        absl::StrCat("cannot list ", dir.string(), ": ", ec.message()));
  }
  return absl::OkStatus();
}

absl::Status LoadJson(const fs::path& file, NodeMap* nodes) {
  auto text = ReadFile(file);
  if (!text.ok()) return text.status();
  nlohmann::json j = nlohmann::json::parse(*text, nullptr, false);
  if (!j.is_object()) {
    return absl::InvalidArgumentError(absl::StrCat(
        file.string(), ": want a JSON object of node path -> data"));
  }
  for (const auto& [path, value] : j.items()) {
    if (absl::Status s = reborn::ValidateCoordPath(path); !s.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat(file.string(), ": ", std::string(s.message())));
    }
    if (path == "/") continue;
    AddWithAncestors(
        nodes, path,
        value.is_string() ? value.get<std::string>() : value.dump());
  }
  return absl::OkStatus();
}

class FileCoordinator : public Coordinator {
 public:
  static absl::StatusOr<std::unique_ptr<Coordinator>> Open(
      const CoordinatorUri& uri, const CoordinatorOptions& options) {
    if (!uri.hosts.empty() || uri.path.empty()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "want file:///absolute/path (a directory or a .json file), got '",
          uri.text, "'"));
    }
    NodeMap nodes;
    nodes["/"] = "";
    std::error_code ec;
    fs::path root(uri.path);
    absl::Status s;
    if (fs::is_directory(root, ec)) {
      s = LoadTree(root, "/", &nodes);
    } else if (fs::is_regular_file(root, ec)) {
      s = LoadJson(root, &nodes);
    } else {
      s = absl::UnavailableError(absl::StrCat("coordinator ", uri.text,
                                              ": no such file or directory"));
    }
    if (!s.ok()) return s;
    return std::unique_ptr<Coordinator>(
        new FileCoordinator(uri.text, std::move(nodes), options));
  }

  absl::StatusOr<std::string> Create(std::string_view path,
                                     std::string_view data,
                                     CreateMode mode) override {
    if (absl::Status s = reborn::ValidateCoordPath(path); !s.ok()) return s;
    if (nodes_.count(std::string(path)) != 0) {
      return absl::AlreadyExistsError(std::string(path));
    }
    return ReadOnly("Create", path);
  }

  absl::StatusOr<NodeData> Get(std::string_view path) override {
    if (absl::Status s = reborn::ValidateCoordPath(path); !s.ok()) return s;
    auto it = nodes_.find(std::string(path));
    if (it == nodes_.end()) return absl::NotFoundError(std::string(path));
    NodeData out;
    out.data = it->second;
    return out;
  }

  absl::StatusOr<int64_t> Set(std::string_view path, std::string_view data,
                              int64_t expected_version) override {
    if (absl::Status s = Check(path, expected_version); !s.ok()) return s;
    return ReadOnly("Set", path);
  }

  absl::Status Delete(std::string_view path,
                      int64_t expected_version) override {
    if (absl::Status s = Check(path, expected_version); !s.ok()) return s;
    return ReadOnly("Delete", path);
  }

  absl::StatusOr<std::vector<std::string>> Children(
      std::string_view path) override {
    if (absl::Status s = reborn::ValidateCoordPath(path); !s.ok()) return s;
    std::string key(path);
    if (nodes_.count(key) == 0) return absl::NotFoundError(key);
    std::string prefix = key == "/" ? "/" : key + "/";
    std::vector<std::string> out;
    // The map is sorted, so the descendants of `path` follow `prefix`.
    for (auto it = nodes_.lower_bound(prefix);
         it != nodes_.end() && it->first.compare(0, prefix.size(), prefix) == 0;
         ++it) {
      std::string rest = it->first.substr(prefix.size());
      if (!rest.empty() && rest.find('/') == std::string::npos) {
        out.push_back(std::move(rest));
      }
    }
    return out;
  }

  absl::StatusOr<bool> Exists(std::string_view path) override {
    if (absl::Status s = reborn::ValidateCoordPath(path); !s.ok()) return s;
    return nodes_.count(std::string(path)) != 0;
  }

  absl::StatusOr<std::vector<CoordOpResult>> Multi(
      const std::vector<CoordOp>& ops) override {
    std::vector<CoordOpResult> out;
    for (size_t i = 0; i < ops.size(); ++i) {
      absl::Status s;
      if (ops[i].type == CoordOp::Type::kCheck) {
        s = Check(ops[i].path, ops[i].version);
      } else {
        s = ReadOnly("Multi", ops[i].path);
      }
      if (!s.ok()) {
        return absl::Status(
            s.code(), absl::StrCat("op ", i, ": ", std::string(s.message())));
      }
      out.push_back(CoordOpResult{ops[i].path, 0});
    }
    return out;
  }

  absl::StatusOr<std::unique_ptr<Subscription>> Watch(
      std::string_view path, WatchKind kind, WatchCallback callback) override {
    if (absl::Status s = reborn::ValidateCoordPath(path); !s.ok()) return s;
    return std::unique_ptr<Subscription>(std::make_unique<NoopSubscription>());
  }

  std::unique_ptr<Subscription> AddSessionListener(
      SessionCallback callback) override {
    return std::make_unique<NoopSubscription>();
  }
  SessionState session_state() const override {
    return SessionState::kConnected;
  }
  absl::Duration session_timeout() const override { return session_timeout_; }
  std::string uri() const override { return uri_; }

 private:
  FileCoordinator(std::string uri, NodeMap nodes,
                  const CoordinatorOptions& options)
      : uri_(std::move(uri)),
        nodes_(std::move(nodes)),
        session_timeout_(options.session_timeout) {}

  // The node exists and every version is 0.
  absl::Status Check(std::string_view path, int64_t expected_version) {
    if (absl::Status s = reborn::ValidateCoordPath(path); !s.ok()) return s;
    if (nodes_.count(std::string(path)) == 0) {
      return absl::NotFoundError(std::string(path));
    }
    if (expected_version != kAnyVersion && expected_version != 0) {
      return absl::AbortedError(absl::StrCat(
          std::string(path), ": version is 0, not ", expected_version));
    }
    return absl::OkStatus();
  }

  absl::Status ReadOnly(std::string_view op, std::string_view path) const {
    return absl::FailedPreconditionError(
        absl::StrCat(std::string(op), " ", std::string(path), ": coordinator ",
                     uri_, " is read-only"));
  }

  const std::string uri_;
  const NodeMap nodes_;  // never changes after Open: no locking needed
  const absl::Duration session_timeout_;
};

// ---- the demo --------------------------------------------------------------

constexpr int kSlots = 1024;

bool WriteFile(const fs::path& path, const std::string& data) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << data;
  return static_cast<bool>(out);
}

// The docs/design.md §5 layout of product `product` under `dir`: group i+1 has
// servers[i] as its master; the slots are split evenly in ranges.
bool WriteTopology(const fs::path& dir, const std::string& product,
                   const std::vector<std::string>& servers,
                   nlohmann::json* as_json) {
  fs::path root = dir / "reborn" / product;
  std::error_code ec;
  for (const char* sub : {"slots", "groups", "proxies", "actions"}) {
    fs::create_directories(root / sub, ec);
    if (ec) return false;
  }
  std::string node_root = absl::StrCat("/reborn/", product);
  for (const char* sub : {"proxies", "actions"}) {
    (*as_json)[absl::StrCat(node_root, "/", sub)] = "";
  }
  int n = static_cast<int>(servers.size());
  for (int g = 1; g <= n; ++g) {
    nlohmann::json master = {
        {"addr", servers[g - 1]}, {"role", "master"}, {"state", "online"}};
    nlohmann::json group = {{"id", g},
                            {"servers", nlohmann::json::array({master})}};
    if (!WriteFile(root / "groups" / std::to_string(g), group.dump())) {
      return false;
    }
    (*as_json)[absl::StrCat(node_root, "/groups/", g)] = group;
  }
  for (int s = 0; s < kSlots; ++s) {
    int gid = s * n / kSlots + 1;
    nlohmann::json slot = {{"id", s}, {"group_id", gid}, {"state", "online"}};
    std::string name = absl::StrFormat("%04d", s);
    if (!WriteFile(root / "slots" / name, slot.dump())) return false;
    (*as_json)[absl::StrCat(node_root, "/slots/", name)] = slot;
  }
  return true;
}

int failures = 0;

void Expect(bool ok, const std::string& what) {
  std::printf("%s %s\n", ok ? "ok  " : "FAIL", what.c_str());
  if (!ok) ++failures;
}

// Routes a few commands through a Client whose topology comes from `uri`.
void RunCommands(const std::string& uri, const std::string& tag) {
  auto client = reborn::Client::Open(uri, "demo");
  if (!client.ok()) {
    Expect(false, absl::StrCat("Client::Open(", uri,
                               "): ", client.status().ToString()));
    return;
  }
  reborn::Client& c = **client;
  std::string k = absl::StrCat("cc:", tag, ":");
  auto set = c.Execute({"SET", k + "greeting", "hello"});
  auto get = c.Execute({"GET", k + "greeting"});
  Expect(set.ok() && set->str == "OK" && get.ok() && get->str == "hello",
         absl::StrCat(tag, ": SET/GET"));

  // Keys on many slots (and so on every group): split and merged.
  std::vector<std::string> mset = {"MSET"}, mget = {"MGET"};
  for (int i = 0; i < 16; ++i) {
    mset.push_back(absl::StrCat(k, "user:", i));
    mset.push_back(absl::StrCat("name-", i));
    mget.push_back(absl::StrCat(k, "user:", i));
  }
  auto mset_reply = c.Execute(mset);
  auto mget_reply = c.Execute(mget);
  bool mget_ok = mset_reply.ok() && !mset_reply->is_error() &&
                 mget_reply.ok() && mget_reply->elements.size() == 16;
  for (int i = 0; mget_ok && i < 16; ++i) {
    mget_ok = mget_reply->elements[i].str == absl::StrCat("name-", i);
  }
  Expect(mget_ok, absl::StrCat(tag, ": MSET/MGET across slots"));

  auto batch = c.ExecuteBatch({{"DEL", k + "visits"},
                               {"INCR", k + "visits"},
                               {"INCR", k + "visits"},
                               {"GET", k + "visits"}});
  Expect(batch.ok() && batch->size() == 4 && (*batch)[3].str == "2",
         absl::StrCat(tag, ": pipelined INCR"));

  auto cross = c.Execute({"RENAME", k + "user:0", k + "user:1"});
  Expect(cross.ok() && cross->is_error() &&
             cross->str.find("CROSSSLOT") != std::string::npos,
         absl::StrCat(tag, ": RENAME across slots gets CROSSSLOT"));
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> servers;
  for (int i = 1; i < argc; ++i) servers.push_back(argv[i]);
  if (servers.empty()) servers.push_back("127.0.0.1:6379");

  absl::Status reg = Coordinator::Register("file", &FileCoordinator::Open);
  if (!reg.ok()) {
    std::fprintf(stderr, "Register: %s\n", reg.ToString().c_str());
    return 1;
  }

  char tmpl[] = "/tmp/reborn-file-coord-XXXXXX";
  if (mkdtemp(tmpl) == nullptr) {
    std::perror("mkdtemp");
    return 1;
  }
  fs::path dir(tmpl);
  nlohmann::json flat = nlohmann::json::object();
  if (!WriteTopology(dir / "tree", "demo", servers, &flat) ||
      !WriteFile(dir / "topology.json", flat.dump(1))) {
    std::fprintf(stderr, "cannot write the topology under %s\n", tmpl);
    return 1;
  }
  std::string tree_uri = absl::StrCat("file://", (dir / "tree").string());
  std::string json_uri =
      absl::StrCat("file://", (dir / "topology.json").string());
  std::printf("topology: %s (and %s), %zu group(s)\n", tree_uri.c_str(),
              json_uri.c_str(), servers.size());

  // The backend on its own.
  for (const std::string& uri : {tree_uri, json_uri}) {
    auto coord = Coordinator::Open(uri);
    if (!coord.ok()) {
      Expect(false,
             absl::StrCat("Open ", uri, ": ", coord.status().ToString()));
      continue;
    }
    auto slots = (*coord)->Children("/reborn/demo/slots");
    auto groups = (*coord)->Children("/reborn/demo/groups");
    auto slot0 = (*coord)->Get("/reborn/demo/slots/0000");
    auto exists = (*coord)->Exists("/reborn/demo/proxies");
    Expect(slots.ok() && slots->size() == kSlots && groups.ok() &&
               groups->size() == servers.size() && slot0.ok() &&
               slot0->data.find("\"group_id\":1") != std::string::npos &&
               exists.ok() && *exists,
           absl::StrCat("read ", uri));
    auto set = (*coord)->Set("/reborn/demo/slots/0000", "{}", -1);
    auto create =
        (*coord)->Create("/reborn/demo/lock", "", CreateMode::kEphemeral);
    Expect(absl::IsFailedPrecondition(set.status()) &&
               absl::IsFailedPrecondition(create.status()),
           absl::StrCat("writes refused: ", set.status().ToString()));
  }

  RunCommands(tree_uri, "tree");
  RunCommands(json_uri, "json");

  std::error_code ec;
  fs::remove_all(dir, ec);
  if (failures != 0) {
    std::printf("%d check(s) failed\n", failures);
    return 1;
  }
  std::printf("all checks passed\n");
  return 0;
}
