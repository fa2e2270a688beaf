// Attention's KQ and P·V kernels over one layer of a causal prompt, head by
// head (DotRows, AccumulateRows) against the query heads of a KV head at once
// (DotRowsMulti, AccumulateRowsMulti): `attn_bench [-heads H -kv K -dim D
// -tokens T -rounds N -f32]` (default TinyLlama's 32 heads, 4 KV heads, 64
// wide, 512 tokens, F16 cache). Prints each variant's calling-thread CPU
// seconds per layer, the best of N rounds, the variants interleaved (the
// machine is shared; wall time means little).
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

}  // namespace

int main(int argc, char** argv) {
  int heads = 32, kv = 4, dim = 64, tokens = 512, rounds = 5;
  bool f32 = false;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto next = [&]() { return i + 1 < argc ? std::atoi(argv[++i]) : 0; };
    if (a == "-heads") heads = next();
    else if (a == "-kv") kv = next();
    else if (a == "-dim") dim = next();
    else if (a == "-tokens") tokens = next();
    else if (a == "-rounds") rounds = next();
    else if (a == "-f32") f32 = true;
    else {
      std::fprintf(stderr, "usage: attn_bench [-heads H -kv K -dim D -tokens T -rounds N -f32]\n");
      return 2;
    }
  }
  const DType t = f32 ? DType::kF32 : DType::kF16;
  const size_t elem = f32 ? 4 : 2, row = static_cast<size_t>(kv) * dim * elem;
  const int group = heads / kv;
  std::mt19937 rng(1);
  std::uniform_real_distribution<float> u(-1, 1);
  auto fill = [&](std::vector<uint8_t>* v) {
    for (size_t i = 0; i + elem <= v->size(); i += elem) {
      const float x = u(rng);
      if (f32) {
        std::memcpy(&(*v)[i], &x, 4);
      } else {
        const uint16_t h = Fp32ToFp16(x);
        std::memcpy(&(*v)[i], &h, 2);
      }
    }
  };
  std::vector<uint8_t> kc(tokens * row), vc(tokens * row), q(static_cast<size_t>(heads) * dim * elem);
  fill(&kc);
  fill(&vc);
  fill(&q);
  std::vector<float> s(static_cast<size_t>(heads) * tokens), p(s.size()), lanes(static_cast<size_t>(heads) * 16 * dim);
  for (auto& x : p) x = u(rng) * 0.01f;
  double best[4] = {1e9, 1e9, 1e9, 1e9};
  std::vector<float> s_plain, l_plain;
  for (int r = 0; r < rounds; ++r) {
    for (int variant = 0; variant < 2; ++variant) {
      const bool multi = variant == 1;
      double kq = 0, pv = 0;
      std::fill(lanes.begin(), lanes.end(), 0.f);
      for (int g = 0; g < kv; ++g) {
        const uint8_t* kb = kc.data() + g * dim * elem;
        const uint8_t* vb = vc.data() + g * dim * elem;
        const int h0 = g * group;
        for (int tok = 0; tok < tokens; ++tok) {
          const int count = tok + 1;
          double t0 = ThreadSeconds();
          if (multi) {
            DotRowsMulti(t, dim, kb, row, count, q.data() + h0 * dim * elem, dim * elem, group, &s[h0 * tokens],
                         tokens);
          } else {
            for (int h = h0; h < h0 + group; ++h)
              DotRows(t, dim, kb, row, count, q.data() + h * dim * elem, &s[h * tokens]);
          }
          double t1 = ThreadSeconds();
          kq += t1 - t0;
          if (multi) {
            AccumulateRowsMulti(t, &p[h0 * tokens], tokens, vb, row, count, &lanes[h0 * 16 * dim], 16 * dim, dim,
                                group, /*fresh=*/true);
          } else {
            for (int h = h0; h < h0 + group; ++h) {
              std::fill(&lanes[h * 16 * dim], &lanes[(h + 1) * 16 * dim], 0.f);
              AccumulateRows(t, &p[h * tokens], vb, row, count, &lanes[h * 16 * dim], dim);
            }
          }
          pv += ThreadSeconds() - t1;
        }
      }
      best[2 * variant] = std::min(best[2 * variant], kq);
      best[2 * variant + 1] = std::min(best[2 * variant + 1], pv);
      if (!multi) {
        s_plain = s;
        l_plain = lanes;
      } else if (std::memcmp(s.data(), s_plain.data(), s.size() * 4) != 0 ||
                 std::memcmp(lanes.data(), l_plain.data(), lanes.size() * 4) != 0) {
        std::fprintf(stderr, "attn_bench: the grouped kernels' results differ from the plain ones\n");
        return 1;
      }
    }
  }
  std::printf("heads %d kv %d dim %d tokens %d %s: per layer (CPU s)\n", heads, kv, dim, tokens, f32 ? "F32" : "F16");
  std::printf("  KQ  plain %.4f  grouped %.4f  (%.2fx)\n", best[0], best[2], best[0] / best[2]);
  std::printf("  PV  plain %.4f  grouped %.4f  (%.2fx)\n", best[1], best[3], best[1] / best[3]);
  std::printf("  sum plain %.4f  grouped %.4f  (%.2fx)\n", best[0] + best[1], best[2] + best[3],
              (best[0] + best[1]) / (best[2] + best[3]));
  return 0;
}
