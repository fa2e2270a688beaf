#include "lib/formats/gguf_keys.h"

#include <iterator>

#include "absl/strings/str_cat.h"
#include "lib/base/status.h"

namespace llmtk {
namespace {

// Indexed by GgufKey.
constexpr std::string_view kKeyNames[] = {
    "general.architecture",
    "general.type",
    "general.name",
    "general.size_label",
    "general.file_type",
    "general.quantization_version",
    "general.alignment",
    "split.no",
    "split.count",
    "split.tensors.count",
    "tokenizer.ggml.model",
    "tokenizer.ggml.pre",
    "tokenizer.ggml.tokens",
    "tokenizer.ggml.token_type",
    "tokenizer.ggml.scores",
    "tokenizer.ggml.merges",
    "tokenizer.ggml.bos_token_id",
    "tokenizer.ggml.eos_token_id",
    "tokenizer.ggml.eot_token_id",
    "tokenizer.ggml.unknown_token_id",
    "tokenizer.ggml.seperator_token_id",  // sic: llama.cpp's spelling
    "tokenizer.ggml.padding_token_id",
    "tokenizer.ggml.cls_token_id",
    "tokenizer.ggml.mask_token_id",
    "tokenizer.ggml.add_bos_token",
    "tokenizer.ggml.add_eos_token",
    "tokenizer.ggml.add_space_prefix",
    "tokenizer.ggml.remove_extra_whitespaces",
    "tokenizer.ggml.precompiled_charsmap",
    "tokenizer.chat_template",
    "imatrix.datasets",
    "imatrix.chunk_count",
    "imatrix.chunk_size",
    "quantize.imatrix.file",
    "quantize.imatrix.dataset",
    "quantize.imatrix.entries_count",
    "quantize.imatrix.chunks_count",
    "tokenizer.ggml.eom_token_id",
    "tokenizer.ggml.fim_pre_token_id",
    "tokenizer.ggml.fim_suf_token_id",
    "tokenizer.ggml.fim_mid_token_id",
    "tokenizer.ggml.fim_pad_token_id",
    "tokenizer.ggml.fim_rep_token_id",
    "tokenizer.ggml.fim_sep_token_id",
    "tokenizer.ggml.prefix_token_id",
    "tokenizer.ggml.suffix_token_id",
    "tokenizer.ggml.middle_token_id",
};
static_assert(std::size(kKeyNames) == static_cast<size_t>(GgufKey::kTokenizerMiddleId) + 1);

// Indexed by GgufArchKey: the name after "<arch>.".
constexpr std::string_view kArchKeySuffixes[] = {
    "vocab_size",
    "context_length",
    "embedding_length",
    "block_count",
    "feed_forward_length",
    "expert_feed_forward_length",
    "expert_count",
    "expert_used_count",
    "expert_shared_feed_forward_length",
    "attention.head_count",
    "attention.head_count_kv",
    "attention.key_length",
    "attention.value_length",
    "attention.layer_norm_rms_epsilon",
    "attention.sliding_window",
    "attention.q_lora_rank",
    "attention.kv_lora_rank",
    "rope.dimension_count",
    "rope.freq_base",
    "rope.scale_linear",
    "rope.scaling.type",
    "rope.scaling.factor",
    "rope.scaling.attn_factor",
    "rope.scaling.original_context_length",
    "rope.scaling.yarn_beta_fast",
    "rope.scaling.yarn_beta_slow",
    "attn_logit_softcapping",
    "final_logit_softcapping",
    "rope.freq_base_swa",
    "leading_dense_block_count",
    "expert_shared_count",
    "expert_weights_scale",
    "expert_weights_norm",
    "expert_gating_func",
    "rope.scaling.yarn_log_multiplier",
};
static_assert(std::size(kArchKeySuffixes) == static_cast<size_t>(GgufArchKey::kRopeScalingYarnLogMultiplier) + 1);

}  // namespace

std::string_view GgufKeyName(GgufKey key) { return kKeyNames[static_cast<size_t>(key)]; }

std::string_view GgufArchKeySuffix(GgufArchKey key) { return kArchKeySuffixes[static_cast<size_t>(key)]; }

std::string GgufKeyName(GgufArchKey key, std::string_view arch) {
  return absl::StrCat(ToAbsl(arch), ".", ToAbsl(GgufArchKeySuffix(key)));
}

}  // namespace llmtk
