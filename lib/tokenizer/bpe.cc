#include "lib/tokenizer/bpe.h"

#include <atomic>
#include <algorithm>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "lib/base/huge_pages.h"
#include "lib/base/unicode.h"
#include "lib/tokenizer/word_ids_map.h"

namespace llmtk {
namespace {

std::atomic<uint64_t> g_instances{1};

// Words of up to 16 bytes with up to 3 ids, direct-mapped by hash in front
// of the map: the frequent words of natural text stay in these 256 KiB,
// found with one hash and a 16-byte compare, where a probe of the map (tens
// of MB when full) misses the CPU caches.
struct HotSlot {
  uint64_t k0 = 0, k1 = 0;  // the word's bytes, zero-padded
  uint32_t ids[3] = {};
  uint8_t len = 0;  // 0: empty
  uint8_t count = 0;
};
constexpr int kHotBits = 13;
constexpr size_t kCacheMaxWordBytes = 128;
constexpr size_t kCacheMaxEntries = 1 << 18;
constexpr size_t kHotMaxWordBytes = 16, kHotMaxIds = 3;

// Per-thread cache of word → ids for one model at a time.
struct WordCache {
  uint64_t instance = 0;
  WordIdsMap map{kCacheMaxEntries};
  std::vector<HotSlot> hot;
  void Reset(uint64_t inst) {
    instance = inst;
    map.Clear();
    hot.assign(size_t{1} << kHotBits, HotSlot{});
  }
  // The hot slot for a word of up to kHotMaxWordBytes; sets its key.
  HotSlot* Hot(std::string_view w, uint64_t* k0, uint64_t* k1) {
    char buf[16] = {};
    std::memcpy(buf, w.data(), w.size());
    std::memcpy(k0, buf, 8);
    std::memcpy(k1, buf + 8, 8);
    uint64_t h = (*k0 * 0x9E3779B97F4A7C15ULL) ^ (*k1 * 0xC2B2AE3D27D4EB4FULL) ^ w.size();
    h ^= h >> 29;
    h *= 0xBF58476D1CE4E5B9ULL;
    return &hot[h >> (64 - kHotBits)];
  }
  static void Fill(HotSlot* s, uint64_t k0, uint64_t k1, size_t len, const uint32_t* ids, size_t n) {
    if (s == nullptr || n > kHotMaxIds) return;
    s->k0 = k0;
    s->k1 = k1;
    s->len = static_cast<uint8_t>(len);
    s->count = static_cast<uint8_t>(n);
    for (size_t i = 0; i < n; ++i) s->ids[i] = ids[i];
  }
};

const std::string kUnreachablePrefix = "\xFF";
// Longer words merge by heap: the scan is quadratic.
constexpr size_t kScanMaxSymbols = 256;

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
  m->merge_table_.Reserve(merges.size());
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
    m->merge_table_.Insert(mg.left, mg.right, MergeInfo{mg.rank, it->second});
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

namespace {
// A thread's memo of merge lookups for one model, direct-mapped and
// L2-sized. The merge table is megabytes, laid out by hash: each lookup was
// a cache miss, and long words that miss the word cache (Chinese runs above
// all) look up the same few thousand pairs over and over.
struct PairMemo {
  static constexpr int kBits = 16;
  static constexpr uint32_t kNone = UINT32_MAX;  // rank of "no merge"
  struct Entry {
    uint64_t key = ~uint64_t{0};
    MergeTable::Info info{kNone, 0};
  };
  uint64_t instance = 0;
  std::vector<Entry, HugePageAllocator<Entry>> entries;
  // The calling thread's memo, emptied when it turns to another model.
  static PairMemo& ForThread(uint64_t inst) {
    thread_local PairMemo memo;
    if (memo.instance != inst) {
      memo.instance = inst;
      memo.entries.assign(size_t{1} << kBits, Entry{});
    }
    return memo;
  }
  // The table's rule for (a, b), rank kNone when there is none; the
  // reference is valid until the next call.
  Entry& At(uint64_t key) { return entries[(key * 0x9E3779B97F4A7C15ULL) >> (64 - kBits)]; }
  const MergeTable::Info& Find(const MergeTable& table, uint32_t a, uint32_t b) {
    const uint64_t key = static_cast<uint64_t>(a) << 32 | b;
    Entry& e = At(key);
    if (e.key != key) {
      const MergeTable::Info* m = table.Find(a, b);
      e.key = key;
      e.info = m != nullptr ? *m : MergeTable::Info{kNone, 0};
    }
    return e.info;
  }
};
}  // namespace

void BpeModel::MergeScan(std::vector<uint32_t>* syms) const {
  // tiktoken's loop: the rank of each adjacent pair kept in an array, the
  // lowest (leftmost on ties) found by a linear scan, two lookups per merge.
  // For the word lengths it takes, the scan over a few dozen ranks costs
  // less than a heap's pops and stale entries.
  std::vector<uint32_t>& s = *syms;
  size_t n = s.size();
  PairMemo& memo = PairMemo::ForThread(instance_);
  thread_local std::vector<uint32_t> rank, merged;
  rank.resize(n);
  merged.resize(n);
  auto set = [&](size_t i) {
    const MergeInfo& m = memo.Find(merge_table_, s[i], s[i + 1]);
    rank[i] = m.rank;
    merged[i] = m.merged;
  };
  // The first ranks in three passes, so that the cache misses of the
  // memo, then of the table for the pairs it lacks, overlap: load the memo
  // entries; take what they hold; look the rest up (their slots loading).
  auto key = [&](size_t i) { return static_cast<uint64_t>(s[i]) << 32 | s[i + 1]; };
  for (size_t i = 0; i + 1 < n; ++i) __builtin_prefetch(&memo.At(key(i)));
  thread_local std::vector<uint32_t> lacking;
  lacking.clear();
  for (size_t i = 0; i + 1 < n; ++i) {
    const PairMemo::Entry& e = memo.At(key(i));
    if (e.key == key(i)) {
      rank[i] = e.info.rank;
      merged[i] = e.info.merged;
    } else {
      merge_table_.Prefetch(s[i], s[i + 1]);
      lacking.push_back(static_cast<uint32_t>(i));
    }
  }
  for (uint32_t i : lacking) set(i);
  rank[n - 1] = PairMemo::kNone;
  while (n > 1) {
    // The lowest rank << 32 | position: leftmost on ties, in one
    // (vectorizable) pass.
    uint64_t best = ~uint64_t{0};
    for (size_t i = 0; i + 1 < n; ++i) best = std::min(best, uint64_t{rank[i]} << 32 | i);
    if ((best >> 32) == PairMemo::kNone) break;
    const size_t i = static_cast<size_t>(best & 0xFFFFFFFFu);
    s[i] = merged[i];
    // Drop symbol i + 1 (and its pair's entry); pair i is now (i, old i + 2).
    const size_t tail = n - i - 2;
    std::memmove(&s[i + 1], &s[i + 2], tail * sizeof(uint32_t));
    std::memmove(&rank[i + 1], &rank[i + 2], tail * sizeof(uint32_t));
    std::memmove(&merged[i + 1], &merged[i + 2], tail * sizeof(uint32_t));
    --n;
    if (i + 1 < n) {
      set(i);
    } else {
      rank[i] = PairMemo::kNone;
    }
    if (i > 0) set(i - 1);
  }
  s.resize(n);
}

void BpeModel::MergeHeap(std::vector<uint32_t>* syms) const {
  std::vector<uint32_t>& id = *syms;
  const int n = static_cast<int>(id.size());
  PairMemo& memo = PairMemo::ForThread(instance_);
  // FindMerge through the memo; the pointer is used before the next call.
  auto find = [&](uint32_t a, uint32_t b) -> const MergeInfo* {
    const MergeInfo& m = memo.Find(merge_table_, a, b);
    return m.rank == PairMemo::kNone ? nullptr : &m;
  };
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
    const MergeInfo* m = find(id[p], id[next[p]]);
    if (m != nullptr) {
      heap.push_back(entry(p, m));
      std::push_heap(heap.begin(), heap.end(), std::greater<>());
    }
  };
  for (int i = 0; i + 1 < n; ++i) {
    const MergeInfo* m = find(id[i], id[i + 1]);
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
  HotSlot* hot = nullptr;
  uint64_t k0 = 0, k1 = 0;
  if (cacheable) {
    if (cache.instance != instance_) cache.Reset(instance_);
    if (word.size() <= kHotMaxWordBytes) {
      hot = cache.Hot(word, &k0, &k1);
      if (hot->len == word.size() && hot->k0 == k0 && hot->k1 == k1) {
        for (uint8_t i = 0; i < hot->count; ++i) out->push_back(hot->ids[i]);
        return;
      }
    }
    std::span<const uint32_t> ids;
    if (cache.map.Find(word, &ids)) {
      out->insert(out->end(), ids.begin(), ids.end());
      WordCache::Fill(hot, k0, k1, word.size(), ids.data(), ids.size());
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
      if (syms.size() <= kScanMaxSymbols) {
        MergeScan(&syms);
      } else {
        MergeHeap(&syms);
      }
    }
  }
  const size_t before = out->size();
  Emit(syms, out);
  if (cacheable) {
    if (cache.map.size() >= kCacheMaxEntries) cache.Reset(instance_);
    cache.map.Insert(word, std::span<const uint32_t>(out->data() + before, out->size() - before));
    WordCache::Fill(hot, k0, k1, word.size(), out->data() + before, out->size() - before);
  }
}

void BpeModel::EncodeWordReference(std::string_view word, std::vector<uint32_t>* out) const {
  EncodeWordUncached(word, BpeMergeLoop::kSimple, out);
}

void BpeModel::EncodeWordUncached(std::string_view word, BpeMergeLoop loop, std::vector<uint32_t>* out) const {
  if (word.empty()) return;
  if (options_.ignore_merges) {
    if (auto id = Find(word)) {
      out->push_back(*id);
      return;
    }
  }
  std::vector<uint32_t> syms;
  InitialSymbols(word, &syms);
  if (syms.size() > 1) {
    switch (loop) {
      case BpeMergeLoop::kSimple: MergeSimple(&syms); break;
      case BpeMergeLoop::kScan: MergeScan(&syms); break;
      case BpeMergeLoop::kHeap: MergeHeap(&syms); break;
    }
  }
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
