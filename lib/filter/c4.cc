#include "lib/filter/c4.h"

#include "lib/filter/text.h"

namespace llmtk {

namespace {
constexpr uint32_t kPrefixBits = 1 << 18;
uint32_t Prefix3(const char* p) {
  return uint32_t{static_cast<unsigned char>(p[0])} << 16 | uint32_t{static_cast<unsigned char>(p[1])} << 8 |
         static_cast<unsigned char>(p[2]);
}
uint32_t PrefixHash(uint32_t prefix) { return (prefix * 0x9E3779B1u) >> (32 - 18); }
}  // namespace

std::string_view DefaultBadWords() {
  std::string_view s(kNaughtyWordsEn);
  if (!s.empty() && s.front() == '\n') s.remove_prefix(1);  // after the raw string's opening
  return s;
}

C4Tagger::C4Tagger(std::string_view list) {
  // str.splitlines(): \n, \r\n and \r end lines (the rarer separators do not
  // occur in word lists); no empty last entry.
  size_t start = 0;
  while (start < list.size()) {
    size_t end = list.find_first_of("\r\n", start);
    if (end == std::string_view::npos) end = list.size();
    const std::string entry(list.substr(start, end - start));
    if (entry.find(' ') == std::string::npos) {
      words_.insert(entry);
    } else {
      phrases_.push_back(entry);
    }
    start = end + 1;
    if (end < list.size() && list[end] == '\r' && start < list.size() && list[start] == '\n') ++start;
  }
  prefix_bits_.assign(kPrefixBits / 64, 0);
  for (uint32_t i = 0; i < phrases_.size(); ++i) {
    const std::string& p = phrases_[i];
    if (p.size() < 3) {
      short_phrases_.push_back(i);
      continue;
    }
    const uint32_t prefix = Prefix3(p.data());
    const uint32_t h = PrefixHash(prefix);
    prefix_bits_[h >> 6] |= uint64_t{1} << (h & 63);
    by_prefix_[prefix].push_back(i);
  }
}

// Python's `any(phrase in line for phrase in phrases)`: a substring anywhere.
bool C4Tagger::HasPhrase(std::string_view line) const {
  for (uint32_t i : short_phrases_)
    if (line.find(phrases_[i]) != std::string_view::npos) return true;
  for (size_t pos = 0; pos + 2 < line.size(); ++pos) {
    const uint32_t prefix = Prefix3(line.data() + pos);
    const uint32_t h = PrefixHash(prefix);
    if (!(prefix_bits_[h >> 6] >> (h & 63) & 1)) continue;
    auto it = by_prefix_.find(prefix);
    if (it == by_prefix_.end()) continue;
    for (uint32_t i : it->second)
      if (line.substr(pos, phrases_[i].size()) == phrases_[i]) return true;
  }
  return false;
}

void C4Tagger::Tag(std::string_view text, Attributes* out) const {
  const std::string_view t = kC4Tagger;
  const uint64_t n_chars = CodePoints(text);
  // Scratch kept per thread: Tag is const and shared by the workers.
  thread_local std::vector<std::string_view> lines;
  thread_local std::vector<Word> words;
  thread_local std::string lowered;
  thread_local std::vector<std::pair<uint64_t, uint64_t>> no_punct, few_words;
  no_punct.clear();
  few_words.clear();
  SplitLines(text, &lines);
  bool naughty = false, javascript = false, lorem = false, curly = false;
  uint64_t offset = 0;
  for (size_t i = 0; i < lines.size(); ++i) {
    uint64_t end = offset + CodePoints(lines[i]);
    if (i + 1 < lines.size()) ++end;
    LowerPython(lines[i], &lowered);
    const std::string_view line = StripPython(lowered);
    const char last = line.empty() ? '\0' : line.back();
    if (!(last == '.' || last == '?' || last == '!' || last == '"')) no_punct.push_back({offset, end});
    SplitWords(line, &words);
    if (words.size() < 3) few_words.push_back({offset, end});
    if (!naughty) {
      for (const Word& w : words) {
        if (words_.contains(w.text)) {
          naughty = true;
          break;
        }
      }
      if (!naughty && line.find(' ') != std::string_view::npos) naughty = HasPhrase(line);
    }
    if (!javascript)
      for (const Word& w : words) javascript |= w.text == "javascript";
    if (!lorem && line.find("lorem ipsum") != std::string_view::npos) lorem = true;
    if (line.find('{') != std::string_view::npos) curly = true;
    offset = end;
  }
  for (const auto& [s, e] : no_punct) out->Add(t, "lines_with_no_ending_punctuation", s, e);
  for (const auto& [s, e] : few_words) out->Add(t, "lines_with_too_few_words", s, e);
  if (naughty) out->Add(t, "has_naughty_word", 0, n_chars);
  if (javascript) out->Add(t, "has_javascript", 0, n_chars);
  if (lorem) out->Add(t, "has_lorem_ipsum", 0, n_chars);
  if (curly) out->Add(t, "has_curly_brace", 0, n_chars);
  out->Add(t, "line_count", 0, n_chars, static_cast<double>(lines.size()));
}

}  // namespace llmtk
