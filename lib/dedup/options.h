// dedup/options: what a deduplication run is asked for (DedupOptions) and
// what it counts (DedupReport). Shared by the passes (dedup/passes.h), the
// single command (dedup/dedup.h) and the staged mode (dedup/stage.h), so that
// the passes do not include the command that runs them.
//
// Thread-safety: plain data.
#ifndef LLMTK_LIB_DEDUP_OPTIONS_H_
#define LLMTK_LIB_DEDUP_OPTIONS_H_

#include <cstdint>
#include <string>
#include <vector>

#include "lib/dedup/index.h"
#include "lib/base/io.h"
#include "lib/base/jsonl.h"

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

}  // namespace llmtk

#endif  // LLMTK_LIB_DEDUP_OPTIONS_H_
