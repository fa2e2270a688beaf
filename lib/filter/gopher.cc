#include "lib/filter/gopher.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "lib/base/unicode.h"

namespace llmtk {

double MedianWordLength(const std::vector<uint32_t>& lens, std::vector<uint32_t>* scratch) {
  const size_t n = lens.size();
  if (n == 0) return 0.0;
  constexpr uint32_t kCounted = 64;  // lengths below are counted, longer ones kept
  uint32_t count[kCounted] = {};
  scratch->clear();
  for (uint32_t len : lens) {
    if (len < kCounted) {
      ++count[len];
    } else {
      scratch->push_back(len);
    }
  }
  bool sorted = false;
  // The k-th smallest (from 0).
  auto kth = [&](size_t k) -> uint32_t {
    size_t below = 0;
    for (uint32_t len = 0; len < kCounted; ++len) {
      below += count[len];
      if (k < below) return len;
    }
    if (!sorted) std::sort(scratch->begin(), scratch->end());
    sorted = true;
    return (*scratch)[k - below];
  };
  const size_t mid = n / 2;
  if (n % 2 == 1) return kth(mid);
  return static_cast<double>(uint64_t{kth(mid - 1)} + kth(mid)) / 2.0;
}

double MedianWordLengthReference(const std::vector<uint32_t>& lens) {
  const size_t n = lens.size();
  if (n == 0) return 0.0;
  std::vector<uint32_t> sorted(lens.begin(), lens.end());
  const size_t mid = n / 2;
  std::nth_element(sorted.begin(), sorted.begin() + mid, sorted.end());
  if (n % 2 == 1) return sorted[mid];
  const uint32_t hi = sorted[mid];
  const uint32_t lo = *std::max_element(sorted.begin(), sorted.begin() + mid);
  return static_cast<double>(uint64_t{lo} + hi) / 2.0;
}

namespace {
constexpr std::string_view kRequiredWords[] = {"the", "be", "to", "of", "and", "that", "have", "with"};
constexpr std::string_view kEllipsis = "\xE2\x80\xA6";  // U+2026

bool HasAlpha(std::string_view w) {
  size_t pos = 0;
  while (pos < w.size()) {
    const unsigned char c = static_cast<unsigned char>(w[pos]);
    if (c < 0x80) {
      if (IsPythonAlpha(c)) return true;
      ++pos;
      continue;
    }
    const int32_t cp = DecodeUtf8(w, &pos);
    if (cp >= 0 && IsPythonAlpha(static_cast<char32_t>(cp))) return true;
  }
  return false;
}

double Div(uint64_t a, uint64_t b) { return static_cast<double>(a) / static_cast<double>(std::max<uint64_t>(b, 1)); }
}  // namespace

void GopherTagger::Tag(std::string_view text, Attributes* out) {
  const uint64_t n_chars = CodePoints(text);
  // dolma: an empty text returns the defaults (all zero, no n-gram spans).
  uint64_t word_count = 0, word_chars = 0, required = 0, symbol_words = 0, alpha_words = 0;
  double median = 0.0, bullet = 0.0, ellipsis = 0.0, dup_lines = 0.0, dup_line_chars = 0.0;
  struct Ngram {
    int n;
    double value;
  };
  std::vector<Ngram> most_common, duplicate;
  if (n_chars > 0) {
    SplitWords(text, &words_);
    word_count = words_.size();
    lens_.resize(word_count);
    prefix_.assign(word_count + 1, 0);
    word_ids_.clear();
    counts_.clear();  // per word id, then per n-gram id of the level below
    ids_.resize(word_count);
    for (size_t i = 0; i < word_count; ++i) {
      const Word& w = words_[i];
      lens_[i] = w.chars;
      prefix_[i + 1] = prefix_[i] + w.chars;
      if (w.text.find('#') != std::string_view::npos || w.text.find(kEllipsis) != std::string_view::npos)
        ++symbol_words;
      if (HasAlpha(w.text)) ++alpha_words;
      for (std::string_view r : kRequiredWords)
        if (w.text == r) ++required;
      auto [it, inserted] = word_ids_.try_emplace(w.text, static_cast<uint32_t>(word_ids_.size()));
      if (inserted) counts_.push_back(0);
      ++counts_[it->second];
      ids_[i] = it->second;
    }
    word_chars = prefix_[word_count];
    word_id_.assign(ids_.begin(), ids_.end());
    median = MedianWordLength(lens_, &long_lens_);
    // N-grams as ids: the n-gram at i is the pair (the (n-1)-gram at i, word
    // i+n-1), numbered in order of first occurrence, so counting is exact and
    // the smallest id among the most frequent is the one Counter.most_common
    // returns (the first inserted).
    // Once every n-gram is distinct, so is every longer one: the rest follows
    // from the word lengths alone (no duplicates; the most common is the
    // first, with count 1).
    bool all_distinct = false;
    for (int n = 2; n <= 10 && static_cast<size_t>(n) <= word_count; ++n) {
      const size_t count = word_count - n + 1;
      if (all_distinct) {
        if (n <= 4) {
          most_common.push_back({n, Div(prefix_[n] - prefix_[0], word_chars)});
        } else {
          duplicate.push_back({n, 0.0});
        }
        continue;
      }
      ngram_ids_.clear();
      next_ids_.resize(count);
      prev_counts_.swap(counts_);
      counts_.clear();
      for (size_t i = 0; i < count; ++i) {
        // An n-gram extending a unique (n-1)-gram is unique: a fresh id, no
        // lookup (ids stay in order of first occurrence).
        if (prev_counts_[ids_[i]] == 1) {
          next_ids_[i] = static_cast<uint32_t>(counts_.size());
          counts_.push_back(1);
          continue;
        }
        const uint64_t key = (uint64_t{ids_[i]} << 32) | word_id_[i + n - 1];
        auto [it, inserted] = ngram_ids_.try_emplace(key, static_cast<uint32_t>(counts_.size()));
        if (inserted) counts_.push_back(0);
        ++counts_[it->second];
        next_ids_[i] = it->second;
      }
      if (n <= 4) {
        uint32_t best = 0;
        for (uint32_t id = 1; id < counts_.size(); ++id)
          if (counts_[id] > counts_[best]) best = id;
        size_t first = 0;
        while (next_ids_[first] != best) ++first;
        const uint64_t chars = prefix_[first + n] - prefix_[first];
        most_common.push_back({n, Div(uint64_t{counts_[best]} * chars, word_chars)});
      } else {
        uint64_t all = 0, dup = 0;
        for (size_t i = 0; i < count; ++i) {
          const uint64_t chars = prefix_[i + n] - prefix_[i];
          all += chars;
          if (counts_[next_ids_[i]] > 1) dup += chars;
        }
        duplicate.push_back({n, Div(dup, all)});
      }
      all_distinct = counts_.size() == count;
      ids_.swap(next_ids_);
      ids_.resize(count);
    }

    SplitLines(text, &lines_);
    uint64_t bullets = 0, ellipses = 0;
    line_counts_.clear();
    for (std::string_view line : lines_) {
      if (!line.empty() && (line[0] == '*' || line[0] == '-')) ++bullets;
      if (line.ends_with(kEllipsis)) ++ellipses;
      ++line_counts_[line];
    }
    bullet = Div(bullets, lines_.size());
    ellipsis = Div(ellipses, lines_.size());
    uint64_t dup_count = 0, dup_chars = 0;
    for (const auto& [line, c] : line_counts_) {
      if (c > 1) {
        dup_count += c;
        dup_chars += CodePoints(line) * c;
      }
    }
    dup_lines = Div(dup_count, lines_.size());
    // dolma divides by the characters in words, not in the text.
    dup_line_chars = Div(dup_chars, word_chars);
  }
  const std::string_view t = kGopherTagger;
  const uint64_t end = n_chars;
  for (const Ngram& g : most_common)
    out->Add(t, absl::StrCat("fraction_of_characters_in_most_common_", g.n, "grams"), 0, end, g.value);
  for (const Ngram& g : duplicate)
    out->Add(t, absl::StrCat("fraction_of_characters_in_duplicate_", g.n, "grams"), 0, end, g.value);
  out->Add(t, "character_count", 0, end, static_cast<double>(n_chars));
  out->Add(t, "word_count", 0, end, static_cast<double>(word_count));
  out->Add(t, "median_word_length", 0, end, median);
  out->Add(t, "symbol_to_word_ratio", 0, end, Div(symbol_words, word_count));
  out->Add(t, "fraction_of_words_with_alpha_character", 0, end, Div(alpha_words, word_count));
  out->Add(t, "required_word_count", 0, end, static_cast<double>(required));
  out->Add(t, "fraction_of_lines_starting_with_bullet_point", 0, end, bullet);
  out->Add(t, "fraction_of_lines_ending_with_ellipsis", 0, end, ellipsis);
  out->Add(t, "fraction_of_duplicate_lines", 0, end, dup_lines);
  out->Add(t, "fraction_of_characters_in_duplicate_lines", 0, end, dup_line_chars);
}

}  // namespace llmtk
