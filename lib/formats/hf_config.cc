#include "lib/formats/hf_config.h"

#include <utility>

#include "simdjson.h"

namespace llmtk {
namespace {

using Type = HfConfigValue::Type;

// `e` without its arrays' and objects' contents, unless `elements`.
HfConfigValue Value(simdjson::dom::element e, std::string_view key, bool elements) {
  HfConfigValue v;
  v.key = key;
  switch (e.type()) {
    case simdjson::dom::element_type::NULL_VALUE: v.type = Type::kNull; break;
    case simdjson::dom::element_type::INT64:
      v.type = Type::kInt;
      v.int_value = e.get_int64().value_unsafe();
      v.number = static_cast<double>(v.int_value);
      break;
    case simdjson::dom::element_type::UINT64:
      v.type = Type::kUint;
      v.number = static_cast<double>(e.get_uint64().value_unsafe());
      break;
    case simdjson::dom::element_type::DOUBLE:
      v.type = Type::kDouble;
      v.number = e.get_double().value_unsafe();
      break;
    case simdjson::dom::element_type::BOOL:
      v.type = Type::kBool;
      v.bool_value = e.get_bool().value_unsafe();
      break;
    case simdjson::dom::element_type::STRING:
      v.type = Type::kString;
      v.string_value = std::string(e.get_string().value_unsafe());
      break;
    case simdjson::dom::element_type::ARRAY:
      v.type = Type::kArray;
      if (elements) {
        const simdjson::dom::array a = e.get_array().value_unsafe();
        for (simdjson::dom::element x : a) v.elements.push_back(Value(x, {}, false));
      }
      break;
    case simdjson::dom::element_type::OBJECT: v.type = Type::kObject; break;
  }
  return v;
}

HfConfigValue Member(simdjson::dom::object obj, std::string_view key) {
  simdjson::dom::element e;
  if (obj[key].get(e) != simdjson::SUCCESS) {
    HfConfigValue v;
    v.key = key;
    return v;
  }
  return Value(e, key, true);
}

// The members an HfConfigJson keeps, by their config.json names.
struct Field {
  std::string_view key;
  HfConfigValue HfConfigJson::*member;
};
constexpr Field kFields[] = {
    {"architectures", &HfConfigJson::architectures},
    {"model_type", &HfConfigJson::model_type},
    {"hidden_size", &HfConfigJson::hidden_size},
    {"n_embd", &HfConfigJson::n_embd},
    {"num_hidden_layers", &HfConfigJson::num_hidden_layers},
    {"n_layer", &HfConfigJson::n_layer},
    {"num_attention_heads", &HfConfigJson::num_attention_heads},
    {"n_head", &HfConfigJson::n_head},
    {"num_key_value_heads", &HfConfigJson::num_key_value_heads},
    {"head_dim", &HfConfigJson::head_dim},
    {"intermediate_size", &HfConfigJson::intermediate_size},
    {"n_inner", &HfConfigJson::n_inner},
    {"vocab_size", &HfConfigJson::vocab_size},
    {"type_vocab_size", &HfConfigJson::type_vocab_size},
    {"max_position_embeddings", &HfConfigJson::max_position_embeddings},
    {"n_positions", &HfConfigJson::n_positions},
    {"original_max_position_embeddings", &HfConfigJson::original_max_position_embeddings},
    {"rope_theta", &HfConfigJson::rope_theta},
    {"rms_norm_eps", &HfConfigJson::rms_norm_eps},
    {"tie_word_embeddings", &HfConfigJson::tie_word_embeddings},
    {"attention_bias", &HfConfigJson::attention_bias},
    {"torch_dtype", &HfConfigJson::torch_dtype},
    {"sliding_window", &HfConfigJson::sliding_window},
    {"use_sliding_window", &HfConfigJson::use_sliding_window},
    {"max_window_layers", &HfConfigJson::max_window_layers},
    {"sliding_window_pattern", &HfConfigJson::sliding_window_pattern},
    {"layer_types", &HfConfigJson::layer_types},
    {"attn_logit_softcapping", &HfConfigJson::attn_logit_softcapping},
    {"final_logit_softcapping", &HfConfigJson::final_logit_softcapping},
    {"query_pre_attn_scalar", &HfConfigJson::query_pre_attn_scalar},
    {"rope_local_base_freq", &HfConfigJson::rope_local_base_freq},
    {"num_local_experts", &HfConfigJson::num_local_experts},
    {"num_experts", &HfConfigJson::num_experts},
    {"n_routed_experts", &HfConfigJson::n_routed_experts},
    {"num_experts_per_tok", &HfConfigJson::num_experts_per_tok},
    {"moe_intermediate_size", &HfConfigJson::moe_intermediate_size},
    {"shared_expert_intermediate_size", &HfConfigJson::shared_expert_intermediate_size},
    {"n_shared_experts", &HfConfigJson::n_shared_experts},
    {"decoder_sparse_step", &HfConfigJson::decoder_sparse_step},
    {"mlp_only_layers", &HfConfigJson::mlp_only_layers},
    {"first_k_dense_replace", &HfConfigJson::first_k_dense_replace},
    {"moe_layer_freq", &HfConfigJson::moe_layer_freq},
    {"q_lora_rank", &HfConfigJson::q_lora_rank},
    {"kv_lora_rank", &HfConfigJson::kv_lora_rank},
    {"qk_nope_head_dim", &HfConfigJson::qk_nope_head_dim},
    {"qk_rope_head_dim", &HfConfigJson::qk_rope_head_dim},
    {"v_head_dim", &HfConfigJson::v_head_dim},
    {"routed_scaling_factor", &HfConfigJson::routed_scaling_factor},
    {"norm_topk_prob", &HfConfigJson::norm_topk_prob},
    {"scoring_func", &HfConfigJson::scoring_func},
    {"n_group", &HfConfigJson::n_group},
    {"topk_group", &HfConfigJson::topk_group},
    {"topk_method", &HfConfigJson::topk_method},
    {"partial_rotary_factor", &HfConfigJson::partial_rotary_factor},
    {"seq_length", &HfConfigJson::seq_length},
    {"multi_query_group_num", &HfConfigJson::multi_query_group_num},
    {"ffn_hidden_size", &HfConfigJson::ffn_hidden_size},
    {"num_layers", &HfConfigJson::num_layers},
    {"layernorm_epsilon", &HfConfigJson::layernorm_epsilon},
    {"rope_ratio", &HfConfigJson::rope_ratio},
    {"padded_vocab_size", &HfConfigJson::padded_vocab_size},
    {"attention_dim", &HfConfigJson::attention_dim},
    {"n_embed", &HfConfigJson::n_embed},
};

HfConfigJson FromObject(simdjson::dom::object obj, bool nested) {
  HfConfigJson c;
  c.is_object = true;
  for (const Field& f : kFields) c.*f.member = Member(obj, f.key);
  simdjson::dom::object rs;
  if (obj["rope_scaling"].get_object().get(rs) == simdjson::SUCCESS) {
    c.rope_scaling.is_object = true;
    c.rope_scaling.rope_type = Member(rs, "rope_type");
    c.rope_scaling.type = Member(rs, "type");
    c.rope_scaling.factor = Member(rs, "factor");
    c.rope_scaling.low_freq_factor = Member(rs, "low_freq_factor");
    c.rope_scaling.high_freq_factor = Member(rs, "high_freq_factor");
    c.rope_scaling.long_factor = Member(rs, "long_factor");
    c.rope_scaling.short_factor = Member(rs, "short_factor");
    c.rope_scaling.mscale_all_dim = Member(rs, "mscale_all_dim");
    c.rope_scaling.original_max_position_embeddings = Member(rs, "original_max_position_embeddings");
  }
  simdjson::dom::object text;
  if (!nested && obj["text_config"].get_object().get(text) == simdjson::SUCCESS) {
    c.text_config = std::make_unique<HfConfigJson>(FromObject(text, true));
  }
  return c;
}

}  // namespace

std::optional<int64_t> HfConfigValue::AsInt64() const {
  if (type != Type::kInt) return std::nullopt;
  return int_value;
}

std::optional<double> HfConfigValue::AsDouble() const {
  if (type != Type::kInt && type != Type::kUint && type != Type::kDouble) return std::nullopt;
  return number;
}

std::optional<bool> HfConfigValue::AsBool() const {
  if (type != Type::kBool) return std::nullopt;
  return bool_value;
}

std::optional<std::string_view> HfConfigValue::AsString() const {
  if (type != Type::kString) return std::nullopt;
  return std::string_view(string_value);
}

absl::StatusOr<HfConfigJson> ParseHfConfigJson(std::string_view json) {
  simdjson::dom::parser parser;
  simdjson::padded_string padded(json);
  simdjson::dom::element root;
  if (auto err = parser.parse(padded).get(root); err != simdjson::SUCCESS) {
    return absl::DataLossError(simdjson::error_message(err));
  }
  simdjson::dom::object obj;
  if (root.get_object().get(obj) != simdjson::SUCCESS) return HfConfigJson();
  return FromObject(obj, false);
}

}  // namespace llmtk
