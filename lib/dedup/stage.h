// dedup/stage: llmtk-dedup as four stages for a cluster, computing exactly
// what the single command computes (same document numbering, pairs,
// verification and survivors), so the concatenated filter outputs of shards
// 0..N-1 equal the single command's output byte for byte.
//
//   sign --shard i/N   input files [i*F/N, (i+1)*F/N) -> sign-i-of-N.docs
//                      (exact keys, keep scores, counts) + .band-b (sorted
//                      band keys, one file per band)
//   pairs --band b     all shards' band b -> pairs-b (candidate pairs);
//                      --band j/M: bands j, j+M, ... (for M parallel jobs)
//   clusters           all pairs, verification, union-find -> clusters;
//                      --clusters FILE: the whole run's report too
//   filter --shard i/N that shard's files -> kept, --removed, --clusters
//
// Memory: sign as the single command's pass 1 for its shard; pairs and
// clusters hold the exact keys of all documents (16 B each) plus one band's
// entries, resp. the single command's tables and verification sets.
//
// Give every stage the same inputs and computing flags; the output flags
// belong to the stage that writes them (the tool refuses them elsewhere).
// The clusters stage given --clusters FILE reads the survivors' ids (kept in
// its stage file, so that filter stages can write per-shard reports with
// --clusters too) and writes the whole run's report to FILE.
//
// Every stage file carries a magic, its kind, a fingerprint of the options
// and inputs that produced it, its length and an XXH3-64 checksum of all of
// it. A stage whose outputs exist and check out is skipped (resume); a
// corrupt or truncated input file is a DataLoss error naming it, never
// trusted; a file from a run with other options is an InvalidArgument error.
// Outputs are written under a temporary name and renamed, so a killed stage
// leaves no file that looks complete.
//
// Thread-safety: each call is independent; stages of one run may run as
// separate processes on separate machines sharing the work directory.
#ifndef LLMTK_LIB_DEDUP_STAGE_H_
#define LLMTK_LIB_DEDUP_STAGE_H_

#include <cstdint>
#include <string>

#include "lib/dedup/dedup.h"
#include "lib/dedup/stage_file.h"
#include "lib/base/status.h"

namespace llmtk {

struct StageOptions {
  std::string stage;  // sign, pairs, clusters, filter
  std::string work;   // shared work directory
  int shard = 0, num_shards = 1;
  // pairs: bands b with b % band_step == band (band -1: all bands); from
  // --band b (step 0: only b) or --band j/M (every M-th band from j).
  int band = -1, band_step = 0;
};

// Parses "i/N" (0 <= i < N).
absl::Status ParseShard(const std::string& s, int* shard, int* num_shards);

// Parses --band: "b" (step 0) or "j/M" (0 <= j < M).
absl::Status ParseBand(const std::string& s, int* band, int* step);

// Runs one stage. Stage outputs go to s.work; the clusters stage writes the
// report o.clusters (if named) for all documents, the filter stage
// o.output, o.removed and o.clusters for its shard.
absl::Status RunDedupStage(const DedupOptions& o, const StageOptions& s);

}  // namespace llmtk

#endif  // LLMTK_LIB_DEDUP_STAGE_H_
