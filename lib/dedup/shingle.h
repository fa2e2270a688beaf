// dedup/shingle: the text side of near-duplicate detection — normalization,
// tokenization into words (and single characters for scripts written without
// spaces), shingles of consecutive tokens hashed to 64 bits, and the 128-bit
// exact-duplicate key of the normalized text.
//
// Tokens: the normalized text is split at whitespace; inside a word, every
// character of a no-space script (IsNoSpaceScript: Han, Kana, Thai, ...) is a
// token of its own, and the letters between them form tokens too, so
// "GPU加速" gives "gpu", "加", "速". A document whose tokens are mostly such
// characters is shingled with `cjk_ngram` tokens, otherwise with `ngram`
// tokens. A text with fewer tokens than one shingle gets exactly one shingle,
// the hash of all its tokens, so two distinct short texts never share one.
//
// Thread-safety: stateless functions; safe from any thread.
#ifndef LLMTK_LIB_DEDUP_SHINGLE_H_
#define LLMTK_LIB_DEDUP_SHINGLE_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace llmtk {

struct NormalizeOptions {
  bool nfkc = true;         // Unicode NFKC (full-width forms, ligatures, ...)
  bool lowercase = true;    // simple lowercase mapping
  bool punctuation = true;  // punctuation and symbols become spaces
  bool digits = true;       // every decimal digit becomes '0'
  bool whitespace = true;   // whitespace runs become one space, trimmed
};

// NFKC of valid UTF-8, calling utf8proc only on the pieces that need it
// (ASCII and CJK ideographs are copied); equals Normalize(text, kNFKC),
// which stays as its reference. Pieces with invalid UTF-8 are kept as is.
std::string NfkcFast(std::string_view text);

// Normalizes `text` (valid UTF-8; invalid bytes are kept as they are).
std::string NormalizeForDedup(std::string_view text, const NormalizeOptions& opts);

struct ShingleOptions {
  int ngram = 5;      // words per shingle
  int cjk_ngram = 3;  // characters per shingle in no-space scripts
  uint64_t seed = 0;  // hash seed of the shingles
};

// Splits normalized text into tokens (see the header comment). Views into
// `normalized`. *no_space_tokens counts the single-character tokens.
std::vector<std::string_view> TokenizeForDedup(std::string_view normalized, size_t* no_space_tokens);

// The shingle width used for a token sequence.
int ShingleWidth(size_t tokens, size_t no_space_tokens, const ShingleOptions& opts);

// Sorted, distinct 64-bit hashes of the shingles of normalized text.
std::vector<uint64_t> ShingleHashes(std::string_view normalized, const ShingleOptions& opts);

// The exact-duplicate key: XXH3-128 of the normalized text.
struct Hash128 {
  uint64_t lo = 0, hi = 0;
  bool operator==(const Hash128& o) const { return lo == o.lo && hi == o.hi; }
  bool operator<(const Hash128& o) const { return hi != o.hi ? hi < o.hi : lo < o.lo; }
};
Hash128 ExactHash(std::string_view normalized);

// Exact Jaccard similarity |A∩B| / |A∪B| of two sorted distinct sets
// (1 when both are empty).
template <typename T>
double SortedJaccard(const std::vector<T>& a, const std::vector<T>& b) {
  if (a.empty() && b.empty()) return 1.0;
  size_t i = 0, j = 0, inter = 0;
  while (i < a.size() && j < b.size()) {
    if (a[i] < b[j]) {
      ++i;
    } else if (b[j] < a[i]) {
      ++j;
    } else {
      ++inter, ++i, ++j;
    }
  }
  return static_cast<double>(inter) / static_cast<double>(a.size() + b.size() - inter);
}

}  // namespace llmtk

#endif  // LLMTK_LIB_DEDUP_SHINGLE_H_
