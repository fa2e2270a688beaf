#include "lib/tokenizer/bpe.h"

#include <atomic>
#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "lib/base/unicode.h"

namespace llmtk {
namespace {

std::atomic<uint64_t> g_instances{1};

// Per-thread cache of word → ids for one model at a time.
struct WordCache {
  uint64_t instance = 0;
  absl::flat_hash_map<std::string, std::pair<uint32_t, uint32_t>> map;  // word → (offset, count)
  std::vector<uint32_t> arena;
  void Reset(uint64_t inst) {
    instance = inst;
    map.clear();
    arena.clear();
  }
};

constexpr size_t kCacheMaxWordBytes = 128;
const std::string kUnreachablePrefix = "\xFF";
constexpr size_t kCacheMaxEntries = 1 << 18;

}  // namespace

absl::StatusOr<std::unique_ptr<BpeModel>> BpeModel::Build(std::vector<std::string> tokens,
                                                          const std::vector<BpeMerge>& merges,
                                                          const BpeOptions& options, std::string_view source) {
  std::unique_ptr<BpeModel> m(new BpeModel());
  m->options_ = options;
  m->instance_ = g_instances.fetch_add(1);
  m->byte_ids_.fill(-1);
  m->byte_tokens_.fill(-1);
  m->symbols_.resize(tokens.size());
  m->vocab_.reserve(tokens.size());
  for (size_t id = 0; id < tokens.size(); ++id) {
    std::string sym;
    if (options.byte_level) {
      // Entries outside the alphabet (rare) can never come out of BPE over
      // bytes, as in HF: a 0xFF prefix (never in valid UTF-8 text) keeps them
      // from colliding with a byte sequence.
      if (!ByteLevelToBytes(tokens[id], &sym)) sym = kUnreachablePrefix + tokens[id];
    } else {
      sym = std::move(tokens[id]);
    }
    m->vocab_.try_emplace(sym, static_cast<uint32_t>(id));
    m->symbols_[id] = std::move(sym);
  }
  for (int b = 0; b < 256; ++b) {
    if (options.byte_level) {
      auto it = m->vocab_.find(std::string(1, static_cast<char>(b)));
      if (it != m->vocab_.end()) m->byte_ids_[b] = it->second;
    }
    if (options.byte_fallback) {
      auto it = m->vocab_.find(absl::StrFormat("<0x%02X>", b));
      if (it != m->vocab_.end()) m->byte_tokens_[b] = it->second;
    }
  }
  m->merge_map_.reserve(merges.size());
  for (size_t i = 0; i < merges.size(); ++i) {
    const BpeMerge& mg = merges[i];
    if (mg.left >= m->symbols_.size() || mg.right >= m->symbols_.size()) {
      return absl::DataLossError(absl::StrCat(ToAbsl(source), ": merge ", i, " names an id outside the vocabulary"));
    }
    std::string merged = m->symbols_[mg.left] + m->symbols_[mg.right];
    auto it = m->vocab_.find(merged);
    if (it == m->vocab_.end()) {
      return absl::DataLossError(absl::StrCat(ToAbsl(source), ": merge ", i, " (\"",
                                              ToAbsl(BytesToByteLevel(m->symbols_[mg.left])), " ",
                                              ToAbsl(BytesToByteLevel(m->symbols_[mg.right])),
                                              "\") makes a token that is not in the vocabulary"));
    }
    // The first occurrence of a pair wins, as in HF.
    m->merge_map_.try_emplace((static_cast<uint64_t>(mg.left) << 32) | mg.right, MergeInfo{mg.rank, it->second});
  }
  return m;
}

std::optional<uint32_t> BpeModel::Find(std::string_view symbol) const {
  auto it = vocab_.find(ToAbsl(symbol));
  if (it == vocab_.end()) return std::nullopt;
  return it->second;
}

std::optional<uint32_t> BpeModel::TokenToId(std::string_view token) const {
  if (!options_.byte_level) return Find(token);
  std::string bytes;
  if (!ByteLevelToBytes(token, &bytes)) {
    std::string marked(1, '\xFF');  // how Build keeps non-alphabet entries
    marked.append(token);
    return Find(marked);
  }
  return Find(bytes);
}

void BpeModel::InitialSymbols(std::string_view word, std::vector<uint32_t>* syms) const {
  syms->clear();
  bool prev_unk = false;
  if (options_.byte_level) {
    for (unsigned char c : word) {
      if (byte_ids_[c] >= 0) {
        syms->push_back(static_cast<uint32_t>(byte_ids_[c]));
        prev_unk = false;
        continue;
      }
      // The byte's alphabet character is not a token: HF falls back to the
      // <0xXX> tokens of that character's UTF-8, else to unk.
      const std::string& ch = ByteLevelAlphabet()[c];
      if (options_.byte_fallback) {
        bool all = true;
        for (unsigned char b : ch) all = all && byte_tokens_[b] >= 0;
        if (all) {
          for (unsigned char b : ch) syms->push_back(static_cast<uint32_t>(byte_tokens_[b]));
          prev_unk = false;
          continue;
        }
      }
      if (options_.unk_id) {
        if (!(options_.fuse_unk && prev_unk)) syms->push_back(*options_.unk_id);
        prev_unk = true;
      }
    }
    return;
  }
  size_t pos = 0;
  while (pos < word.size()) {
    size_t start = pos;
    if (options_.lead_byte_chars) {
      // llama.cpp's unicode_len_utf8: by the lead byte's high nibble.
      static constexpr uint8_t kLen[16] = {1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 2, 2, 3, 4};
      pos = std::min(word.size(), pos + kLen[static_cast<unsigned char>(word[pos]) >> 4]);
    } else {
      DecodeUtf8(word, &pos);
    }
    std::string_view ch = word.substr(start, pos - start);
    auto it = vocab_.find(ToAbsl(ch));
    if (it != vocab_.end()) {
      syms->push_back(it->second);
      prev_unk = false;
      continue;
    }
    if (options_.byte_fallback) {
      bool all = true;
      for (unsigned char c : ch) all = all && byte_tokens_[c] >= 0;
      if (all) {
        for (unsigned char c : ch) syms->push_back(static_cast<uint32_t>(byte_tokens_[c]));
        prev_unk = false;
        continue;
      }
    }
    if (options_.unk_id) {
      if (!(options_.fuse_unk && prev_unk)) syms->push_back(*options_.unk_id);
      prev_unk = true;
    }
  }
}

void BpeModel::MergeSimple(std::vector<uint32_t>* syms) const {
  std::vector<uint32_t>& s = *syms;
  while (s.size() > 1) {
    const MergeInfo* best = nullptr;
    size_t best_i = 0;
    for (size_t i = 0; i + 1 < s.size(); ++i) {
      const MergeInfo* m = FindMerge(s[i], s[i + 1]);
      if (m != nullptr && (best == nullptr || m->rank < best->rank)) {
        best = m;
        best_i = i;
      }
    }
    if (best == nullptr) break;
    s[best_i] = best->merged;
    s.erase(s.begin() + static_cast<ptrdiff_t>(best_i) + 1);
  }
}

namespace {
// A candidate merge at position `pos` of the pair (left, right). Ordered by
// rank, then position: the lowest rank merges first, leftmost on ties.
struct HeapEntry {
  uint64_t key;  // rank << 32 | pos
  uint32_t left, right, merged;
  bool operator>(const HeapEntry& o) const { return key > o.key; }
};
}  // namespace

void BpeModel::MergeHeap(std::vector<uint32_t>* syms) const {
  std::vector<uint32_t>& id = *syms;
  const int n = static_cast<int>(id.size());
  // Reused per thread: long words (e.g. Chinese runs) come one after another.
  thread_local std::vector<int> prev, next;
  thread_local std::vector<HeapEntry> heap;
  prev.resize(n);
  next.resize(n);
  heap.clear();
  for (int i = 0; i < n; ++i) {
    prev[i] = i - 1;
    next[i] = i + 1 < n ? i + 1 : -1;
  }
  auto entry = [&](int p, const MergeInfo* m) {
    return HeapEntry{(static_cast<uint64_t>(m->rank) << 32) | static_cast<uint32_t>(p), id[p], id[next[p]], m->merged};
  };
  auto push = [&](int p) {
    if (p < 0 || next[p] < 0) return;
    const MergeInfo* m = FindMerge(id[p], id[next[p]]);
    if (m != nullptr) {
      heap.push_back(entry(p, m));
      std::push_heap(heap.begin(), heap.end(), std::greater<>());
    }
  };
  for (int i = 0; i + 1 < n; ++i) {
    const MergeInfo* m = FindMerge(id[i], id[i + 1]);
    if (m != nullptr) heap.push_back(entry(i, m));
  }
  std::make_heap(heap.begin(), heap.end(), std::greater<>());
  // A merged-away symbol gets next = -2. An entry is stale when its pair is
  // gone: symbols only grow by merging, so equal ids mean the same pair.
  while (!heap.empty()) {
    std::pop_heap(heap.begin(), heap.end(), std::greater<>());
    HeapEntry e = heap.back();
    heap.pop_back();
    int p = static_cast<int>(e.key & 0xFFFFFFFFu);
    if (next[p] < 0 || id[p] != e.left || id[next[p]] != e.right) continue;
    int q = next[p];
    id[p] = e.merged;
    next[p] = next[q];
    next[q] = -2;
    if (next[p] >= 0) prev[next[p]] = p;
    push(prev[p]);
    push(p);
  }
  size_t w = 0;
  for (int i = 0; i < n; ++i)
    if (next[i] != -2) id[w++] = id[i];
  id.resize(w);
}

void BpeModel::EncodeWord(std::string_view word, std::vector<uint32_t>* out) const {
  if (word.empty()) return;
  thread_local WordCache cache;
  const bool cacheable = word.size() <= kCacheMaxWordBytes;
  // The small per-thread cache first: it also holds words that are whole
  // tokens, sparing a probe of the (large, cache-cold) vocabulary map.
  if (cacheable) {
    if (cache.instance != instance_) cache.Reset(instance_);
    auto it = cache.map.find(ToAbsl(word));
    if (it != cache.map.end()) {
      const uint32_t* p = cache.arena.data() + it->second.first;
      out->insert(out->end(), p, p + it->second.second);
      return;
    }
  }
  thread_local std::vector<uint32_t> syms;
  syms.clear();
  bool direct = false;
  if (options_.ignore_merges) {
    auto it = vocab_.find(ToAbsl(word));
    if (it != vocab_.end()) {
      syms.push_back(it->second);
      direct = true;
    }
  }
  if (!direct) {
    InitialSymbols(word, &syms);
    if (syms.size() > 1) {
      if (syms.size() <= 12) {
        MergeSimple(&syms);
      } else {
        MergeHeap(&syms);
      }
    }
  }
  const size_t before = out->size();
  Emit(syms, out);
  if (cacheable) {
    if (cache.map.size() >= kCacheMaxEntries) cache.Reset(instance_);
    cache.map.try_emplace(std::string(word), static_cast<uint32_t>(cache.arena.size()),
                          static_cast<uint32_t>(out->size() - before));
    cache.arena.insert(cache.arena.end(), out->begin() + static_cast<ptrdiff_t>(before), out->end());
  }
}

void BpeModel::EncodeWordReference(std::string_view word, std::vector<uint32_t>* out) const {
  if (word.empty()) return;
  if (options_.ignore_merges) {
    if (auto id = Find(word)) {
      out->push_back(*id);
      return;
    }
  }
  std::vector<uint32_t> syms;
  InitialSymbols(word, &syms);
  MergeSimple(&syms);
  Emit(syms, out);
}

void BpeModel::Emit(const std::vector<uint32_t>& syms, std::vector<uint32_t>* out) const {
  for (uint32_t s : syms) {
    if (s < options_.first_char_only) {
      out->push_back(s);
      continue;
    }
    for (unsigned char c : symbols_[s]) {
      if (byte_tokens_[c] >= 0) {
        out->push_back(static_cast<uint32_t>(byte_tokens_[c]));
      } else if (options_.unk_id) {
        out->push_back(*options_.unk_id);
      }
    }
  }
}

}  // namespace llmtk
