// tokenizer/train/wordpiece_trainer: trains a BERT-style WordPiece tokenizer
// from JSONL or text corpora, as HF tokenizers' WordPieceTrainer does under
// BertWordPieceTokenizer's pipeline.
//
// Words are what that pipeline's BertNormalizer (clean text, spaces around
// CJK ideographs, and for uncased models lowercase and accent stripping) and
// BertPreTokenizer (whitespace, each punctuation character alone) make of
// each document — the same code `llmtk-tok encode` runs, so the trained
// tokenizer sees the words it was trained on. They are counted on
// --threads threads (tokenizer/train/words.h), then the vocabulary is
// learned (tokenizer/train/wordpiece_merge.h) and written as the
// tokenizer.json transformers writes for a BERT vocab.txt
// (tokenizer/bert_vocab.h): BertNormalizer, BertPreTokenizer, WordPiece
// ("##", [UNK], 100 characters), [CLS]/[SEP] templates, WordPiece decoder,
// the special tokens as added tokens.
//
// Determinism: the result depends only on the word counts, never on
// --threads or hash-table order.
//
// Thread-safety: TrainWordPiece uses its own thread pool; calls are independent.
#ifndef LLMTK_LIB_TOKENIZER_TRAIN_WORDPIECE_TRAINER_H_
#define LLMTK_LIB_TOKENIZER_TRAIN_WORDPIECE_TRAINER_H_

#include <string>
#include <vector>

#include "lib/base/jsonl.h"
#include "lib/base/status.h"
#include "lib/tokenizer/train/bpe_trainer.h"
#include "lib/tokenizer/train/options.h"
#include "lib/tokenizer/train/wordpiece_merge.h"

namespace llmtk {

// BertNormalizer + BertPreTokenizer as a word splitter. Normalizing changes
// the text, so the words it appends are views into a buffer of the calling
// thread, valid until that thread's next call. Invalid UTF-8 becomes U+FFFD,
// which clean_text removes.
WordSplitFn MakeBertWordSplitter(bool lowercase);

// The tokenizer.json text of a trained vocabulary. InvalidArgument when the
// special tokens lack [UNK], [CLS] or [SEP].
absl::StatusOr<std::string> WordPieceTokenizerJson(const TrainedWordPiece& model,
                                                   const WordPieceTrainerOptions& opts);

// Trains on `inputs` (paths or "-") read with `reader` options and writes
// tokenizer.json to `output`. The report's merges are merge steps; its
// alphabet_size counts the characters and their "##" forms.
absl::StatusOr<BpeTrainReport> TrainWordPiece(const std::vector<std::string>& inputs,
                                              const DocumentReaderOptions& reader,
                                              const WordPieceTrainerOptions& opts,
                                              const std::string& output);

// Reads a continuation order (WordPieceTrainerOptions::continuation_order)
// from `path`: one "##c" token a line (scripts/check-tok-train-wordpiece
// writes the order of an HF run: its single-character "##" tokens by id).
absl::StatusOr<std::vector<std::string>> ReadContinuationOrder(const std::string& path);

}  // namespace llmtk

#endif  // LLMTK_LIB_TOKENIZER_TRAIN_WORDPIECE_TRAINER_H_
