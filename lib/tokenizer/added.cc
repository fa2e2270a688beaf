#include "lib/tokenizer/added.h"

#include <algorithm>

#include "lib/base/unicode.h"

namespace llmtk {
namespace {

bool IsWordChar(std::string_view s, size_t pos, bool before) {
  // The character just before `pos` (before) or at `pos` (after).
  if (before) {
    if (pos == 0) return false;
    size_t b = pos - 1;
    while (b > 0 && (static_cast<unsigned char>(s[b]) & 0xC0) == 0x80) --b;
    size_t p = b;
    int32_t cp = DecodeUtf8(s, &p);
    return cp >= 0 && (IsLetter(static_cast<char32_t>(cp)) || IsNumber(static_cast<char32_t>(cp)) || cp == '_');
  }
  if (pos >= s.size()) return false;
  size_t p = pos;
  int32_t cp = DecodeUtf8(s, &p);
  return cp >= 0 && (IsLetter(static_cast<char32_t>(cp)) || IsNumber(static_cast<char32_t>(cp)) || cp == '_');
}

// Extends over Unicode whitespace left of `b` / right of `e`.
bool IsStripSpace(int32_t cp, bool ascii) {
  if (cp < 0) return false;
  if (ascii) return cp == ' ' || (cp >= '\t' && cp <= '\r');
  return IsWhitespace(static_cast<char32_t>(cp));
}

size_t SkipSpaceLeft(std::string_view s, size_t b, size_t floor, bool ascii) {
  while (b > floor) {
    size_t q = b - 1;
    while (q > floor && (static_cast<unsigned char>(s[q]) & 0xC0) == 0x80) --q;
    size_t p = q;
    int32_t cp = DecodeUtf8(s, &p);
    if (!IsStripSpace(cp, ascii)) break;
    b = q;
  }
  return b;
}

size_t SkipSpaceRight(std::string_view s, size_t e, bool ascii) {
  while (e < s.size()) {
    size_t p = e;
    int32_t cp = DecodeUtf8(s, &p);
    if (!IsStripSpace(cp, ascii)) break;
    e = p;
  }
  return e;
}

}  // namespace

void AddedVocabulary::Add(AddedToken t) {
  if (t.content.empty()) return;
  uint32_t idx = static_cast<uint32_t>(tokens_.size());
  is_first_[static_cast<unsigned char>(t.content[0])] = true;
  auto& list = by_first_[static_cast<unsigned char>(t.content[0])];
  tokens_.push_back(std::move(t));
  list.push_back(idx);
  std::stable_sort(list.begin(), list.end(),
                   [&](uint32_t a, uint32_t b) { return tokens_[a].content.size() > tokens_[b].content.size(); });
}

void AddedVocabulary::Split(std::string_view text, std::vector<Segment>* out, bool parse_special) const {
  out->clear();
  size_t text_start = 0;  // start of the pending text run
  size_t pos = 0;
  const size_t n = text.size();
  while (pos < n) {
    if (!is_first_[static_cast<unsigned char>(text[pos])]) {
      ++pos;
      continue;
    }
    const auto& cands = by_first_[static_cast<unsigned char>(text[pos])];
    const AddedToken* hit = nullptr;
    for (uint32_t i : cands) {
      const AddedToken& t = tokens_[i];
      if (t.special && !parse_special) continue;
      if (text.compare(pos, t.content.size(), t.content) != 0) continue;
      if (t.single_word && (IsWordChar(text, pos, true) || IsWordChar(text, pos + t.content.size(), false))) continue;
      hit = &t;
      break;  // longest first
    }
    if (hit == nullptr) {
      ++pos;
      continue;
    }
    size_t b = pos, e = pos + hit->content.size();
    size_t tb = hit->lstrip ? SkipSpaceLeft(text, b, text_start, hit->ascii_strip) : b;
    size_t te = hit->rstrip ? SkipSpaceRight(text, e, hit->ascii_strip) : e;
    if (tb > text_start) out->push_back({static_cast<uint32_t>(text_start), static_cast<uint32_t>(tb), -1});
    out->push_back({static_cast<uint32_t>(b), static_cast<uint32_t>(e), hit->id});
    pos = te;
    text_start = te;
  }
  if (n > text_start) out->push_back({static_cast<uint32_t>(text_start), static_cast<uint32_t>(n), -1});
}

}  // namespace llmtk
