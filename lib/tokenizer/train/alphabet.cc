#include "lib/tokenizer/train/alphabet.h"

#include <algorithm>
#include <array>

#include "absl/strings/str_format.h"
#include "lib/tokenizer/byte_level.h"
#include "lib/base/unicode.h"

namespace llmtk {

std::string MetaspaceWord(std::string_view word) {
  std::string out;
  out.reserve(word.size() + 3);
  if (word.empty() || word[0] != ' ') out += kMetaspace;
  for (char c : word) {
    if (c == ' ') {
      out += kMetaspace;
    } else {
      out += c;
    }
  }
  return out;
}

void SplitOnSpaces(std::string_view text, std::vector<std::string_view>* words) {
  size_t start = 0;
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == ' ') {
      words->push_back(text.substr(start, i - start));
      start = i;
    }
  }
  words->push_back(text.substr(start));
}

std::vector<std::string> EffectiveSpecialTokens(const BpeTrainerOptions& opts) {
  std::vector<std::string> out = opts.special_tokens;
  if (opts.style == BpeStyle::kSentencePiece) {
    if (out.empty()) out = {"<s>", "</s>"};
    if (std::find(out.begin(), out.end(), "<unk>") == out.end()) out.insert(out.begin(), "<unk>");
  }
  return out;
}

absl::Status CheckVocabSize(const BpeTrainerOptions& opts) {
  const size_t specials = EffectiveSpecialTokens(opts).size();
  const bool sp = opts.style == BpeStyle::kSentencePiece;
  const int min_vocab = static_cast<int>(specials) + 256 + (sp ? 1 : 0);
  if (opts.vocab_size >= min_vocab) return absl::OkStatus();
  return absl::InvalidArgumentError(absl::StrCat(
      "--vocab-size ", opts.vocab_size, " is below the alphabet: the 256 ",
      sp ? "byte-fallback tokens, at least one character" : "byte symbols", " and ", specials,
      " special tokens need at least ", min_vocab));
}

absl::StatusOr<Alphabet> Alphabet::Build(const WordCountMap& words, const BpeTrainerOptions& opts,
                                         std::vector<std::string>* tokens,
                                         std::vector<uint32_t>* token_len) {
  Alphabet a;
  a.style_ = opts.style;
  const int specials = static_cast<int>(tokens->size());
  if (opts.style == BpeStyle::kByteLevel) {
    std::array<uint8_t, 256> order;
    for (int b = 0; b < 256; ++b) order[b] = static_cast<uint8_t>(b);
    std::sort(order.begin(), order.end(), [](uint8_t x, uint8_t y) {
      return ByteLevelChar(x) .compare(ByteLevelChar(y)) < 0;  // UTF-8 order = code-point order
    });
    for (uint8_t b : order) {
      a.byte_id_[b] = tokens->size();
      tokens->push_back(ByteLevelChar(b));
      token_len->push_back(1);
    }
    a.size_ = 256;
    return a;
  }

  if (opts.character_coverage <= 0 || opts.character_coverage > 1) {
    return absl::InvalidArgumentError(absl::StrCat("--character-coverage ",
                                                   opts.character_coverage,
                                                   " is outside (0, 1]"));
  }
  // Byte-fallback tokens first, as Llama 2 and SentencePiece lay them out.
  for (int b = 0; b < 256; ++b) {
    tokens->push_back(absl::StrFormat("<0x%02X>", b));
    token_len->push_back(1);
  }
  absl::flat_hash_map<char32_t, uint64_t> freq;
  uint64_t total = 0;
  for (const auto& [w, n] : words) {
    std::string text = MetaspaceWord(w);
    for (size_t pos = 0; pos < text.size();) {
      int32_t cp = DecodeUtf8(text, &pos);
      if (cp == kInvalidUtf8) continue;  // left to byte fallback
      freq[static_cast<char32_t>(cp)] += n;
      total += n;
    }
  }
  std::vector<std::pair<char32_t, uint64_t>> chars(freq.begin(), freq.end());
  std::sort(chars.begin(), chars.end(), [](const auto& x, const auto& y) {
    return x.second != y.second ? x.second > y.second : x.first < y.first;
  });
  // SentencePiece gives up when the covering alphabet does not fit; we cap
  // the characters at half the free ids, leaving the other half to merges,
  // and the rarest characters to byte fallback (the report shows the share).
  const int room = std::max(1, (opts.vocab_size - specials - 256) / 2);
  const double want = opts.character_coverage * static_cast<double>(total);
  size_t keep = 0;
  uint64_t covered = 0;
  while (keep < chars.size() && keep < static_cast<size_t>(std::max(room, 0)) &&
         static_cast<double>(covered) < want) {
    covered += chars[keep++].second;
  }
  a.coverage_ = total ? static_cast<double>(covered) / static_cast<double>(total) : 1.0;
  chars.resize(keep);
  std::sort(chars.begin(), chars.end());
  for (const auto& [cp, n] : chars) {
    a.char_id_.emplace(cp, tokens->size());
    std::string s;
    AppendUtf8(&s, cp);
    tokens->push_back(std::move(s));
    token_len->push_back(1);
  }
  a.size_ = 256 + static_cast<int>(keep);
  return a;
}

void Alphabet::Symbolize(std::string_view word, std::vector<uint32_t>* out) const {
  if (style_ == BpeStyle::kByteLevel) {
    for (unsigned char c : word) out->push_back(byte_id_[c]);
    return;
  }
  std::string text = MetaspaceWord(word);
  for (size_t pos = 0; pos < text.size();) {
    const size_t start = pos;
    int32_t cp = DecodeUtf8(text, &pos);
    auto it = cp == kInvalidUtf8 ? char_id_.end() : char_id_.find(static_cast<char32_t>(cp));
    if (it != char_id_.end()) {
      out->push_back(it->second);
    } else {
      // Byte fallback: one token per byte, never part of a merge.
      out->insert(out->end(), pos - start, kNoSymbol);
    }
  }
}

}  // namespace llmtk
