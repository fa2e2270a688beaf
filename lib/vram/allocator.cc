// PyTorch CUDA caching allocator rules (c10/cuda/CUDACachingAllocator.cpp:
// round_size, get_allocation_size, should_split, get_free_block).
#include "lib/vram/allocator.h"

#include <algorithm>
#include <iterator>
#include <set>

namespace llmtk::cuda_alloc {

int64_t BlockSize(int64_t bytes) {
  if (bytes < kMinBlockSize) return kMinBlockSize;
  return (bytes + kMinBlockSize - 1) / kMinBlockSize * kMinBlockSize;
}

int64_t SegmentSize(int64_t block) {
  if (block <= kSmallSize) return kSmallBuffer;
  if (block < kMinLargeAlloc) return kLargeBuffer;
  return (block + kRoundLarge - 1) / kRoundLarge * kRoundLarge;
}

bool KeepsRemainder(int64_t free_block, int64_t block) {
  const int64_t remaining = free_block - block;
  if (block <= kSmallSize) return remaining >= kMinBlockSize;
  return remaining > kSmallSize;
}

int64_t ReservedForSequence(const std::vector<int64_t>& sizes) {
  // Free blocks per pool, ordered by size as the allocator's BlockPool is
  // (one stream, so the stream key drops out).
  std::multiset<int64_t> small, large;
  int64_t reserved = 0;
  for (int64_t request : sizes) {
    const int64_t block = BlockSize(request);
    std::multiset<int64_t>& pool = block <= kSmallSize ? small : large;
    int64_t from;
    auto it = pool.lower_bound(block);
    if (it != pool.end()) {
      from = *it;
      pool.erase(it);
    } else {
      from = SegmentSize(block);
      reserved += from;
    }
    if (KeepsRemainder(from, block)) pool.insert(from - block);
  }
  return reserved;
}

}  // namespace llmtk::cuda_alloc
