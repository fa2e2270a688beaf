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

bool IsSpaceAt(std::string_view s, size_t* pos) {
  const int32_t cp = DecodeUtf8(s, pos);
  return cp != kInvalidUtf8 && IsPythonSpace(static_cast<char32_t>(cp));
}

}  // namespace

ScoredText::ScoredText(std::function<std::string(int64_t)> piece, int64_t n_tokens) : piece_(std::move(piece)) {
  for (int64_t i = 0; i < n_tokens; ++i) {
    if (piece_(i).empty()) continue;
    if (text_begin_ < 0) text_begin_ = i;
    text_end_ = i;
  }
}

// Whether the character before token `index` is whitespace, the start of
// the text counting as such. A character may be split over byte tokens, so
// up to four bytes are gathered.
bool ScoredText::SpaceBefore(int64_t index) const {
  std::string tail;
  for (int64_t j = index - 1; j >= 0 && tail.size() < 4; --j) tail.insert(0, piece_(j));
  if (tail.empty()) return true;
  size_t start = tail.size() - 1;
  while (start > 0 && tail.size() - start < 4 && (static_cast<unsigned char>(tail[start]) & 0xC0) == 0x80) --start;
  size_t pos = start;
  const bool space = IsSpaceAt(tail, &pos);
  return pos == tail.size() ? space : false;
}

TextUnits ScoredText::Count() const {
  TextUnits u{stretch_.size(), 0};
  bool prev_space = SpaceBefore(first_);
  bool first_char = true, last_space = false;
  for (size_t pos = 0; pos < stretch_.size();) {
    const bool space = IsSpaceAt(stretch_, &pos);
    if (!space && prev_space) ++u.words;
    // re.split's empty first field: whitespace opens the text.
    if (first_char && space && first_ <= text_begin_) ++u.words;
    first_char = false;
    prev_space = last_space = space;
  }
  // ... and its empty last field: whitespace closes it.
  if (last_space && last_ >= text_end_) ++u.words;
  return u;
}

void ScoredText::Add(int64_t index) {
  if (open_ && index != last_ + 1) {
    closed_ += Count();
    stretch_.clear();
  }
  if (!open_ || index != last_ + 1) first_ = index;
  stretch_ += piece_(index);
  last_ = index;
  open_ = true;
}

TextUnits ScoredText::Units() const {
  TextUnits u = closed_;
  if (open_) u += Count();
  return u;
}

}  // namespace llmtk
