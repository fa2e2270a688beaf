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
#include "lib/base/io.h"
#include "lib/base/jsonl.h"
#include "lib/base/status.h"

namespace llmtk {

enum class VerifyMode { kExact, kEstimate, kNone };

// Hashes the bands x rows chooser may use when --num-perm is not given.
inline constexpr int kAutoNumPerm = 112;

struct DedupOptions {
  std::vector<std::string> inputs;
  DocumentReaderOptions reader;
  std::string output = "-";
  OutputOptions output_opts;
  std::string removed;   // optional: removed lines
  std::string clusters;  // optional: JSONL duplicate report
  std::string id_key;    // id field for the report (empty: line number)
  NormalizeOptions normalize;
  int ngram = 5;
  int cjk_ngram = 3;
  // 0 = not given. bands x rows given: used as is; otherwise chosen for the
  // threshold (verify exact: the fewest false positives with P(candidate)
  // >= 0.99 at the threshold; otherwise the least FP+FN area) among the
  // exact splits of num_perm (bands, rows >= 2; a num_perm with none is an
  // error) or, num_perm not given, among those of at most kAutoNumPerm.
  int num_perm = 0, bands = 0, rows = 0;
  double threshold = 0.8;
  VerifyMode verify = VerifyMode::kExact;
  KeepPolicy keep = KeepPolicy::kFirst;
  std::string keep_field;
  uint64_t seed = 42;
  int threads = 0;
  bool progress = false;
  bool quiet = false;
  bool json = false;
};

struct DedupReport {
  uint64_t documents = 0, bytes = 0, exact_duplicates = 0, near_duplicates = 0, kept = 0;
  uint64_t skipped = 0, blank_lines = 0, replaced_utf8 = 0;
  uint64_t candidate_pairs = 0, accepted_pairs = 0, clusters = 0, verified_docs = 0;
  uint64_t missing_keep_field = 0;
  LshParams lsh;
  bool lsh_chosen = false;
  double seconds = 0;
  uint64_t table_bytes = 0, verify_bytes = 0;
};

// Resolves the LSH parameters of the options (InvalidArgument on conflicts).
absl::StatusOr<LshParams> ResolveLshParams(const DedupOptions& opts, bool* chosen);

// Runs the whole pipeline; writes the summary (stderr) or the JSON report
// (see PrintDedupReport).
absl::StatusOr<DedupReport> RunDedup(const DedupOptions& opts);

// Usage checks shared by the single command and the stages.
absl::Status CheckDedupOptions(const DedupOptions& opts);
// Memory of the per-document tables (see dedup/index.h).
uint64_t TableBytes(const DocTable& t, const DedupOptions& opts);
// Writes the summary to stderr unless quiet, or the JSON report where
// WriteJsonReport (lib/base/io.h) puts it.
absl::Status PrintDedupReport(const DedupOptions& opts, const DedupReport& r);

// The human summary and the JSON report of a run.
std::string FormatDedupSummary(const DedupOptions& opts, const DedupReport& r);
std::string FormatDedupJson(const DedupOptions& opts, const DedupReport& r);

}  // namespace llmtk

#endif  // LLMTK_LIB_DEDUP_DEDUP_H_
