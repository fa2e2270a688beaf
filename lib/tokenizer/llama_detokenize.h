// tokenizer/llama_detokenize: decoding ids with a GGUF vocabulary as
// llama.cpp c392e50's llama_detokenize(remove_special = false,
// unparse_special = !skip_special) does; that is common_detokenize, which
// its tools (llama-cli, llama-server's completions, ...) use.
//
// llama.cpp builds each token's piece once (token_to_piece with special
// tokens spelled out) from the token's attribute (tokenizer/llama_token_attrs:
// its GGUF token type, or control for tokens the loader finds by name).
// Then:
// - skipping special tokens drops control and unknown ones (not
//   user-defined ones);
// - with add_space_prefix (SentencePiece, or the GGUF key) the first token
//   loses one leading space, only the first: after a dropped BOS the next
//   token keeps its space;
// - with clean_spaces (WPM, and BPE except the pre-tokenizers that unset it)
//   the joined text goes through LlamaCleanSpaces;
// - the bytes are returned as they are, valid UTF-8 or not.
//
// Thread-safety: immutable after building; Run is safe from any thread.
#ifndef LLMTK_LIB_TOKENIZER_LLAMA_DETOKENIZE_H_
#define LLMTK_LIB_TOKENIZER_LLAMA_DETOKENIZE_H_

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "lib/base/status.h"
#include "lib/tokenizer/llama_token_attrs.h"

namespace llmtk {

// llama.cpp's vocabulary types, as far as decoding tells them apart.
enum class LlamaVocabType { kSpm, kBpe, kWpm, kUgm };

struct LlamaDetokenizerOptions {
  LlamaVocabType type = LlamaVocabType::kBpe;
  bool add_space_prefix = false;
  bool clean_spaces = false;
};

// Whether llama.cpp c392e50 cleans spaces when decoding with a BPE
// vocabulary of this pre-tokenizer name (its tokenizer_clean_spaces).
bool LlamaBpeCleansSpaces(std::string_view pre);

class LlamaDetokenizer {
 public:
  // `tokens` and their attributes (ComputeLlamaTokenAttrs) by id.
  static LlamaDetokenizer Build(const std::vector<std::string>& tokens, const std::vector<LlamaTokenAttr>& attrs,
                                const LlamaDetokenizerOptions& o);

  // DataLoss naming the position of an id outside the vocabulary.
  absl::StatusOr<std::string> Run(std::span<const uint32_t> ids, bool skip_special) const;

  // Per id: the piece with special tokens spelled out, and whether
  // skipping special tokens drops it.
  const std::string& piece(uint32_t id) const { return pieces_[id]; }
  bool dropped_when_skipping(uint32_t id) const { return special_[id] != 0; }

 private:
  std::vector<std::string> pieces_;
  std::vector<uint8_t> special_;
  bool add_space_prefix_ = false;
  bool clean_spaces_ = false;
};

}  // namespace llmtk

#endif  // LLMTK_LIB_TOKENIZER_LLAMA_DETOKENIZE_H_
