#include "lib/dedup/minhash.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "xxhash.h"

namespace llmtk {
namespace {

uint64_t SplitMix64(uint64_t* state) {
  uint64_t z = (*state += 0x9E3779B97F4A7C15ULL);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

// Simpson's rule on [lo, hi]; the curves are smooth polynomials.
template <typename F>
double Integrate(F f, double lo, double hi) {
  const int n = 200;
  if (hi <= lo) return 0;
  double h = (hi - lo) / n, sum = f(lo) + f(hi);
  for (int i = 1; i < n; ++i) sum += f(lo + i * h) * (i % 2 ? 4 : 2);
  return sum * h / 3;
}

}  // namespace

double CandidateProbability(double s, const LshParams& p) {
  return 1.0 - std::pow(1.0 - std::pow(s, p.rows), p.bands);
}

double FalsePositiveArea(double t, const LshParams& p) {
  return Integrate([&](double s) { return CandidateProbability(s, p); }, 0.0, t);
}

double FalseNegativeArea(double t, const LshParams& p) {
  return Integrate([&](double s) { return 1.0 - CandidateProbability(s, p); }, t, 1.0);
}

namespace {

// Calls f(p) for every bands x rows the split allows.
template <typename F>
void ForEachSplit(int num_perm, LshSplit split, F f) {
  for (int b = 1; b <= num_perm; ++b) {
    for (int r = 1; b * r <= num_perm; ++r) {
      if (split == LshSplit::kExact && (b * r != num_perm || b < 2 || r < 2)) continue;
      f(LshParams{b, r});
    }
  }
}

}  // namespace

bool HasExactLshSplit(int num_perm) {
  bool any = false;
  ForEachSplit(num_perm, LshSplit::kExact, [&](const LshParams&) { any = true; });
  return any;
}

LshParams ChooseLshParams(double threshold, int num_perm, double fp_weight, double fn_weight, LshSplit split) {
  LshParams best;
  double best_err = std::numeric_limits<double>::infinity();
  ForEachSplit(num_perm, split, [&](const LshParams& p) {
    double err = fp_weight * FalsePositiveArea(threshold, p) + fn_weight * FalseNegativeArea(threshold, p);
    if (err < best_err - 1e-15) best_err = err, best = p;
  });
  return best;
}

LshParams ChooseLshParamsForRecall(double threshold, int num_perm, double min_recall, LshSplit split) {
  LshParams best{1, 1}, most{1, 1};
  double best_fp = std::numeric_limits<double>::infinity(), most_p = -1;
  ForEachSplit(num_perm, split, [&](const LshParams& p) {
    double pt = CandidateProbability(threshold, p);
    if (pt > most_p + 1e-15) most_p = pt, most = p;
    if (pt < min_recall) return;
    double fp = FalsePositiveArea(threshold, p);
    if (fp < best_fp - 1e-15) best_fp = fp, best = p;
  });
  return best_fp < std::numeric_limits<double>::infinity() ? best : most;
}

MinHasher::MinHasher(int num_perm, uint64_t seed) : a_(num_perm), b_(num_perm) {
  uint64_t state = seed ^ 0x6A09E667F3BCC909ULL;
  for (int i = 0; i < num_perm; ++i) {
    a_[i] = SplitMix64(&state) | 1;
    b_[i] = SplitMix64(&state);
  }
}

void MinHasher::Sign(const uint64_t* shingles, size_t n, uint64_t* __restrict sig) const {
  const int m = num_perm();
  const uint64_t* __restrict a = a_.data();
  const uint64_t* __restrict b = b_.data();
  for (int i = 0; i < m; ++i) sig[i] = ~0ULL;
  // Inner loop over the hashes: independent lanes the compiler vectorizes
  // (vpmullq with AVX-512DQ).
  for (size_t k = 0; k < n; ++k) {
    const uint64_t x = shingles[k];
    for (int i = 0; i < m; ++i) {
      uint64_t v = a[i] * x + b[i];
      sig[i] = v < sig[i] ? v : sig[i];
    }
  }
}

void MinHasher::SignScalar(const uint64_t* shingles, size_t n, uint64_t* sig) const {
  for (int i = 0; i < num_perm(); ++i) {
    uint64_t best = ~0ULL;
    for (size_t k = 0; k < n; ++k) best = std::min(best, a_[i] * shingles[k] + b_[i]);
    sig[i] = best;
  }
}

void BandKeys(const uint64_t* sig, const LshParams& p, uint64_t* out) {
  for (int b = 0; b < p.bands; ++b)
    out[b] = XXH3_64bits_withSeed(sig + static_cast<size_t>(b) * p.rows, sizeof(uint64_t) * p.rows,
                                  static_cast<uint64_t>(b));
}

double EstimateJaccard(const uint64_t* a, const uint64_t* b, int n) {
  int eq = 0;
  for (int i = 0; i < n; ++i) eq += a[i] == b[i];
  return n ? static_cast<double>(eq) / n : 0.0;
}

double EstimateJaccard16(const uint16_t* a, const uint16_t* b, int n) {
  if (n == 0) return 0.0;
  int eq = 0;
  for (int i = 0; i < n; ++i) eq += a[i] == b[i];
  const double c = 1.0 / 65536.0;
  double e = (static_cast<double>(eq) / n - c) / (1.0 - c);
  return std::clamp(e, 0.0, 1.0);
}

UnionFind::UnionFind(size_t n) : parent_(n) {
  for (size_t i = 0; i < n; ++i) parent_[i] = static_cast<uint32_t>(i);
}

uint32_t UnionFind::Find(uint32_t x) {
  while (parent_[x] != x) {
    parent_[x] = parent_[parent_[x]];  // path halving
    x = parent_[x];
  }
  return x;
}

bool UnionFind::Union(uint32_t x, uint32_t y) {
  x = Find(x);
  y = Find(y);
  if (x == y) return false;
  if (y < x) std::swap(x, y);
  parent_[y] = x;
  return true;
}

}  // namespace llmtk
