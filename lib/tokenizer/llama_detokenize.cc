#include "lib/tokenizer/llama_detokenize.h"

#include <array>
#include <cstdlib>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "lib/base/unicode.h"
#include "lib/tokenizer/byte_level.h"
#include "lib/tokenizer/decode.h"

namespace llmtk {
namespace {

using Attr = LlamaTokenAttr;

// llama_decode_text: each character of a byte-level token back to its
// byte; a character outside the byte alphabet becomes
// "[UNK_BYTE_0x<its UTF-8 in hex><the whole token>]", as llama.cpp spells it.
std::string ByteLevelPiece(std::string_view text) {
  std::string out;
  size_t i = 0;
  while (i < text.size()) {
    const size_t start = i;
    int32_t cp = DecodeUtf8(text, &i);
    if (cp == kInvalidUtf8) {
      i = start + 1;  // llama.cpp: one U+FFFD per byte that fails
      cp = kReplacementChar;
    }
    const int b = ByteLevelByte(static_cast<char32_t>(cp));
    if (b >= 0) {
      out.push_back(static_cast<char>(b));
      continue;
    }
    std::string utf8;
    AppendUtf8(&utf8, static_cast<char32_t>(cp));
    out += "[UNK_BYTE_0x";
    for (unsigned char c : utf8) absl::StrAppendFormat(&out, "%02x", c);
    out.append(text);
    out.push_back(']');
  }
  return out;
}

// token_to_piece with special tokens spelled out.
std::string Piece(const std::string& text, Attr attr, LlamaVocabType type) {
  if (attr == Attr::kControl || attr == Attr::kUnknown || attr == Attr::kUserDefined) return text;
  if (type == LlamaVocabType::kBpe) return attr == Attr::kNormal ? ByteLevelPiece(text) : std::string();
  if (attr == Attr::kNormal) return SpmSpacesToSpaces(text);
  // "<0xAB>": llama.cpp reads the two characters after "<0x" with strtol
  // (WPM byte tokens make it abort; we give nothing).
  if (attr == Attr::kByte && type != LlamaVocabType::kWpm) {
    const std::string hex = text.size() > 3 ? text.substr(3, 2) : std::string();
    return std::string(1, static_cast<char>(std::strtol(hex.c_str(), nullptr, 16)));
  }
  return {};  // unused, undefined
}

}  // namespace

bool LlamaBpeCleansSpaces(std::string_view pre) {
  static constexpr std::string_view kKeepSpaces[] = {
      "deepseek-llm", "deepseek-coder", "deepseek-v3", "command-r", "qwen2", "deepseek-r1-qwen",
      "poro-chat",    "viking",         "tekken",      "smollm",    "chameleon"};
  for (std::string_view p : kKeepSpaces)
    if (p == pre) return false;
  return true;
}

LlamaDetokenizer LlamaDetokenizer::Build(const std::vector<std::string>& tokens, const std::vector<Attr>& attrs,
                                         const LlamaDetokenizerOptions& o) {
  const size_t n = tokens.size();
  LlamaDetokenizer d;
  d.add_space_prefix_ = o.add_space_prefix;
  d.clean_spaces_ = o.clean_spaces;
  d.pieces_.reserve(n);
  d.special_.resize(n);
  for (size_t i = 0; i < n; ++i) {
    d.pieces_.push_back(Piece(tokens[i], attrs[i], o.type));
    d.special_[i] = attrs[i] == Attr::kControl || attrs[i] == Attr::kUnknown;
  }
  return d;
}

absl::StatusOr<std::string> LlamaDetokenizer::Run(std::span<const uint32_t> ids, bool skip_special) const {
  std::string out;
  // Only the first token may lose its space, spelled out or not.
  bool remove_space = add_space_prefix_;
  for (size_t i = 0; i < ids.size(); ++i) {
    const uint32_t id = ids[i];
    if (id >= pieces_.size()) {
      return absl::DataLossError(absl::StrCat("token id ", id, " at position ", i,
                                              " is outside the vocabulary (size ", pieces_.size(), ")"));
    }
    const bool drop = skip_special && special_[id];
    if (!drop) {
      std::string_view p = pieces_[id];
      if (remove_space && !p.empty() && p.front() == ' ') p.remove_prefix(1);
      out.append(p);
    }
    remove_space = false;
  }
  if (clean_spaces_) return LlamaCleanSpaces(out);
  return out;
}

}  // namespace llmtk
