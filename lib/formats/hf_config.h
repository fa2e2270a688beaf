// formats/hf_config: a Hugging Face config.json -- the model's
// architecture and shape as transformers writes them -- read once, for both
// the converter (convert/hf_convert) and the memory estimator
// (vram/model_shape), which derive their own shapes from it.
//
// Values are kept raw, as the file has them (absent, null, an integer, a
// float, ...), not interpreted: each reader has its own rules (the converter
// follows convert_hf_to_gguf.py; the estimator accepts 4096.0 and names the
// offending key in its errors), and both keep them. The struct names every
// key either reads, under the name config.json gives it, including the
// families' aliases (GPT-2's n_embd for hidden_size, ...), the rope_scaling
// object and a multimodal checkpoint's text_config (one level deep).
//
// Thread-safety: values; ParseHfConfigJson is a pure function.
#ifndef LLMTK_LIB_FORMATS_HF_CONFIG_H_
#define LLMTK_LIB_FORMATS_HF_CONFIG_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace llmtk {

// One config.json value as written.
struct HfConfigValue {
  enum class Type {
    kAbsent,
    kNull,
    kInt,   // an integer that fits int64
    kUint,  // an integer above int64's range (below 2^64)
    kDouble,
    kBool,
    kString,
    kArray,
    kObject,
  };
  std::string_view key;  // the name config.json gives it (array elements: empty)
  Type type = Type::kAbsent;
  int64_t int_value = 0;   // kInt
  double number = 0;       // kInt, kUint, kDouble: the value as a double
  bool bool_value = false;  // kBool
  std::string string_value;  // kString
  std::vector<HfConfigValue> elements;  // kArray (elements' own arrays and objects are not kept)

  // Neither absent nor null.
  bool present() const { return type != Type::kAbsent && type != Type::kNull; }
  std::optional<int64_t> AsInt64() const;  // kInt only
  std::optional<double> AsDouble() const;  // any number
  std::optional<bool> AsBool() const;
  std::optional<std::string_view> AsString() const;
};

// The rope_scaling object.
struct HfRopeScalingJson {
  bool is_object = false;
  HfConfigValue rope_type, type;  // newer files say rope_type, older ones type
  HfConfigValue factor, low_freq_factor, high_freq_factor;
  HfConfigValue long_factor, short_factor;  // Phi-3's su/longrope: arrays of numbers
  HfConfigValue mscale_all_dim, original_max_position_embeddings;  // DeepSeek's YaRN
};

struct HfConfigJson {
  bool is_object = false;  // false: the top level is not a JSON object (nothing else is set)

  HfConfigValue architectures;  // ["LlamaForCausalLM"]
  HfConfigValue model_type;
  // The language model of a multimodal checkpoint (Gemma 3); null when
  // text_config is not an object.
  std::unique_ptr<HfConfigJson> text_config;

  HfConfigValue hidden_size, n_embd;
  HfConfigValue num_hidden_layers, n_layer;
  HfConfigValue num_attention_heads, n_head;
  HfConfigValue num_key_value_heads;
  HfConfigValue head_dim;
  HfConfigValue intermediate_size, n_inner;
  HfConfigValue vocab_size;
  HfConfigValue type_vocab_size;  // BERT
  HfConfigValue max_position_embeddings, n_positions, original_max_position_embeddings;
  HfConfigValue rope_theta;
  HfRopeScalingJson rope_scaling;
  HfConfigValue rms_norm_eps;
  HfConfigValue tie_word_embeddings;
  HfConfigValue attention_bias;
  HfConfigValue torch_dtype;

  // Sliding-window attention.
  HfConfigValue sliding_window, use_sliding_window, max_window_layers, sliding_window_pattern, layer_types;

  // Gemma 2/3: soft-capping, the query scale, the local layers' RoPE base.
  HfConfigValue attn_logit_softcapping, final_logit_softcapping, query_pre_attn_scalar, rope_local_base_freq;

  // Mixture of experts: Mixtral, Qwen-MoE, DeepSeek.
  HfConfigValue num_local_experts, num_experts, n_routed_experts, num_experts_per_tok;
  HfConfigValue moe_intermediate_size, shared_expert_intermediate_size, n_shared_experts;
  HfConfigValue decoder_sparse_step, mlp_only_layers, first_k_dense_replace, moe_layer_freq;

  // DeepSeek multi-head latent attention.
  HfConfigValue q_lora_rank, kv_lora_rank, qk_nope_head_dim, qk_rope_head_dim, v_head_dim;
  // DeepSeek routing.
  HfConfigValue routed_scaling_factor, norm_topk_prob, scoring_func, n_group, topk_group, topk_method;

  // Partial rotary (GLM, Phi) and ChatGLM's own names for the shape keys.
  HfConfigValue partial_rotary_factor;
  HfConfigValue seq_length, multi_query_group_num, ffn_hidden_size, num_layers, layernorm_epsilon, rope_ratio;
  HfConfigValue padded_vocab_size, attention_dim, n_embed;
};

// Parses config.json text. When it is not valid JSON: DataLoss whose message
// is the JSON parser's (callers say which file).
absl::StatusOr<HfConfigJson> ParseHfConfigJson(std::string_view json);

}  // namespace llmtk

#endif  // LLMTK_LIB_FORMATS_HF_CONFIG_H_
