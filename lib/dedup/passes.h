// dedup/passes: the passes over the input files that the single command
// (dedup/dedup.h) and the staged mode (dedup/stage.h) share, so that both compute
// the same thing. Documents are numbered globally in input order; a pass
// over a subset of files is given the number of the subset's first document.
//
// Thread-safety: each function is reentrant; parallel work uses the pool or
// thread count it is given.
#ifndef LLMTK_LIB_DEDUP_PASSES_H_
#define LLMTK_LIB_DEDUP_PASSES_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "lib/dedup/index.h"
#include "lib/dedup/options.h"
#include "lib/base/parallel.h"

namespace llmtk {

// The signing options of a run.
SignOptions MakeSignOptions(const DedupOptions& o, const LshParams& lsh);

// Where the signed documents sit: line[d] is document d's line in its file,
// count[f] the number of documents of file f. With it a later pass finds the
// documents' lines without parsing the JSON again on its one reading thread.
struct DocLines {
  std::vector<uint64_t> line;
  std::vector<uint64_t> count;
  std::vector<uint8_t> json;  // per file: JSONL (else plain text)
  // Per file: some line had invalid UTF-8 replaced (--invalid-utf8=replace);
  // only then do later passes check and repair lines again.
  std::vector<uint8_t> repaired;
};

// Pass 1 over `files`: appends each document's features (and keep score)
// to `table`, one count per file to `counts`; adds reader counters to `rep`;
// with `lines`, appends the documents' lines and the files' formats to it.
absl::Status SignFiles(const std::vector<std::string>& files, const DedupOptions& o, const SignOptions& so,
                       DocTable* table, std::vector<uint64_t>* counts, DedupReport* rep, DocLines* lines = nullptr);

// Candidate documents' shingle sets (32-bit hashes, sorted) for exact
// verification; cand[d] is d's rank, or UINT32_MAX.
struct ShingleSets {
  std::vector<uint32_t> cand;
  std::vector<std::vector<uint32_t>> sets;
  double Jaccard(uint32_t a, uint32_t b) const;
};

// Keeps the pairs at or above the threshold under o.verify; reads the
// candidate documents of `files` (all inputs) for exact verification; with
// `lines` (of the same files) their JSON is parsed on the workers.
absl::StatusOr<std::vector<uint64_t>> VerifyPairs(const std::vector<std::string>& files, const DedupOptions& o,
                                                  const DocTable& table, const std::vector<uint64_t>& pairs,
                                                  ThreadPool* pool, ShingleSets* sets, DedupReport* rep,
                                                  const DocLines* lines = nullptr);

// Per document: the survivor, whether it is an exact copy of it, and the
// similarity to it; ids of survivors standing for others (for --clusters).
struct ClusterTable {
  std::vector<uint32_t> survivor;
  std::vector<uint8_t> exact;
  std::vector<float> jaccard;
  absl::flat_hash_map<uint32_t, std::string> ids;
  uint64_t clusters() const { return ids.size(); }
};

ClusterTable BuildClusterTable(const DedupOptions& o, const std::vector<uint32_t>& exact_rep,
                               std::vector<uint32_t> survivor, const DocTable& table, const ShingleSets& sets);

// Reads the ids of the survivors in `t.ids` from `files` (all inputs),
// finding their lines by number when given `lines`.
absl::Status CollectSurvivorIds(const std::vector<std::string>& files, const DedupOptions& o, ClusterTable* t,
                                const DocLines* lines = nullptr);

// Final pass over `files`, whose first document is number `first_doc`:
// kept lines to o.output, removed ones to o.removed, the report to o.clusters
// (an empty name: not written; o.output "-" is stdout).
// With `lines` (of the same files, first_doc 0) lines are split, not parsed.
absl::Status WriteFiltered(const std::vector<std::string>& files, uint64_t first_doc, bool multi_input,
                           const DedupOptions& o, const ClusterTable& t, DedupReport* rep,
                           const DocLines* lines = nullptr);

}  // namespace llmtk

#endif  // LLMTK_LIB_DEDUP_PASSES_H_
