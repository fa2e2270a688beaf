// filter/c4: the C4 rules (Raffel et al. 2020) exactly as dolma's `c4_v1`
// tagger computes them (python/dolma/taggers/c4.py): per line of
// text.split("\n"), lowered (Python's str.lower) and stripped, a span for a
// line that does not end in . ? ! " and one for a line of fewer than 3 words
// (offsets in code points, the line's "\n" included except on the last);
// whole-text spans when any line has a bad word (a word of the list) or a bad
// phrase (an entry with a space, as a substring), the word "javascript",
// "lorem ipsum" or "{"; and the line count.
//
// Thread-safety: a C4Tagger is immutable once built; Tag may be called from
// any number of threads.
#ifndef LLMTK_LIB_FILTER_C4_H_
#define LLMTK_LIB_FILTER_C4_H_

#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "lib/base/status.h"
#include "lib/filter/attributes.h"
#include "lib/filter/text.h"

namespace llmtk {

inline constexpr std::string_view kC4Tagger = "c4_v1";

// The list dolma's c4_v1 ships (LDNOOBW's English list), one entry a line.
extern const char kNaughtyWordsEn[];
std::string_view DefaultBadWords();

class C4Tagger {
 public:
  // `list`: one entry a line, as Python's str.splitlines() reads it.
  explicit C4Tagger(std::string_view list = DefaultBadWords());
  void Tag(std::string_view text, Attributes* out) const;

 private:
  bool HasPhrase(std::string_view line) const;
  absl::flat_hash_set<std::string, WordHash, std::equal_to<>> words_;
  std::vector<std::string> phrases_;
  // Phrase search: phrases by their first three bytes (a bitmap over a hash
  // of the triples that start one, then the phrases to compare), shorter
  // ones apart. Pairs alone let through most positions of English text.
  std::vector<uint64_t> prefix_bits_;
  absl::flat_hash_map<uint32_t, std::vector<uint32_t>> by_prefix_;
  std::vector<uint32_t> short_phrases_;
};

}  // namespace llmtk

#endif  // LLMTK_LIB_FILTER_C4_H_
