#include "lib/tokenizer/train/merge.h"

#include <algorithm>
#include <array>
#include <queue>

#include "absl/container/flat_hash_map.h"
#include "lib/tokenizer/train/alphabet.h"
#include "lib/base/unicode.h"

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

}  // namespace

absl::StatusOr<TrainedBpe> LearnMerges(WordCountMap word_counts,
                                     const BpeTrainerOptions& opts,
                                     const MergeProgress& progress) {
  RETURN_IF_ERROR(CheckVocabSize(opts));
  TrainedBpe model;
  model.style = opts.style;
  std::vector<uint32_t> token_len;  // in characters (byte-level: bytes)
  absl::flat_hash_map<std::string, uint32_t> ids;
  for (const std::string& s : EffectiveSpecialTokens(opts)) {
    if (s.empty()) return absl::InvalidArgumentError("--special-tokens: empty special token");
    if (!ids.emplace(s, model.tokens.size()).second) {
      return absl::InvalidArgumentError(
          absl::StrCat("--special-tokens: \"", s, "\" is given twice"));
    }
    model.tokens.push_back(s);
    token_len.push_back(s.size());
  }
  model.num_special = static_cast<int>(model.tokens.size());
  ASSIGN_OR_RETURN(Alphabet alphabet, Alphabet::Build(word_counts, opts, &model.tokens, &token_len));
  model.alphabet_size = alphabet.size();
  model.character_coverage = alphabet.coverage();
  for (size_t id = model.num_special; id < model.tokens.size(); ++id) {
    if (!ids.emplace(model.tokens[id], id).second) {
      return absl::InvalidArgumentError(absl::StrCat(
          "--special-tokens: \"", model.tokens[id],
          "\" is also an alphabet token, which is always in the vocabulary"));
    }
  }

  // Words as symbol sequences in one flat array.
  std::vector<uint32_t> syms;
  std::vector<Word> words;
  words.reserve(word_counts.size());
  uint64_t total_bytes = 0;
  for (const auto& [w, n] : word_counts) {
    const uint64_t begin = syms.size();
    alphabet.Symbolize(w, &syms);
    if (syms.size() == begin) continue;
    words.push_back({begin, static_cast<uint32_t>(syms.size() - begin), n});
    total_bytes += n * w.size();
  }
  // The strings are not needed any more; free them before the pair index grows.
  WordCountMap().swap(word_counts);

  absl::flat_hash_map<uint64_t, PairInfo> pairs;
  for (uint32_t wi = 0; wi < words.size(); ++wi) {
    const Word& w = words[wi];
    const uint32_t* s = &syms[w.begin];
    for (uint32_t i = 0; i + 1 < w.len; ++i) {
      if (s[i] == kNoSymbol || s[i + 1] == kNoSymbol) continue;
      PairInfo& info = pairs[PairKey(s[i], s[i + 1])];
      info.count += static_cast<int64_t>(w.count);
      if (info.words.empty() || info.words.back() != wi) info.words.push_back(wi);
    }
  }
  std::priority_queue<HeapEntry> heap;
  for (const auto& [key, info] : pairs) heap.push({info.count, key});

  const uint64_t max_len = opts.max_token_length > 0 ? opts.max_token_length : UINT64_MAX;
  const uint32_t reserved_below =
      opts.style == BpeStyle::kSentencePiece ? static_cast<uint32_t>(model.num_special + 256) : 0;
  std::vector<uint64_t> touched;
  while (model.tokens.size() < static_cast<size_t>(opts.vocab_size) && !heap.empty()) {
    HeapEntry top = heap.top();
    heap.pop();
    auto it = pairs.find(top.pair);
    if (it == pairs.end()) continue;  // the pair died out (count 0) and was erased
    const int64_t current = it->second.count;
    if (current != top.count) {
      if (current > 0) heap.push({current, top.pair});
      continue;
    }
    if (current <= 0 || static_cast<uint64_t>(current) < opts.min_frequency) break;
    const uint32_t a = top.pair >> 32, b = static_cast<uint32_t>(top.pair);
    if (token_len[a] + token_len[b] > max_len) continue;

    std::string merged = model.tokens[a] + model.tokens[b];
    uint32_t c;
    if (auto found = ids.find(merged); found != ids.end()) {
      // SentencePiece style: text spelling "<s>" or "<0x41>" must not merge
      // into that special or byte-fallback token (decoding would turn
      // "<0x41>" into "A", and llama.cpp's GGUF reader never merges into
      // them); the pair is dropped, as SentencePiece reserves those pieces.
      if (reserved_below > 0 && found->second < reserved_below) continue;
      c = found->second;  // same string from another split: one id, as HF
    } else {
      c = model.tokens.size();
      ids.emplace(merged, c);
      model.tokens.push_back(std::move(merged));
      token_len.push_back(token_len[a] + token_len[b]);
    }
    model.merges.emplace_back(a, b);

    // Every occurrence of (a, b) disappears from these words below.
    std::vector<uint32_t> affected = std::move(it->second.words);
    pairs.erase(it);
    touched.clear();
    const uint32_t merge_no = static_cast<uint32_t>(model.merges.size());
    for (size_t k = 0; k < affected.size(); ++k) {
      // Visiting the words is latency-bound (random words, random symbol
      // runs): prefetch the word record 16 ahead and its symbols 8 ahead.
      if (k + 16 < affected.size()) __builtin_prefetch(&words[affected[k + 16]]);
      if (k + 8 < affected.size()) __builtin_prefetch(&syms[words[affected[k + 8]].begin]);
      const uint32_t wi = affected[k];
      Word& w = words[wi];
      uint32_t* s = &syms[w.begin];
      const int64_t n = static_cast<int64_t>(w.count);
      auto dec = [&](uint32_t x, uint32_t y) {
        if (x == kNoSymbol || y == kNoSymbol) return;
        uint64_t key = PairKey(x, y);
        if (key == top.pair) return;
        // Absent only when max_token_length kept the pair from being counted.
        if (auto f = pairs.find(key); f != pairs.end()) {
          // Pairs die out by the million as tokens grow; erasing them (and
          // their word lists) keeps memory near the live pairs.
          if ((f->second.count -= n) == 0) pairs.erase(f);
        }
      };
      auto inc = [&](uint32_t x, uint32_t y) {
        if (x == kNoSymbol || y == kNoSymbol) return;
        if (token_len[x] + token_len[y] > max_len) return;
        uint64_t key = PairKey(x, y);
        PairInfo& info = pairs[key];
        info.count += n;
        if (info.words.empty() || info.words.back() != wi) info.words.push_back(wi);
        if (info.touched_at != merge_no) {
          info.touched_at = merge_no;
          touched.push_back(key);
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
    for (uint64_t key : touched) {
      auto f = pairs.find(key);
      if (f != pairs.end() && f->second.count > 0) heap.push({f->second.count, key});
    }
    if (progress.on_merge) progress.on_merge(static_cast<int>(model.merges.size()));
  }

  uint64_t tokens = 0;
  for (const Word& w : words) tokens += w.count * w.len;
  model.train_bytes_per_token = tokens ? static_cast<double>(total_bytes) / tokens : 0;
  return model;
}

}  // namespace llmtk
