#include "lib/tokenizer/train/words.h"

#include <algorithm>
#include <map>

#include "lib/base/parallel.h"

namespace llmtk {

void WordTable::CountText(std::string_view text, const WordSplitFn& split, WordCountMap* local,
                          std::vector<std::string_view>* scratch) {
  scratch->clear();
  split(text, scratch);
  for (std::string_view w : *scratch) {
    auto it = local->find(ToAbsl(w));
    if (it != local->end()) {
      ++it->second;
    } else {
      local->emplace(std::string(w), 1);
    }
  }
}

void WordTable::Merge(WordCountMap& local) {
  for (auto& [word, n] : local) {
    occurrences_ += n;
    auto it = counts_.find(word);
    if (it != counts_.end()) {
      it->second += n;
    } else {
      counts_.emplace(word, n);
    }
  }
  if (max_words_ > 0 && counts_.size() > max_words_) Prune();
}

void WordTable::Prune() {
  // Drop whole count classes, rarest first, until at most 3/4 of the bound
  // remain: a threshold on counts, so the result is independent of order.
  const uint64_t target = std::max<uint64_t>(1, max_words_ - max_words_ / 4);
  std::map<uint64_t, uint64_t> histogram;
  for (const auto& [w, n] : counts_) ++histogram[n];
  uint64_t remaining = counts_.size(), threshold = 0;
  for (const auto& [n, k] : histogram) {
    if (remaining <= target) break;
    remaining -= k;
    threshold = n;
  }
  for (auto it = counts_.begin(); it != counts_.end();) {
    if (it->second <= threshold) {
      ++pruned_words_;
      counts_.erase(it++);
    } else {
      ++it;
    }
  }
}

namespace {
struct TextBatch {
  std::vector<std::string> docs;
  uint64_t bytes = 0;
};
struct CountResult {
  WordCountMap counts;
  uint64_t docs = 0, bytes = 0;
};
constexpr uint64_t kBatchBytes = 1 << 20;
}  // namespace

absl::Status CountWords(const std::function<absl::StatusOr<bool>(std::string* text)>& next_doc,
                        const WordSplitFn& split, int threads, WordTable* table,
                        const std::function<void(uint64_t, uint64_t)>& on_batch) {
  return OrderedParallelMap<TextBatch, CountResult>(
      threads,
      [&](TextBatch* batch) -> absl::StatusOr<bool> {
        while (batch->bytes < kBatchBytes) {
          std::string text;
          ASSIGN_OR_RETURN(bool more, next_doc(&text));
          if (!more) break;
          batch->bytes += text.size();
          batch->docs.push_back(std::move(text));
        }
        return !batch->docs.empty();
      },
      [&](TextBatch& batch, CountResult* result) -> absl::Status {
        std::vector<std::string_view> scratch;
        for (const std::string& d : batch.docs) {
          WordTable::CountText(d, split, &result->counts, &scratch);
        }
        result->docs = batch.docs.size();
        result->bytes = batch.bytes;
        return absl::OkStatus();
      },
      [&](CountResult& result) -> absl::Status {
        table->Merge(result.counts);
        if (on_batch) on_batch(result.docs, result.bytes);
        return absl::OkStatus();
      });
}

}  // namespace llmtk
