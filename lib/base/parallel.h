// base/parallel: a thread pool and an ordered parallel map over record batches.
//
// Work is split into batches; workers process batches in any order; results
// are consumed in input order on the calling thread. Nothing about the output
// depends on the number of threads or on timing, which is how every tool
// keeps "same input, same bytes, whatever --threads".
//
// Thread-safety: ThreadPool methods may be called from any thread, but
// ParallelFor must not be called from inside a pool task.
#ifndef LLMTK_LIB_BASE_PARALLEL_H_
#define LLMTK_LIB_BASE_PARALLEL_H_

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include "lib/base/status.h"

namespace llmtk {

// Number of threads to use for a --threads value (<= 0: all cores).
int ResolveThreads(int requested);

class ThreadPool {
 public:
  // `threads` workers (<= 0: all cores). A pool of 1 runs tasks inline.
  explicit ThreadPool(int threads);
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  int size() const { return size_; }
  void Schedule(std::function<void()> fn);
  // Runs fn(i) for every i in [0, n) on the workers and the calling thread,
  // returning when all are done. Indices are handed out dynamically.
  void ParallelFor(size_t n, const std::function<void(size_t)>& fn);

 private:
  void WorkerLoop();
  int size_;
  std::vector<std::thread> workers_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> queue_;
  bool stop_ = false;
};

// Ordered parallel map. `produce` fills the next batch and returns true, or
// returns false at the end; `work` turns a batch into a result on a worker;
// `consume` receives results strictly in batch order on the calling thread.
// At most 2 * threads batches are in flight, bounding memory. The first error
// in batch order is returned (produce errors after the results before them).
template <typename Batch, typename Result>
absl::Status OrderedParallelMap(int threads,
                                const std::function<absl::StatusOr<bool>(Batch*)>& produce,
                                const std::function<absl::Status(Batch&, Result*)>& work,
                                const std::function<absl::Status(Result&)>& consume);

}  // namespace llmtk

#include "lib/base/parallel_inl.h"

#endif  // LLMTK_LIB_BASE_PARALLEL_H_
