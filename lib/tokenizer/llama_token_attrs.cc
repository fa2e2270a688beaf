#include "lib/tokenizer/llama_token_attrs.h"

#include <algorithm>
#include <array>
#include <string_view>
#include <unordered_map>

#include "absl/container/flat_hash_map.h"

namespace llmtk {
namespace {

LlamaTokenAttr AttrOfType(int32_t type) {
  switch (type) {
    case kGgufTokenNormal: return LlamaTokenAttr::kNormal;
    case kGgufTokenUnknown: return LlamaTokenAttr::kUnknown;
    case kGgufTokenControl: return LlamaTokenAttr::kControl;
    case kGgufTokenUserDefined: return LlamaTokenAttr::kUserDefined;
    case kGgufTokenUnused: return LlamaTokenAttr::kUnused;
    case kGgufTokenByte: return LlamaTokenAttr::kByte;
    default: return LlamaTokenAttr::kUndefined;
  }
}

constexpr std::string_view kEogNames[] = {"<|eot_id|>", "<|im_end|>", "<|end|>", "<end_of_turn>",
                                          "<|endoftext|>", "<|eom_id|>", "<EOT>"};

// The loader's groups, in its order: end of turn, end of message, FIM
// prefix, suffix, middle, pad, repo, file separator.
enum Group { kEot, kEom, kFimPre, kFimSuf, kFimMid, kFimPad, kFimRep, kFimSep, kGroups };
const std::vector<std::string_view> kGroupNames[kGroups] = {
    {"<|eot_id|>", "<|im_end|>", "<|end|>", "<end_of_turn>", "<|endoftext|>", "<EOT>",
     "<\xEF\xBD\x9C" "end\xE2\x96\x81of\xE2\x96\x81sentence\xEF\xBD\x9C>"},
    {"<|eom_id|>"},
    {"<|fim_prefix|>", "<fim-prefix>", "<\xEF\xBD\x9C" "fim\xE2\x96\x81" "begin\xEF\xBD\x9C>", "<PRE>"},
    {"<|fim_suffix|>", "<fim-suffix>", "<\xEF\xBD\x9C" "fim\xE2\x96\x81" "hole\xEF\xBD\x9C>", "<SUF>"},
    {"<|fim_middle|>", "<fim-middle>", "<\xEF\xBD\x9C" "fim\xE2\x96\x81" "end\xEF\xBD\x9C>", "<MID>"},
    {"<|fim_pad|>", "<fim-pad>", "<PAD>"},
    {"<|fim_repo|>", "<|repo_name|>", "<fim-repo>", "<REPO>"},
    {"<|file_sep|>"},
};

}  // namespace

LlamaSpecialIds LlamaSpecialIdsOf(const GgufVocab& v, size_t n) {
  auto in_range = [&](GgufSpecialToken t) {
    std::optional<uint32_t> id = v.special_id(t);
    return id && *id < n ? id : std::nullopt;
  };
  auto either = [&](GgufSpecialToken old_key, GgufSpecialToken key) {
    std::optional<uint32_t> id = in_range(old_key);
    return id ? id : in_range(key);
  };
  LlamaSpecialIds ids;
  ids.eos = in_range(GgufSpecialToken::kEos);
  ids.eot = in_range(GgufSpecialToken::kEot);
  ids.eom = in_range(GgufSpecialToken::kEom);
  ids.fim_pre = either(GgufSpecialToken::kPrefix, GgufSpecialToken::kFimPre);
  ids.fim_suf = either(GgufSpecialToken::kSuffix, GgufSpecialToken::kFimSuf);
  ids.fim_mid = either(GgufSpecialToken::kMiddle, GgufSpecialToken::kFimMid);
  ids.fim_pad = in_range(GgufSpecialToken::kFimPad);
  ids.fim_rep = in_range(GgufSpecialToken::kFimRep);
  ids.fim_sep = in_range(GgufSpecialToken::kFimSep);
  return ids;
}

LlamaTokenAttrs ComputeLlamaTokenAttrs(const std::vector<std::string>& tokens, const std::vector<int32_t>& types,
                                       const LlamaSpecialIds& given) {
  const size_t n = tokens.size();
  LlamaTokenAttrs out;
  out.attrs.assign(n, LlamaTokenAttr::kNormal);
  for (size_t i = 0; i < n && i < types.size(); ++i) out.attrs[i] = AttrOfType(types[i]);
  auto valid = [n](std::optional<uint32_t> id) { return id && *id < n ? id : std::nullopt; };
  const std::array<std::optional<uint32_t>, kGroups> by_key = {
      valid(given.eot),     valid(given.eom),     valid(given.fim_pre), valid(given.fim_suf),
      valid(given.fim_mid), valid(given.fim_pad), valid(given.fim_rep), valid(given.fim_sep)};
  std::array<std::optional<uint32_t>, kGroups> id = by_key;
  // token_to_id keeps the last id of a repeated text.
  absl::flat_hash_map<std::string_view, uint32_t> by_text;
  for (size_t i = 0; i < n; ++i) by_text[tokens[i]] = static_cast<uint32_t>(i);
  bool need_order = false;
  for (int g = 0; g < kGroups; ++g) {
    if (id[g]) continue;
    int present = 0;
    uint32_t only = 0;
    for (std::string_view name : kGroupNames[g]) {
      auto it = by_text.find(name);
      if (it != by_text.end()) ++present, only = it->second;
    }
    if (present == 1) id[g] = only;
    if (present > 1) need_order = true;  // the first in llama.cpp's map order, below
  }
  if (need_order) {
    std::unordered_map<std::string, int32_t> token_to_id;  // filled as llama.cpp fills its own
    for (size_t i = 0; i < n; ++i) {
      token_to_id[tokens[i].empty() ? "[EMPTY_" + std::to_string(i) + "]" : tokens[i]] = static_cast<int32_t>(i);
    }
    for (const auto& [text, tid] : token_to_id) {
      for (int g = 0; g < kGroups; ++g) {
        if (!id[g] && std::find(kGroupNames[g].begin(), kGroupNames[g].end(), text) != kGroupNames[g].end()) {
          id[g] = static_cast<uint32_t>(tid);
        }
      }
    }
  }
  // A group's token found by name is made control; one the file names by id is not.
  for (int g = 0; g < kGroups; ++g) {
    if (id[g] && !by_key[g]) out.attrs[*id[g]] = LlamaTokenAttr::kControl;
  }
  std::vector<uint32_t> eog;
  for (std::string_view name : kEogNames) {
    auto it = by_text.find(name);
    if (it == by_text.end()) continue;
    out.attrs[it->second] = LlamaTokenAttr::kControl;
    eog.push_back(it->second);
  }
  for (std::optional<uint32_t> e : {id[kFimPad], id[kFimRep], id[kFimSep], valid(given.eos), id[kEot], id[kEom]}) {
    if (e) eog.push_back(*e);
  }
  std::sort(eog.begin(), eog.end());
  eog.erase(std::unique(eog.begin(), eog.end()), eog.end());
  out.eog = std::move(eog);
  return out;
}

}  // namespace llmtk
