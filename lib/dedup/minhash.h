// dedup/minhash: MinHash signatures of shingle sets and their LSH banding.
//
// Hash i of a shingle x is (a_i * x + b_i) mod 2^64 with odd a_i and b_i drawn
// from a seeded splitmix64 stream; the signature keeps each minimum (64 bits).
// Bands of `rows` consecutive minima are hashed (XXH3-64, seeded by the band
// number) to one 64-bit band key; two documents become a candidate pair when
// any band key is equal, with probability 1 - (1 - s^rows)^bands at Jaccard s.
// For the similarity estimate only the low 16 bits of each minimum are kept
// (b-bit MinHash), corrected for their 2^-16 chance of agreeing by accident.
//
// Thread-safety: a MinHasher is immutable after construction; its methods
// may be called from any number of threads.
#ifndef LLMTK_LIB_DEDUP_MINHASH_H_
#define LLMTK_LIB_DEDUP_MINHASH_H_

#include <cstdint>
#include <vector>

#include "lib/base/status.h"

namespace llmtk {

struct LshParams {
  int bands = 14;
  int rows = 8;
  int num_perm() const { return bands * rows; }
};

// Probability that a pair with Jaccard `s` shares at least one band.
double CandidateProbability(double s, const LshParams& p);
// Areas under the false-positive curve on [0, t] and the false-negative
// curve on [t, 1] (datasketch's measure of the trade-off).
double FalsePositiveArea(double t, const LshParams& p);
double FalseNegativeArea(double t, const LshParams& p);
// Which bands x rows a chooser considers: any with bands*rows <= num_perm
// (datasketch's search), or exactly num_perm split with bands, rows >= 2
// (a requested hash count, honoured).
enum class LshSplit { kAtMost, kExact };
// Whether num_perm splits into bands x rows with both at least 2.
bool HasExactLshSplit(int num_perm);

// The bands x rows minimizing fp_weight*FP + fn_weight*FN at threshold t.
LshParams ChooseLshParams(double threshold, int num_perm, double fp_weight, double fn_weight,
                          LshSplit split = LshSplit::kAtMost);

// Recall first: among bands x rows whose candidate probability at t is at
// least `min_recall`, the one with the smallest false-positive area (the
// highest probability at t when none reaches it).
LshParams ChooseLshParamsForRecall(double threshold, int num_perm, double min_recall,
                                   LshSplit split = LshSplit::kAtMost);

class MinHasher {
 public:
  MinHasher(int num_perm, uint64_t seed);
  int num_perm() const { return static_cast<int>(a_.size()); }
  // Signature of a set of shingle hashes (an empty set gives all-ones).
  void Sign(const uint64_t* shingles, size_t n, uint64_t* sig) const;
  // The plain reference of Sign, one hash at a time.
  void SignScalar(const uint64_t* shingles, size_t n, uint64_t* sig) const;

 private:
  std::vector<uint64_t> a_, b_;
};

// Band keys of a signature: out[b] for b in [0, p.bands).
void BandKeys(const uint64_t* sig, const LshParams& p, uint64_t* out);

// Fraction of equal minima, the unbiased estimate of Jaccard similarity.
double EstimateJaccard(const uint64_t* a, const uint64_t* b, int n);
// The same from 16-bit minima, corrected for chance agreement.
double EstimateJaccard16(const uint16_t* a, const uint16_t* b, int n);

// Union-find over [0, n) whose root is always the smallest member, so the
// partition and its representatives do not depend on the order of unions.
class UnionFind {
 public:
  explicit UnionFind(size_t n);
  uint32_t Find(uint32_t x);
  // Returns true when x and y were in different sets.
  bool Union(uint32_t x, uint32_t y);
  size_t size() const { return parent_.size(); }

 private:
  std::vector<uint32_t> parent_;
};

}  // namespace llmtk

#endif  // LLMTK_LIB_DEDUP_MINHASH_H_
