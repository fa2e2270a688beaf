// tokenizer/bert_vocab: a BERT vocab.txt (one WordPiece token a line, ids
// by line number) made into the tokenizer.json transformers writes for it
// (BertTokenizerFast, convert_slow_tokenizer's BertConverter): BertNormalizer,
// BertPreTokenizer, WordPiece ("##", 100 characters, [UNK]), the
// "[CLS] $A [SEP]" / "[CLS] $A [SEP] $B [SEP]" templates, the WordPiece
// decoder, and [PAD] [UNK] [CLS] [SEP] [MASK] as special added tokens.
//
// Thread-safety: stateless; safe from any thread.
#ifndef LLMTK_LIB_TOKENIZER_BERT_VOCAB_H_
#define LLMTK_LIB_TOKENIZER_BERT_VOCAB_H_

#include <string>
#include <string_view>
#include <vector>

#include "lib/base/status.h"

namespace llmtk {

struct BertVocabOptions {
  bool lowercase = true;  // uncased models (do_lower_case; accents stripped too)
  bool handle_chinese_chars = true;
  // Listed as special added tokens when the vocabulary has them.
  std::vector<std::string> special_tokens = {"[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"};
};

// The tokenizer.json text. DataLoss naming `source` and the line for invalid
// UTF-8, CRLF line ends, a repeated token, or a missing [UNK]/[CLS]/[SEP].
absl::StatusOr<std::string> BertTokenizerJsonFromVocab(std::string_view vocab_txt, const std::string& source,
                                                       const BertVocabOptions& opt);

}  // namespace llmtk

#endif  // LLMTK_LIB_TOKENIZER_BERT_VOCAB_H_
