// tokenizer/invalid_utf8: what a tokenizer does with text that is not valid
// UTF-8, per the implementation its ids must match.
//
// - HF tokenizers (tokenizer.json) and tiktoken take only strings, so such
//   text cannot reach them: we refuse it, naming the byte offset.
// - llama.cpp (c392e50) tokenizes anything. Its byte-level BPE path decodes
//   the text with unicode_cpts_from_utf8, which checks only the lead byte's
//   pattern and the continuation bytes' 10xxxxxx: each byte that fails
//   becomes U+FFFD (one per byte, not per maximal subpart), while overlong
//   forms decode to their value (C0 80 is NUL) and surrogates (ED A0 80) to
//   D800..DFFF; the code points are then re-encoded (unicode_cpt_to_utf8)
//   before the regex split and byte-level BPE. A sequence decoding past
//   U+10FFFF (F4 90.., F5..F7 leads) makes unicode_cpt_to_utf8 throw, and
//   llama-tokenize aborts ("invalid codepoint"): no ids to match, so we
//   refuse those. Its WPM path (GGUF "bert") reads the text the same way;
//   its preprocessing then drops U+FFFD, NUL and \p{C} (surrogates) from
//   the words, so those bytes vanish.
// - llama.cpp's SentencePiece path keeps the raw bytes: symbols are cut by
//   the lead byte's length (BpeOptions::lead_byte_chars) and an unknown
//   symbol falls back to its bytes' <0xXX> tokens.
//
// Thread-safety: stateless.
#ifndef LLMTK_LIB_TOKENIZER_INVALID_UTF8_H_
#define LLMTK_LIB_TOKENIZER_INVALID_UTF8_H_

#include <cstddef>
#include <string>
#include <string_view>

#include "lib/base/status.h"

namespace llmtk {

enum class InvalidUtf8Mode {
  kRefuse,     // tokenizer.json, tiktoken
  kLlamaCpp,   // GGUF byte-level BPE and bert (WPM): llama.cpp's code points (see above)
  kRawBytes,   // GGUF SentencePiece: the bytes as they are
};

// Bytes of `s` outside well-formed UTF-8 sequences (Unicode's definition,
// maximal subparts), and the offset of the first (unchanged when none).
size_t CountInvalidUtf8Bytes(std::string_view s, size_t* first = nullptr);

// `text` (one segment between special tokens, as llama.cpp decodes each
// separately) as llama.cpp's BPE path sees it: *bytes gets the re-encoded
// code points (what byte-level BPE encodes), *regex_text the same with each
// surrogate replaced by U+E000, which has the same byte length and
// llama.cpp's same character flags (both CONTROL) but, unlike a surrogate,
// is valid UTF-8 for the regex engine; *has_surrogates says whether the two
// differ. DataLoss naming `offset + position` for a code point past
// U+10FFFF.
absl::Status LlamaCppCodepointBytes(std::string_view text, size_t offset, std::string* bytes,
                                    std::string* regex_text, bool* has_surrogates);

// The message for text a kRefuse tokenizer cannot take: the offset, the
// byte, and why (`format`: "tokenizer.json" or "tiktoken").
std::string RefusedUtf8Message(std::string_view text, size_t offset, std::string_view format);

}  // namespace llmtk

#endif  // LLMTK_LIB_TOKENIZER_INVALID_UTF8_H_
