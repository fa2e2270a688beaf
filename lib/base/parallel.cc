#include "lib/base/parallel.h"

#include <atomic>

namespace llmtk {

int ResolveThreads(int requested) {
  if (requested > 0) return requested;
  unsigned n = std::thread::hardware_concurrency();
  return n == 0 ? 1 : static_cast<int>(n);
}

ThreadPool::ThreadPool(int threads) : size_(ResolveThreads(threads)) {
  if (size_ <= 1) return;
  for (int i = 0; i < size_; ++i) workers_.emplace_back([this] { WorkerLoop(); });
}

ThreadPool::~ThreadPool() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  for (auto& t : workers_) t.join();
}

void ThreadPool::Schedule(std::function<void()> fn) {
  if (workers_.empty()) {
    fn();
    return;
  }
  {
    std::lock_guard<std::mutex> lock(mu_);
    queue_.push_back(std::move(fn));
  }
  cv_.notify_one();
}

void ThreadPool::WorkerLoop() {
  for (;;) {
    std::function<void()> fn;
    {
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait(lock, [this] { return stop_ || !queue_.empty(); });
      if (queue_.empty()) return;  // stop_ and nothing left
      fn = std::move(queue_.front());
      queue_.pop_front();
    }
    fn();
  }
}

void ThreadPool::ParallelFor(size_t n, const std::function<void(size_t)>& fn) {
  if (n == 0) return;
  if (workers_.empty() || n == 1) {
    for (size_t i = 0; i < n; ++i) fn(i);
    return;
  }
  std::atomic<size_t> next{0};
  std::atomic<size_t> finished{0};
  std::mutex done_mu;
  std::condition_variable done_cv;
  auto run = [&] {
    for (size_t i; (i = next.fetch_add(1)) < n;) fn(i);
  };
  // Helpers beyond the caller; each counts itself out when it stops.
  size_t helpers = std::min(static_cast<size_t>(size_), n - 1);
  for (size_t h = 0; h < helpers; ++h) {
    Schedule([&] {
      run();
      std::lock_guard<std::mutex> lock(done_mu);
      if (++finished == helpers) done_cv.notify_one();
    });
  }
  run();
  std::unique_lock<std::mutex> lock(done_mu);
  done_cv.wait(lock, [&] { return finished == helpers; });
}

}  // namespace llmtk
