// tokenizer/base64: standard base64 with padding, as tiktoken rank files and
// tokenizer.json's Precompiled normalizer (precompiled_charsmap) hold bytes.
#ifndef LLMTK_LIB_TOKENIZER_BASE64_H_
#define LLMTK_LIB_TOKENIZER_BASE64_H_

#include <string>
#include <string_view>

namespace llmtk {

// The value of a base64 alphabet character, -1 for any other.
int Base64Value(char c);
// False for a length that is not a multiple of 4, a character outside the
// alphabet or data after padding.
bool DecodeBase64(std::string_view s, std::string* out);
std::string EncodeBase64(std::string_view bytes);

}  // namespace llmtk

#endif  // LLMTK_LIB_TOKENIZER_BASE64_H_
