// tokenizer/llama_token_attrs: each GGUF token's attribute as llama.cpp
// c392e50's vocabulary loader (llama_vocab::impl::load) leaves it, and the
// end-of-generation ids it derives. Encoding (which tokens are matched in
// the text, and whether only with special parsing), decoding (which tokens
// skip_special drops) and generation (where it stops) all read these.
//
// The loader starts from the file's token types and then makes tokens
// control by name:
//  - every token named as an end-of-generation marker ("<|eot_id|>",
//    "<|im_end|>", "<|end|>", "<end_of_turn>", "<|endoftext|>",
//    "<|eom_id|>", "<EOT>");
//  - per group (end of turn, end of message, and the six fill-in-the-middle
//    roles), when the file gives no id for the group, the FIRST token found
//    with one of the group's names; "first" is the iteration order of its
//    std::unordered_map<std::string, llama_token> filled in id order. We
//    fill a map of the same type the same way, so the order is the same
//    under the same standard library (libstdc++, as llama.cpp's Linux
//    builds); the map is only built when a group has two names present.
// End of generation: those named tokens, the FIM pad/repo/file-separator
// tokens, and the EOS, EOT and EOM ids.
//
// Thread-safety: a pure function.
#ifndef LLMTK_LIB_TOKENIZER_LLAMA_TOKEN_ATTRS_H_
#define LLMTK_LIB_TOKENIZER_LLAMA_TOKEN_ATTRS_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "lib/formats/gguf_vocab.h"

namespace llmtk {

enum class LlamaTokenAttr { kUndefined, kNormal, kUnknown, kControl, kUserDefined, kUnused, kByte };

// Ids the file gives (tokenizer.ggml.*_token_id; an id outside the
// vocabulary counts as absent, as llama.cpp ignores it with a warning).
struct LlamaSpecialIds {
  std::optional<uint32_t> eos, eot, eom, fim_pre, fim_suf, fim_mid, fim_pad, fim_rep, fim_sep;
};

struct LlamaTokenAttrs {
  std::vector<LlamaTokenAttr> attrs;  // by id
  std::vector<uint32_t> eog;          // ascending
};

// The ids of a GGUF vocabulary of `n` tokens, as llama.cpp takes them: the
// older prefix/suffix/middle keys, read after fim_pre/suf/mid, win when in
// range.
LlamaSpecialIds LlamaSpecialIdsOf(const GgufVocab& v, size_t n);

// `tokens` and `types` (GgufTokenType values; missing ones are normal) by id.
LlamaTokenAttrs ComputeLlamaTokenAttrs(const std::vector<std::string>& tokens, const std::vector<int32_t>& types,
                                       const LlamaSpecialIds& ids);

}  // namespace llmtk

#endif  // LLMTK_LIB_TOKENIZER_LLAMA_TOKEN_ATTRS_H_
