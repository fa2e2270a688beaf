#include "lib/formats/gguf_vocab.h"

#include "absl/strings/str_cat.h"

namespace llmtk {
namespace {

// The order ReadGgufVocab lists the ids in.
constexpr GgufSpecialToken kSpecialTokens[] = {
    GgufSpecialToken::kBos,       GgufSpecialToken::kEos,     GgufSpecialToken::kEot,
    GgufSpecialToken::kUnknown,   GgufSpecialToken::kSeparator, GgufSpecialToken::kPadding,
    GgufSpecialToken::kCls,       GgufSpecialToken::kMask,    GgufSpecialToken::kEom,
    GgufSpecialToken::kFimPre,    GgufSpecialToken::kFimSuf,  GgufSpecialToken::kFimMid,
    GgufSpecialToken::kFimPad,    GgufSpecialToken::kFimRep,  GgufSpecialToken::kFimSep,
    GgufSpecialToken::kPrefix,    GgufSpecialToken::kSuffix,  GgufSpecialToken::kMiddle,
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
    case GgufSpecialToken::kEom: return GgufKey::kTokenizerEomId;
    case GgufSpecialToken::kFimPre: return GgufKey::kTokenizerFimPreId;
    case GgufSpecialToken::kFimSuf: return GgufKey::kTokenizerFimSufId;
    case GgufSpecialToken::kFimMid: return GgufKey::kTokenizerFimMidId;
    case GgufSpecialToken::kFimPad: return GgufKey::kTokenizerFimPadId;
    case GgufSpecialToken::kFimRep: return GgufKey::kTokenizerFimRepId;
    case GgufSpecialToken::kFimSep: return GgufKey::kTokenizerFimSepId;
    case GgufSpecialToken::kPrefix: return GgufKey::kTokenizerPrefixId;
    case GgufSpecialToken::kSuffix: return GgufKey::kTokenizerSuffixId;
    case GgufSpecialToken::kMiddle: return GgufKey::kTokenizerMiddleId;
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

absl::Status GgufVocab::KeyStatus(GgufKey key) const {
  for (const auto& [k, status] : bad_keys) {
    if (k == key) return status;
  }
  return absl::OkStatus();
}

GgufVocab ReadGgufVocab(const GgufFile& f) {
  GgufVocab v;
  // Sets *out to the key's value when the file has the key with its type.
  auto read = [&](GgufKey key, auto get, auto* out) {
    if (!f.Has(Key(key))) return;
    auto value = get(Key(key));
    if (value.ok()) {
      out->emplace(std::move(*value));
    } else {
      v.bad_keys.emplace_back(key, value.status());
    }
  };
  auto get_string = [&](std::string_view k) -> absl::StatusOr<std::string> {
    ASSIGN_OR_RETURN(std::string_view s, f.GetString(k));
    return std::string(s);
  };
  auto get_strings = [&](std::string_view k) -> absl::StatusOr<std::vector<std::string>> {
    ASSIGN_OR_RETURN(std::vector<std::string_view> views, f.GetStringArray(k));
    return std::vector<std::string>(views.begin(), views.end());
  };
  auto get_bool = [&](std::string_view k) { return f.GetBool(k); };
  read(GgufKey::kTokenizerModel, get_string, &v.model);
  read(GgufKey::kTokenizerPre, get_string, &v.pre);
  read(GgufKey::kTokenizerTokens, get_strings, &v.tokens);
  read(GgufKey::kTokenizerScores, [&](std::string_view k) { return f.GetF32Array(k); }, &v.scores);
  read(GgufKey::kTokenizerTokenType, [&](std::string_view k) { return f.GetI32Array(k); }, &v.token_types);
  read(GgufKey::kTokenizerMerges, get_strings, &v.merges);
  for (GgufSpecialToken t : kSpecialTokens) {
    std::optional<uint32_t> id;
    read(GgufSpecialTokenKey(t), [&](std::string_view k) { return f.GetU32(k); }, &id);
    if (id) v.special_ids.emplace_back(t, *id);
  }
  read(GgufKey::kTokenizerAddBos, get_bool, &v.add_bos);
  read(GgufKey::kTokenizerAddEos, get_bool, &v.add_eos);
  read(GgufKey::kTokenizerAddSpacePrefix, get_bool, &v.add_space_prefix);
  read(GgufKey::kTokenizerRemoveExtraWhitespaces, get_bool, &v.remove_extra_whitespaces);
  read(GgufKey::kTokenizerPrecompiledCharsmap,
       [&](std::string_view k) -> absl::StatusOr<std::string> {
         ASSIGN_OR_RETURN(std::vector<int32_t> values, f.GetI32Array(k));
         std::string bytes;
         bytes.reserve(values.size());
         for (int32_t x : values) {
           if (x < 0 || x > 255) {
             return absl::DataLossError(absl::StrCat(f.name(), ": ", ToAbsl(k), " holds ", x, ", not a byte"));
           }
           bytes.push_back(static_cast<char>(x));
         }
         return bytes;
       },
       &v.precompiled_charsmap);
  read(GgufKey::kTokenizerChatTemplate, get_string, &v.chat_template);
  read(GgufKey::kGeneralName, get_string, &v.model_name);
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
  if (v.remove_extra_whitespaces) {
    md->SetBool(Key(GgufKey::kTokenizerRemoveExtraWhitespaces), *v.remove_extra_whitespaces);
  }
  if (v.precompiled_charsmap) {
    std::string p;
    const uint32_t type = static_cast<uint32_t>(GgufType::kUint8);
    const uint64_t count = v.precompiled_charsmap->size();
    p.append(reinterpret_cast<const char*>(&type), sizeof(type));  // little-endian hosts, as the writer
    p.append(reinterpret_cast<const char*>(&count), sizeof(count));
    p += *v.precompiled_charsmap;
    md->SetRaw(Key(GgufKey::kTokenizerPrecompiledCharsmap), GgufType::kArray, p);
  }
  if (v.chat_template) md->SetString(Key(GgufKey::kTokenizerChatTemplate), *v.chat_template);
}

}  // namespace llmtk
