// tokenizer/bert_normalize: the character classes and text rules of HF
// tokenizers' BERT components — BertNormalizer (clean_text,
// handle_chinese_chars, strip_accents, lowercase), StripAccents, Lowercase,
// and the whitespace and punctuation splits of BertPreTokenizer,
// WhitespaceSplit and Punctuation.
//
// HF takes its control, punctuation and mark classes from the
// unicode_categories and unicode-normalization-alignments crates, whose
// frozen tables are neither current Unicode nor any one version of it (no
// Cf/P/Mn added after Unicode 8.0). These four classes are therefore HF's
// own answers, generated into hf_char_classes.inc by
// scripts/wordpiece-unicode-ref.js; whitespace, \w, NFD and lowercase come
// from Rust's std, regex and unicode-normalization (current Unicode), and so
// from utf8proc (Unicode 15) here. tests/wordpiece_unicode_test.cc checks all
// 1,112,064 code points against HF's answers (the letters, digits and case
// pairs of Unicode 16 and 17, which utf8proc 2.8 lacks, are listed there).
//
// Thread-safety: stateless; safe from any thread.
#ifndef LLMTK_LIB_TOKENIZER_BERT_NORMALIZE_H_
#define LLMTK_LIB_TOKENIZER_BERT_NORMALIZE_H_

#include <string>
#include <string_view>

#include "lib/base/status.h"

namespace llmtk {

// Rust's char::is_whitespace (Unicode White_Space).
bool IsHfWhitespace(char32_t cp);
// What BertNormalizer's clean_text removes: NUL, U+FFFD and "other"
// characters (Cc, Cf, Co; Cn is empty in HF's tables) except \t \n \r.
bool IsBertRemoved(char32_t cp);
// HF's is_punctuation: ASCII punctuation (which takes in the ASCII symbols
// $ + < = > ^ ` | ~) or Unicode P*.
bool IsHfPunctuation(char32_t cp);
// HF's is_mark_nonspacing (Mn): what BertNormalizer's strip_accents drops.
bool IsHfNonSpacingMark(char32_t cp);
// HF's is_combining_mark (M*, older tables): what StripAccents drops.
bool IsHfCombiningMark(char32_t cp);
// Rust regex's \w: Alphabetic, marks, decimal digits, connector
// punctuation and the joiners U+200C/U+200D (HF's Whitespace pre-tokenizer).
bool IsRustWordChar(char32_t cp);
// BertNormalizer's "Chinese character": the CJK Unified Ideographs blocks
// and the compatibility ideographs.
bool IsBertChineseChar(char32_t cp);

// Rust's char::to_lowercase: the full mapping (U+0130 becomes "i\u0307"),
// one character at a time (no final-sigma rule), as HF's Lowercase and
// BertNormalizer's lowercase. `s` must be valid UTF-8.
std::string HfLowercase(std::string_view s);

struct BertNormalizerOptions {
  bool clean_text = true;
  bool handle_chinese_chars = true;
  bool strip_accents = true;  // tokenizer.json's null: the value of lowercase
  bool lowercase = true;
};

// BertNormalizer on valid UTF-8. ASCII characters it keeps are mapped by
// a table; the runs between them go through BertNormalizeReference. The
// same bytes: each step works per character, except NFD's reordering of
// combining marks, which never crosses an ASCII character (a starter).
absl::Status BertNormalize(std::string_view in, const BertNormalizerOptions& o, std::string* out);
// BertNormalizer step by step over the whole text: the reference.
absl::Status BertNormalizeReference(std::string_view in, const BertNormalizerOptions& o, std::string* out);
// The StripAccents normalizer: drops combining marks (no NFD of its own).
std::string DropCombiningMarks(std::string_view s);

// llama.cpp's WPM preprocessing (GGUF "bert" vocabularies), which differs
// from BertNormalizer: each character becomes the first character of its
// NFD (so accents go, and Hangul syllables keep only their first jamo),
// NUL, U+FFFD and \p{C} go, the rest is lowercased (simple mapping); words
// are separated by one space, and punctuation, ASCII symbols and Chinese
// characters become words of their own. Splitting the result on spaces
// gives llama.cpp's words.
std::string LlamaWpmPreprocess(std::string_view s);

}  // namespace llmtk

#endif  // LLMTK_LIB_TOKENIZER_BERT_NORMALIZE_H_
