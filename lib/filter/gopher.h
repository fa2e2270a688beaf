// filter/gopher: the Gopher quality and repetition statistics (Rae et al.
// 2021, appendix A) exactly as dolma's `gopher_v1` tagger computes them
// (python/dolma/taggers/gopher.py): words are Python's str.split(), lines
// str.split("\n"), lengths in code points; every span covers the whole text.
//
// Thread-safety: a GopherTagger holds scratch buffers; one per thread.
#ifndef LLMTK_LIB_FILTER_GOPHER_H_
#define LLMTK_LIB_FILTER_GOPHER_H_

#include <cstdint>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "lib/filter/attributes.h"
#include "lib/filter/text.h"

namespace llmtk {

inline constexpr std::string_view kGopherTagger = "gopher_v1";

// statistics.median of the word lengths (0 for none) as dolma takes it:
// the middle one, or the mean of the two middle ones. A count per length
// (lengths are small) instead of a selection; *scratch holds the long ones.
double MedianWordLength(const std::vector<uint32_t>& lens, std::vector<uint32_t>* scratch);
// The same by std::nth_element, the definition it is tested against.
double MedianWordLengthReference(const std::vector<uint32_t>& lens);

class GopherTagger {
 public:
  // Appends the gopher_v1 spans of `text` to *out, in dolma's order.
  void Tag(std::string_view text, Attributes* out);

 private:
  std::vector<Word> words_;
  std::vector<std::string_view> lines_;
  std::vector<uint32_t> ids_, word_id_, next_ids_, counts_, prev_counts_, lens_, long_lens_;
  std::vector<uint64_t> prefix_;
  absl::flat_hash_map<std::string_view, uint32_t, WordHash> word_ids_;
  absl::flat_hash_map<uint64_t, uint32_t> ngram_ids_;
  absl::flat_hash_map<std::string_view, uint32_t, WordHash> line_counts_;
};

}  // namespace llmtk

#endif  // LLMTK_LIB_FILTER_GOPHER_H_
