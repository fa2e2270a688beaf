// Matrix-vector throughput of the weight kernels (weight GB/s), from L2-sized
// matrices (compute bound) and from a matrix larger than the caches (memory
// bound): `matvec_bench TYPE [rows cols isa threads]`.
#include <algorithm>
#include <chrono>
#include <ctime>
#include <cstdio>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "lib/base/compute_pool.h"
#include "lib/kernels/kernels.h"

using namespace llmtk;

int main(int argc, char** argv) {
  const std::string name = argc > 1 ? argv[1] : "Q4_0";
  const DType t = ParseGgmlType(name).value_or(DType::kQ4_0);
  const Isa isa = argc > 4 ? static_cast<Isa>(std::atoi(argv[4])) : BestIsa();
  const int threads = argc > 5 ? std::atoi(argv[5]) : 1;
  ComputePool pool(threads);
  const ParallelFor pfor = [&](size_t n, const std::function<void(size_t)>& fn) { pool.Run(n, fn); };
  const int64_t cols = argc > 3 ? std::atol(argv[3]) : 2048;
  std::mt19937 rng(1);
  std::vector<float> x(cols);
  for (auto& v : x) v = std::uniform_real_distribution<float>(-1, 1)(rng);
  std::vector<uint8_t> abuf(RowBytes(VecDotType(t), cols));
  const EncodedActivations a = EncodeActivations(t, x.data(), 1, cols, abuf.data());
  for (int64_t rows : {int64_t{64}, int64_t{argc > 2 ? std::atol(argv[2]) : 131072}}) {
    const size_t bytes = rows * RowBytes(t, cols);
    std::vector<uint8_t> w(bytes);
    for (size_t i = 0; i < bytes; i += 2) { uint16_t h = 0x2000 + (rng() & 0x3ff); std::memcpy(&w[i], &h, 2); }
    std::vector<float> y(rows);
    const int reps = static_cast<int>(std::max<size_t>(3, (size_t{1} << 29) / bytes));
    MatMul({t, rows, cols, w.data()}, a, y.data(), rows, pfor, isa, threads);
    // The best of five rounds: a shared VM's neighbours slow single rounds.
    double s = 1e30, cpu = 1e30;
    for (int round = 0; round < 5; ++round) {
      timespec c0, c1;
      clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &c0);
      const auto t0 = std::chrono::steady_clock::now();
      for (int r = 0; r < reps; ++r) MatMul({t, rows, cols, w.data()}, a, y.data(), rows, pfor, isa, threads);
      s = std::min(s, std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
      clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &c1);
      cpu = std::min(cpu, (c1.tv_sec - c0.tv_sec) + 1e-9 * (c1.tv_nsec - c0.tv_nsec));
    }
    // Per CPU-second too: on a busy machine the wall-clock figure drops with
    // the share of the cores this process gets.
    std::printf("%s %lld x %lld (%.1f MB): %.2f GB/s, %.2f GB per CPU-second\n", name.c_str(), (long long)rows,
                (long long)cols, bytes / 1e6, bytes * double(reps) / s / 1e9, bytes * double(reps) / cpu / 1e9);
  }
}
