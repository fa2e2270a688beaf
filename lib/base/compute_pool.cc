#include "lib/base/compute_pool.h"

#include "lib/base/parallel.h"

namespace llmtk {

// Work is handed out through `next_`, which holds (loop epoch << 32 | next
// index): a worker takes an index only while the epoch is the one it woke
// for, so a worker that wakes late can never run a finished loop's function.
// The caller waits for the loop's indices to be done, not for the workers,
// so a descheduled worker (a busy machine) delays nothing: the caller and
// the others take its share.

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

void ComputePool::Drain(uint64_t epoch, size_t n, const std::function<void(size_t)>* fn) {
  for (;;) {
    uint64_t v = next_.load(std::memory_order_acquire);
    if ((v >> 32) != (epoch & 0xffffffffu) || (v & 0xffffffffu) >= n) return;
    if (!next_.compare_exchange_weak(v, v + 1, std::memory_order_acq_rel)) continue;
    (*fn)(static_cast<size_t>(v & 0xffffffffu));
    done_.fetch_add(1, std::memory_order_acq_rel);
  }
}

void ComputePool::Run(size_t n, const std::function<void(size_t)>& fn) {
  if (n == 0) return;
  if (workers_.empty() || n == 1) {
    for (size_t i = 0; i < n; ++i) fn(i);
    return;
  }
  uint64_t e;
  {
    std::lock_guard<std::mutex> lock(mu_);
    e = epoch_.load() + 1;
    fn_ = &fn;
    n_ = n;
    done_.store(0);
    next_.store((e & 0xffffffffu) << 32, std::memory_order_release);
    epoch_.store(e, std::memory_order_release);
  }
  cv_.notify_all();
  Drain(e, n, &fn);
  while (done_.load(std::memory_order_acquire) != n) std::this_thread::yield();
}

void ComputePool::WorkerLoop() {
  uint64_t seen = 0;
  for (;;) {
    uint64_t e = epoch_.load(std::memory_order_acquire);
    for (int spin = 0; e == seen && spin < 2000; ++spin) {
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
    const std::function<void(size_t)>* fn;
    size_t n;
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (epoch_.load() != e) continue;  // a newer loop started: look again
      fn = fn_;
      n = n_;
    }
    Drain(e, n, fn);
  }
}

}  // namespace llmtk
