// tokenizer/word_ids_map: the map behind the per-thread word caches (BPE's
// in tokenizer/bpe.cc, Unigram's in tokenizer/word_cache.h): word → ids, in
// an open-addressing table whose 16-byte slots hold a hash tag and the
// offset of an arena record with the word's bytes followed by its ids.
//
// Why not absl::flat_hash_map<std::string, ...>: a probe read its control
// bytes, then the slot, then (for words over 15 bytes) the string's heap
// block, then the ids in a separate arena — four cache misses on a map of
// tens of MB. Here a probe reads the slot and one arena record, and a
// miss (most long Chinese runs miss) usually stops at the slot's tag.
//
// Thread-safety: none; each thread keeps its own.
#ifndef LLMTK_LIB_TOKENIZER_WORD_IDS_MAP_H_
#define LLMTK_LIB_TOKENIZER_WORD_IDS_MAP_H_

#include <cstdint>
#include <cstring>
#include <span>
#include <string_view>
#include <vector>

#include "absl/hash/hash.h"
#include "lib/base/huge_pages.h"

namespace llmtk {

class WordIdsMap {
 public:
  // Room for `max_entries` words; Insert empties the map when it is full.
  explicit WordIdsMap(size_t max_entries) : max_entries_(max_entries) {
    size_t cap = 16;
    while (cap < 2 * max_entries) cap *= 2;
    mask_ = cap - 1;
    slots_.assign(cap, Slot{});
  }

  void Clear() {
    if (size_ != 0) slots_.assign(slots_.size(), Slot{});
    arena_.clear();
    size_ = 0;
  }
  size_t size() const { return size_; }

  // The ids of `word`, or false.
  bool Find(std::string_view word, std::span<const uint32_t>* ids) const {
    const uint64_t h = Hash(word);
    const uint32_t tag = Tag(h);
    for (size_t i = h & mask_;; i = (i + 1) & mask_) {
      const Slot& s = slots_[i];
      if (s.tag == 0) return false;
      if (s.tag == tag && s.word_len == word.size()) {
        const uint32_t* rec = arena_.data() + s.offset;
        if (std::memcmp(rec, word.data(), word.size()) == 0) {
          *ids = std::span<const uint32_t>(rec + Words(word.size()), s.ids);
          return true;
        }
      }
    }
  }

  // Adds `word` (not present; up to 65535 bytes and ids), emptying the map
  // first when it holds max_entries words.
  void Insert(std::string_view word, std::span<const uint32_t> ids) {
    if (size_ >= max_entries_) Clear();
    const uint64_t h = Hash(word);
    size_t i = h & mask_;
    while (slots_[i].tag != 0) i = (i + 1) & mask_;
    const size_t offset = arena_.size();
    arena_.resize(offset + Words(word.size()) + ids.size());
    std::memcpy(arena_.data() + offset, word.data(), word.size());
    std::memcpy(arena_.data() + offset + Words(word.size()), ids.data(), ids.size() * sizeof(uint32_t));
    slots_[i] = Slot{Tag(h), static_cast<uint32_t>(offset), static_cast<uint16_t>(word.size()),
                     static_cast<uint16_t>(ids.size())};
    ++size_;
  }

 private:
  struct Slot {
    uint32_t tag = 0;  // 0: empty
    uint32_t offset = 0;  // into arena_, in uint32_t units
    uint16_t word_len = 0;
    uint16_t ids = 0;
  };
  static uint64_t Hash(std::string_view w) { return absl::Hash<std::string_view>{}(w); }
  static uint32_t Tag(uint64_t h) { return static_cast<uint32_t>(h >> 32) | 1; }
  static size_t Words(size_t bytes) { return (bytes + 3) / 4; }

  size_t max_entries_;
  size_t mask_ = 0;
  size_t size_ = 0;
  std::vector<Slot, HugePageAllocator<Slot>> slots_;
  std::vector<uint32_t, HugePageAllocator<uint32_t>> arena_;  // records: word bytes (padded to 4), then ids
};

}  // namespace llmtk

#endif  // LLMTK_LIB_TOKENIZER_WORD_IDS_MAP_H_
