// STREAM-style copy bandwidth: `stream_copy THREADS [MiB] [read]` prints the
// best of 5 runs in GB/s, counting bytes read plus bytes written; with
// `read`, the bandwidth of reading only (what generation does to weights).
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <thread>
#include <vector>

int main(int argc, char** argv) {
  const int threads = argc > 1 ? std::atoi(argv[1]) : 1;
  const size_t mib = argc > 2 ? std::strtoul(argv[2], nullptr, 10) : 512;
  const bool read_only = argc > 3 && std::strcmp(argv[3], "read") == 0;
  const size_t n = mib * 1048576 / sizeof(double);
  std::vector<double> sums(threads);
  std::vector<double> a(n, 1.0), b(n, 0.0);
  double best = 0;
  for (int rep = 0; rep < 5; ++rep) {
    const auto t0 = std::chrono::steady_clock::now();
    std::vector<std::thread> ts;
    for (int t = 0; t < threads; ++t)
      ts.emplace_back([&, t] {
        const size_t lo = n * t / threads, hi = n * (t + 1) / threads;
        if (!read_only) {
          std::memcpy(&b[lo], &a[lo], (hi - lo) * sizeof(double));
          return;
        }
        // Integer sums of the bits in vector registers (GCC vector
        // extensions, lowered to whatever the target has), four chains:
        // loads, not adds, set the pace.
        typedef uint64_t V __attribute__((vector_size(32)));
        V acc[4] = {};
        size_t i = lo;
        for (; i + 16 <= hi; i += 16)
          for (int k = 0; k < 4; ++k) {
            V v;
            std::memcpy(&v, &a[i + 4 * k], sizeof(V));
            acc[k] += v;
          }
        uint64_t s = 0;
        for (; i < hi; ++i) {
          uint64_t v;
          std::memcpy(&v, &a[i], 8);
          s += v;
        }
        for (const V& v : acc)
          for (int k = 0; k < 4; ++k) s += v[k];
        sums[t] = static_cast<double>(s & 1);
      });
    for (auto& th : ts) th.join();
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    best = std::max(best, (read_only ? 1.0 : 2.0) * n * sizeof(double) / s / 1e9);
  }
  std::printf("%.2f\n", best + 0 * (b[n / 2] + sums[0]));
}
