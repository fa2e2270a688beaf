// STREAM-style copy bandwidth: `stream_copy THREADS [MiB]` prints the best
// of 5 runs in GB/s, counting bytes read plus bytes written.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <thread>
#include <vector>

int main(int argc, char** argv) {
  const int threads = argc > 1 ? std::atoi(argv[1]) : 1;
  const size_t mib = argc > 2 ? std::strtoul(argv[2], nullptr, 10) : 512;
  const size_t n = mib * 1048576 / sizeof(double);
  std::vector<double> a(n, 1.0), b(n, 0.0);
  double best = 0;
  for (int rep = 0; rep < 5; ++rep) {
    const auto t0 = std::chrono::steady_clock::now();
    std::vector<std::thread> ts;
    for (int t = 0; t < threads; ++t)
      ts.emplace_back([&, t] {
        const size_t lo = n * t / threads, hi = n * (t + 1) / threads;
        std::memcpy(&b[lo], &a[lo], (hi - lo) * sizeof(double));
      });
    for (auto& th : ts) th.join();
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    best = std::max(best, 2.0 * n * sizeof(double) / s / 1e9);
  }
  std::printf("%.2f\n", best + 0 * b[n / 2]);
}
