#include "lib/tokenizer/train/unigram_corpus.h"

#include <algorithm>
#include <deque>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "lib/base/parallel.h"
#include "lib/base/unicode.h"

namespace llmtk {

void SplitSpmWords(std::string_view s, std::vector<std::string_view>* words) {
  size_t start = 0;
  for (size_t i = 0; i + kSpmSpace.size() <= s.size(); ++i) {
    if (i > start && s.compare(i, kSpmSpace.size(), kSpmSpace) == 0) {
      words->push_back(s.substr(start, i - start));
      start = i;
    }
  }
  if (start < s.size()) words->push_back(s.substr(start));
}

namespace {

struct TextBatch {
  std::vector<std::string> docs;
  uint64_t bytes = 0;
};
struct CountResult {
  WordCountMap counts;
  SentenceCountStats stats;
};
constexpr uint64_t kBatchBytes = 1 << 20;
constexpr std::string_view kRareUtf8 = "\xE2\x96\x85";  // U+2585

// A word table key without its line-end mark.
std::string_view WordText(std::string_view key) {
  if (!key.empty() && key.back() == kLineEndMark) key.remove_suffix(1);
  return key;
}

}  // namespace

absl::Status CountSentenceWords(const std::function<absl::StatusOr<bool>(std::string* text)>& next_doc,
                                const SpmNormalizer& normalizer, int max_sentence_length, int threads,
                                WordTable* table, SentenceCountStats* stats,
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
      [&](TextBatch& batch, CountResult* r) -> absl::Status {
        std::string norm;
        std::vector<std::string_view> words;
        for (const std::string& d : batch.docs) {
          std::string_view rest = d;
          // spm_train reads a sentence a line; a document's lines are its sentences.
          while (true) {
            const size_t nl = rest.find('\n');
            std::string_view line = rest.substr(0, nl);
            if (static_cast<int64_t>(line.size()) > max_sentence_length) {
              ++r->stats.too_long;
            } else if (line.find(kRareUtf8) == std::string_view::npos && IsValidUtf8(line)) {
              normalizer.Normalize(line, &norm);
              if (!norm.empty()) {
                ++r->stats.sentences;
                words.clear();
                // The sentence's last word ends the line; it is counted under
                // its text + kLineEndMark, as spm's seeds tell the two apart.
                norm.push_back(kLineEndMark);
                SplitSpmWords(norm, &words);
                // One hash per occurrence; the key is made only when new.
                for (std::string_view w : words) ++r->counts.try_emplace(ToAbsl(w), 0).first->second;
              }
            }
            if (nl == std::string_view::npos) break;
            rest.remove_prefix(nl + 1);
          }
        }
        r->stats.documents = batch.docs.size();
        r->stats.bytes = batch.bytes;
        return absl::OkStatus();
      },
      [&](CountResult& r) -> absl::Status {
        table->Merge(r.counts);
        stats->documents += r.stats.documents;
        stats->bytes += r.stats.bytes;
        stats->sentences += r.stats.sentences;
        stats->too_long += r.stats.too_long;
        if (on_batch) on_batch(r.stats.documents, r.stats.bytes);
        return absl::OkStatus();
      });
}

namespace {

// The characters covering `character_coverage` of all `all` occurrences,
// most frequent first (ties: code point), as symbols 2.. of `c` and in
// `symbol`; tabs are counted but never kept (spm's kUPPBoundaryChar).
template <typename SymbolMap>
absl::Status KeepCoveredCharacters(std::vector<std::pair<char32_t, uint64_t>> sorted, uint64_t all,
                                   double character_coverage, SymbolMap* symbol, UnigramCorpus* c) {
  std::sort(sorted.begin(), sorted.end(), [](const auto& a, const auto& b) {
    return a.second != b.second ? a.second > b.second : a.first < b.first;
  });
  c->chars = {0, kRareChar};
  c->char_counts = {0, 0};
  uint64_t accumulated = 0, kept = 0;
  for (const auto& [cp, n] : sorted) {
    // spm compares in float: the share covered so far, before adding this one.
    const float covered = static_cast<float>(1.0 * accumulated / all);
    if (covered >= static_cast<float>(character_coverage)) break;
    accumulated += n;
    if (cp == U'\t') continue;
    (*symbol)[cp] = static_cast<uint32_t>(c->chars.size());
    c->chars.push_back(cp);
    c->char_counts.push_back(n);
    kept += n;
  }
  if (c->chars.size() <= 2) return absl::DataLossError("no characters to train on");
  c->coverage = all ? static_cast<double>(kept) / all : 1.0;
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<UnigramCorpus> BuildUnigramCorpusPlain(const WordCountMap& words, double character_coverage) {
  absl::flat_hash_map<char32_t, uint64_t> char_counts;
  uint64_t all = 0;
  for (const auto& [key, n] : words) {
    const std::string_view w = WordText(key);
    for (size_t pos = 0; pos < w.size();) {
      const int32_t cp = DecodeUtf8(w, &pos);
      if (cp <= 0) continue;  // invalid bytes (never after the reader's repair) and NUL, as spm skips them
      char_counts[static_cast<char32_t>(cp)] += n;
      all += n;
    }
  }
  UnigramCorpus c;
  absl::flat_hash_map<char32_t, uint32_t> symbol;
  RETURN_IF_ERROR(KeepCoveredCharacters({char_counts.begin(), char_counts.end()}, all, character_coverage, &symbol, &c));

  // Rare characters become U+2585, which can make two words one.
  // Views into `words`' keys, or into `rewritten` for words that changed.
  struct Word {
    std::string_view text;
    uint64_t count, line_end;
  };
  std::vector<Word> list;
  std::deque<std::string> rewritten;
  list.reserve(words.size());
  for (const auto& [key, n] : words) {
    const std::string_view w = WordText(key);
    const uint64_t line_end = w.size() < key.size() ? n : 0;
    bool rare = false;
    for (size_t pos = 0; pos < w.size() && !rare;) {
      const int32_t cp = DecodeUtf8(w, &pos);
      rare = cp <= 0 || !symbol.contains(static_cast<char32_t>(cp));
    }
    if (!rare) {
      list.push_back({w, n, line_end});
      continue;
    }
    std::string t;
    for (size_t pos = 0; pos < w.size();) {
      const int32_t cp = DecodeUtf8(w, &pos);
      if (cp == 0) continue;
      if (cp < 0 || !symbol.contains(static_cast<char32_t>(cp))) {
        t.append(kRareUtf8);
      } else {
        AppendUtf8(&t, static_cast<char32_t>(cp));
      }
    }
    rewritten.push_back(std::move(t));
    list.push_back({rewritten.back(), n, line_end});
  }
  // A replaced word may equal a word that had no rare character: fold equal texts.
  std::sort(list.begin(), list.end(), [](const Word& a, const Word& b) { return a.text < b.text; });
  // Folded in place: one Word per distinct word alive at a time.
  size_t kept_words = 0;
  for (size_t i = 0; i < list.size(); ++i) {
    if (kept_words > 0 && list[kept_words - 1].text == list[i].text) {
      list[kept_words - 1].count += list[i].count;
      list[kept_words - 1].line_end += list[i].line_end;
    } else {
      list[kept_words++] = list[i];
    }
  }
  list.resize(kept_words);
  std::vector<Word>& merged = list;
  std::sort(merged.begin(), merged.end(), [](const Word& a, const Word& b) {
    return a.count != b.count ? a.count > b.count : a.text < b.text;
  });
  // Sized exactly: growing by doubling could hold twice the symbols.
  size_t total_syms = 0;
  for (const Word& w : merged) {
    if (w.text.empty()) continue;
    for (size_t pos = 0; pos < w.text.size();) total_syms += DecodeUtf8(w.text, &pos) > 0;
    ++total_syms;
  }
  c.syms.reserve(total_syms);
  c.offsets.reserve(merged.size() + 1);
  c.counts.reserve(merged.size());
  c.line_end_counts.reserve(merged.size());
  for (const Word& w : merged) {
    if (w.text.empty()) continue;
    c.offsets.push_back(static_cast<uint32_t>(c.syms.size()));
    c.counts.push_back(w.count);
    c.line_end_counts.push_back(w.line_end);
    for (size_t pos = 0; pos < w.text.size();) {
      const int32_t cp = DecodeUtf8(w.text, &pos);
      if (cp <= 0) continue;
      auto it = symbol.find(static_cast<char32_t>(cp));
      c.syms.push_back(it == symbol.end() ? kRareSymbol : it->second);
    }
    c.syms.push_back(kEndSymbol);
  }
  c.offsets.push_back(static_cast<uint32_t>(c.syms.size()));
  return c;
}

}  // namespace llmtk

namespace llmtk {
namespace {

// Code point -> T (T{}: none): an array over the BMP, where nearly all text
// lies, a hash map above it.
template <typename T>
class CharArray {
 public:
  CharArray() : bmp_(0x10000, T{}) {}
  T& operator[](char32_t cp) { return cp < 0x10000 ? bmp_[cp] : rest_[cp]; }
  T Get(char32_t cp) const {
    if (cp < 0x10000) return bmp_[cp];
    auto it = rest_.find(cp);
    return it == rest_.end() ? T{} : it->second;
  }
  template <typename F>
  void ForEach(F&& f) const {
    for (size_t cp = 0; cp < bmp_.size(); ++cp)
      if (bmp_[cp] != T{}) f(static_cast<char32_t>(cp), bmp_[cp]);
    for (const auto& [cp, v] : rest_) f(cp, v);
  }

 private:
  std::vector<T> bmp_;
  absl::flat_hash_map<char32_t, T> rest_;
};

// DecodeUtf8 with ASCII (most of the text) inline.
inline int32_t NextChar(std::string_view s, size_t* pos) {
  const auto b = static_cast<unsigned char>(s[*pos]);
  if (b < 0x80) {
    ++*pos;
    return b;
  }
  return DecodeUtf8(s, pos);
}

// The first 8 bytes, big-endian, zero-padded: when two differ they order the
// texts as their bytes do (a shorter text pads with 0, which is never above
// the other's byte there); when equal, the texts must be compared.
uint64_t PrefixKey(std::string_view t) {
  uint64_t k = 0;
  const size_t n = std::min<size_t>(8, t.size());
  for (size_t i = 0; i < n; ++i) k |= static_cast<uint64_t>(static_cast<unsigned char>(t[i])) << (56 - 8 * i);
  return k;
}

}  // namespace

absl::StatusOr<UnigramCorpus> BuildUnigramCorpus(const WordCountMap& words, double character_coverage) {
  CharArray<uint64_t> char_counts;
  uint64_t all = 0;
  for (const auto& [key, n] : words) {
    const std::string_view w = WordText(key);
    for (size_t pos = 0; pos < w.size();) {
      const int32_t cp = NextChar(w, &pos);
      if (cp <= 0) continue;  // as the plain version
      char_counts[static_cast<char32_t>(cp)] += n;
      all += n;
    }
  }
  std::vector<std::pair<char32_t, uint64_t>> counted;
  char_counts.ForEach([&](char32_t cp, uint64_t n) { counted.emplace_back(cp, n); });
  UnigramCorpus c;
  CharArray<uint32_t> symbol;  // 0: not kept (kept symbols are >= 2)
  RETURN_IF_ERROR(KeepCoveredCharacters(std::move(counted), all, character_coverage, &symbol, &c));

  // Equal texts (a word with and without its line end; words made equal by
  // U+2585) are folded through a hash index instead of a sort by text.
  struct Word {
    std::string_view text;
    uint64_t count, line_end, prefix;
    uint32_t symbols;
  };
  std::vector<Word> list;
  std::deque<std::string> rewritten;
  list.reserve(words.size());
  absl::flat_hash_map<std::string_view, uint32_t> index;
  index.reserve(words.size());
  for (const auto& [key, n] : words) {
    std::string_view w = WordText(key);
    const uint64_t line_end = w.size() < key.size() ? n : 0;
    bool rare = false;
    uint32_t nsyms = 0;
    for (size_t pos = 0; pos < w.size() && !rare;) {
      const int32_t cp = NextChar(w, &pos);
      rare = cp <= 0 || symbol.Get(static_cast<char32_t>(cp)) == 0;
      ++nsyms;
    }
    if (rare) {
      std::string t;
      nsyms = 0;
      for (size_t pos = 0; pos < w.size();) {
        const int32_t cp = NextChar(w, &pos);
        if (cp == 0) continue;
        ++nsyms;
        if (cp < 0 || symbol.Get(static_cast<char32_t>(cp)) == 0) {
          t.append(kRareUtf8);
        } else {
          AppendUtf8(&t, static_cast<char32_t>(cp));
        }
      }
      rewritten.push_back(std::move(t));
      w = rewritten.back();
    }
    auto [it, inserted] = index.try_emplace(w, static_cast<uint32_t>(list.size()));
    if (inserted) {
      list.push_back({w, n, line_end, PrefixKey(w), nsyms});
    } else {
      list[it->second].count += n;
      list[it->second].line_end += line_end;
    }
  }
  absl::flat_hash_map<std::string_view, uint32_t>().swap(index);
  std::sort(list.begin(), list.end(), [](const Word& a, const Word& b) {
    if (a.count != b.count) return a.count > b.count;
    if (a.prefix != b.prefix) return a.prefix < b.prefix;
    return a.text < b.text;
  });
  size_t total_syms = 0;
  for (const Word& w : list)
    if (!w.text.empty()) total_syms += w.symbols + 1;
  c.syms.reserve(total_syms);
  c.offsets.reserve(list.size() + 1);
  c.counts.reserve(list.size());
  c.line_end_counts.reserve(list.size());
  for (const Word& w : list) {
    if (w.text.empty()) continue;
    c.offsets.push_back(static_cast<uint32_t>(c.syms.size()));
    c.counts.push_back(w.count);
    c.line_end_counts.push_back(w.line_end);
    for (size_t pos = 0; pos < w.text.size();) {
      const int32_t cp = NextChar(w.text, &pos);
      if (cp <= 0) continue;
      const uint32_t s = symbol.Get(static_cast<char32_t>(cp));
      c.syms.push_back(s == 0 ? kRareSymbol : s);
    }
    c.syms.push_back(kEndSymbol);
  }
  c.offsets.push_back(static_cast<uint32_t>(c.syms.size()));
  return c;
}

}  // namespace llmtk
