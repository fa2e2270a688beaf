// dedup/index: the in-memory side of near-duplicate removal — per-document
// features (exact key, LSH band keys, 16-bit signature, keep score), the
// candidate pairs of equal band keys, and clustering with union-find.
//
// Memory per document: 16 B exact key + 8 B per band + 2 B per hash when the
// 16-bit signature is kept (verify estimate/none) + 8 B keep score + 17 B of
// union-find, survivor and report tables; 14x8 bands with exact verification:
// ~150 B/doc, with estimates ~380 B/doc. No text stays in memory.
//
// Bucket rule: documents sharing a band key form a bucket. Buckets of up to
// 8 members give all their pairs; bigger ones give each member paired with
// the bucket's first and with its predecessor, which keeps the pair count
// linear when thousands of copies collide and still links every member.
//
// Thread-safety: functions taking a ThreadPool use it internally; a DocTable
// is filled by one thread and then read concurrently.
#ifndef LLMTK_LIB_DEDUP_INDEX_H_
#define LLMTK_LIB_DEDUP_INDEX_H_

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "lib/dedup/minhash.h"
#include "lib/dedup/shingle.h"
#include "lib/base/parallel.h"

namespace llmtk {

struct SignOptions {
  NormalizeOptions normalize;
  ShingleOptions shingle;
  LshParams lsh;
  uint64_t seed = 42;
  bool keep_sig16 = false;
};

// One document's features; band and sig16 sized by the options.
struct DocFeatures {
  Hash128 exact;
  std::vector<uint64_t> band;
  std::vector<uint16_t> sig16;
  uint32_t shingles = 0;
};

// Computes features of one text. `hasher` must have opts.lsh.num_perm() hashes.
void SignText(std::string_view text, const SignOptions& opts, const MinHasher& hasher, DocFeatures* out);

struct DocTable {
  int bands = 0, num_perm = 0;
  bool has_sig16 = false;
  std::vector<Hash128> exact;
  std::vector<uint64_t> band;    // size() * bands
  std::vector<uint16_t> sig16;   // size() * num_perm, when has_sig16
  std::vector<double> keep;      // keep score (empty for --keep first)
  size_t size() const { return exact.size(); }
  // Appends documents given flat: their exact keys, then bands (and sig16,
  // used only when has_sig16) keys of each in turn, as DocFeatures holds them.
  void Append(const std::vector<Hash128>& exacts, const std::vector<uint64_t>& bands,
              const std::vector<uint16_t>& sig16s);
  const uint16_t* Sig16(uint32_t d) const { return sig16.data() + static_cast<size_t>(d) * num_perm; }
};

// exact_rep[d]: the first document with d's exact key (d itself if first).
// Spread over `pool` when given; the result is the same.
std::vector<uint32_t> ExactRepresentatives(const std::vector<Hash128>& exact, ThreadPool* pool = nullptr);

// Candidate pairs (i << 32 | j, i < j), sorted and distinct, among documents
// with exact_rep[d] == d, from the band keys.
std::vector<uint64_t> CandidatePairs(const DocTable& t, const std::vector<uint32_t>& exact_rep, ThreadPool* pool);

// The same from one band's (key, doc) entries; sorts `entries`.
void BandPairs(std::vector<std::pair<uint64_t, uint32_t>>* entries, std::vector<uint64_t>* pairs);

inline uint32_t PairFirst(uint64_t p) { return static_cast<uint32_t>(p >> 32); }
inline uint32_t PairSecond(uint64_t p) { return static_cast<uint32_t>(p); }

enum class KeepPolicy { kFirst, kLongest, kField };

// For every document, the document kept in its place (itself if kept).
// Clusters are the union of exact groups and `accepted` pairs; the survivor
// has the highest keep score (ties and kFirst: the earliest document).
std::vector<uint32_t> ChooseSurvivors(const std::vector<uint32_t>& exact_rep,
                                      const std::vector<uint64_t>& accepted, KeepPolicy keep,
                                      const std::vector<double>& score);

}  // namespace llmtk

#endif  // LLMTK_LIB_DEDUP_INDEX_H_
