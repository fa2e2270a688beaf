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
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "lib/base/status.h"

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
    auto it = c.map_.find(ToAbsl(word));
    if (it != c.map_.end()) {
      const uint32_t* p = c.ids_.data() + it->second.first;
      out->insert(out->end(), p, p + it->second.second);
      return;
    }
    const size_t before = out->size();
    encode(word, out);
    if (c.map_.size() >= kMaxEntries) c.Reset(model);
    c.map_.try_emplace(std::string(word), static_cast<uint32_t>(c.ids_.size()),
                       static_cast<uint32_t>(out->size() - before));
    c.ids_.insert(c.ids_.end(), out->begin() + static_cast<std::ptrdiff_t>(before), out->end());
  }

 private:
  static WordCache& ForThread();
  void Reset(uint64_t model) {
    model_ = model;
    map_.clear();
    ids_.clear();
  }
  uint64_t model_ = 0;
  absl::flat_hash_map<std::string, std::pair<uint32_t, uint32_t>> map_;  // word → (offset, count) in ids_
  std::vector<uint32_t> ids_;
};

}  // namespace llmtk

#endif  // LLMTK_LIB_TOKENIZER_WORD_CACHE_H_
