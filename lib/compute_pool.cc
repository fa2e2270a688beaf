#include "lib/compute_pool.h"

#include "lib/parallel.h"

namespace llmtk {

ComputePool::ComputePool(int threads) {
  const int n = ResolveThreads(threads);
  for (int i = 1; i < n; ++i) workers_.emplace_back([this] { WorkerLoop(); });
}

ComputePool::~ComputePool() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
    epoch_.fetch_add(1);
  }
  cv_.notify_all();
  for (auto& t : workers_) t.join();
}

void ComputePool::Drain() {
  for (size_t i; (i = next_.fetch_add(1, std::memory_order_relaxed)) < n_;) (*fn_)(i);
}

void ComputePool::Run(size_t n, const std::function<void(size_t)>& fn) {
  if (n == 0) return;
  if (workers_.empty() || n == 1) {
    for (size_t i = 0; i < n; ++i) fn(i);
    return;
  }
  {
    std::lock_guard<std::mutex> lock(mu_);
    fn_ = &fn;
    n_ = n;
    next_.store(0);
    busy_.store(static_cast<int>(workers_.size()));
    epoch_.fetch_add(1, std::memory_order_release);
  }
  cv_.notify_all();
  Drain();
  // Wait until every worker has left this loop (they may still hold fn_).
  while (busy_.load(std::memory_order_acquire) != 0) std::this_thread::yield();
}

void ComputePool::WorkerLoop() {
  uint64_t seen = 0;
  for (;;) {
    uint64_t e = epoch_.load(std::memory_order_acquire);
    for (int spin = 0; e == seen && spin < 20000; ++spin) {
      std::this_thread::yield();
      e = epoch_.load(std::memory_order_acquire);
    }
    if (e == seen) {
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait(lock, [&] { return epoch_.load() != seen; });
      e = epoch_.load();
    }
    seen = e;
    if (stop_) return;
    Drain();
    busy_.fetch_sub(1, std::memory_order_release);
  }
}

}  // namespace llmtk
