#include "lib/tokenizer/charsmap.h"

#include <cstring>

#include "absl/strings/str_cat.h"
#include "lib/base/unicode.h"
#include "utf8proc.h"

namespace llmtk {
namespace {

// Darts-clone's double-array unit.
inline bool HasLeaf(uint32_t u) { return (u >> 8) & 1; }
inline uint32_t Value(uint32_t u) { return u & ((1u << 31) - 1); }
inline uint32_t Label(uint32_t u) { return u & ((1u << 31) | 0xFF); }
inline uint32_t Offset(uint32_t u) { return (u >> 10) << ((u & (1u << 9)) >> 6); }

// Whether every extended grapheme cluster rule breaks between x and y: both
// ASCII or of cluster class Other (no rule joins those but CR LF, and one
// character of context is all the rules look at for them).
bool SureClusterBreak(int32_t x, int32_t y) {
  auto simple = [](int32_t c) {
    return c >= 0 && (c < 0x80 || utf8proc_get_property(c)->boundclass == UTF8PROC_BOUNDCLASS_OTHER);
  };
  return simple(x) && simple(y) && !(x == '\r' && y == '\n');
}

}  // namespace

absl::StatusOr<PrecompiledCharsmap> PrecompiledCharsmap::Parse(std::string_view blob, std::string_view source) {
  PrecompiledCharsmap m;
  if (blob.empty()) {
    m.BuildAsciiTable();
    return m;
  }
  auto bad = [&](std::string_view what) {
    return absl::DataLossError(absl::StrCat(ToAbsl(source), ": precompiled_charsmap: ", ToAbsl(what)));
  };
  uint32_t trie_size = 0;
  if (blob.size() <= 4) return bad(absl::StrCat("blob of ", blob.size(), " bytes holds no trie"));
  std::memcpy(&trie_size, blob.data(), 4);
  if (trie_size >= blob.size() - 4 + 1 || trie_size % 4 != 0 || trie_size == 0) {
    return bad(absl::StrCat("trie size ", trie_size, " does not fit the ", blob.size(), "-byte blob"));
  }
  m.units_.resize(trie_size / 4);
  std::memcpy(m.units_.data(), blob.data() + 4, trie_size);
  m.normalized_ = std::string(blob.substr(4 + trie_size));
  // Every leaf must point at a replacement string, so that lookups need no checks.
  for (size_t i = 0; i < m.units_.size(); ++i) {
    const uint32_t u = m.units_[i];
    if ((u >> 31) || !HasLeaf(u)) continue;
    const size_t v = i ^ Offset(u);
    if (v >= m.units_.size() || Value(m.units_[v]) >= m.normalized_.size()) {
      return bad(absl::StrCat("trie unit ", i, " (byte ", 4 + 4 * i, ") has a value outside the ",
                              m.normalized_.size(), " bytes of replacement strings"));
    }
  }
  m.BuildAsciiTable();
  return m;
}

void PrecompiledCharsmap::BuildAsciiTable() {
  for (int c = 0; c < 128; ++c) {
    const char ch = static_cast<char>(c);
    std::string_view rep;
    ascii_[c] = FirstRule(std::string_view(&ch, 1), &rep) ? std::string(rep) : std::string(1, ch);
  }
}

template <typename Fn>
void PrecompiledCharsmap::PrefixSearch(std::string_view s, bool stop_at_nul, Fn on_match) const {
  if (units_.empty()) return;
  size_t node = Offset(units_[0]);
  for (size_t i = 0; i < s.size(); ++i) {
    const uint8_t c = static_cast<uint8_t>(s[i]);
    if (stop_at_nul && c == 0) return;
    node ^= c;
    if (node >= units_.size()) return;
    const uint32_t u = units_[node];
    if (Label(u) != c) return;
    node ^= Offset(u);
    if (HasLeaf(u)) {
      if (node >= units_.size()) return;
      if (!on_match(i + 1, Value(units_[node]))) return;
    }
  }
}

std::string_view PrecompiledCharsmap::Replacement(uint32_t value) const {
  const char* p = normalized_.data() + value;
  return std::string_view(p, strnlen(p, normalized_.size() - value));
}

size_t PrecompiledCharsmap::Longest(std::string_view s, std::string_view* replacement, bool stop_at_nul) const {
  size_t best = 0;
  uint32_t best_value = 0;
  PrefixSearch(s, stop_at_nul, [&](size_t len, uint32_t value) {
    if (len > best) {
      best = len;
      best_value = value;
    }
    return true;
  });
  if (best > 0) *replacement = Replacement(best_value);
  return best;
}

bool PrecompiledCharsmap::FirstRule(std::string_view chunk, std::string_view* replacement) const {
  bool found = false;
  PrefixSearch(chunk, true, [&](size_t, uint32_t value) {
    *replacement = Replacement(value);
    found = true;
    return false;
  });
  return found;
}

void PrecompiledCharsmap::NormalizeHf(std::string_view in, std::string* out) const {
  out->clear();
  out->reserve(in.size());
  size_t pos = 0;
  while (pos < in.size()) {
    const unsigned char c = static_cast<unsigned char>(in[pos]);
    if (c < 0x80 && c != '\r' && (pos + 1 == in.size() || static_cast<unsigned char>(in[pos + 1]) < 0x80)) {
      out->append(ascii_[c]);
      ++pos;
      continue;
    }
    // Up to a sure cluster boundary, and a character alone (Han text:
    // nearly every one) straight through the trie.
    size_t end = pos;
    int32_t x = DecodeUtf8(in, &end);
    const size_t first_end = end;
    while (end < in.size()) {
      size_t next = end;
      const int32_t y = DecodeUtf8(in, &next);
      if (SureClusterBreak(x, y)) break;
      x = y;
      end = next;
    }
    if (end == first_end) {
      const std::string_view ch = in.substr(pos, end - pos);
      std::string_view rep;
      out->append(FirstRule(ch, &rep) ? rep : ch);
    } else {
      thread_local std::string part;
      NormalizeHfReference(in.substr(pos, end - pos), &part);
      out->append(part);
    }
    pos = end;
  }
}

void PrecompiledCharsmap::NormalizeHfReference(std::string_view in, std::string* out) const {
  out->clear();
  out->reserve(in.size());
  size_t pos = 0;
  while (pos < in.size()) {
    // One extended grapheme cluster: [pos, end).
    size_t end = pos;
    int32_t prev = DecodeUtf8(in, &end);
    utf8proc_int32_t state = 0;
    while (end < in.size()) {
      size_t next = end;
      int32_t cp = DecodeUtf8(in, &next);
      if (utf8proc_grapheme_break_stateful(prev, cp, &state)) break;
      prev = cp;
      end = next;
    }
    std::string_view g = in.substr(pos, end - pos);
    std::string_view rep;
    if (g.size() < 6 && FirstRule(g, &rep)) {
      out->append(rep);
    } else {
      for (size_t p = 0; p < g.size();) {
        size_t q = p;
        DecodeUtf8(g, &q);
        std::string_view ch = g.substr(p, q - p);
        out->append(FirstRule(ch, &rep) ? rep : ch);
        p = q;
      }
    }
    pos = end;
  }
}

}  // namespace llmtk
