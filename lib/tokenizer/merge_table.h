// tokenizer/merge_table: BPE merge rules by pair, in an open-addressing table
// whose 16-byte slots hold key and value together, at most two-thirds full
// with linear probing: a lookup reads (nearly always) one cache line.
// absl::flat_hash_map reads two (its control bytes, then the slot), and
// merge lookups of words that miss the word cache (long Chinese runs above
// all) were the largest share of byte-level BPE encoding.
//
// Thread-safety: immutable after the last Insert; Find is safe from any thread.
#ifndef LLMTK_LIB_TOKENIZER_MERGE_TABLE_H_
#define LLMTK_LIB_TOKENIZER_MERGE_TABLE_H_

#include <cstddef>
#include <cstdint>
#include <vector>

#include "lib/base/huge_pages.h"

namespace llmtk {

class MergeTable {
 public:
  struct Info {
    uint32_t rank;
    uint32_t merged;
  };
  // Room for `n` pairs (call before the first Insert).
  void Reserve(size_t n) {
    size_t cap = 16;
    while (cap < n + n / 2) cap *= 2;
    slots_.assign(cap, Slot{kEmpty, {0, 0}});
    mask_ = cap - 1;
    shift_ = 64;
    for (size_t c = cap; c > 1; c >>= 1) --shift_;
  }
  // Adds the pair (left, right) unless present: the first rule for a pair
  // wins. Ids are below 2^31. Returns whether it was added.
  bool Insert(uint32_t left, uint32_t right, Info info) {
    if ((size_ + 1) * 3 > slots_.size() * 2) Grow();
    const uint64_t key = Key(left, right);
    for (size_t i = Home(key);; i = (i + 1) & mask_) {
      if (slots_[i].key == key) return false;
      if (slots_[i].key == kEmpty) {
        slots_[i] = Slot{key, info};
        ++size_;
        return true;
      }
    }
  }
  const Info* Find(uint32_t left, uint32_t right) const {
    if (slots_.empty()) return nullptr;
    const uint64_t key = Key(left, right);
    for (size_t i = Home(key);; i = (i + 1) & mask_) {
      const Slot& s = slots_[i];
      if (s.key == key) return &s.info;
      if (s.key == kEmpty) return nullptr;
    }
  }
  size_t size() const { return size_; }
  // Starts loading the slot where Find(left, right) begins.
  void Prefetch(uint32_t left, uint32_t right) const {
    if (!slots_.empty()) __builtin_prefetch(&slots_[Home(Key(left, right))]);
  }

 private:
  static constexpr uint64_t kEmpty = ~uint64_t{0};  // no pair: ids are below 2^31
  struct Slot {
    uint64_t key;
    Info info;
  };
  static uint64_t Key(uint32_t left, uint32_t right) { return static_cast<uint64_t>(left) << 32 | right; }
  size_t Home(uint64_t key) const {
    key ^= key >> 33;
    key *= 0xff51afd7ed558ccdULL;
    key ^= key >> 33;
    return static_cast<size_t>(key >> shift_);
  }
  void Grow() {
    std::vector<Slot, HugePageAllocator<Slot>> old;
    old.swap(slots_);
    Reserve(old.empty() ? 16 : old.size());
    size_ = 0;
    for (const Slot& s : old)
      if (s.key != kEmpty) Insert(static_cast<uint32_t>(s.key >> 32), static_cast<uint32_t>(s.key), s.info);
  }
  std::vector<Slot, HugePageAllocator<Slot>> slots_;  // megabytes, probed at random
  size_t size_ = 0;
  size_t mask_ = 0;
  int shift_ = 64;
};

}  // namespace llmtk

#endif  // LLMTK_LIB_TOKENIZER_MERGE_TABLE_H_
