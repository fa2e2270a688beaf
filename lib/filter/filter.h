// filter/filter: llmtk-filter's pass over the inputs. `tag` writes every
// document with an `attributes` object (dolma's keys and spans); `filter`
// evaluates a rule set and writes the kept documents, and the dropped ones
// with the rule that dropped each. Optionally e-mail and IP addresses are
// replaced first (filter/pii), so tags and rules see the replaced text.
//
// Documents are read in batches and processed by the ordered parallel map
// (base/parallel), so the output bytes do not depend on --threads. With
// --shard i/N the run reads the input files [i*F/N, (i+1)*F/N) (F files
// after directories are expanded), as llmtk-dedup's stages do.
#ifndef LLMTK_LIB_FILTER_FILTER_H_
#define LLMTK_LIB_FILTER_FILTER_H_

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "lib/base/io.h"
#include "lib/base/jsonl.h"
#include "lib/base/status.h"
#include "lib/filter/pii.h"

namespace llmtk {

struct FilterOptions {
  std::vector<std::string> inputs;
  DocumentReaderOptions reader;
  std::string output = "-";
  OutputOptions output_opts;
  bool tag = false;                  // tag mode; else filter mode
  std::vector<std::string> taggers;  // tag mode: gopher, c4, fineweb, cld2, fasttext (or the _v1 names)
  std::string rules;                 // filter mode: preset(s) or a rule file
  std::string removed;               // filter mode: dropped documents here
  std::string bad_words;             // replaces the default C4 list
  std::string fasttext;              // a fastText language-ID model: the "fasttext" tagger
  bool pii = false;
  int shard = 0, num_shards = 1;
  int threads = 1;
  bool progress = false;
};

struct FilterReport {
  uint64_t documents = 0, kept = 0, removed = 0, bytes = 0;
  uint64_t skipped = 0, blank_lines = 0;
  std::string first_skip_reason;
  std::vector<std::pair<std::string, uint64_t>> removed_by_rule;  // every rule, in order
  PiiCounts pii;
  std::vector<std::string> taggers;
  std::vector<std::string> inputs;  // this shard's files
  double seconds = 0;
};

// The dolma tagger name for a --taggers entry ("gopher" -> "gopher_v1"),
// or InvalidArgument naming the accepted ones.
absl::StatusOr<std::string> TaggerName(std::string_view name);

absl::StatusOr<FilterReport> RunFilter(const FilterOptions& opts);

}  // namespace llmtk

#endif  // LLMTK_LIB_FILTER_FILTER_H_
