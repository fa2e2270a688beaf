// tokenizer/train/words: the word table — every distinct pre-token once, with a
// 64-bit count, built in parallel from documents.
//
// Workers split batches of documents and count words in a local table; the
// calling thread folds the local tables into one, in batch order. Memory
// grows with distinct words, not corpus size. With a bound (max_words), the
// table is pruned whenever it grows past the bound: the rarest words go
// first, whole count classes at a time, down to 3/4 of the bound. Pruning
// depends only on batch contents, never on thread count.
//
// Thread-safety: a WordTable is used by one thread at a time.
#ifndef LLMTK_LIB_TOKENIZER_TRAIN_WORDS_H_
#define LLMTK_LIB_TOKENIZER_TRAIN_WORDS_H_

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "lib/tokenizer/train/options.h"
#include "lib/base/status.h"

namespace llmtk {

using WordCountMap = absl::flat_hash_map<std::string, uint64_t>;

class WordTable {
 public:
  explicit WordTable(uint64_t max_words = 0) : max_words_(max_words) {}

  // Splits one document and counts its words into `local` (no bound).
  static void CountText(std::string_view text, const WordSplitFn& split, WordCountMap* local,
                        std::vector<std::string_view>* scratch);
  // Folds a batch's local counts in, pruning if the bound is exceeded.
  void Merge(WordCountMap& local);

  const WordCountMap& counts() const { return counts_; }
  WordCountMap& mutable_counts() { return counts_; }
  uint64_t occurrences() const { return occurrences_; }
  uint64_t pruned_words() const { return pruned_words_; }

 private:
  void Prune();
  uint64_t max_words_;
  WordCountMap counts_;
  uint64_t occurrences_ = 0, pruned_words_ = 0;
};

// Counts the words of every document produced by `next_doc` (which returns
// false at the end) on `threads` threads. Batching is by bytes, so results do
// not depend on `threads`. `on_batch(bytes)` reports progress.
absl::Status CountWords(const std::function<absl::StatusOr<bool>(std::string* text)>& next_doc,
                        const WordSplitFn& split, int threads, WordTable* table,
                        const std::function<void(uint64_t docs, uint64_t bytes)>& on_batch);

}  // namespace llmtk

#endif  // LLMTK_LIB_TOKENIZER_TRAIN_WORDS_H_
