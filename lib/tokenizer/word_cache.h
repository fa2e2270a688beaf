// tokenizer/word_cache: a per-thread cache of word → ids for models whose
// EncodeWord is a function of the word alone (Unigram, WordPiece). Natural
// text repeats its words, so most words of a corpus are found here instead
// of being segmented again; BPE keeps its own (tokenizer/bpe.cc).
//
// Each thread holds one cache, for one model at a time: a model takes a
// NewModelId() when built, and the cache empties when a thread turns to
// another model. Only words up to kMaxWordBytes are kept, and the cache
// empties when it holds kMaxEntries.
//
// Thread-safety: the cache is thread-local; Encode may be called from any thread.
#ifndef LLMTK_LIB_TOKENIZER_WORD_CACHE_H_
#define LLMTK_LIB_TOKENIZER_WORD_CACHE_H_

#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "lib/tokenizer/word_ids_map.h"

namespace llmtk {

class WordCache {
 public:
  static constexpr size_t kMaxWordBytes = 64;
  static constexpr size_t kMaxEntries = 1 << 17;

  // A process-unique id for a model's cache entries.
  static uint64_t NewModelId();

  // Appends the ids of `word` to *out: from the calling thread's cache, or
  // from encode(word, out), whose result is then kept.
  template <typename Fn>
  static void Encode(uint64_t model, std::string_view word, std::vector<uint32_t>* out, Fn encode) {
    if (word.size() > kMaxWordBytes) {
      encode(word, out);
      return;
    }
    WordCache& c = ForThread();
    if (c.model_ != model) c.Reset(model);
    std::span<const uint32_t> ids;
    if (c.map_.Find(word, &ids)) {
      out->insert(out->end(), ids.begin(), ids.end());
      return;
    }
    const size_t before = out->size();
    encode(word, out);
    c.map_.Insert(word, std::span<const uint32_t>(out->data() + before, out->size() - before));
  }

 private:
  static WordCache& ForThread();
  void Reset(uint64_t model) {
    model_ = model;
    map_.Clear();
  }
  uint64_t model_ = 0;
  WordIdsMap map_{kMaxEntries};  // empties itself when full
};

}  // namespace llmtk

#endif  // LLMTK_LIB_TOKENIZER_WORD_CACHE_H_
