// tokenizer/train/split: the trainer's pre-tokenizer — named Split regex patterns
// and a splitter over the tokenizer library's Regex (lib/base/regex.h), the same
// engine `llmtk-tok encode` runs them with.
//
// The patterns are the ones HF tokenizer.json files carry, so a trained
// tokenizer's Split pre-tokenizer reproduces exactly the words it was trained
// on. "cjk" is Llama 3's pattern with runs of Han/Hiragana/Katakana split off
// from other letters and cut into pieces of at most two characters, so
// Chinese text yields reusable words rather than one "word" per clause (see
// docs/benchmarks.md, "Tokenizer training").
//
// Invalid UTF-8 (possible only through the library API: the document reader
// rejects or repairs it) does not reach the regex: each maximal invalid
// sequence becomes a word of its own and trains as bytes.
//
// Thread-safety: the returned WordSplitFn is safe to call concurrently.
#ifndef LLMTK_LIB_TOKENIZER_TRAIN_SPLIT_H_
#define LLMTK_LIB_TOKENIZER_TRAIN_SPLIT_H_

#include <string>
#include <string_view>

#include "lib/tokenizer/train/options.h"
#include "lib/base/status.h"

namespace llmtk {

// The regex for a pre-tokenizer name, or `name` itself when it is not a known
// name (a custom pattern).
std::string PreTokenizerPattern(std::string_view name);

// Compiles `pattern` (UTF + Unicode properties, as HF's onig patterns mean
// them). A pattern that does not compile is InvalidArgument naming the offset.
absl::StatusOr<WordSplitFn> MakeRegexSplitter(const std::string& pattern);

}  // namespace llmtk

#endif  // LLMTK_LIB_TOKENIZER_TRAIN_SPLIT_H_
