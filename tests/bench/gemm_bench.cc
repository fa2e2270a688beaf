// Prompt-processing (many-token) throughput of the weight kernels as a
// fraction of this core's peak: `gemm_bench TYPE... [-rows R -cols C -tokens T
// -rounds N]`.
//
// A matrix that fits L2 (default 128 x 2048) times T activation rows
// (default 64) through MatMul on the calling thread, so the kernels run
// compute bound. perf's cycle counter is not available in this VM and the
// machine is shared, so instead of wall time each measurement is the calling
// thread's CPU time, and the peak is measured the same way in the same
// process, interleaved with the kernels: a loop of independent VPDPBUSD
// (64 int8 multiply-adds per 512-bit instruction) for the quantized types,
// of VFMADD231PS (16 float multiply-adds) for F16/F32, whose products are
// float. Clock changes and time stolen by neighbours cancel in the ratio.
// Each figure is the best of N rounds.
#include <algorithm>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <random>
#include <string>
#include <vector>

#include "lib/kernels/kernels.h"

using namespace llmtk;

namespace {

double ThreadSeconds() {
  timespec t;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
  return t.tv_sec + 1e-9 * t.tv_nsec;
}

// Twelve independent chains in registers (inline assembly, so that the
// compiler cannot spill or reorder them): enough to cover the instruction's
// latency at any plausible throughput. Returns multiply-adds per CPU-second.
#define LLMTK_PEAK_LOOP(INSN)                                                                       \
  asm volatile(                                                                                     \
      "vpternlogd $0xff, %%zmm12, %%zmm12, %%zmm12\n"                                                \
      "vpabsb %%zmm12, %%zmm13\n"                                                                    \
      "1:\n" INSN " %%zmm12, %%zmm13, %%zmm0\n" INSN " %%zmm12, %%zmm13, %%zmm1\n" INSN                \
      " %%zmm12, %%zmm13, %%zmm2\n" INSN " %%zmm12, %%zmm13, %%zmm3\n" INSN " %%zmm12, %%zmm13, %%zmm4\n" \
      INSN " %%zmm12, %%zmm13, %%zmm5\n" INSN " %%zmm12, %%zmm13, %%zmm6\n" INSN                       \
      " %%zmm12, %%zmm13, %%zmm7\n" INSN " %%zmm12, %%zmm13, %%zmm8\n" INSN " %%zmm12, %%zmm13, %%zmm9\n" \
      INSN " %%zmm12, %%zmm13, %%zmm10\n" INSN " %%zmm12, %%zmm13, %%zmm11\n"                           \
      "dec %0\n"                                                                                     \
      "jnz 1b\n"                                                                                     \
      : "+r"(n)                                                                                     \
      :                                                                                             \
      : "zmm0", "zmm1", "zmm2", "zmm3", "zmm4", "zmm5", "zmm6", "zmm7", "zmm8", "zmm9", "zmm10", "zmm11", \
        "zmm12", "zmm13", "cc")

__attribute__((noinline)) double PeakDpbusd(int64_t iters) {
  int64_t n = iters;
  const double t0 = ThreadSeconds();
  LLMTK_PEAK_LOOP("vpdpbusd");
  return 64.0 * 12 * iters / (ThreadSeconds() - t0);
}

__attribute__((noinline)) double PeakFma(int64_t iters) {
  int64_t n = iters;
  const double t0 = ThreadSeconds();
  LLMTK_PEAK_LOOP("vfmadd231ps");
  return 16.0 * 12 * iters / (ThreadSeconds() - t0);
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> names;
  int64_t rows = 128, cols = 2048, tokens = 64;
  int rounds = 5;
  for (int i = 1; i < argc; ++i) {
    const std::string s = argv[i];
    if (i + 1 < argc && s == "-rows") rows = std::atol(argv[++i]);
    else if (i + 1 < argc && s == "-cols") cols = std::atol(argv[++i]);
    else if (i + 1 < argc && s == "-tokens") tokens = std::atol(argv[++i]);
    else if (i + 1 < argc && s == "-rounds") rounds = std::atoi(argv[++i]);
    else names.push_back(s);
  }
  if (names.empty()) names = {"Q4_0", "Q4_K", "Q6_K", "Q8_0", "F16"};
  std::mt19937 rng(1);
  std::vector<float> x(tokens * cols);
  for (auto& v : x) v = std::uniform_real_distribution<float>(-1, 1)(rng);
  PeakDpbusd(1 << 22);  // warm up the vector unit
  double peak_int = 0, peak_fma = 0;
  for (int r = 0; r < 3; ++r) {
    peak_int = std::max(peak_int, PeakDpbusd(1 << 22));
    peak_fma = std::max(peak_fma, PeakFma(1 << 22));
  }
  std::printf("peak: VPDPBUSD %.1f G int8 MAC/CPU-s, VFMADD %.1f G float MAC/CPU-s (%lld x %lld, %lld tokens)\n",
              peak_int / 1e9, peak_fma / 1e9, (long long)rows, (long long)cols, (long long)tokens);
  for (const std::string& name : names) {
    const auto parsed = ParseGgmlType(name);
    if (!parsed.has_value() || !KernelSupports(static_cast<uint32_t>(*parsed))) {
      std::fprintf(stderr, "gemm_bench: unknown or unsupported type %s\n", name.c_str());
      return 1;
    }
    const DType t = *parsed;
    const size_t bytes = rows * RowBytes(t, cols);
    std::vector<uint8_t> w(bytes);
    // Random bytes with every 16-bit word a small positive F16: valid scales
    // for every block layout.
    for (size_t i = 0; i + 1 < bytes; i += 2) {
      const uint16_t h = 0x2000 + (rng() & 0x3ff);
      std::memcpy(&w[i], &h, 2);
    }
    std::vector<uint8_t> abuf(tokens * RowBytes(VecDotType(t), cols));
    const EncodedActivations a = EncodeActivations(t, x.data(), tokens, cols, abuf.data());
    std::vector<float> y(tokens * rows);
    const WeightMatrix m{t, rows, cols, w.data()};
    MatMul(m, a, y.data(), rows);
    const double macs = double(rows) * cols * tokens;
    const int reps = static_cast<int>(std::max(3.0, 2e9 / macs));
    const bool is_float = t == DType::kF16 || t == DType::kF32 || t == DType::kBF16;
    double best = 0, best_peak = 0;
    for (int r = 0; r < rounds; ++r) {
      const double t0 = ThreadSeconds();
      for (int k = 0; k < reps; ++k) MatMul(m, a, y.data(), rows);
      best = std::max(best, macs * reps / (ThreadSeconds() - t0));
      best_peak = std::max(best_peak, is_float ? PeakFma(1 << 21) : PeakDpbusd(1 << 21));
    }
    std::printf("%-5s %6.2f G MAC/CPU-s = %5.1f%% of %s peak (%.1f G)\n", name.c_str(), best / 1e9,
                100 * best / best_peak, is_float ? "VFMADD" : "VPDPBUSD", best_peak / 1e9);
  }
}
