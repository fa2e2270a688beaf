// tokenizer/train/unigram_trainer: trains a SentencePiece Unigram model
// (spm_train --model_type=unigram) from JSONL or text corpora.
//
// The steps follow SentencePiece's trainer_interface.cc and
// unigram_model_trainer.cc (0.1.97, the version the checks compare with):
//
//  1. Sentences (tokenizer/train/unigram_corpus.h): every line of every
//     document, longer ones (max_sentence_length bytes) skipped, normalized as
//     spm does (extra spaces removed, dummy prefix, spaces as U+2581), cut
//     into words before each U+2581 and counted. The characters covering
//     character_coverage of all occurrences are kept; the rest become U+2585.
//  2. Seed pieces (unigram_seed.h): every substring that occurs at least
//     twice, is right-branching (a suffix-tree node, as SentencePiece's
//     esaxx suffix array enumerates them) and is a valid piece (script,
//     digit and U+2581 rules, at most max_piece_length characters), scored
//     frequency x length; the best seed_size, single characters included.
//     Unlike spm we sort the suffixes of distinct words (weighted by count),
//     not of the whole corpus: the same substrings, far less memory.
//  3. EM (unigram_em.h): num_sub_iterations E/M steps (forward-backward over
//     each word's lattice; the M step keeps pieces with expected count >= 0.5
//     and scores them digamma(count) - digamma(total)), then pruning of the
//     pieces whose removal costs the least likelihood, keeping
//     shrinking_factor of them, until 1.1 x the wanted size; finally the
//     best-scoring pieces up to vocab_size, every kept character included.
//
// Output: <unk>, <s>, </s> (ids 0-2), <0x00>..<0xFF> with byte fallback, then
// the pieces by descending score; as a SentencePiece .model and/or the
// tokenizer.json `llmtk-tok convert` makes from it.
//
// Scores are rounded to multiples of 2^-score_grid_bits (default 2^-6), not
// written as EM leaves them. Why: SentencePiece keeps a lattice's path scores
// in float and HF tokenizers in double, so two segmentations that score the
// same ("I"+"II" against "II"+"I") or nearly the same go whichever way each
// one's rounding falls, and the .model and tokenizer.json of one training
// run disagree on about 1 document in 400. On the grid every path score up
// to 2^(24 - bits) (262,144 at 6 bits: ~30k tokens of one line) is exact in
// float too, both compare the same numbers, and both keep the first
// candidate of a tie, so the two files give the same ids. The rounding
// moves a score by at most 2^-7 nats; held-out bytes per token move by
// <0.05%. score_grid_bits = 0 writes EM's float scores as spm_train does.
//
// Determinism: the result depends only on the corpus and the options, never
// on --threads: expected counts are summed in fixed point, every sort has a
// total order.
//
// Thread-safety: TrainUnigram uses its own thread pool; calls are independent.
#ifndef LLMTK_LIB_TOKENIZER_TRAIN_UNIGRAM_TRAINER_H_
#define LLMTK_LIB_TOKENIZER_TRAIN_UNIGRAM_TRAINER_H_

#include <cstdint>
#include <string>
#include <vector>

#include "lib/base/jsonl.h"
#include "lib/base/status.h"
#include "lib/formats/sentencepiece_model.h"

namespace llmtk {

struct UnigramTrainerOptions {
  int vocab_size = 32000;             // total: <unk>, <s>, </s> and byte pieces included
  double character_coverage = 0.9995;
  int max_piece_length = 16;          // in characters
  int max_sentence_length = 4192;     // bytes; longer lines are skipped, as spm does
  int seed_size = 1000000;            // seed pieces, characters included
  double shrinking_factor = 0.75;
  int num_sub_iterations = 2;
  bool byte_fallback = false;
  bool split_digits = false;
  bool split_by_number = true;
  bool split_by_unicode_script = true;
  bool add_dummy_prefix = true;
  int score_grid_bits = 6;            // 0: unrounded (see above)
  uint64_t max_words = 0;             // bound on distinct words kept; 0: unlimited
  int threads = 0;                    // 0: all cores
  bool show_progress = false;
};

struct UnigramTrainReport {
  uint64_t documents = 0;
  uint64_t bytes = 0;              // text bytes read
  uint64_t sentences = 0;          // lines trained on
  uint64_t too_long_sentences = 0; // skipped (max_sentence_length)
  uint64_t distinct_words = 0;
  uint64_t replaced_utf8_docs = 0;
  int required_chars = 0;
  double character_coverage = 1.0; // achieved
  uint64_t seed_pieces = 0;
  int em_rounds = 0;
  int vocab_size = 0;
  double train_bytes_per_token = 0;  // on the training words, Viterbi with the final pieces
  double count_seconds = 0, seed_seconds = 0, em_seconds = 0;
};

// Trains on `inputs` (paths or "-") and returns the model; `report` gets the
// figures. InvalidArgument for options out of range, DataLoss for a corpus
// with no text or one with more kept characters than vocab_size allows.
absl::StatusOr<SentencePieceModel> TrainUnigram(const std::vector<std::string>& inputs,
                                                const DocumentReaderOptions& reader,
                                                const UnigramTrainerOptions& opts,
                                                UnigramTrainReport* report);

// Writes `model` to `spm_model` (a .model, when not empty) and `json` (an HF
// tokenizer.json, when not empty).
absl::Status WriteUnigramOutputs(const SentencePieceModel& model, const std::string& json,
                                 const std::string& spm_model);

// The report as one JSON object line, or as a one-line human summary.
std::string FormatUnigramReport(const UnigramTrainReport& r, const std::string& output, bool json);

}  // namespace llmtk

#endif  // LLMTK_LIB_TOKENIZER_TRAIN_UNIGRAM_TRAINER_H_
