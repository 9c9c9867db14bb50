// migrate_workload: the in-process reborn::Client side of the end-to-end
// migration test (test_migrate_e2e.py).
//
//   migrate_workload load   URI PRODUCT KEYS [BIGHASH]
//   migrate_workload verify URI PRODUCT KEYS [BIGHASH]
//   migrate_workload work   URI PRODUCT TAG THREADS STOPFILE MAXSECONDS
//
// load/verify: KEYS keys of all five types, "k:<i>" with a type by i % 5 and
// a value derived from i (verify prints "verify: N keys, M bad" and exits 1
// on any difference); BIGHASH > 0 adds one hash "big:hash:0" of that many
// fields. work: THREADS writers, each on its own keys, run until STOPFILE
// exists (or MAXSECONDS): INCR counters, RPUSH lists, HSET hashes, ZINCRBY
// sorted sets; after each acknowledged write it reads the key back and counts
// a stale read when the value is older than the model. TRYAGAIN (a slot held
// in pre_migrate too long; not executed) is retried and counted. At the end
// it prints one JSON line: {"ops","reads","stale","errors","tryagain",
// "error_samples", "counts": {key: acknowledged writes}}.

#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <iostream>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "reborn/client.h"

namespace {

using reborn::Reply;
using Cmd = std::vector<std::string>;

constexpr int kKeysPerType = 40;

std::string S(int64_t v) { return std::to_string(v); }

// The value of bulk key i, as the commands that write it and the reply
// (flattened to strings) that reads it.
Cmd LoadCmd(int64_t i) {
  std::string k = "k:" + S(i);
  switch (i % 5) {
    case 0:
      return {"SET", k, "v" + S(i)};
    case 1:
      return {"HSET", k, "a", S(i), "b", std::string(i % 7, 'x'), "c", "z"};
    case 2:
      return {"RPUSH", k, S(i), S(i + 1), S(i + 2)};
    case 3:
      return {"SADD", k, "m" + S(i), "m" + S(i % 3), "s"};
    default:
      return {"ZADD", k, "1", "a", S(i % 100), "b" + S(i)};
  }
}

Cmd ReadCmd(int64_t i) {
  std::string k = "k:" + S(i);
  switch (i % 5) {
    case 0:
      return {"GET", k};
    case 1:
      return {"HGETALL", k};
    case 2:
      return {"LRANGE", k, "0", "-1"};
    case 3:
      return {"SMEMBERS", k};
    default:
      return {"ZRANGE", k, "0", "-1", "WITHSCORES"};
  }
}

// What ReadCmd must return, order-insensitive where Redis' is.
std::multiset<std::string> Want(int64_t i) {
  switch (i % 5) {
    case 0:
      return {"v" + S(i)};
    case 1:
      return {"a", S(i), "b", std::string(i % 7, 'x'), "c", "z"};
    case 2:
      return {S(i), S(i + 1), S(i + 2)};
    case 3: {
      std::set<std::string> m = {"m" + S(i), "m" + S(i % 3), "s"};
      return {m.begin(), m.end()};
    }
    default:
      return {"a", "1", "b" + S(i), S(i % 100)};
  }
}

std::multiset<std::string> Flat(const Reply& r) {
  std::multiset<std::string> out;
  if (r.type == Reply::Type::kArray || r.type == Reply::Type::kMap ||
      r.type == Reply::Type::kSet) {
    for (const Reply& e : r.elements) out.insert(e.str);
  } else if (!r.is_nil()) {
    out.insert(r.type == Reply::Type::kInteger ? S(r.integer) : r.str);
  }
  return out;
}

std::unique_ptr<reborn::Client> OpenClient(const std::string& uri,
                                           const std::string& product) {
  reborn::ClientOptions o;
  o.timeout = absl::Seconds(15);
  auto c = reborn::Client::Open(uri, product, o);
  if (!c.ok()) {
    std::cerr << "open: " << c.status() << "\n";
    std::exit(2);
  }
  return std::move(*c);
}

// Runs `cmds` in pipelined batches of `per_batch`; calls check(i, reply)
// for each.
template <typename F>
int64_t Batched(reborn::Client* c, int64_t n,
                const std::function<Cmd(int64_t)>& make, F check,
                int64_t per_batch = 1000) {
  int64_t bad = 0;
  for (int64_t start = 0; start < n; start += per_batch) {
    std::vector<Cmd> batch;
    for (int64_t i = start; i < std::min(n, start + per_batch); ++i) {
      batch.push_back(make(i));
    }
    auto r = c->ExecuteBatch(batch);
    if (!r.ok()) {
      std::cerr << "batch: " << r.status() << "\n";
      return n;
    }
    for (size_t j = 0; j < r->size(); ++j) {
      if (!check(start + static_cast<int64_t>(j), (*r)[j])) ++bad;
    }
  }
  return bad;
}

int Load(reborn::Client* c, int64_t keys, int64_t big) {
  int64_t bad = Batched(c, keys, LoadCmd, [](int64_t i, const Reply& r) {
    if (r.is_error()) std::cerr << "k:" << i << ": " << r.str << "\n";
    return !r.is_error();
  });
  if (big > 0) {
    bad += Batched(
        c, (big + 999) / 1000,
        [big](int64_t b) {
          Cmd cmd = {"HSET", "big:hash:0"};
          for (int64_t f = b * 1000; f < std::min(big, (b + 1) * 1000); ++f) {
            cmd.push_back(absl::StrCat("f", f));
            cmd.push_back(S(f));
          }
          return cmd;
        },
        [](int64_t b, const Reply& r) {
          if (r.is_error())
            std::cerr << "big:hash:0 batch " << b << ": " << r.str << "\n";
          return !r.is_error();
        },
        // 50 commands of 1000 fields: every reply well within the Client's
        // request timeout, also on a sanitizer build.
        50);
  }
  std::cout << "load: " << keys << " keys, " << bad << " errors\n";
  return bad == 0 ? 0 : 1;
}

int Verify(reborn::Client* c, int64_t keys, int64_t big) {
  int64_t shown = 0;
  int64_t bad = Batched(c, keys, ReadCmd, [&](int64_t i, const Reply& r) {
    bool ok = !r.is_error() && Flat(r) == Want(i);
    if (!ok && shown++ < 5) {
      std::cerr << "k:" << i << " differs (" << r.str << ")\n";
    }
    return ok;
  });
  if (big > 0) {
    auto r = c->Execute({"HLEN", "big:hash:0"});
    if (!r.ok() || r->integer != big) {
      std::cerr << "big:hash: HLEN " << (r.ok() ? r->integer : -1) << "\n";
      ++bad;
    }
  }
  std::cout << "verify: " << keys << " keys, " << bad << " bad\n";
  return bad == 0 ? 0 : 1;
}

struct Report {
  std::mutex mu;
  int64_t ops = 0, reads = 0, stale = 0, errors = 0, tryagain = 0;
  std::vector<std::string> samples;
  std::map<std::string, int64_t> counts;
  void Error(const std::string& what) {
    std::lock_guard<std::mutex> lock(mu);
    ++errors;
    if (samples.size() < 10) samples.push_back(what);
  }
};

// One writer's keys: wk:<tag>:<thread>:<type>:<n>; counts[key] acknowledged
// writes. Each type's value after n writes is known (test_migrate_e2e.py).
void Writer(reborn::Client* c, const std::string& tag, int id,
            const std::string& stop_file, std::chrono::seconds max,
            Report* report) {
  std::mt19937 rnd(static_cast<unsigned>(id * 7919 + 1));
  std::map<std::string, int64_t> counts;
  int64_t ops = 0, reads = 0, stale = 0, tryagain = 0;
  auto end = std::chrono::steady_clock::now() + max;
  // Runs cmd until it is not TRYAGAIN (bounded); nullopt on an error.
  auto run = [&](const Cmd& cmd) -> std::optional<Reply> {
    for (int attempt = 0; attempt < 50; ++attempt) {
      auto r = c->Execute(cmd);
      if (!r.ok()) {
        report->Error(cmd[1] + ": " + r.status().ToString());
        return std::nullopt;
      }
      if (r->is_error() && r->str.rfind("TRYAGAIN", 0) == 0) {
        ++tryagain;
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
        continue;
      }
      if (r->is_error()) {
        report->Error(cmd[0] + " " + cmd[1] + ": " + r->str);
        return std::nullopt;
      }
      return *r;
    }
    report->Error(cmd[1] + ": TRYAGAIN 50 times");
    return std::nullopt;
  };
  for (int64_t iter = 0;; ++iter) {
    if ((iter & 31) == 0 && (std::chrono::steady_clock::now() >= end ||
                             access(stop_file.c_str(), F_OK) == 0)) {
      break;
    }
    int type = static_cast<int>(rnd() % 4);
    std::string k = "wk:" + tag + ":" + S(id) + ":" + S(type) + ":" +
                    S(rnd() % kKeysPerType);
    int64_t n = counts[k];  // writes acknowledged so far
    Cmd write, read;
    switch (type) {
      case 0:
        write = {"INCR", k};
        read = {"GET", k};
        break;
      case 1:
        write = {"RPUSH", k, S(n)};
        read = {"LLEN", k};
        break;
      case 2:
        write = {"HSET", k, "f" + S(n % 16), S(n)};
        read = {"HGET", k, "f" + S(n % 16)};
        break;
      default:
        write = {"ZINCRBY", k, "1", "m" + S(n % 8)};
        read = {"ZSCORE", k, "m" + S(n % 8)};
        break;
    }
    auto w = run(write);
    if (!w) {
      if (report->errors > 20) break;
      continue;
    }
    counts[k] = ++n;
    ++ops;
    auto r = run(read);
    if (!r) continue;
    ++reads;
    std::string want = type == 0   ? S(n)
                       : type == 1 ? S(n)
                       : type == 2 ? S(n - 1)
                                   : S((n - 1) / 8 + 1);
    std::string got = r->type == Reply::Type::kInteger ? S(r->integer) : r->str;
    if (got != want) {
      ++stale;
      report->Error("stale " + k + ": got '" + got + "' want '" + want + "'");
    }
  }
  std::lock_guard<std::mutex> lock(report->mu);
  report->ops += ops;
  report->reads += reads;
  report->stale += stale;
  report->tryagain += tryagain;
  for (const auto& [k, v] : counts) report->counts[k] = v;
}

int Work(const std::string& uri, const std::string& product,
         const std::string& tag, int threads, const std::string& stop_file,
         int max_seconds) {
  auto c = OpenClient(uri, product);
  Report report;
  std::vector<std::thread> ts;
  for (int i = 0; i < threads; ++i) {
    ts.emplace_back(Writer, c.get(), tag, i, stop_file,
                    std::chrono::seconds(max_seconds), &report);
  }
  std::cerr << "work: " << threads << " writers started\n";
  for (auto& t : ts) t.join();
  nlohmann::json j = {
      {"ops", report.ops},           {"reads", report.reads},
      {"stale", report.stale},       {"errors", report.errors},
      {"tryagain", report.tryagain}, {"error_samples", report.samples},
      {"counts", report.counts}};
  std::cout << j.dump() << "\n";
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> a(argv + 1, argv + argc);
  if (a.size() >= 4 && (a[0] == "load" || a[0] == "verify")) {
    auto c = OpenClient(a[1], a[2]);
    int64_t keys = std::atoll(a[3].c_str());
    int64_t big = a.size() > 4 ? std::atoll(a[4].c_str()) : 0;
    return a[0] == "load" ? Load(c.get(), keys, big)
                          : Verify(c.get(), keys, big);
  }
  if (a.size() == 7 && a[0] == "work") {
    return Work(a[1], a[2], a[3], std::atoi(a[4].c_str()), a[5],
                std::atoi(a[6].c_str()));
  }
  std::cerr << "usage: migrate_workload load|verify URI PRODUCT KEYS "
               "[BIGHASH] | work URI PRODUCT TAG THREADS STOPFILE MAXSECONDS\n";
  return 2;
}
