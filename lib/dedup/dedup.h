// dedup/dedup: exact and near-duplicate removal over JSONL/text inputs, the
// single-command pipeline of llmtk-dedup.
//
// Passes over the inputs (stdin is spooled to a temporary file first, since
// every pass re-reads it):
//   1. sign: normalize, exact key, shingles, MinHash, band keys (parallel);
//   2. verify (--verify exact only): shingle sets of candidate documents are
//      rebuilt, as sorted 32-bit hashes, and every candidate pair's exact
//      Jaccard is compared with the threshold (parallel);
//   3. survivor ids (only with --clusters; reads, does not sign);
//   4. filter: kept lines are written byte for byte, in input order.
// Memory: see dedup/index.h for the per-document tables; exact verification
// adds 4 B per shingle of each candidate document only.
//
// Same inputs, options and seed give byte-identical outputs for any thread
// count: pairs are sorted, verified independently, and the union-find root
// and survivors do not depend on the order of unions.
//
// Thread-safety: RunDedup is reentrant; it uses its own thread pool.
#ifndef LLMTK_LIB_DEDUP_DEDUP_H_
#define LLMTK_LIB_DEDUP_DEDUP_H_

#include <cstdint>
#include <string>
#include <vector>

#include "lib/dedup/index.h"
#include "lib/dedup/options.h"
#include "lib/base/status.h"

namespace llmtk {

// Resolves the LSH parameters of the options (InvalidArgument on conflicts).
absl::StatusOr<LshParams> ResolveLshParams(const DedupOptions& opts, bool* chosen);

// Runs the whole pipeline and returns what it counted; printing the report
// is the tool's (tools/dedup/dedup_tool.h).
absl::StatusOr<DedupReport> RunDedup(const DedupOptions& opts);

// Usage checks shared by the single command and the stages.
absl::Status CheckDedupOptions(const DedupOptions& opts);
// Memory of the per-document tables (see dedup/index.h).
uint64_t TableBytes(const DocTable& t, const DedupOptions& opts);

}  // namespace llmtk

#endif  // LLMTK_LIB_DEDUP_DEDUP_H_
