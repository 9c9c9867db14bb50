#pragma once

#include <atomic>
#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "reborn/client.h"

namespace reborn::client {

// The engine behind Client::ExecuteAsync: a few lanes, each a queue and a
// thread that takes whatever has queued up (up to a batch) and runs it as
// one pipelined batch, then completes the callbacks. A caller picks the lane
// (the client uses the command's slot), so commands on one slot keep their
// submission order. Many concurrent callers thus share few connections and
// few round trips, instead of a parked thread each.
class AsyncDispatcher {
 public:
  using Batch = std::vector<std::vector<std::string>>;
  using RunBatch =
      std::function<absl::StatusOr<std::vector<Reply>>(const Batch&)>;

  struct Options {
    size_t lanes = 2;
    size_t max_batch = 512;
    size_t max_pending = 100000;
    std::function<void(std::function<void()>)> callback_executor;
  };

  AsyncDispatcher(RunBatch run, Options options);
  // Runs every queued command, completes its callback, then joins.
  ~AsyncDispatcher();

  AsyncDispatcher(const AsyncDispatcher&) = delete;
  AsyncDispatcher& operator=(const AsyncDispatcher&) = delete;

  void Submit(size_t lane_hint, std::vector<std::string> args,
              Client::Callback done);

 private:
  struct Item {
    std::vector<std::string> args;
    Client::Callback done;
  };
  struct Lane {
    absl::Mutex mu;
    std::deque<Item> queue ABSL_GUARDED_BY(mu);
    bool stopping ABSL_GUARDED_BY(mu) = false;
    std::thread thread;
  };

  void Loop(Lane& lane);
  void Complete(Client::Callback done, absl::StatusOr<Reply> reply);

  RunBatch run_;
  Options options_;
  std::atomic<size_t> pending_{0};
  std::vector<std::unique_ptr<Lane>> lanes_;
};

}  // namespace reborn::client
