// eval/text_metrics: perplexity per byte and per word, as
// lm-evaluation-harness's wikitext task defines them, over the text that
// was scored.
//
// lm-evaluation-harness scores every token of a document (rolling
// log-likelihood) and divides the document's summed log-likelihood by its
// UTF-8 bytes and by its words, counted as Python's
// `len(re.split(r"\s+", text))`; over many documents both sums are summed
// first (a weighted mean):
//   bits_per_byte   = -sum(ll) / sum(bytes) / ln 2
//   byte_perplexity = exp(-sum(ll) / sum(bytes))
//   word_perplexity = exp(-sum(ll) / sum(words))
// llmtk may score only part of a text (llama.cpp's chunks score the second
// half of each chunk), so bytes and words are counted over the scored text,
// the bytes the scored tokens spell. Words are lm-evaluation-harness's
// count of the whole text, placed in the text: each word (a maximal run of
// non-whitespace) at its first character, and the empty fields re.split
// gives for whitespace at the very start and at the very end of the text
// at those ends. A stretch of scored text counts the words placed inside
// it, so the counts of stretches that cover a text add up to its
// lm-evaluation-harness count exactly, and a stretch cut inside a word
// does not count that word twice. Where every token of a text is scored
// (sliding windows with BOS first, per-document mode) the figures are
// lm-evaluation-harness's.
//
// Thread-safety: ScoredText is used by one thread.
#ifndef LLMTK_LIB_EVAL_TEXT_METRICS_H_
#define LLMTK_LIB_EVAL_TEXT_METRICS_H_

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

namespace llmtk {

// lm-evaluation-harness's word count: len(re.split(r"\s+", text)), `\s`
// being Python's str.isspace. Invalid UTF-8 bytes are not whitespace.
uint64_t LmEvalWordCount(std::string_view text);

struct TextUnits {
  uint64_t bytes = 0;
  uint64_t words = 0;
  TextUnits& operator+=(const TextUnits& o) {
    bytes += o.bytes;
    words += o.words;
    return *this;
  }
};

// The three figures for a summed negative log-likelihood (natural log) over
// `units`; nullopt where the divisor is 0.
struct PerUnitMetrics {
  std::optional<double> bits_per_byte, byte_perplexity, word_perplexity;
};
PerUnitMetrics ComputePerUnitMetrics(double nll_sum, const TextUnits& units);

// Collects the scored text of one token sequence: Add(i) for each scored
// token index in increasing order; consecutive indices extend a stretch,
// a gap starts a new one.
class ScoredText {
 public:
  // `piece(i)`: the bytes token i of the `n_tokens` stands for in the text
  // (nothing for BOS and other control tokens).
  ScoredText(std::function<std::string(int64_t)> piece, int64_t n_tokens);
  void Add(int64_t index);
  // Bytes and words so far (the open stretch included).
  TextUnits Units() const;

 private:
  TextUnits Count() const;  // of the open stretch
  bool SpaceBefore(int64_t index) const;

  std::function<std::string(int64_t)> piece_;
  int64_t text_begin_ = -1, text_end_ = -1;  // first and last token that spell something
  std::string stretch_;                     // the open stretch's bytes
  int64_t first_ = 0, last_ = 0;
  bool open_ = false;
  TextUnits closed_;
};

}  // namespace llmtk

#endif  // LLMTK_LIB_EVAL_TEXT_METRICS_H_
