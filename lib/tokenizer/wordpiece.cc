#include "lib/tokenizer/wordpiece.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "lib/base/unicode.h"

namespace llmtk {
namespace {

constexpr std::string_view kPhantomSpace = "\xE2\x96\x81";

bool IsContinuationByte(char c) { return (static_cast<unsigned char>(c) & 0xC0) == 0x80; }

}  // namespace

absl::StatusOr<std::unique_ptr<WordPieceModel>> WordPieceModel::Build(std::vector<std::string> tokens,
                                                                      const WordPieceOptions& opt,
                                                                      const std::string& source) {
  if (opt.unk_id >= tokens.size()) {
    return absl::DataLossError(absl::StrCat(source, ": the unknown token's id ", opt.unk_id,
                                            " is outside the vocabulary of ", tokens.size()));
  }
  std::unique_ptr<WordPieceModel> m(new WordPieceModel());
  m->tokens_ = std::move(tokens);
  m->opt_ = opt;
  const std::string_view prefix = opt.continuing_subword_prefix;
  // Later ids win over earlier ones with the same spelling, as HF's vocab
  // map built from vocab.txt does; tokenizer.json vocabularies have none.
  for (size_t id = 0; id < m->tokens_.size(); ++id) {
    std::string_view t = m->tokens_[id];
    if (t.empty()) continue;
    const uint32_t i = static_cast<uint32_t>(id);
    m->all_[t] = i;
    if (opt.gguf_spelling) {
      // llama.cpp looks every substring up in one map: a piece starting
      // with U+2581 can only match at a word's start, any other only after it.
      // (A "\u2581" inside a word is text, so every piece can follow.)
      if (t.substr(0, kPhantomSpace.size()) == kPhantomSpace) m->start_[t.substr(kPhantomSpace.size())] = i;
      m->cont_[t] = i;
      continue;
    }
    m->start_[t] = i;
    if (!prefix.empty() && t.size() >= prefix.size() && t.substr(0, prefix.size()) == prefix) {
      m->cont_[t.substr(prefix.size())] = i;
    } else if (prefix.empty()) {
      m->cont_[t] = i;
    }
  }
  for (auto& [k, v] : m->start_) m->max_start_ = std::max(m->max_start_, k.size());
  for (auto& [k, v] : m->cont_) m->max_cont_ = std::max(m->max_cont_, k.size());
  return m;
}

void WordPieceModel::EncodeWord(std::string_view word, std::vector<uint32_t>* out) const {
  if (word.empty()) return;
  if (opt_.max_input_chars_per_word > 0 && CodePoints(word) > opt_.max_input_chars_per_word) {
    out->push_back(opt_.unk_id);
    return;
  }
  const size_t first = out->size();
  size_t start = 0;
  bool initial = true;
  while (start < word.size()) {
    const auto& map = initial ? start_ : cont_;
    size_t end = std::min(word.size(), start + (initial ? max_start_ : max_cont_));
    // Only whole characters: back `end` off to a character boundary.
    while (end > start && end < word.size() && IsContinuationByte(word[end])) --end;
    bool found = false;
    while (end > start) {
      auto it = map.find(word.substr(start, end - start));
      if (it != map.end()) {
        out->push_back(it->second);
        found = true;
        break;
      }
      do --end;
      while (end > start && IsContinuationByte(word[end]));
    }
    if (!found && initial && opt_.gguf_spelling) {
      // llama.cpp can match the phantom space alone (a "\u2581" token).
      auto it = start_.find(std::string_view());
      if (it != start_.end()) {
        out->push_back(it->second);
        initial = false;
        continue;
      }
    }
    if (!found) {
      out->resize(first);
      out->push_back(opt_.unk_id);
      return;
    }
    initial = false;
    start = end;
  }
}

std::optional<uint32_t> WordPieceModel::TokenToId(std::string_view token) const {
  auto it = all_.find(token);
  if (it == all_.end()) return std::nullopt;
  return it->second;
}

}  // namespace llmtk
