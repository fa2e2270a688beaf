#include "lib/tokenizer/train/wordpiece_merge.h"

#include <algorithm>
#include <queue>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "lib/base/unicode.h"

namespace llmtk {
namespace {

inline uint64_t PairKey(uint32_t a, uint32_t b) { return (uint64_t{a} << 32) | b; }

struct Entry {
  uint64_t count;
  uint64_t pair;
  uint64_t seq;  // push order: among entries of one pair and count, the older pops first
  uint32_t pos;  // index of its word list in the pool
  // std::priority_queue pops the largest: highest count, smallest pair, oldest.
  bool operator<(const Entry& o) const {
    if (count != o.count) return count < o.count;
    if (pair != o.pair) return pair > o.pair;
    return seq > o.seq;
  }
};

struct Word {
  uint64_t begin;
  uint32_t len;
  uint64_t count;
};

class Learner {
 public:
  Learner(const WordPieceTrainerOptions& opts, const std::function<void(int)>& on_merge)
      : opts_(opts), on_merge_(on_merge) {}

  absl::Status Start(const WordCountMap& words);
  void IndexPairs();
  void MergeUntilDone();
  TrainedWordPiece Finish();

 private:
  uint32_t IdOf(std::string s);  // adds the token when new
  absl::Status AddAlphabet(const WordCountMap& words);
  absl::Status AddContinuations(const WordCountMap& words);
  void Symbolize(const WordCountMap& words);
  uint32_t NewPos();
  void AddToWhere(uint64_t pair, uint32_t wi);
  void Change(uint64_t pair, int sign, uint32_t wi);
  void MergeInWord(uint32_t wi, uint32_t a, uint32_t b, uint32_t c);

  const WordPieceTrainerOptions& opts_;
  const std::function<void(int)>& on_merge_;
  TrainedWordPiece model_;
  absl::flat_hash_map<std::string, uint32_t> ids_;
  std::vector<uint32_t> syms_;
  std::vector<Word> words_;
  uint64_t total_bytes_ = 0;
  absl::flat_hash_map<uint64_t, int64_t> pair_counts_;  // never erased, as HF's
  std::priority_queue<Entry> heap_;
  uint64_t seq_ = 0;
  std::vector<std::vector<uint32_t>> pool_;  // word lists of heap entries
  std::vector<uint32_t> free_pos_;
  absl::flat_hash_map<uint64_t, uint32_t> where_;  // pairs that grew in this merge
};

uint32_t Learner::IdOf(std::string s) {
  auto [it, fresh] = ids_.try_emplace(s, static_cast<uint32_t>(model_.tokens.size()));
  if (fresh) model_.tokens.push_back(std::move(s));
  return it->second;
}

absl::Status Learner::AddAlphabet(const WordCountMap& words) {
  absl::flat_hash_map<char32_t, uint64_t> freq;
  for (const auto& [w, n] : words) {
    for (size_t pos = 0; pos < w.size();) {
      int32_t cp = DecodeUtf8(w, &pos);
      if (cp == kInvalidUtf8) {
        return absl::InvalidArgumentError("WordPiece training words must be valid UTF-8");
      }
      freq[static_cast<char32_t>(cp)] += n;
    }
  }
  std::vector<std::pair<char32_t, uint64_t>> chars(freq.begin(), freq.end());
  if (opts_.limit_alphabet > 0 && chars.size() > static_cast<size_t>(opts_.limit_alphabet)) {
    // HF drops the rarest; its sort leaves equally rare characters in hash
    // order, we keep the smaller code point.
    std::sort(chars.begin(), chars.end(), [](const auto& x, const auto& y) {
      return x.second != y.second ? x.second > y.second : x.first < y.first;
    });
    chars.resize(opts_.limit_alphabet);
  }
  std::sort(chars.begin(), chars.end());
  const size_t before = model_.tokens.size();
  for (const auto& [cp, n] : chars) {
    std::string s;
    AppendUtf8(&s, cp);
    IdOf(std::move(s));
  }
  model_.alphabet_size = static_cast<int>(model_.tokens.size() - before);
  return absl::OkStatus();
}

absl::Status Learner::AddContinuations(const WordCountMap& words) {
  // The "##c" tokens HF creates: an alphabet character after a word's first.
  absl::flat_hash_set<std::string> needed;
  std::string ch;
  for (const auto& [w, n] : words) {
    size_t pos = 0;
    DecodeUtf8(w, &pos);
    while (pos < w.size()) {
      const size_t start = pos;
      DecodeUtf8(w, &pos);
      ch.assign(w, start, pos - start);
      if (ids_.contains(ch)) needed.insert(absl::StrCat(kWordPiecePrefix, ch));
    }
  }
  std::vector<std::string> order;
  if (opts_.continuation_order.empty()) {
    order.assign(needed.begin(), needed.end());
    // Code-point order: UTF-8 byte order after the common prefix.
    std::sort(order.begin(), order.end());
  } else {
    absl::flat_hash_set<std::string> seen;
    for (const std::string& t : opts_.continuation_order) {
      if (!needed.contains(t)) {
        return absl::InvalidArgumentError(absl::StrCat(
            "continuation order: \"", t, "\" is not a \"##\" character token of this corpus ",
            "(the order must come from a run on the same words and alphabet)"));
      }
      if (!seen.insert(t).second) {
        return absl::InvalidArgumentError(absl::StrCat("continuation order: \"", t, "\" is listed twice"));
      }
    }
    if (seen.size() != needed.size()) {
      std::vector<std::string> missing;
      for (const std::string& t : needed)
        if (!seen.contains(t)) missing.push_back(t);
      std::sort(missing.begin(), missing.end());
      return absl::InvalidArgumentError(absl::StrCat(
          "continuation order: ", missing.size(), " of the corpus's ", needed.size(),
          " \"##\" character tokens are not listed (first: \"", missing[0], "\")"));
    }
    order = opts_.continuation_order;
  }
  const size_t before = model_.tokens.size();
  for (std::string& t : order) IdOf(std::move(t));
  model_.continuation_size = static_cast<int>(model_.tokens.size() - before);
  return absl::OkStatus();
}

void Learner::Symbolize(const WordCountMap& words) {
  words_.reserve(words.size());
  std::string ch;
  for (const auto& [w, n] : words) {
    const uint64_t begin = syms_.size();
    for (size_t pos = 0; pos < w.size();) {
      const size_t start = pos;
      DecodeUtf8(w, &pos);
      ch.assign(w, start, pos - start);
      auto it = ids_.find(ch);
      if (it == ids_.end()) continue;  // left out of a limited alphabet, as HF
      syms_.push_back(start == 0 ? it->second : ids_.at(absl::StrCat(kWordPiecePrefix, ch)));
    }
    words_.push_back({begin, static_cast<uint32_t>(syms_.size() - begin), n});
    total_bytes_ += n * w.size();
  }
}

absl::Status Learner::Start(const WordCountMap& words) {
  for (const std::string& s : opts_.special_tokens) {
    if (s.empty()) return absl::InvalidArgumentError("--special-tokens: empty special token");
    if (ids_.contains(s)) {
      return absl::InvalidArgumentError(absl::StrCat("--special-tokens: \"", s, "\" is given twice"));
    }
    IdOf(s);
  }
  model_.num_special = static_cast<int>(model_.tokens.size());
  RETURN_IF_ERROR(AddAlphabet(words));
  RETURN_IF_ERROR(AddContinuations(words));
  Symbolize(words);
  return absl::OkStatus();
}

uint32_t Learner::NewPos() {
  if (!free_pos_.empty()) {
    uint32_t p = free_pos_.back();
    free_pos_.pop_back();
    return p;
  }
  pool_.emplace_back();
  return static_cast<uint32_t>(pool_.size() - 1);
}

void Learner::AddToWhere(uint64_t pair, uint32_t wi) {
  auto [it, fresh] = where_.try_emplace(pair, 0);
  if (fresh) it->second = NewPos();
  std::vector<uint32_t>& v = pool_[it->second];
  // A word's changes come together, so a repeat is always the last one.
  if (v.empty() || v.back() != wi) v.push_back(wi);
}

void Learner::IndexPairs() {
  for (uint32_t wi = 0; wi < words_.size(); ++wi) {
    const Word& w = words_[wi];
    const uint32_t* s = &syms_[w.begin];
    for (uint32_t i = 0; i + 1 < w.len; ++i) {
      const uint64_t key = PairKey(s[i], s[i + 1]);
      pair_counts_[key] += static_cast<int64_t>(w.count);
      AddToWhere(key, wi);
    }
  }
  for (const auto& [key, pos] : where_) {
    const int64_t n = pair_counts_[key];
    if (n > 0) {
      heap_.push({static_cast<uint64_t>(n), key, seq_++, pos});
    } else {
      pool_[pos].clear();
      free_pos_.push_back(pos);
    }
  }
  where_.clear();
}

void Learner::Change(uint64_t pair, int sign, uint32_t wi) {
  pair_counts_[pair] += sign * static_cast<int64_t>(words_[wi].count);
  if (sign > 0) AddToWhere(pair, wi);
}

void Learner::MergeInWord(uint32_t wi, uint32_t a, uint32_t b, uint32_t c) {
  // HF's Word::merge, left to right without overlap, compacted in place:
  // the symbol before an occurrence is the one already written (possibly c),
  // the one after it is still the original.
  Word& w = words_[wi];
  uint32_t* s = &syms_[w.begin];
  const uint32_t n = w.len;
  uint32_t j = 0;
  for (uint32_t r = 0; r < n;) {
    if (r + 1 < n && s[r] == a && s[r + 1] == b) {
      if (j > 0) {
        Change(PairKey(s[j - 1], a), -1, wi);
        Change(PairKey(s[j - 1], c), +1, wi);
      }
      if (r + 2 < n) {
        Change(PairKey(b, s[r + 2]), -1, wi);
        Change(PairKey(c, s[r + 2]), +1, wi);
      }
      s[j++] = c;
      r += 2;
    } else {
      s[j++] = s[r++];
    }
  }
  w.len = j;
}

void Learner::MergeUntilDone() {
  while (model_.tokens.size() < static_cast<size_t>(opts_.vocab_size) && !heap_.empty()) {
    Entry top = heap_.top();
    heap_.pop();
    auto found = pair_counts_.find(top.pair);
    const uint64_t current = static_cast<uint64_t>(found == pair_counts_.end() ? 0 : found->second);
    if (top.count != current) {
      top.count = current;
      heap_.push(top);  // keeps its seq and its words
      continue;
    }
    if (top.count < 1 || opts_.min_frequency > top.count) break;
    const uint32_t a = static_cast<uint32_t>(top.pair >> 32), b = static_cast<uint32_t>(top.pair);
    std::string_view right = model_.tokens[b];
    if (right.substr(0, 2) == kWordPiecePrefix) right.remove_prefix(2);
    const uint32_t c = IdOf(absl::StrCat(model_.tokens[a], ToAbsl(right)));
    ++model_.merges;
    std::vector<uint32_t> words = std::move(pool_[top.pos]);
    pool_[top.pos].clear();
    free_pos_.push_back(top.pos);
    for (uint32_t wi : words) MergeInWord(wi, a, b, c);
    for (const auto& [key, pos] : where_) {
      const int64_t n = pair_counts_[key];
      if (n > 0) {
        heap_.push({static_cast<uint64_t>(n), key, seq_++, pos});
      } else {
        pool_[pos].clear();
        free_pos_.push_back(pos);
      }
    }
    where_.clear();
    if (on_merge_) on_merge_(model_.merges);
  }
}

TrainedWordPiece Learner::Finish() {
  uint64_t tokens = 0;
  for (const Word& w : words_) tokens += w.count * w.len;
  model_.train_bytes_per_token = tokens ? static_cast<double>(total_bytes_) / tokens : 0;
  return std::move(model_);
}

}  // namespace

absl::StatusOr<TrainedWordPiece> LearnWordPiece(const WordCountMap& words,
                                                const WordPieceTrainerOptions& opts,
                                                const std::function<void(int)>& on_merge) {
  if (opts.vocab_size < 1) {
    return absl::InvalidArgumentError(absl::StrCat("--vocab-size ", opts.vocab_size, " must be at least 1"));
  }
  if (opts.limit_alphabet < 0) {
    return absl::InvalidArgumentError("--limit-alphabet must be >= 0 (0: every character)");
  }
  Learner learner(opts, on_merge);
  RETURN_IF_ERROR(learner.Start(words));
  learner.IndexPairs();
  learner.MergeUntilDone();
  return learner.Finish();
}

}  // namespace llmtk
