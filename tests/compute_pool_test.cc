#include "lib/base/compute_pool.h"

#include <gtest/gtest.h>

#include <atomic>
#include <vector>

namespace llmtk {
namespace {

TEST(ComputePool, RunsEveryIndexExactlyOnceLoopAfterLoop) {
  for (int threads : {1, 2, 5}) {
    ComputePool pool(threads);
    EXPECT_EQ(pool.size(), threads);
    for (int loop = 0; loop < 300; ++loop) {
      const size_t n = 1 + (loop * 7) % 23;
      std::vector<std::atomic<int>> hits(n);
      pool.Run(n, [&](size_t i) { hits[i].fetch_add(1); });
      for (size_t i = 0; i < n; ++i) ASSERT_EQ(hits[i].load(), 1) << "loop " << loop << " index " << i;
    }
  }
}

TEST(ComputePool, EmptyLoopReturns) {
  ComputePool pool(3);
  bool called = false;
  pool.Run(0, [&](size_t) { called = true; });
  EXPECT_FALSE(called);
}

}  // namespace
}  // namespace llmtk
