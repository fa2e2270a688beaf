// base/huge_pages: an allocator for tables of megabytes probed at random
// (tokenizer hash tables): allocations of 1 MiB and more are 2 MiB-aligned
// and advised MADV_HUGEPAGE, so that (where the kernel's transparent huge
// pages are "madvise" or "always") a table takes a few TLB entries instead
// of thousands of 4 KiB pages, and is faulted in a few times instead of
// once per 4 KiB. Under a virtual machine's nested paging a TLB miss or a
// page fault costs several times what it does on bare metal; on the
// tokenizer's merge table and word cache both showed in profiles.
// Smaller allocations are plain operator new.
//
// Thread-safety: stateless.
#ifndef LLMTK_LIB_BASE_HUGE_PAGES_H_
#define LLMTK_LIB_BASE_HUGE_PAGES_H_

#include <sys/mman.h>

#include <cstddef>
#include <cstdlib>
#include <new>

namespace llmtk {

template <typename T>
struct HugePageAllocator {
  using value_type = T;
  static constexpr size_t kHugePage = size_t{2} << 20;
  static constexpr size_t kFrom = size_t{1} << 20;

  HugePageAllocator() = default;
  template <typename U>
  HugePageAllocator(const HugePageAllocator<U>&) {}

  T* allocate(size_t n) {
    const size_t bytes = n * sizeof(T);
    if (bytes < kFrom) return static_cast<T*>(::operator new(bytes));
    const size_t rounded = (bytes + kHugePage - 1) / kHugePage * kHugePage;
    void* p = std::aligned_alloc(kHugePage, rounded);
    if (p != nullptr) {
      madvise(p, rounded, MADV_HUGEPAGE);  // advice only: refused, 4 KiB pages
    } else {
      p = std::malloc(bytes);
      if (p == nullptr) throw std::bad_alloc();  // as std::allocator
    }
    return static_cast<T*>(p);
  }
  void deallocate(T* p, size_t n) {
    if (n * sizeof(T) < kFrom) {
      ::operator delete(p);
    } else {
      std::free(p);
    }
  }
  template <typename U>
  bool operator==(const HugePageAllocator<U>&) const {
    return true;
  }
};

}  // namespace llmtk

#endif  // LLMTK_LIB_BASE_HUGE_PAGES_H_
