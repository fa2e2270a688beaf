#include "lib/tokenizer/train/unigram_seed.h"

#include <algorithm>
#include <cmath>

#include "absl/strings/str_cat.h"
#include "lib/base/parallel.h"
#include "lib/base/regex.h"
#include "lib/base/unicode.h"

namespace llmtk {
namespace {

// Script codes besides the indexes into kScripts.
constexpr int16_t kAny = -1;        // matches any neighbour (digits without split_by_number)
constexpr int16_t kInvalid = -2;    // never in a piece: word end, U+2585, NUL, U+3000
constexpr int16_t kSpace = -3;      // U+2581: only a piece's first character
constexpr int16_t kInherited = -4;  // takes the previous character's script

// The scripts told apart (PCRE2 \p{sc:...} names, Unicode's Script property,
// as spm's unicode_script_map). Letters of any other script share one code.
constexpr const char* kScripts[] = {
    "Common", "Inherited", "Latin", "Greek", "Cyrillic", "Armenian", "Hebrew", "Arabic", "Syriac", "Thaana",
    "Nko", "Samaritan", "Mandaic", "Devanagari", "Bengali", "Gurmukhi", "Gujarati", "Oriya", "Tamil",
    "Telugu", "Kannada", "Malayalam", "Sinhala", "Thai", "Lao", "Tibetan", "Myanmar", "Georgian", "Hangul",
    "Ethiopic", "Cherokee", "Canadian_Aboriginal", "Ogham", "Runic", "Tagalog", "Khmer", "Mongolian",
    "Limbu", "Tai_Le", "New_Tai_Lue", "Buginese", "Balinese", "Sundanese", "Javanese", "Cham", "Tai_Tham",
    "Tai_Viet", "Coptic", "Glagolitic", "Tifinagh", "Vai", "Bamum", "Lisu", "Yi", "Bopomofo", "Han",
    "Hiragana", "Katakana", "Braille", "Meetei_Mayek", "Ol_Chiki", "Saurashtra", "Kayah_Li", "Rejang",
    "Lepcha", "Batak", "Syloti_Nagri", "Phags_Pa", "Deseret", "Gothic", "Old_Italic", "Linear_B",
    "Cuneiform", "Egyptian_Hieroglyphs", "Adlam", "Osage", "Hanifi_Rohingya", "Chakma", "Sharada",
};
constexpr int kNumScripts = sizeof(kScripts) / sizeof(kScripts[0]);

int ScriptIndex(const char* name) {
  for (int i = 0; i < kNumScripts; ++i)
    if (std::string_view(kScripts[i]) == name) return i;
  return -1;
}

}  // namespace

absl::StatusOr<PieceValidator> PieceValidator::Make(const std::vector<char32_t>& chars, const PieceRules& rules) {
  std::string pattern = "^(?:";
  for (int i = 0; i < kNumScripts; ++i) absl::StrAppend(&pattern, i ? "|" : "", "(\\p{sc:", kScripts[i], "})");
  pattern += ")";
  ASSIGN_OR_RETURN(auto re, Regex::Compile(pattern));
  const int inherited = ScriptIndex("Inherited"), han = ScriptIndex("Han"),
            hiragana = ScriptIndex("Hiragana"), katakana = ScriptIndex("Katakana");
  PieceValidator v;
  v.rules_ = rules;
  v.script_.resize(chars.size(), kInvalid);
  v.digit_.resize(chars.size(), 0);
  std::vector<Regex::Groups> matches;
  std::string utf8;
  for (size_t s = 0; s < chars.size(); ++s) {
    const char32_t c = chars[s];
    if (s == kEndSymbol || s == kRareSymbol || c == 0 || c == 0x3000 || c == kRareChar) continue;
    if (c == kSpaceChar) {
      v.script_[s] = kSpace;
      continue;
    }
    v.digit_[s] = c >= '0' && c <= '9';
    utf8.clear();
    AppendUtf8(&utf8, c);
    matches.clear();
    RETURN_IF_ERROR(re->FindAllGroups(utf8, &matches));
    int script = kNumScripts;  // a script not in the table
    if (!matches.empty()) {
      for (size_t g = 1; g < matches[0].size(); ++g) {
        if (matches[0][g].first != Regex::kUnset) {
          script = static_cast<int>(g) - 1;
          break;
        }
      }
    }
    // spm counts kana, and the prolonged sound mark U+30FC, as Han.
    if (script == hiragana || script == katakana || c == 0x30FC) script = han;
    v.script_[s] = script == inherited ? kInherited : static_cast<int16_t>(script);
  }
  return v;
}

bool PieceValidator::Valid(const uint32_t* s, size_t n) const {
  if (n == 0 || n > static_cast<size_t>(rules_.max_length)) return false;
  int16_t prev = kAny;
  for (size_t pos = 0; pos < n; ++pos) {
    int16_t sc = script_[s[pos]];
    if (sc == kInvalid) return false;
    if (sc == kSpace) {
      if (pos > 0) return false;  // split_by_whitespace: only a prefix
      continue;
    }
    if (sc == kInherited) sc = prev;
    if (digit_[s[pos]]) {
      if (!rules_.split_by_number) sc = kAny;
      if (rules_.split_digits && n > 1) return false;
    }
    if (rules_.split_by_unicode_script && sc != kAny && prev != kAny && prev != sc) return false;
    prev = sc;
  }
  return true;
}

namespace {

// Sorts a bucket's n suffixes (equal first symbol) by less(a, b): the plain
// comparator reads two random places of the corpus per step, a cache miss
// each; here each suffix's symbols 1..8 are read once, packed 16 bits each
// into two keys that compare as `less` does on them (a word end pads the rest
// with zeros), and only suffixes equal on all 8 and not yet ended go back to
// the corpus, through `less` itself.
template <typename Sym, typename IsEnd, typename Less>
void SortPackedBucket(uint32_t* sa, size_t n, int cap, const uint32_t* syms, const Sym& sym, const IsEnd& is_end,
                      const Less& less) {
  if (n < 2) return;
  struct Entry {
    uint64_t key[2];
    uint32_t suffix;
    uint32_t done;  // the comparison ends within the packed symbols: equal keys tie
  };
  constexpr int kPacked = 8;
  const int packed = std::min(kPacked, cap - 1);
  std::vector<Entry> e(n);
  constexpr size_t kAhead = 16;  // independent misses: ask for them early
  for (size_t i = 0; i < n; ++i) {
    if (i + kAhead < n) __builtin_prefetch(syms + (sa[i + kAhead] & 0x7FFFFFFFu));  // without the copy bit
    Entry& x = e[i];
    x.key[0] = x.key[1] = 0;
    x.suffix = sa[i];
    x.done = packed < kPacked;  // `less` stops at cap - 1 symbols
    for (int k = 1; k <= packed; ++k) {
      const uint32_t v = sym(sa[i], k);
      x.key[(k - 1) / 4] |= static_cast<uint64_t>(v) << (48 - 16 * ((k - 1) % 4));
      if (is_end(v)) {
        x.done = 1;
        break;
      }
    }
  }
  std::sort(e.begin(), e.end(), [&](const Entry& x, const Entry& y) {
    if (x.key[0] != y.key[0]) return x.key[0] < y.key[0];
    if (x.key[1] != y.key[1]) return x.key[1] < y.key[1];
    // Equal keys: both ended at the same place, or neither did.
    return x.done ? x.suffix < y.suffix : less(x.suffix, y.suffix);
  });
  for (size_t i = 0; i < n; ++i) sa[i] = e[i].suffix;
}

struct Candidate {
  uint64_t score;
  uint32_t pos;  // into corpus.syms
  uint32_t len;
};

}  // namespace

absl::StatusOr<PieceList> MakeSeedPieces(const UnigramCorpus& corpus, const PieceValidator& validator,
                                         int max_length, int seed_size, int threads, SuffixSort sort) {
  const int cap = max_length + 1;  // enough to see whether a piece-long prefix branches
  // Each word once per way it ends: before a space (kEndSymbol, weighted by
  // its other occurrences) or at the end of a line (kLineEnd): in spm's
  // corpus-wide suffix array a word end is followed by U+2581 or the sentence
  // boundary, and only a substring followed by two different symbols is a node.
  const uint32_t kLineEnd = static_cast<uint32_t>(corpus.symbols());
  auto is_end = [&](uint32_t x) { return x == kEndSymbol || x == kLineEnd; };
  // A suffix is a position in corpus.syms (each word there ends with
  // kEndSymbol) and, in the top bit, which copy of the word it is in: the
  // line-end copy reads its end as kLineEnd. No copy of the corpus is made.
  const std::vector<uint32_t>& syms = corpus.syms;
  constexpr uint32_t kLineEndCopy = 0x80000000u;
  if (syms.size() >= kLineEndCopy) {
    return absl::ResourceExhaustedError(
        absl::StrCat("the corpus has ", syms.size(), " symbols in distinct words; at most 2^31 are supported"));
  }
  auto sym = [&](uint32_t suffix, int k) {
    const uint32_t x = syms[(suffix & ~kLineEndCopy) + k];
    return x == kEndSymbol && (suffix & kLineEndCopy) ? kLineEnd : x;
  };
  // Calls f(suffix) for every suffix that may start a piece (not at U+2585,
  // which no piece holds), words in order, a word's copies in order.
  auto for_each_start = [&](auto&& f) {
    for (size_t w = 0; w < corpus.words(); ++w) {
      const uint64_t at_end = corpus.line_end_counts[w], inside = corpus.counts[w] - at_end;
      for (uint32_t copy : {0u, kLineEndCopy}) {
        if ((copy ? at_end : inside) == 0) continue;
        for (uint32_t p = corpus.offsets[w]; p + 1 < corpus.offsets[w + 1]; ++p)
          if (syms[p] != kRareSymbol) f(p | copy);
      }
    }
  };
  // Suffixes by their first symbol, then each bucket sorted on the rest.
  std::vector<uint64_t> bucket(corpus.symbols() + 1, 0);
  for_each_start([&](uint32_t a) { ++bucket[syms[a & ~kLineEndCopy] + 1]; });
  for (size_t i = 1; i < bucket.size(); ++i) bucket[i] += bucket[i - 1];
  const size_t n = bucket.back();
  std::vector<uint32_t> sa(n);
  {
    std::vector<uint64_t> fill(bucket.begin(), bucket.end() - 1);
    for_each_start([&](uint32_t a) { sa[fill[syms[a & ~kLineEndCopy]]++] = a; });
  }
  // Ties (equal up to `cap` or to the same end) may fall in any order: the
  // nodes, their counts and their strings do not depend on it.
  auto less = [&](uint32_t a, uint32_t b) {
    for (int k = 1; k < cap; ++k) {
      const uint32_t x = sym(a, k), y = sym(b, k);
      if (x != y) return x < y;
      if (is_end(x)) break;
    }
    return a < b;
  };
  // The packed sort orders by the same total order (`less`, ties by
  // position), so both give the same array; it needs symbol ids in 16 bits.
  const bool packed = sort == SuffixSort::kPacked && corpus.symbols() <= 0xFFFF;
  {
    ThreadPool pool(threads);
    pool.ParallelFor(corpus.symbols(), [&](size_t s) {
      if (packed) {
        SortPackedBucket(sa.data() + bucket[s], bucket[s + 1] - bucket[s], cap, syms.data(), sym, is_end, less);
      } else {
        std::sort(sa.begin() + bucket[s], sa.begin() + bucket[s + 1], less);
      }
    });
  }
  std::vector<uint64_t>().swap(bucket);
  // The common prefix of suffixes i-1 and i, at most `cap`, a shared word
  // end counted (and ending the comparison).
  auto lcp = [&](size_t i) {
    const uint32_t a = sa[i - 1], b = sa[i];
    int k = 0;
    while (k < cap) {
      const uint32_t x = sym(a, k);
      if (x != sym(b, k)) break;
      ++k;
      if (is_end(x)) break;
    }
    return k;
  };
  // The word a position is in: a bit per position set at word starts, and
  // the count of starts before each 64 positions (rank).
  std::vector<uint64_t> starts((syms.size() + 63) / 64, 0);
  std::vector<uint32_t> rank(starts.size(), 0);
  for (size_t w = 0; w < corpus.words(); ++w) starts[corpus.offsets[w] / 64] |= uint64_t{1} << (corpus.offsets[w] % 64);
  for (size_t b = 1; b < starts.size(); ++b) rank[b] = rank[b - 1] + static_cast<uint32_t>(__builtin_popcountll(starts[b - 1]));
  auto word_of = [&](uint32_t p) {
    const uint64_t upto = starts[p / 64] & (~uint64_t{0} >> (63 - p % 64));  // starts at or before p
    return rank[p / 64] + static_cast<uint32_t>(__builtin_popcountll(upto)) - 1;
  };

  const size_t chars = corpus.symbols() - 2;
  const size_t want = static_cast<size_t>(seed_size) > chars ? static_cast<size_t>(seed_size) - chars : 0;
  auto better = [&](const Candidate& a, const Candidate& b) {
    if (a.score != b.score) return a.score > b.score;
    return std::lexicographical_compare(syms.begin() + a.pos, syms.begin() + a.pos + a.len, syms.begin() + b.pos,
                                        syms.begin() + b.pos + b.len);
  };
  // At most 2 x want kept between selections: the best `want` of all are
  // the best of each selection's survivors.
  const size_t limit = 2 * want + 1024;
  std::vector<Candidate> cands;
  cands.reserve(std::min(limit, n));
  auto keep_best = [&]() {
    if (cands.size() <= want) return;
    std::nth_element(cands.begin(), cands.begin() + want, cands.end(), better);
    cands.resize(want);
  };
  auto offer = [&](uint32_t pos, uint32_t len, uint64_t freq) {
    if (want == 0 || len < 2 || len > static_cast<uint32_t>(max_length)) return;
    if (!validator.Valid(syms.data() + pos, len)) return;
    cands.push_back({freq * len, pos, len});
    if (cands.size() >= limit) keep_best();
  };
  auto weight = [&](size_t i) {
    const uint32_t w = word_of(sa[i] & ~kLineEndCopy);
    return sa[i] & kLineEndCopy ? corpus.line_end_counts[w] : corpus.counts[w] - corpus.line_end_counts[w];
  };

  // Bottom-up walk over the lcp intervals (the suffix tree's internal nodes).
  struct Frame {
    int lcp;
    size_t lb;
    uint64_t prefix;  // total weight of suffixes before lb
  };
  std::vector<Frame> stack = {{0, 0, 0}};
  uint64_t prefix = 0;  // total weight of suffixes before i
  constexpr size_t kAhead = 16;  // the walk's reads are cache misses, independent ones
  for (size_t i = 0; i < n; ++i) {
    if (i + kAhead < n) {
      const uint32_t p = sa[i + kAhead] & ~kLineEndCopy;
      __builtin_prefetch(syms.data() + p);
      const uint32_t w = word_of(p);
      __builtin_prefetch(corpus.counts.data() + w);
      __builtin_prefetch(corpus.line_end_counts.data() + w);
    }
    const uint64_t w = weight(i);
    prefix += w;
    const int cur = i + 1 < n ? lcp(i + 1) : 0;
    size_t lb = i;
    uint64_t lb_prefix = prefix - w;
    while (cur < stack.back().lcp) {
      const Frame f = stack.back();
      stack.pop_back();
      const uint64_t freq = prefix - f.prefix;
      const uint32_t pos = sa[f.lb] & ~kLineEndCopy;
      // A node ending in a word end holds U+2581 or a boundary: never a piece.
      if (syms[pos + f.lcp - 1] != kEndSymbol && f.lcp < cap) offer(pos, f.lcp, freq);
      lb = f.lb;
      lb_prefix = f.prefix;
    }
    if (cur > stack.back().lcp) stack.push_back({cur, lb, lb_prefix});
  }
  keep_best();
  std::sort(cands.begin(), cands.end(), better);

  PieceList seeds;
  std::vector<double> raw;
  for (uint32_t s = 2; s < corpus.symbols(); ++s) {
    seeds.Add(&s, 1, 0);
    raw.push_back(static_cast<double>(corpus.char_counts[s]));
  }
  for (const Candidate& c : cands) {
    seeds.Add(syms.data() + c.pos, c.len, 0);
    raw.push_back(static_cast<double>(c.score));
  }
  double sum = 0;
  for (double r : raw) sum += r;
  const double logsum = std::log(sum);
  for (size_t i = 0; i < raw.size(); ++i) seeds.scores[i] = std::log(raw[i]) - logsum;
  return seeds;
}

}  // namespace llmtk
