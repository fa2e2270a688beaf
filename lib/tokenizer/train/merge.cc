#include "lib/tokenizer/train/merge.h"

#include <algorithm>
#include <queue>

#include "absl/container/flat_hash_map.h"
#include "lib/tokenizer/train/alphabet.h"

namespace llmtk {
namespace {

inline uint64_t PairKey(uint32_t a, uint32_t b) { return (uint64_t{a} << 32) | b; }

struct PairInfo {
  int64_t count = 0;
  uint32_t touched_at = 0;      // last merge (1-based) that raised the count
  std::vector<uint32_t> words;  // may hold words that lost the pair since
};

struct HeapEntry {
  int64_t count;
  uint64_t pair;
  // std::priority_queue pops the largest: highest count, then smallest pair.
  bool operator<(const HeapEntry& o) const {
    return count != o.count ? count < o.count : pair > o.pair;
  }
};

struct Word {
  uint64_t begin;
  uint32_t len;
  uint64_t count;
};

// The state of one training run: the vocabulary so far, the words as symbol
// runs, and the pair index with its lazy max-heap.
class MergeLearner {
 public:
  explicit MergeLearner(const BpeTrainerOptions& opts)
      : opts_(opts),
        max_len_(opts.max_token_length > 0 ? opts.max_token_length : UINT64_MAX) {
    model_.style = opts.style;
  }

  // The special tokens, then the alphabet; returns the alphabet for
  // SymbolizeWords.
  absl::StatusOr<Alphabet> StartVocabulary(const WordCountMap& word_counts);
  // Words as symbol sequences in one flat array.
  void SymbolizeWords(const WordCountMap& word_counts, const Alphabet& alphabet);
  // Counts every adjacent pair, lists the words holding it, fills the heap.
  void IndexPairs();
  // Merges the best pair until the vocabulary is full, no pair is left, or
  // the best is rarer than min_frequency.
  void MergeUntilDone(const MergeProgress& progress);
  TrainedBpe Finish();

 private:
  using PairMap = absl::flat_hash_map<uint64_t, PairInfo>;

  // Pops stale heap entries until the top is current; false when the heap is
  // empty or the best pair is rarer than min_frequency.
  bool PopBestPair(HeapEntry* top, PairMap::iterator* it);
  // The id of the token a+b, added when new; false when SentencePiece style
  // reserves that string.
  bool MergedTokenId(uint32_t a, uint32_t b, uint32_t* c);
  // Rewrites every word that holds (a, b), which disappears from the index.
  void ApplyMerge(PairMap::iterator it, uint64_t pair, uint32_t a, uint32_t b, uint32_t c);
  void RewriteWord(uint32_t wi, uint64_t pair, uint32_t a, uint32_t b, uint32_t c, uint32_t merge_no);
  // Pushes the pairs whose counts rose in the last merge.
  void PushTouched();

  const BpeTrainerOptions& opts_;
  const uint64_t max_len_;
  TrainedBpe model_;
  std::vector<uint32_t> token_len_;  // in characters (byte-level: bytes)
  absl::flat_hash_map<std::string, uint32_t> ids_;
  std::vector<uint32_t> syms_;
  std::vector<Word> words_;
  uint64_t total_bytes_ = 0;
  PairMap pairs_;
  std::priority_queue<HeapEntry> heap_;
  std::vector<uint64_t> touched_;
};

absl::StatusOr<Alphabet> MergeLearner::StartVocabulary(const WordCountMap& word_counts) {
  for (const std::string& s : EffectiveSpecialTokens(opts_)) {
    if (s.empty()) return absl::InvalidArgumentError("--special-tokens: empty special token");
    if (!ids_.emplace(s, model_.tokens.size()).second) {
      return absl::InvalidArgumentError(
          absl::StrCat("--special-tokens: \"", s, "\" is given twice"));
    }
    model_.tokens.push_back(s);
    token_len_.push_back(s.size());
  }
  model_.num_special = static_cast<int>(model_.tokens.size());
  ASSIGN_OR_RETURN(Alphabet alphabet, Alphabet::Build(word_counts, opts_, &model_.tokens, &token_len_));
  model_.alphabet_size = alphabet.size();
  model_.character_coverage = alphabet.coverage();
  for (size_t id = model_.num_special; id < model_.tokens.size(); ++id) {
    if (!ids_.emplace(model_.tokens[id], id).second) {
      return absl::InvalidArgumentError(absl::StrCat(
          "--special-tokens: \"", model_.tokens[id],
          "\" is also an alphabet token, which is always in the vocabulary"));
    }
  }
  return alphabet;
}

void MergeLearner::SymbolizeWords(const WordCountMap& word_counts, const Alphabet& alphabet) {
  words_.reserve(word_counts.size());
  for (const auto& [w, n] : word_counts) {
    const uint64_t begin = syms_.size();
    alphabet.Symbolize(w, &syms_);
    if (syms_.size() == begin) continue;
    words_.push_back({begin, static_cast<uint32_t>(syms_.size() - begin), n});
    total_bytes_ += n * w.size();
  }
}

void MergeLearner::IndexPairs() {
  for (uint32_t wi = 0; wi < words_.size(); ++wi) {
    const Word& w = words_[wi];
    const uint32_t* s = &syms_[w.begin];
    for (uint32_t i = 0; i + 1 < w.len; ++i) {
      if (s[i] == kNoSymbol || s[i + 1] == kNoSymbol) continue;
      PairInfo& info = pairs_[PairKey(s[i], s[i + 1])];
      info.count += static_cast<int64_t>(w.count);
      if (info.words.empty() || info.words.back() != wi) info.words.push_back(wi);
    }
  }
  for (const auto& [key, info] : pairs_) heap_.push({info.count, key});
}

bool MergeLearner::PopBestPair(HeapEntry* top, PairMap::iterator* it) {
  while (!heap_.empty()) {
    *top = heap_.top();
    heap_.pop();
    *it = pairs_.find(top->pair);
    if (*it == pairs_.end()) continue;  // the pair died out (count 0) and was erased
    const int64_t current = (*it)->second.count;
    if (current != top->count) {
      if (current > 0) heap_.push({current, top->pair});
      continue;
    }
    return current > 0 && static_cast<uint64_t>(current) >= opts_.min_frequency;
  }
  return false;
}

bool MergeLearner::MergedTokenId(uint32_t a, uint32_t b, uint32_t* c) {
  const uint32_t reserved_below =
      opts_.style == BpeStyle::kSentencePiece ? static_cast<uint32_t>(model_.num_special + 256) : 0;
  std::string merged = model_.tokens[a] + model_.tokens[b];
  if (auto found = ids_.find(merged); found != ids_.end()) {
    // SentencePiece style: text spelling "<s>" or "<0x41>" must not merge
    // into that special or byte-fallback token (decoding would turn
    // "<0x41>" into "A", and llama.cpp's GGUF reader never merges into
    // them); the pair is dropped, as SentencePiece reserves those pieces.
    if (reserved_below > 0 && found->second < reserved_below) return false;
    *c = found->second;  // same string from another split: one id, as HF
  } else {
    *c = model_.tokens.size();
    ids_.emplace(merged, *c);
    model_.tokens.push_back(std::move(merged));
    token_len_.push_back(token_len_[a] + token_len_[b]);
  }
  return true;
}

void MergeLearner::RewriteWord(uint32_t wi, uint64_t pair, uint32_t a, uint32_t b, uint32_t c,
                               uint32_t merge_no) {
  Word& w = words_[wi];
  uint32_t* s = &syms_[w.begin];
  const int64_t n = static_cast<int64_t>(w.count);
  auto dec = [&](uint32_t x, uint32_t y) {
    if (x == kNoSymbol || y == kNoSymbol) return;
    uint64_t key = PairKey(x, y);
    if (key == pair) return;
    // Absent only when max_token_length kept the pair from being counted.
    if (auto f = pairs_.find(key); f != pairs_.end()) {
      // Pairs die out by the million as tokens grow; erasing them (and
      // their word lists) keeps memory near the live pairs.
      if ((f->second.count -= n) == 0) pairs_.erase(f);
    }
  };
  auto inc = [&](uint32_t x, uint32_t y) {
    if (x == kNoSymbol || y == kNoSymbol) return;
    if (token_len_[x] + token_len_[y] > max_len_) return;
    uint64_t key = PairKey(x, y);
    PairInfo& info = pairs_[key];
    info.count += n;
    if (info.words.empty() || info.words.back() != wi) info.words.push_back(wi);
    if (info.touched_at != merge_no) {
      info.touched_at = merge_no;
      touched_.push_back(key);
    }
  };
  uint32_t j = 0;
  for (uint32_t i = 0; i < w.len;) {
    if (i + 1 < w.len && s[i] == a && s[i + 1] == b) {
      if (j > 0) {
        dec(s[j - 1], a);
        inc(s[j - 1], c);
      }
      if (i + 2 < w.len) {
        dec(b, s[i + 2]);
        inc(c, s[i + 2]);
      }
      s[j++] = c;
      i += 2;
    } else {
      s[j++] = s[i++];
    }
  }
  w.len = j;
}

void MergeLearner::ApplyMerge(PairMap::iterator it, uint64_t pair, uint32_t a, uint32_t b, uint32_t c) {
  // Every occurrence of (a, b) disappears from these words below.
  std::vector<uint32_t> affected = std::move(it->second.words);
  pairs_.erase(it);
  touched_.clear();
  const uint32_t merge_no = static_cast<uint32_t>(model_.merges.size());
  for (size_t k = 0; k < affected.size(); ++k) {
    // Visiting the words is latency-bound (random words, random symbol
    // runs): prefetch the word record 16 ahead and its symbols 8 ahead.
    if (k + 16 < affected.size()) __builtin_prefetch(&words_[affected[k + 16]]);
    if (k + 8 < affected.size()) __builtin_prefetch(&syms_[words_[affected[k + 8]].begin]);
    RewriteWord(affected[k], pair, a, b, c, merge_no);
  }
}

void MergeLearner::PushTouched() {
  for (uint64_t key : touched_) {
    auto f = pairs_.find(key);
    if (f != pairs_.end() && f->second.count > 0) heap_.push({f->second.count, key});
  }
}

void MergeLearner::MergeUntilDone(const MergeProgress& progress) {
  while (model_.tokens.size() < static_cast<size_t>(opts_.vocab_size) && !heap_.empty()) {
    HeapEntry top;
    PairMap::iterator it;
    if (!PopBestPair(&top, &it)) break;
    const uint32_t a = top.pair >> 32, b = static_cast<uint32_t>(top.pair);
    if (token_len_[a] + token_len_[b] > max_len_) continue;
    uint32_t c;
    if (!MergedTokenId(a, b, &c)) continue;
    model_.merges.emplace_back(a, b);
    ApplyMerge(it, top.pair, a, b, c);
    PushTouched();
    if (progress.on_merge) progress.on_merge(static_cast<int>(model_.merges.size()));
  }
}

TrainedBpe MergeLearner::Finish() {
  uint64_t tokens = 0;
  for (const Word& w : words_) tokens += w.count * w.len;
  model_.train_bytes_per_token = tokens ? static_cast<double>(total_bytes_) / tokens : 0;
  return std::move(model_);
}

}  // namespace

absl::StatusOr<TrainedBpe> LearnMerges(WordCountMap word_counts,
                                     const BpeTrainerOptions& opts,
                                     const MergeProgress& progress) {
  RETURN_IF_ERROR(CheckVocabSize(opts));
  MergeLearner learner(opts);
  ASSIGN_OR_RETURN(Alphabet alphabet, learner.StartVocabulary(word_counts));
  learner.SymbolizeWords(word_counts, alphabet);
  // The strings are not needed any more; free them before the pair index grows.
  WordCountMap().swap(word_counts);
  learner.IndexPairs();
  learner.MergeUntilDone(progress);
  return learner.Finish();
}

}  // namespace llmtk
