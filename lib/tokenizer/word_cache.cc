#include "lib/tokenizer/word_cache.h"

#include <atomic>

namespace llmtk {

uint64_t WordCache::NewModelId() {
  static std::atomic<uint64_t> next{1};
  return next.fetch_add(1);
}

WordCache& WordCache::ForThread() {
  thread_local WordCache cache;
  return cache;
}

}  // namespace llmtk
