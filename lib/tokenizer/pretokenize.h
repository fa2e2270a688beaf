// tokenizer/pretokenize: HF tokenizers' pre-tokenizers — regex Split (with its five
// behaviours and invert), ByteLevel (its GPT-2 regex and add_prefix_space),
// Metaspace, Digits, Whitespace, WhitespaceSplit, Punctuation, BertPreTokenizer
// — applied in sequence, each step splitting every piece the previous step
// produced. Loaders lower Digits to a Split step with the equivalent pattern,
// and Whitespace, WhitespaceSplit, Punctuation and BertPreTokenizer to
// character-class splits (HF's classes: tokenizer/bert_normalize.h).
//
// Pieces are byte ranges into a working buffer; only steps that change the
// text (Metaspace, ByteLevel's prefix space) rebuild it. Byte-level character
// remapping is not done here: the BPE model works on raw bytes.
//
// Thread-safety: immutable after construction; Run is safe from any thread.
#ifndef LLMTK_LIB_TOKENIZER_PRETOKENIZE_H_
#define LLMTK_LIB_TOKENIZER_PRETOKENIZE_H_

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "lib/base/regex.h"
#include "lib/base/status.h"

namespace llmtk {

// GPT-2's pre-tokenizer pattern (HF ByteLevel with use_regex).
inline constexpr std::string_view kGpt2Pattern =
    "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+";

enum class SplitBehavior { kRemoved, kIsolated, kMergedWithPrevious, kMergedWithNext, kContiguous };

struct PreTokenizeStep {
  enum class Kind { kSplit, kByteLevel, kMetaspace, kCharSplit };
  Kind kind = Kind::kSplit;
  // kCharSplit: every character of the class is a match of its own, except
  // kWordRuns (HF's Whitespace, the regex \w+|[^\w\s]+ with Rust's \w and \s):
  // runs of word characters and runs of other non-space characters are the
  // pieces, spaces are dropped (whatever `behavior` says).
  enum class CharClass { kWhitespace, kPunctuation, kWordRuns } char_class = CharClass::kWhitespace;
  std::shared_ptr<const Regex> regex;  // Split (and ByteLevel with use_regex)
  std::string literal;                 // Split on a literal string
  SplitBehavior behavior = SplitBehavior::kIsolated;
  bool invert = false;
  bool add_prefix_space = false;  // ByteLevel
  std::string replacement;        // Metaspace
  enum class Prepend { kAlways, kFirst, kNever } prepend = Prepend::kAlways;
  bool split = true;  // Metaspace
};

// The pieces of one text segment: byte ranges into `buf`.
struct Pieces {
  std::string buf;
  std::vector<std::pair<uint32_t, uint32_t>> ranges;  // [begin, end)
  std::string_view piece(size_t i) const {
    return std::string_view(buf).substr(ranges[i].first, ranges[i].second - ranges[i].first);
  }
};

class PreTokenizer {
 public:
  void Add(PreTokenizeStep step) { steps_.push_back(std::move(step)); }
  bool empty() const { return steps_.empty(); }
  const std::vector<PreTokenizeStep>& steps() const { return steps_; }
  // Splits `text` (valid UTF-8). `first_segment`: the segment starts the
  // input (Metaspace's prepend_scheme "first").
  absl::Status Run(std::string_view text, bool first_segment, Pieces* out) const;

 private:
  std::vector<PreTokenizeStep> steps_;
};

}  // namespace llmtk

#endif  // LLMTK_LIB_TOKENIZER_PRETOKENIZE_H_
