#include "lib/dedup/shingle.h"

#include <algorithm>

#include "lib/base/unicode.h"
#include "xxhash.h"

namespace llmtk {
namespace {

bool IsAscii(std::string_view s) {
  for (unsigned char c : s)
    if (c >= 0x80) return false;
  return true;
}

// What one ASCII byte becomes under the options: the byte itself, a
// separator (' '), or a space-class byte that the whitespace rule collapses.
enum AsciiClass : uint8_t { kKeep, kSpace, kPunct, kDigit, kUpper };

AsciiClass ClassOf(unsigned char c) {
  if (c == ' ' || (c >= 0x09 && c <= 0x0d) || c < 0x20 || c == 0x7f) return kSpace;
  if (c >= '0' && c <= '9') return kDigit;
  if (c >= 'A' && c <= 'Z') return kUpper;
  if ((c >= 'a' && c <= 'z')) return kKeep;
  return kPunct;  // every other printable ASCII byte is P or S
}

struct AsciiTable {
  AsciiClass cls[128];
  AsciiTable() {
    for (int c = 0; c < 128; ++c) cls[c] = ClassOf(static_cast<unsigned char>(c));
  }
};
const AsciiTable kAscii;

inline uint64_t Mix64(uint64_t h) {
  h ^= h >> 33;
  h *= 0xff51afd7ed558ccdULL;
  h ^= h >> 33;
  h *= 0xc4ceb9fe1a85ec53ULL;
  h ^= h >> 33;
  return h;
}

inline uint64_t Rotl(uint64_t x, int r) { return (x << r) | (x >> (64 - r)); }

// True for code points with a normalization boundary before them (canonical
// combining class 0, NFKC quick check Yes, never the second character of a
// composition): ASCII and the CJK Unified Ideographs (not the compatibility
// ideographs F900-FAFF). NFKC of a string is then the concatenation of the
// NFKC of the pieces split before such code points, and a piece that is one
// such code point is its own NFKC.
inline bool BoundaryBefore(int32_t cp) {
  return cp < 0x80 || (cp >= 0x4E00 && cp <= 0x9FFF) || (cp >= 0x3400 && cp <= 0x4DBF);
}

}  // namespace

std::string NfkcFast(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  size_t clean = 0;       // text[clean, seg) is known NFKC, not yet copied
  size_t seg = 0;         // start of the piece that holds the current code point
  bool dirty = false;     // the piece from seg needs utf8proc
  auto flush_piece = [&](size_t end) {
    auto n = Normalize(text.substr(seg, end - seg), NormalForm::kNFKC);
    // Invalid UTF-8 cannot be normalized; its bytes stay as they are.
    out.append(n.ok() ? std::string_view(*n) : text.substr(seg, end - seg));
  };
  size_t pos = 0;
  while (pos < text.size()) {
    const size_t at = pos;
    const unsigned char c = static_cast<unsigned char>(text[pos]);
    const int32_t cp = c < 0x80 ? (++pos, c) : DecodeUtf8(text, &pos);
    if (cp != kInvalidUtf8 && BoundaryBefore(cp)) {
      if (dirty) {
        flush_piece(at);
        clean = at;
        dirty = false;
      }
      seg = at;
      continue;
    }
    if (!dirty) {
      // The piece starts at the last boundary; what precedes it is final.
      out.append(text.substr(clean, seg - clean));
      dirty = true;
    }
  }
  if (dirty) {
    flush_piece(text.size());
  } else {
    out.append(text.substr(clean));
  }
  return out;
}

std::string NormalizeForDedup(std::string_view text, const NormalizeOptions& opts) {
  std::string nfkc;
  if (opts.nfkc && !IsAscii(text)) {
    nfkc = NfkcFast(text);
    text = nfkc;
  }
  std::string out;
  out.reserve(text.size());
  bool pending_space = false;  // a separator waits for the next character
  auto separator = [&]() {
    if (opts.whitespace) {
      pending_space = !out.empty();
    } else {
      out.push_back(' ');
    }
  };
  auto emit_pending = [&]() {
    if (pending_space) out.push_back(' ');
    pending_space = false;
  };
  size_t pos = 0;
  while (pos < text.size()) {
    unsigned char c = static_cast<unsigned char>(text[pos]);
    if (c < 0x80) {
      ++pos;
      switch (kAscii.cls[c]) {
        case kSpace:
          if (opts.whitespace) {
            pending_space = !out.empty();
          } else {
            out.push_back(static_cast<char>(c));
          }
          continue;
        case kPunct:
          if (opts.punctuation) {
            separator();
            continue;
          }
          break;
        case kDigit:
          if (opts.digits) c = '0';
          break;
        case kUpper:
          if (opts.lowercase) c = static_cast<unsigned char>(c + 32);
          break;
        case kKeep:
          break;
      }
      emit_pending();
      out.push_back(static_cast<char>(c));
      continue;
    }
    size_t start = pos;
    int32_t cp = DecodeUtf8(text, &pos);
    if (cp == kInvalidUtf8) {
      emit_pending();
      out.append(text.substr(start, pos - start));
      continue;
    }
    char32_t u = static_cast<char32_t>(cp);
    if (IsWhitespace(u) || GeneralCategory(u) == 26 /* Cc */) {
      if (opts.whitespace) {
        pending_space = !out.empty();
      } else {
        out.append(text.substr(start, pos - start));
      }
      continue;
    }
    if (opts.punctuation && (IsPunctuation(u) || IsSymbol(u))) {
      separator();
      continue;
    }
    emit_pending();
    if (opts.digits && GeneralCategory(u) == 9 /* Nd */) {
      out.push_back('0');
      continue;
    }
    if (opts.lowercase) u = ToLower(u);
    AppendUtf8(&out, u);
  }
  return out;
}

std::vector<std::string_view> TokenizeForDedup(std::string_view s, size_t* no_space_tokens) {
  std::vector<std::string_view> tokens;
  size_t n_single = 0;
  size_t start = std::string_view::npos;
  auto flush = [&](size_t end) {
    if (start != std::string_view::npos && end > start) tokens.push_back(s.substr(start, end - start));
    start = std::string_view::npos;
  };
  size_t pos = 0;
  while (pos < s.size()) {
    unsigned char c = static_cast<unsigned char>(s[pos]);
    if (c < 0x80) {
      if (c == ' ' || (c >= 0x09 && c <= 0x0d)) {
        flush(pos);
      } else if (start == std::string_view::npos) {
        start = pos;
      }
      ++pos;
      continue;
    }
    size_t cp_start = pos;
    int32_t cp = DecodeUtf8(s, &pos);
    if (cp != kInvalidUtf8 && IsWhitespace(static_cast<char32_t>(cp))) {
      flush(cp_start);
    } else if (cp != kInvalidUtf8 && IsNoSpaceScript(static_cast<char32_t>(cp))) {
      flush(cp_start);
      tokens.push_back(s.substr(cp_start, pos - cp_start));
      ++n_single;
    } else if (start == std::string_view::npos) {
      start = cp_start;
    }
  }
  flush(s.size());
  if (no_space_tokens) *no_space_tokens = n_single;
  return tokens;
}

int ShingleWidth(size_t tokens, size_t no_space_tokens, const ShingleOptions& opts) {
  return 2 * no_space_tokens > tokens ? opts.cjk_ngram : opts.ngram;
}

std::vector<uint64_t> ShingleHashes(std::string_view normalized, const ShingleOptions& opts) {
  size_t n_single = 0;
  std::vector<std::string_view> tokens = TokenizeForDedup(normalized, &n_single);
  const size_t k = static_cast<size_t>(std::max(1, ShingleWidth(tokens.size(), n_single, opts)));
  std::vector<uint64_t> th(tokens.size());
  for (size_t i = 0; i < tokens.size(); ++i)
    th[i] = XXH3_64bits_withSeed(tokens[i].data(), tokens[i].size(), opts.seed);
  // A shingle's hash depends on its tokens, their order and their count, so
  // a short text's single shingle never equals a full-width shingle.
  auto combine = [&](size_t begin, size_t count) {
    uint64_t h = Mix64(opts.seed ^ (0x9E3779B97F4A7C15ULL * (count + 1)));
    for (size_t j = 0; j < count; ++j) h = Rotl((h ^ th[begin + j]) * 0x9E3779B97F4A7C15ULL, 29);
    return Mix64(h);
  };
  std::vector<uint64_t> out;
  if (th.size() < k) {
    out.push_back(combine(0, th.size()));
    return out;
  }
  out.reserve(th.size() - k + 1);
  for (size_t i = 0; i + k <= th.size(); ++i) out.push_back(combine(i, k));
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

Hash128 ExactHash(std::string_view normalized) {
  XXH128_hash_t h = XXH3_128bits(normalized.data(), normalized.size());
  return Hash128{h.low64, h.high64};
}

}  // namespace llmtk
