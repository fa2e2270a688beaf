#include "lib/base/parallel.h"

#include <atomic>
#include <random>
#include <string>

#include "gtest/gtest.h"

namespace llmtk {
namespace {

// Maps batches of numbers to strings with uneven, random work per batch, so
// that batches finish out of order; the consumer must still see input order.
std::string RunMap(int threads, int batches, int fail_at = -1, int produce_fail_at = -1) {
  int next = 0;
  std::string out;
  std::function<absl::StatusOr<bool>(std::vector<int>*)> produce = [&](std::vector<int>* b) -> absl::StatusOr<bool> {
    if (next == produce_fail_at) return absl::DataLossError("produce failed");
    if (next >= batches) return false;
    for (int i = 0; i < 10; ++i) b->push_back(next * 10 + i);
    ++next;
    return true;
  };
  std::function<absl::Status(std::vector<int>&, std::string*)> work = [&](std::vector<int>& b, std::string* r) {
    std::mt19937 rng(static_cast<unsigned>(b[0]));
    volatile uint64_t sink = 0;
    for (int i = 0, n = static_cast<int>(rng() % 200000); i < n; ++i) sink = sink + i;
    if (b[0] / 10 == fail_at) return absl::InternalError("work failed at " + std::to_string(fail_at));
    for (int x : b) *r += std::to_string(x * x) + ",";
    return absl::OkStatus();
  };
  std::function<absl::Status(std::string&)> consume = [&](std::string& r) {
    out += r;
    return absl::OkStatus();
  };
  absl::Status s = OrderedParallelMap<std::vector<int>, std::string>(threads, produce, work, consume);
  if (!s.ok()) absl::StrAppend(&out, "|", s.ToString());  // (operator+ trips a GCC 12 -Wrestrict false positive)
  return out;
}

TEST(OrderedParallelMap, SameOutputForAnyThreadCount) {
  std::string want;
  for (int i = 0; i < 500 * 10; ++i) want += std::to_string(i * i) + ",";
  for (int t : {1, 2, 3, 8, 16}) EXPECT_EQ(RunMap(t, 500), want) << t << " threads";
}

TEST(OrderedParallelMap, FirstErrorInOrderAfterEarlierResults) {
  for (int t : {1, 4, 16}) {
    std::string got = RunMap(t, 100, /*fail_at=*/37);
    std::string want;
    for (int i = 0; i < 370; ++i) want += std::to_string(i * i) + ",";
    EXPECT_EQ(got, want + "|INTERNAL: work failed at 37") << t;
  }
}

TEST(OrderedParallelMap, ProduceErrorAfterEarlierResults) {
  for (int t : {1, 4}) {
    std::string got = RunMap(t, 100, -1, /*produce_fail_at=*/20);
    std::string want;
    for (int i = 0; i < 200; ++i) want += std::to_string(i * i) + ",";
    EXPECT_EQ(got, want + "|DATA_LOSS: produce failed") << t;
  }
}

TEST(OrderedParallelMap, Empty) { EXPECT_EQ(RunMap(4, 0), ""); }

TEST(ThreadPool, ParallelForVisitsEachIndexOnce) {
  for (int t : {1, 2, 7}) {
    ThreadPool pool(t);
    std::vector<std::atomic<int>> seen(10007);
    pool.ParallelFor(seen.size(), [&](size_t i) { seen[i]++; });
    for (auto& s : seen) ASSERT_EQ(s.load(), 1);
    pool.ParallelFor(0, [&](size_t) { FAIL(); });
  }
}

TEST(ThreadPool, ResolveThreads) {
  EXPECT_EQ(ResolveThreads(3), 3);
  EXPECT_GE(ResolveThreads(0), 1);
}

}  // namespace
}  // namespace llmtk
