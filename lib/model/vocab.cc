#include "lib/model/vocab.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "lib/formats/gguf_keys.h"
#include "lib/formats/gguf_vocab.h"
#include "lib/tokenizer/byte_level.h"
#include "lib/tokenizer/decode.h"
#include "lib/tokenizer/llama_token_attrs.h"

namespace llmtk {

absl::StatusOr<Vocab> Vocab::FromGguf(const GgufFile& f) {
  auto key = [](GgufKey k) { return ToAbsl(GgufKeyName(k)); };
  if (!HasGgufVocab(f)) {
    return absl::DataLossError(
        absl::StrCat(f.name(), ": no tokenizer in the file ('", key(GgufKey::kTokenizerModel), "' is missing)"));
  }
  GgufVocab gv = ReadGgufVocab(f);
  Vocab v;
  v.model_ = gv.model.value_or("");  // present: HasGgufVocab
  RETURN_IF_ERROR(gv.KeyStatus(GgufKey::kTokenizerChatTemplate));
  v.chat_template_ = gv.chat_template;
  RETURN_IF_ERROR(gv.KeyStatus(GgufKey::kTokenizerTokens));
  if (!gv.tokens) {
    return absl::NotFoundError(absl::StrCat(f.name(), ": key '", key(GgufKey::kTokenizerTokens), "' not found"));
  }
  v.pieces_ = *gv.tokens;
  const size_t n = v.pieces_.size();
  RETURN_IF_ERROR(gv.KeyStatus(GgufKey::kTokenizerTokenType));
  if (gv.token_types) v.types_ = *gv.token_types;
  v.types_.resize(n, kGgufTokenNormal);
  auto id_key = [&](GgufSpecialToken t) -> absl::StatusOr<int32_t> {
    RETURN_IF_ERROR(gv.KeyStatus(GgufSpecialTokenKey(t)));
    const std::optional<uint32_t> id = gv.special_id(t);
    if (!id) return -1;
    if (*id >= n) {
      return absl::DataLossError(
          absl::StrFormat("%s: %s = %d is outside the vocabulary", f.name(), key(GgufSpecialTokenKey(t)), *id));
    }
    return static_cast<int32_t>(*id);
  };
  ASSIGN_OR_RETURN(v.bos_, id_key(GgufSpecialToken::kBos));
  ASSIGN_OR_RETURN(v.eos_, id_key(GgufSpecialToken::kEos));
  RETURN_IF_ERROR(id_key(GgufSpecialToken::kEot).status());  // a bad one is an error; the id comes below
  // End of generation and control tokens as llama.cpp's loader derives them
  // (by name as well as by id); a control token prints as nothing.
  const LlamaTokenAttrs attrs = ComputeLlamaTokenAttrs(v.pieces_, v.types_, LlamaSpecialIdsOf(gv, n));
  v.eog_.assign(attrs.eog.begin(), attrs.eog.end());
  for (size_t i = 0; i < n; ++i) {
    if (attrs.attrs[i] == LlamaTokenAttr::kControl) v.types_[i] = kGgufTokenControl;
  }
  // As Tokenizer::FromGgufVocab decides it (default on for "llama").
  const bool space_prefix = v.model_ == "llama" && gv.add_space_prefix.value_or(true);
  // Only an unsupported tokenizer model is deferred to Encode (decoding and
  // --bench still work); a corrupt vocabulary fails here.
  auto tok = Tokenizer::FromGgufVocab(std::move(gv), f.name());
  if (tok.ok()) {
    v.tokenizer_ = std::move(*tok);
    v.add_space_prefix_ = space_prefix;
  } else if (absl::IsUnimplemented(tok.status())) {
    v.tokenizer_error_ = tok.status();
  } else {
    return tok.status();
  }
  return v;
}

bool Vocab::IsEog(int32_t id) const { return std::find(eog_.begin(), eog_.end(), id) != eog_.end(); }

std::string Vocab::Piece(int32_t id) const {
  if (id < 0 || id >= size()) return "";
  const std::string& p = pieces_[id];
  const int32_t type = types_[id];
  if (type == kGgufTokenControl) return "";
  if (type == kGgufTokenByte && p.size() == 6 && p.compare(0, 3, "<0x") == 0) {
    return std::string(1, static_cast<char>(std::stoi(p.substr(3, 2), nullptr, 16)));
  }
  if (model_ == "gpt2") {
    // GPT-2's byte-to-unicode map, the one lib/tokenizer encodes with;
    // characters outside it (added tokens) are kept as they are.
    std::string out;
    ByteLevelToBytes(p, &out);
    return out;
  }
  return SpmSpacesToSpaces(p);  // SentencePiece: U+2581 is a space
}

std::string Vocab::Decode(const std::vector<int32_t>& ids) const {
  std::string out;
  for (int32_t id : ids) out += Piece(id);
  return out;
}

bool Vocab::add_bos() const {
  return tokenizer_ && bos_ >= 0 && !tokenizer_->parts().post.prefix.empty() &&
         tokenizer_->parts().post.prefix.front() == static_cast<uint32_t>(bos_);
}

absl::StatusOr<std::vector<int32_t>> Vocab::Encode(std::string_view text, bool add_special,
                                                   bool parse_special) const {
  if (!tokenizer_) return tokenizer_error_;
  std::vector<uint32_t> ids;
  RETURN_IF_ERROR(tokenizer_->Encode(text, add_special, &ids, parse_special));
  return std::vector<int32_t>(ids.begin(), ids.end());
}

}  // namespace llmtk
