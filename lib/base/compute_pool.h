// base/compute_pool: a fixed team of threads for the many short parallel loops of
// a forward pass (hundreds per token), where a general task queue's per-call
// locking would dominate.
//
// Run(n, fn) calls fn(i) for every i in [0, n) on the team (the caller is one
// of its members) and returns when all calls are done. Indices are handed out
// dynamically, so which thread runs which index varies, but every index runs
// exactly once; callers write results by index, so output never depends on
// the thread count. Workers spin briefly between loops, then sleep; the
// caller never waits for a worker that has not started (busy machines).
//
// Thread-safety: Run must be called by one thread at a time (the owner).
#ifndef LLMTK_LIB_BASE_COMPUTE_POOL_H_
#define LLMTK_LIB_BASE_COMPUTE_POOL_H_

#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace llmtk {

class ComputePool {
 public:
  // `threads` members in all, including the caller of Run (<= 0: all cores).
  explicit ComputePool(int threads);
  ~ComputePool();
  ComputePool(const ComputePool&) = delete;
  ComputePool& operator=(const ComputePool&) = delete;

  int size() const { return static_cast<int>(workers_.size()) + 1; }
  void Run(size_t n, const std::function<void(size_t)>& fn);

 private:
  void WorkerLoop();
  void Drain(uint64_t epoch, size_t n, const std::function<void(size_t)>* fn);

  std::vector<std::thread> workers_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::atomic<uint64_t> epoch_{0};
  std::atomic<bool> stop_{false};
  const std::function<void(size_t)>* fn_ = nullptr;
  size_t n_ = 0;
  std::atomic<uint64_t> next_{0};
  std::atomic<size_t> done_{0};
};

}  // namespace llmtk

#endif  // LLMTK_LIB_BASE_COMPUTE_POOL_H_
