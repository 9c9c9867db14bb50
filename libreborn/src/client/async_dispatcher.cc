#include "client/async_dispatcher.h"

#include <utility>

namespace reborn::client {

AsyncDispatcher::AsyncDispatcher(RunBatch run, Options options)
    : run_(std::move(run)), options_(std::move(options)) {
  if (options_.lanes == 0) options_.lanes = 1;
  if (options_.max_batch == 0) options_.max_batch = 1;
  for (size_t i = 0; i < options_.lanes; ++i) {
    lanes_.push_back(std::make_unique<Lane>());
  }
  for (auto& lane : lanes_) {
    lane->thread = std::thread([this, l = lane.get()] { Loop(*l); });
  }
}

AsyncDispatcher::~AsyncDispatcher() {
  for (auto& lane : lanes_) {
    absl::MutexLock lock(&lane->mu);
    lane->stopping = true;
  }
  for (auto& lane : lanes_) lane->thread.join();
}

void AsyncDispatcher::Submit(size_t lane_hint, std::vector<std::string> args,
                             Client::Callback done) {
  if (args.empty()) {
    Complete(std::move(done), absl::InvalidArgumentError("empty command"));
    return;
  }
  if (pending_.fetch_add(1) >= options_.max_pending) {
    pending_.fetch_sub(1);
    Complete(std::move(done), absl::ResourceExhaustedError(
                                  "too many pending commands (ClientOptions::"
                                  "async_max_pending)"));
    return;
  }
  Lane& lane = *lanes_[lane_hint % lanes_.size()];
  absl::MutexLock lock(&lane.mu);
  lane.queue.push_back(Item{std::move(args), std::move(done)});
}

void AsyncDispatcher::Complete(Client::Callback done,
                               absl::StatusOr<Reply> reply) {
  if (options_.callback_executor) {
    options_.callback_executor(
        [done = std::move(done), reply = std::move(reply)]() mutable {
          done(std::move(reply));
        });
  } else {
    done(std::move(reply));
  }
}

void AsyncDispatcher::Loop(Lane& lane) {
  for (;;) {
    std::vector<Item> items;
    {
      absl::MutexLock lock(&lane.mu);
      auto ready = [&lane]() ABSL_SHARED_LOCKS_REQUIRED(lane.mu) {
        return !lane.queue.empty() || lane.stopping;
      };
      lane.mu.Await(absl::Condition(&ready));
      if (lane.queue.empty()) return;  // stopping, and drained
      size_t n = std::min(lane.queue.size(), options_.max_batch);
      items.reserve(n);
      for (size_t i = 0; i < n; ++i) {
        items.push_back(std::move(lane.queue.front()));
        lane.queue.pop_front();
      }
    }
    Batch batch;
    batch.reserve(items.size());
    for (Item& item : items) batch.push_back(std::move(item.args));
    absl::StatusOr<std::vector<Reply>> replies = run_(batch);
    pending_.fetch_sub(items.size());
    for (size_t i = 0; i < items.size(); ++i) {
      if (!replies.ok()) {
        Complete(std::move(items[i].done), replies.status());
      } else {
        Complete(std::move(items[i].done), std::move((*replies)[i]));
      }
    }
  }
}

}  // namespace reborn::client
