// filter/langid_fasttext: language identification with a fastText model the
// user brings (lid.176.bin, GlotLID's model.bin, or any supervised fastText
// classifier), through Debian's libfasttext.
//
// fastText classifies one line: its reader ends a text at '\n'. A document
// is classified whole, with every '\n' replaced by a space first — what
// datatrove's FastText language filter and dolma's fastText taggers do
// (`text.replace("\n", " ")`) — so the result equals `fasttext predict-prob
// MODEL FILE 3` on a file holding the document as that one line. Attributes:
// per label of the top three, "fasttext__fasttext__<label>" (the label
// without "__label__": "en", "eng_Latn") over the whole text, scored with the
// label's probability.
//
// Thread-safety: after Load, Predict and Tag are const and may be called
// from any number of threads (fastText keeps its per-call state local).
#ifndef LLMTK_LIB_FILTER_LANGID_FASTTEXT_H_
#define LLMTK_LIB_FILTER_LANGID_FASTTEXT_H_

#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "lib/base/status.h"
#include "lib/filter/attributes.h"

namespace fasttext {
class FastText;
}

namespace llmtk {

inline constexpr std::string_view kFastTextTagger = "fasttext";

class FastTextLangId {
 public:
  ~FastTextLangId();
  // InvalidArgument naming the file when it is not a supervised fastText model.
  static absl::StatusOr<std::unique_ptr<FastTextLangId>> Load(const std::string& path);
  // The top `k` labels (without "__label__") and their probabilities, best
  // first; empty when the text has no word.
  std::vector<std::pair<std::string, float>> Predict(std::string_view text, int k = 3) const;
  void Tag(std::string_view text, Attributes* out) const;

 private:
  FastTextLangId();
  std::unique_ptr<fasttext::FastText> model_;
};

}  // namespace llmtk

#endif  // LLMTK_LIB_FILTER_LANGID_FASTTEXT_H_
