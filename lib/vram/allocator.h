// vram/allocator: the block and segment rules of PyTorch's CUDA caching
// allocator (c10/cuda/CUDACachingAllocator.cpp, the native allocator without
// expandable segments), used to turn allocated bytes into reserved bytes
// (docs/vram.md "What the measurement reports").
//
// Thread-safety: pure functions over plain values; safe from any thread.
#ifndef LLMTK_LIB_VRAM_ALLOCATOR_H_
#define LLMTK_LIB_VRAM_ALLOCATOR_H_

#include <cstdint>
#include <vector>

namespace llmtk::cuda_alloc {

// The allocator's constants, as named in CUDACachingAllocator.cpp.
inline constexpr int64_t kMinBlockSize = 512;         // every size rounds up to 512 B
inline constexpr int64_t kSmallSize = 1 << 20;        // <= 1 MiB: the small pool
inline constexpr int64_t kSmallBuffer = 2 << 20;      // small pool segments: 2 MiB
inline constexpr int64_t kMinLargeAlloc = 10 << 20;   // 1-10 MiB requests share 20 MiB
inline constexpr int64_t kLargeBuffer = 20 << 20;     // segments of 20 MiB
inline constexpr int64_t kRoundLarge = 2 << 20;       // larger segments round to 2 MiB

// round_size(): the block a request of `bytes` gets (default config: no
// power-of-two divisions).
int64_t BlockSize(int64_t bytes);
// get_allocation_size(): the cudaMalloc'd segment a block of `block` bytes
// needs when no cached block fits.
int64_t SegmentSize(int64_t block);
// should_split(): whether the rest of a free block of `free_block` bytes
// stays free after `block` bytes are carved from it (small pool: >= 512 B
// left; large pool: > 1 MiB left).
bool KeepsRemainder(int64_t free_block, int64_t block);

// Bytes reserved (segments cudaMalloc'd) after the requests in `sizes` are
// allocated in order on one stream with nothing freed: each request takes
// the smallest cached free block that fits (best fit), splitting it when
// KeepsRemainder says so, or a new segment of SegmentSize.
int64_t ReservedForSequence(const std::vector<int64_t>& sizes);

}  // namespace llmtk::cuda_alloc

#endif  // LLMTK_LIB_VRAM_ALLOCATOR_H_
