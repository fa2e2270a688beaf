#include "lib/formats/gguf_vocab.h"

namespace llmtk {
namespace {

// The order ReadGgufVocab reads the ids in.
constexpr GgufSpecialToken kSpecialTokens[] = {
    GgufSpecialToken::kBos,       GgufSpecialToken::kEos,     GgufSpecialToken::kEot,
    GgufSpecialToken::kUnknown,   GgufSpecialToken::kSeparator, GgufSpecialToken::kPadding,
    GgufSpecialToken::kCls,       GgufSpecialToken::kMask,
};

std::string_view Key(GgufKey key) { return GgufKeyName(key); }

}  // namespace

GgufKey GgufSpecialTokenKey(GgufSpecialToken token) {
  switch (token) {
    case GgufSpecialToken::kBos: return GgufKey::kTokenizerBosId;
    case GgufSpecialToken::kEos: return GgufKey::kTokenizerEosId;
    case GgufSpecialToken::kEot: return GgufKey::kTokenizerEotId;
    case GgufSpecialToken::kUnknown: return GgufKey::kTokenizerUnknownId;
    case GgufSpecialToken::kSeparator: return GgufKey::kTokenizerSeparatorId;
    case GgufSpecialToken::kPadding: return GgufKey::kTokenizerPaddingId;
    case GgufSpecialToken::kCls: return GgufKey::kTokenizerClsId;
    case GgufSpecialToken::kMask: return GgufKey::kTokenizerMaskId;
  }
  return GgufKey::kTokenizerBosId;
}

std::optional<uint32_t> GgufVocab::special_id(GgufSpecialToken token) const {
  for (const auto& [t, id] : special_ids) {
    if (t == token) return id;
  }
  return std::nullopt;
}

void GgufVocab::set_special_id(GgufSpecialToken token, uint32_t id) {
  for (auto& [t, old] : special_ids) {
    if (t == token) {
      old = id;
      return;
    }
  }
  special_ids.emplace_back(token, id);
}

bool HasGgufVocab(const GgufFile& f) { return f.GetString(Key(GgufKey::kTokenizerModel)).ok(); }

absl::StatusOr<GgufVocab> ReadGgufVocab(const GgufFile& f) {
  GgufVocab v;
  auto string = [&](GgufKey key, std::optional<std::string>* out) -> absl::Status {
    if (!f.Has(Key(key))) return absl::OkStatus();
    ASSIGN_OR_RETURN(std::string_view s, f.GetString(Key(key)));
    *out = std::string(s);
    return absl::OkStatus();
  };
  auto strings = [&](GgufKey key, std::optional<std::vector<std::string>>* out) -> absl::Status {
    if (!f.Has(Key(key))) return absl::OkStatus();
    ASSIGN_OR_RETURN(std::vector<std::string_view> views, f.GetStringArray(Key(key)));
    *out = std::vector<std::string>(views.begin(), views.end());
    return absl::OkStatus();
  };
  auto boolean = [&](GgufKey key, std::optional<bool>* out) -> absl::Status {
    if (!f.Has(Key(key))) return absl::OkStatus();
    ASSIGN_OR_RETURN(*out, f.GetBool(Key(key)));
    return absl::OkStatus();
  };
  // In the order the tokenizer checks them, so that of two bad keys the one
  // it meets first is reported.
  RETURN_IF_ERROR(string(GgufKey::kTokenizerModel, &v.model));
  RETURN_IF_ERROR(strings(GgufKey::kTokenizerTokens, &v.tokens));
  if (f.Has(Key(GgufKey::kTokenizerTokenType))) {
    ASSIGN_OR_RETURN(v.token_types, f.GetI32Array(Key(GgufKey::kTokenizerTokenType)));
  }
  for (GgufSpecialToken t : kSpecialTokens) {
    const std::string_view key = Key(GgufSpecialTokenKey(t));
    if (!f.Has(key)) continue;
    ASSIGN_OR_RETURN(uint32_t id, f.GetU32(key));
    v.special_ids.emplace_back(t, id);
  }
  RETURN_IF_ERROR(boolean(GgufKey::kTokenizerAddBos, &v.add_bos));
  RETURN_IF_ERROR(boolean(GgufKey::kTokenizerAddEos, &v.add_eos));
  RETURN_IF_ERROR(string(GgufKey::kTokenizerPre, &v.pre));
  if (f.Has(Key(GgufKey::kTokenizerScores))) {
    ASSIGN_OR_RETURN(v.scores, f.GetF32Array(Key(GgufKey::kTokenizerScores)));
  }
  RETURN_IF_ERROR(boolean(GgufKey::kTokenizerAddSpacePrefix, &v.add_space_prefix));
  RETURN_IF_ERROR(strings(GgufKey::kTokenizerMerges, &v.merges));
  RETURN_IF_ERROR(string(GgufKey::kTokenizerChatTemplate, &v.chat_template));
  return v;
}

void SetGgufVocab(const GgufVocab& v, GgufMetadata* md) {
  if (v.model) md->SetString(Key(GgufKey::kTokenizerModel), *v.model);
  if (v.pre) md->SetString(Key(GgufKey::kTokenizerPre), *v.pre);
  if (v.tokens) md->SetStringArray(Key(GgufKey::kTokenizerTokens), *v.tokens);
  if (v.scores) md->SetF32Array(Key(GgufKey::kTokenizerScores), *v.scores);
  if (v.token_types) md->SetI32Array(Key(GgufKey::kTokenizerTokenType), *v.token_types);
  if (v.merges) md->SetStringArray(Key(GgufKey::kTokenizerMerges), *v.merges);
  for (const auto& [t, id] : v.special_ids) md->SetU32(Key(GgufSpecialTokenKey(t)), id);
  if (v.add_bos) md->SetBool(Key(GgufKey::kTokenizerAddBos), *v.add_bos);
  if (v.add_eos) md->SetBool(Key(GgufKey::kTokenizerAddEos), *v.add_eos);
  if (v.add_space_prefix) md->SetBool(Key(GgufKey::kTokenizerAddSpacePrefix), *v.add_space_prefix);
  if (v.chat_template) md->SetString(Key(GgufKey::kTokenizerChatTemplate), *v.chat_template);
}

}  // namespace llmtk
