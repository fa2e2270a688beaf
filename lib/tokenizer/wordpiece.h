// tokenizer/wordpiece: the WordPiece model (BERT): each pre-tokenized word
// becomes its longest vocabulary prefix, then the longest continuation
// (spelled with the continuing-subword prefix, "##"), and so on; a word with
// any unmatched rest, or longer than max_input_chars_per_word characters,
// becomes the single unknown token. This is HF tokenizers' WordPiece, and
// llama.cpp's WPM on GGUF "bert" vocabularies (which spell word starts with
// a leading U+2581 and continuations bare, and have no length limit).
//
// Thread-safety: immutable after Build; EncodeWord is safe from any thread.
#ifndef LLMTK_LIB_TOKENIZER_WORDPIECE_H_
#define LLMTK_LIB_TOKENIZER_WORDPIECE_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "lib/base/status.h"
#include "lib/tokenizer/model.h"

namespace llmtk {

struct WordPieceOptions {
  std::string continuing_subword_prefix = "##";
  // Words of more characters become the unknown token; 0: no limit.
  size_t max_input_chars_per_word = 100;
  uint32_t unk_id = 0;
  // GGUF (llama.cpp WPM): word-start tokens are spelled "\u2581word" and
  // continuations bare; continuing_subword_prefix is unused.
  bool gguf_spelling = false;
};

class WordPieceModel final : public TokenModel {
 public:
  // `tokens` by id ("" for ids not given). DataLoss naming `source` when
  // unk_id is outside the vocabulary.
  static absl::StatusOr<std::unique_ptr<WordPieceModel>> Build(std::vector<std::string> tokens,
                                                               const WordPieceOptions& opt,
                                                               const std::string& source);

  std::string_view type() const override { return "WordPiece"; }
  void EncodeWord(std::string_view word, std::vector<uint32_t>* out) const override;
  size_t size() const override { return tokens_.size(); }
  std::optional<uint32_t> TokenToId(std::string_view token) const override;
  const WordPieceOptions& options() const { return opt_; }

 private:
  WordPieceModel() = default;
  std::vector<std::string> tokens_;
  WordPieceOptions opt_;
  // Word-start pieces and continuation pieces, each keyed by its bare text.
  absl::flat_hash_map<std::string_view, uint32_t> start_, cont_, all_;
  size_t max_start_ = 0, max_cont_ = 0;  // longest key in bytes
};

}  // namespace llmtk

#endif  // LLMTK_LIB_TOKENIZER_WORDPIECE_H_
