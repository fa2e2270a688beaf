#include "lib/eval/text_metrics.h"

#include <cmath>

#include "lib/base/unicode.h"

namespace llmtk {

uint64_t LmEvalWordCount(std::string_view text) {
  // re.split gives one more field than there are maximal whitespace runs.
  uint64_t runs = 0;
  bool in_space = false;
  for (size_t pos = 0; pos < text.size();) {
    const int32_t cp = DecodeUtf8(text, &pos);
    const bool space = cp != kInvalidUtf8 && IsPythonSpace(static_cast<char32_t>(cp));
    if (space && !in_space) ++runs;
    in_space = space;
  }
  return runs + 1;
}

PerUnitMetrics ComputePerUnitMetrics(double nll_sum, const TextUnits& units) {
  PerUnitMetrics m;
  if (units.bytes > 0) {
    const double per_byte = nll_sum / static_cast<double>(units.bytes);
    m.bits_per_byte = per_byte / std::log(2.0);
    m.byte_perplexity = std::exp(per_byte);
  }
  if (units.words > 0) m.word_perplexity = std::exp(nll_sum / static_cast<double>(units.words));
  return m;
}

namespace {
TextUnits Count(std::string_view stretch) { return TextUnits{stretch.size(), LmEvalWordCount(stretch)}; }
}  // namespace

void ScoredText::Add(int64_t index) {
  if (open_ && index != last_ + 1) {
    closed_ += Count(stretch_);
    stretch_.clear();
  }
  stretch_ += piece_(index);
  last_ = index;
  open_ = true;
}

TextUnits ScoredText::Units() const {
  TextUnits u = closed_;
  if (open_) u += Count(stretch_);
  return u;
}

}  // namespace llmtk
