#include "lib/vram/model_shape.h"

#include <filesystem>
#include <fstream>
#include <sstream>
#include <system_error>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "lib/base/status.h"
#include "lib/formats/hf_config.h"

namespace llmtk {
namespace {

constexpr const char* kSupported[] = {"llama",   "mistral",     "qwen2",       "qwen3",
                                      "mixtral", "qwen2_moe",   "qwen3_moe",   "deepseek",
                                      "deepseek_v2", "deepseek_v3", "gemma",   "gemma2",
                                      "gemma3",  "gemma3_text", "gpt2",        "bert",
                                      "phi3",    "glm"};

// Reads config.json fields with one consistent error style.
class ConfigReader {
 public:
  using Value = HfConfigValue;
  ConfigReader(std::string_view source, std::string model_type)
      : source_(source), model_type_(std::move(model_type)) {}

  bool Has(const Value& v) const { return v.present(); }

  // Absent or null: nullopt. Present but not a non-negative integer: error.
  absl::StatusOr<std::optional<int64_t>> OptInt(const Value& v) const {
    if (!v.present()) return std::optional<int64_t>();
    int64_t i = 0;
    switch (v.type) {
      case Value::Type::kInt:
        i = v.int_value;
        break;
      case Value::Type::kUint:
        return Bad(v.key, "is too large");
      case Value::Type::kDouble: {
        const double d = v.number;
        if (d != static_cast<double>(static_cast<int64_t>(d))) return Bad(v.key, "is not an integer");
        i = static_cast<int64_t>(d);
        break;
      }
      default:
        return Bad(v.key, "is not a number");
    }
    if (i < 0) return Bad(v.key, absl::StrCat("is negative (", i, ")"));
    // Shapes beyond 2^31 are nonsense and would overflow products below.
    if (i > (int64_t{1} << 31)) return Bad(v.key, absl::StrCat("is implausibly large (", i, ")"));
    return std::optional<int64_t>(i);
  }

  absl::StatusOr<int64_t> Int(const Value& v) const {
    ASSIGN_OR_RETURN(std::optional<int64_t> i, OptInt(v));
    if (!i) {
      return absl::DataLossError(absl::StrCat(ToAbsl(source_), ": missing required key '", ToAbsl(v.key),
                                              "' (model_type ", model_type_, ")"));
    }
    return *i;
  }

  // First present key among `values` (families name the same thing differently).
  absl::StatusOr<int64_t> IntAny(std::initializer_list<const Value*> values) const {
    for (const Value* v : values) {
      ASSIGN_OR_RETURN(std::optional<int64_t> i, OptInt(*v));
      if (i) return *i;
    }
    return Int(**values.begin());
  }

  absl::StatusOr<int64_t> IntOr(const Value& v, int64_t def) const {
    ASSIGN_OR_RETURN(std::optional<int64_t> i, OptInt(v));
    return i ? *i : def;
  }

  bool Bool(const Value& v, bool def) const { return v.AsBool().value_or(def); }

  // Absent: `def`; null: 0 (off); a non-negative number: its value.
  absl::StatusOr<double> CapOr(const Value& v, double def) const {
    if (v.type == Value::Type::kAbsent) return def;
    if (v.type == Value::Type::kNull) return 0.0;
    const std::optional<double> d = v.AsDouble();
    if (!d) return Bad(v.key, "is not a number or null");
    if (*d < 0) return Bad(v.key, absl::StrCat("is negative (", *d, ")"));
    return *d;
  }

  absl::Status Bad(std::string_view key, std::string_view what) const {
    return absl::DataLossError(absl::StrCat(ToAbsl(source_), ": key '", ToAbsl(key), "' ",
                                            ToAbsl(what), " (model_type ", model_type_, ")"));
  }

 private:
  std::string source_;
  std::string model_type_;
};

absl::Status Positive(const ConfigReader& r, const HfConfigValue& v, int64_t value) {
  if (value <= 0) return r.Bad(v.key, "must be positive");
  return absl::OkStatus();
}

absl::Status ReadAttention(const HfConfigJson& c, const ConfigReader& r, ModelShape& m) {
  ASSIGN_OR_RETURN(m.heads, r.IntAny({&c.num_attention_heads, &c.n_head}));
  RETURN_IF_ERROR(Positive(r, c.num_attention_heads, m.heads));
  ASSIGN_OR_RETURN(m.kv_heads, r.IntOr(c.num_key_value_heads, m.heads));
  RETURN_IF_ERROR(Positive(r, c.num_key_value_heads, m.kv_heads));
  if (m.heads % m.kv_heads != 0) {
    return r.Bad(c.num_key_value_heads.key, absl::StrCat("= ", m.kv_heads, " does not divide ",
                                                         ToAbsl(c.num_attention_heads.key), " ", m.heads));
  }
  ASSIGN_OR_RETURN(std::optional<int64_t> hd, r.OptInt(c.head_dim));
  if (hd) {
    m.head_dim = *hd;
    RETURN_IF_ERROR(Positive(r, c.head_dim, m.head_dim));
  } else {
    if (m.hidden % m.heads != 0) {
      return r.Bad(c.num_attention_heads.key,
                   absl::StrCat("= ", m.heads, " does not divide ", ToAbsl(c.hidden_size.key), " ", m.hidden,
                                " and no ", ToAbsl(c.head_dim.key), " is given"));
    }
    m.head_dim = m.hidden / m.heads;
  }
  return absl::OkStatus();
}

// Sliding layers from an explicit "layer_types" list, if the config has one.
bool ReadLayerTypes(const HfConfigJson& c, ModelShape& m) {
  if (c.layer_types.type != HfConfigValue::Type::kArray) return false;
  m.sliding_layers.clear();
  for (const HfConfigValue& e : c.layer_types.elements) {
    if (!e.AsString()) return false;
    m.sliding_layers.push_back(*e.AsString() == "sliding_attention");
  }
  return static_cast<int64_t>(m.sliding_layers.size()) == m.layers;
}

absl::StatusOr<ModelShape> ParseFamily(const HfConfigJson& c, const ConfigReader& r, const std::string& type,
                                       std::string_view source) {
  ModelShape m;
  m.model_type = type;
  m.source = std::string(source);
  const bool gpt2 = type == "gpt2";
  const bool bert = type == "bert";
  ASSIGN_OR_RETURN(m.hidden, r.IntAny({&c.hidden_size, &c.n_embd}));
  RETURN_IF_ERROR(Positive(r, c.hidden_size, m.hidden));
  ASSIGN_OR_RETURN(m.layers, r.IntAny({&c.num_hidden_layers, &c.n_layer}));
  RETURN_IF_ERROR(Positive(r, c.num_hidden_layers, m.layers));
  ASSIGN_OR_RETURN(m.vocab, r.Int(c.vocab_size));
  RETURN_IF_ERROR(Positive(r, c.vocab_size, m.vocab));
  ASSIGN_OR_RETURN(m.max_positions, r.IntOr(c.max_position_embeddings, 0));
  if (m.max_positions == 0) {
    ASSIGN_OR_RETURN(m.max_positions, r.IntOr(c.n_positions, 0));
  }
  RETURN_IF_ERROR(ReadAttention(c, r, m));

  if (gpt2 || bert) {
    m.mlp = MlpKind::kPlain;
    m.linear_bias = true;
    m.layernorm_bias = true;
    m.learned_positions = true;
    m.attention_dropout_masks = true;
    m.tied_embeddings = true;  // GPT-2 ties lm_head; BERT's classifier head is not counted
    if (gpt2) {
      ASSIGN_OR_RETURN(std::optional<int64_t> inner, r.OptInt(c.n_inner));
      m.intermediate = inner ? *inner : 4 * m.hidden;
    } else {
      ASSIGN_OR_RETURN(m.intermediate, r.Int(c.intermediate_size));
      ASSIGN_OR_RETURN(m.token_types, r.IntOr(c.type_vocab_size, 2));
      m.pooler = true;
      m.encoder = true;
    }
    return m;
  }

  ASSIGN_OR_RETURN(m.intermediate, r.IntOr(c.intermediate_size, 0));
  m.tied_embeddings = r.Bool(c.tie_word_embeddings, type.rfind("gemma", 0) == 0);
  m.qkv_bias = type == "qwen2" || type == "qwen2_moe" || r.Bool(c.attention_bias, false);
  m.qk_norm = type == "qwen3" || type == "qwen3_moe" || type == "gemma3_text";
  if (type == "gemma2" || type == "gemma3_text") m.norms_per_layer = 4;
  if (type == "gemma2") {
    // Gemma2Config's defaults (transformers): 50 and 30; Gemma 3 has none.
    ASSIGN_OR_RETURN(m.attn_logit_softcapping, r.CapOr(c.attn_logit_softcapping, 50.0));
    ASSIGN_OR_RETURN(m.final_logit_softcapping, r.CapOr(c.final_logit_softcapping, 30.0));
  }

  // Sliding windows. Mistral applies its window on every layer; Qwen2 only
  // when use_sliding_window is set; Gemma2 alternates; Gemma3 keeps one
  // global layer in every sliding_window_pattern.
  ASSIGN_OR_RETURN(int64_t window, r.IntOr(c.sliding_window, 0));
  if (type == "mistral" || type == "mixtral") {
    m.sliding_window = window;
  } else if (type == "qwen2" || type == "qwen2_moe" || type == "qwen3" || type == "qwen3_moe") {
    if (r.Bool(c.use_sliding_window, false)) {
      m.sliding_window = window;
      ASSIGN_OR_RETURN(int64_t max_window_layers, r.IntOr(c.max_window_layers, m.layers));
      // HF Qwen2: layers with index >= max_window_layers use the window.
      for (int64_t i = 0; i < m.layers; ++i) m.sliding_layers.push_back(i >= max_window_layers);
    }
  } else if (type == "phi3") {
    m.masked_window = window;
  } else if (type == "gemma2" || type == "gemma3_text") {
    m.sliding_window = window;
    if (!ReadLayerTypes(c, m)) {
      m.sliding_layers.clear();
      ASSIGN_OR_RETURN(int64_t pattern, r.IntOr(c.sliding_window_pattern, type == "gemma2" ? 2 : 6));
      if (pattern <= 0) return r.Bad(c.sliding_window_pattern.key, "must be positive");
      for (int64_t i = 0; i < m.layers; ++i) {
        m.sliding_layers.push_back(type == "gemma2" ? i % 2 == 0 : (i + 1) % pattern != 0);
      }
    }
  }

  if (type == "mixtral") {
    ASSIGN_OR_RETURN(m.experts, r.Int(c.num_local_experts));
    ASSIGN_OR_RETURN(m.experts_per_token, r.Int(c.num_experts_per_tok));
    m.moe_intermediate = m.intermediate;
  } else if (type == "qwen2_moe" || type == "qwen3_moe") {
    ASSIGN_OR_RETURN(m.experts, r.Int(c.num_experts));
    ASSIGN_OR_RETURN(m.experts_per_token, r.Int(c.num_experts_per_tok));
    ASSIGN_OR_RETURN(m.moe_intermediate, r.Int(c.moe_intermediate_size));
    ASSIGN_OR_RETURN(m.moe_layer_freq, r.IntOr(c.decoder_sparse_step, 1));
    if (type == "qwen2_moe") {
      ASSIGN_OR_RETURN(m.shared_expert_intermediate, r.Int(c.shared_expert_intermediate_size));
      m.shared_expert_gate = m.shared_expert_intermediate > 0;
    }
    if (c.mlp_only_layers.type == HfConfigValue::Type::kArray && !c.mlp_only_layers.elements.empty()) {
      return absl::UnimplementedError(absl::StrCat(ToAbsl(source), ": ", ToAbsl(c.mlp_only_layers.key),
                                                   " is not supported by the estimator"));
    }
  } else if (type == "deepseek" || type == "deepseek_v2" || type == "deepseek_v3") {
    ASSIGN_OR_RETURN(m.experts, r.IntOr(c.n_routed_experts, 0));
    if (m.experts > 0) {
      ASSIGN_OR_RETURN(m.experts_per_token, r.Int(c.num_experts_per_tok));
      ASSIGN_OR_RETURN(m.moe_intermediate, r.Int(c.moe_intermediate_size));
      ASSIGN_OR_RETURN(m.shared_experts, r.IntOr(c.n_shared_experts, 0));
      ASSIGN_OR_RETURN(m.first_dense_layers, r.IntOr(c.first_k_dense_replace, 0));
      ASSIGN_OR_RETURN(m.moe_layer_freq, r.IntOr(c.moe_layer_freq, 1));
    }
    m.router_bias_correction = type == "deepseek_v3";
    if (type != "deepseek") {
      m.attention = AttentionKind::kLatent;
      ASSIGN_OR_RETURN(m.q_lora_rank, r.IntOr(c.q_lora_rank, 0));
      ASSIGN_OR_RETURN(m.kv_lora_rank, r.Int(c.kv_lora_rank));
      ASSIGN_OR_RETURN(m.qk_nope_head_dim, r.Int(c.qk_nope_head_dim));
      ASSIGN_OR_RETURN(m.qk_rope_head_dim, r.Int(c.qk_rope_head_dim));
      ASSIGN_OR_RETURN(m.v_head_dim, r.Int(c.v_head_dim));
      RETURN_IF_ERROR(Positive(r, c.kv_lora_rank, m.kv_lora_rank));
      m.head_dim = m.qk_nope_head_dim + m.qk_rope_head_dim;
      // MLA decompresses K and V per head: every query head has its own.
      m.kv_heads = m.heads;
    }
  }
  if (m.IsMoe()) {
    RETURN_IF_ERROR(Positive(r, c.num_experts_per_tok, m.experts_per_token));
    RETURN_IF_ERROR(Positive(r, c.moe_intermediate_size, m.moe_intermediate));
    if (m.experts_per_token > m.experts) {
      return r.Bad(c.num_experts_per_tok.key, absl::StrCat("= ", m.experts_per_token,
                                                           " exceeds the number of experts ",
                                                           m.experts));
    }
    if (m.moe_layer_freq <= 0) return r.Bad(c.moe_layer_freq.key, "must be positive");
  }
  bool needs_dense = !m.IsMoe() || m.first_dense_layers > 0;
  if (needs_dense && m.intermediate <= 0) {
    if (!r.Has(c.intermediate_size)) RETURN_IF_ERROR(r.Int(c.intermediate_size).status());
    return r.Bad(c.intermediate_size.key, "must be positive");
  }
  return m;
}

absl::StatusOr<ModelShape> ParseConfig(const HfConfigJson& c, std::string_view source, int depth) {
  if (!c.model_type.AsString()) {
    return absl::DataLossError(absl::StrCat(ToAbsl(source), ": missing required key '",
                                            ToAbsl(c.model_type.key), "'"));
  }
  std::string type(*c.model_type.AsString());
  // Gemma 3 multimodal checkpoints nest the language model in text_config;
  // the vision tower is not part of this estimate.
  if (depth == 0 && c.text_config && c.text_config->model_type.AsString()) {
    return ParseConfig(*c.text_config, source, depth + 1);
  }
  if (type == "gemma3") type = "gemma3_text";
  bool known = false;
  for (const char* s : kSupported) known |= type == s;
  if (!known) {
    return absl::UnimplementedError(absl::StrCat(ToAbsl(source), ": model_type '", type,
                                                 "' is not supported; supported: ",
                                                 SupportedModelTypes()));
  }
  ConfigReader reader(source, type);
  return ParseFamily(c, reader, type, source);
}

}  // namespace

bool ModelShape::IsMoeLayer(int64_t layer) const {
  if (!IsMoe() || layer < first_dense_layers) return false;
  return layer % moe_layer_freq == 0;
}

bool ModelShape::IsSlidingLayer(int64_t layer) const {
  if (sliding_window <= 0) return false;
  if (sliding_layers.empty()) return true;
  return layer >= 0 && layer < static_cast<int64_t>(sliding_layers.size()) &&
         sliding_layers[layer];
}

int64_t ModelShape::QueryDim() const {
  if (attention == AttentionKind::kLatent) return heads * v_head_dim;
  return heads * head_dim;
}

std::string SupportedModelTypes() {
  std::vector<std::string> names(std::begin(kSupported), std::end(kSupported));
  return absl::StrJoin(names, ", ");
}

absl::StatusOr<ModelShape> ParseHfConfig(std::string_view json, std::string_view source) {
  absl::StatusOr<HfConfigJson> c = ParseHfConfigJson(json);
  if (!c.ok()) {
    return absl::DataLossError(absl::StrCat(ToAbsl(source), ": invalid JSON: ", c.status().message()));
  }
  if (!c->is_object) {
    return absl::DataLossError(absl::StrCat(ToAbsl(source), ": top level is not a JSON object"));
  }
  return ParseConfig(*c, source, 0);
}

absl::StatusOr<ModelShape> LoadModelShapeFromGguf(const std::string& path);  // vram/from_gguf.cc

absl::StatusOr<ModelShape> LoadModelShape(const std::string& path) {
  namespace fs = std::filesystem;
  std::error_code ec;
  fs::path p(path);
  if (fs::is_directory(p, ec)) p /= "config.json";
  if (!fs::exists(p, ec)) {
    return absl::NotFoundError(absl::StrCat(p.string(), ": no such file"));
  }
  std::ifstream in(p, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat(p.string(), ": cannot open"));
  char magic[4] = {0, 0, 0, 0};
  in.read(magic, 4);
  if (in.gcount() == 4 && std::string_view(magic, 4) == "GGUF") {
    return LoadModelShapeFromGguf(p.string());
  }
  in.clear();
  in.seekg(0);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ParseHfConfig(ss.str(), p.string());
}

ParamCounts CountParams(const ModelShape& m) {
  ParamCounts c;
  const int64_t h = m.hidden;
  const int64_t norm = m.layernorm_bias ? 2 * h : h;

  c.embedding = m.vocab * h;
  if (m.learned_positions) c.embedding += m.max_positions * h;
  c.embedding += m.token_types * h;
  c.lm_head = m.tied_embeddings ? 0 : m.vocab * h;

  // Attention, one layer.
  int64_t attn_linear = 0, attn_other = 0;
  if (m.attention == AttentionKind::kLatent) {
    const int64_t qk = m.qk_nope_head_dim + m.qk_rope_head_dim;
    if (m.q_lora_rank > 0) {
      attn_linear += h * m.q_lora_rank + m.q_lora_rank * m.heads * qk;
      attn_other += m.q_lora_rank;  // q_a_layernorm
    } else {
      attn_linear += h * m.heads * qk;
    }
    attn_linear += h * (m.kv_lora_rank + m.qk_rope_head_dim);
    attn_other += m.kv_lora_rank;  // kv_a_layernorm
    attn_linear += m.kv_lora_rank * m.heads * (m.qk_nope_head_dim + m.v_head_dim);
    attn_linear += m.heads * m.v_head_dim * h;
  } else {
    const int64_t q = m.heads * m.head_dim, kv = m.kv_heads * m.head_dim;
    attn_linear = h * q + 2 * h * kv + q * h;
    if (m.qkv_bias || m.linear_bias) attn_other += q + 2 * kv;
    if (m.linear_bias) attn_other += h;
    if (m.qk_norm) attn_other += 2 * m.head_dim;
  }
  c.per_layer_attention = attn_linear;

  auto mlp = [&](int64_t width) {
    return m.mlp == MlpKind::kGated ? 3 * h * width : 2 * h * width;
  };
  const int64_t mlp_bias = m.linear_bias ? m.intermediate + h : 0;

  int64_t linear = 0, other = 0, inactive = 0;
  for (int64_t i = 0; i < m.layers; ++i) {
    linear += attn_linear;
    other += attn_other + m.norms_per_layer * norm;
    if (m.IsMoeLayer(i)) {
      const int64_t expert = mlp(m.moe_intermediate);
      linear += m.experts * expert;
      c.expert_params += m.experts * expert;
      inactive += (m.experts - m.experts_per_token) * expert;
      other += h * m.experts;  // router
      if (m.router_bias_correction) other += m.experts;
      if (m.shared_experts > 0) linear += mlp(m.moe_intermediate * m.shared_experts);
      if (m.shared_expert_intermediate > 0) linear += mlp(m.shared_expert_intermediate);
      if (m.shared_expert_gate) other += h;
    } else {
      linear += mlp(m.intermediate);
      other += mlp_bias;
    }
  }
  other += norm;  // final norm (BERT: the embedding LayerNorm)
  if (m.pooler) {
    linear += h * h;
    other += h;
  }
  c.linear = linear;
  c.other = other;
  c.total = c.embedding + c.lm_head + linear + other;
  c.active = c.total - inactive;
  return c;
}

absl::StatusOr<int64_t> LoraParams(const ModelShape& m, const std::vector<std::string>& targets,
                                   int64_t rank) {
  if (rank <= 0) return absl::InvalidArgumentError("LoRA rank must be positive");
  const int64_t h = m.hidden;
  // (in, out) of each adapted matrix; LoRA adds r*(in+out).
  auto adapter = [&](int64_t in, int64_t out) { return rank * (in + out); };
  int64_t total = 0;
  for (int64_t layer = 0; layer < m.layers; ++layer) {
    // MLP matrices of this layer: one (in,out) per instance, times count.
    struct Mlp { int64_t width; int64_t count; };
    std::vector<Mlp> mlps;
    if (m.IsMoeLayer(layer)) {
      mlps.push_back({m.moe_intermediate, m.experts});
      if (m.shared_experts > 0) mlps.push_back({m.moe_intermediate * m.shared_experts, 1});
      if (m.shared_expert_intermediate > 0) mlps.push_back({m.shared_expert_intermediate, 1});
    } else {
      mlps.push_back({m.intermediate, 1});
    }
    for (const std::string& t : targets) {
      if (t == "q") {
        if (m.attention == AttentionKind::kLatent && m.q_lora_rank > 0) {
          total += adapter(h, m.q_lora_rank) +
                   adapter(m.q_lora_rank, m.heads * (m.qk_nope_head_dim + m.qk_rope_head_dim));
        } else {
          total += adapter(h, m.heads * m.head_dim);
        }
      } else if (t == "k" || t == "v") {
        if (m.attention == AttentionKind::kLatent) {
          // One compressed projection serves both: adapt kv_a for k, kv_b for v.
          total += t == "k" ? adapter(h, m.kv_lora_rank + m.qk_rope_head_dim)
                            : adapter(m.kv_lora_rank,
                                      m.heads * (m.qk_nope_head_dim + m.v_head_dim));
        } else {
          total += adapter(h, m.kv_heads * m.head_dim);
        }
      } else if (t == "o") {
        total += adapter(m.QueryDim(), h);
      } else if (t == "gate" || t == "up" || t == "down") {
        if (m.mlp == MlpKind::kPlain && t == "gate") {
          return absl::InvalidArgumentError(absl::StrCat(
              "LoRA target 'gate': model_type ", m.model_type, " has no gated MLP"));
        }
        for (const Mlp& x : mlps) {
          total += x.count * (t == "down" ? adapter(x.width, h) : adapter(h, x.width));
        }
      } else {
        return absl::InvalidArgumentError(absl::StrCat(
            "unknown LoRA target '", t, "'; use q,k,v,o,gate,up,down or all"));
      }
    }
  }
  return total;
}

}  // namespace llmtk

namespace llmtk {

void ForEachTensor(const ModelShape& m,
                   const std::function<void(TensorRole, int64_t, int64_t, int64_t, int64_t)>& fn) {
  const int64_t h = m.hidden;
  const int64_t norm = m.layernorm_bias ? 2 * h : h;
  fn(TensorRole::kEmbedding, -1, m.vocab, h, 1);
  if (m.learned_positions) fn(TensorRole::kSmall, -1, m.max_positions, h, 1);
  if (m.token_types > 0) fn(TensorRole::kSmall, -1, m.token_types, h, 1);
  auto mlp = [&](int64_t layer, int64_t width, int64_t count) {
    fn(TensorRole::kFfnUpGate, layer, width, h, count * (m.mlp == MlpKind::kGated ? 2 : 1));
    fn(TensorRole::kFfnDown, layer, h, width, count);
  };
  for (int64_t i = 0; i < m.layers; ++i) {
    if (m.attention == AttentionKind::kLatent) {
      const int64_t qk = m.qk_nope_head_dim + m.qk_rope_head_dim;
      if (m.q_lora_rank > 0) {
        fn(TensorRole::kAttnQ, i, m.q_lora_rank, h, 1);
        fn(TensorRole::kAttnQ, i, m.heads * qk, m.q_lora_rank, 1);
        fn(TensorRole::kSmall, i, 1, m.q_lora_rank, 1);
      } else {
        fn(TensorRole::kAttnQ, i, m.heads * qk, h, 1);
      }
      fn(TensorRole::kAttnKV, i, m.kv_lora_rank + m.qk_rope_head_dim, h, 1);
      fn(TensorRole::kSmall, i, 1, m.kv_lora_rank, 1);
      fn(TensorRole::kAttnV, i, m.heads * (m.qk_nope_head_dim + m.v_head_dim), m.kv_lora_rank, 1);
      fn(TensorRole::kAttnO, i, h, m.heads * m.v_head_dim, 1);
    } else {
      const int64_t q = m.heads * m.head_dim, kv = m.kv_heads * m.head_dim;
      fn(TensorRole::kAttnQ, i, q, h, 1);
      fn(TensorRole::kAttnKV, i, kv, h, 1);
      fn(TensorRole::kAttnV, i, kv, h, 1);
      fn(TensorRole::kAttnO, i, h, q, 1);
      int64_t small = 0;
      if (m.qkv_bias || m.linear_bias) small += q + 2 * kv;
      if (m.linear_bias) small += h;
      if (m.qk_norm) small += 2 * m.head_dim;
      if (small > 0) fn(TensorRole::kSmall, i, 1, small, 1);
    }
    int64_t small = m.norms_per_layer * norm;
    if (m.IsMoeLayer(i)) {
      mlp(i, m.moe_intermediate, m.experts);
      small += h * m.experts + (m.router_bias_correction ? m.experts : 0);
      if (m.shared_experts > 0) mlp(i, m.moe_intermediate * m.shared_experts, 1);
      if (m.shared_expert_intermediate > 0) mlp(i, m.shared_expert_intermediate, 1);
      if (m.shared_expert_gate) small += h;
    } else {
      mlp(i, m.intermediate, 1);
      if (m.linear_bias) small += m.intermediate + h;
    }
    fn(TensorRole::kSmall, i, 1, small, 1);
  }
  fn(TensorRole::kSmall, -1, 1, norm, 1);
  if (m.pooler) {
    fn(TensorRole::kAttnO, -1, h, h, 1);
    fn(TensorRole::kSmall, -1, 1, h, 1);
  }
  if (!m.tied_embeddings) fn(TensorRole::kOutput, -1, m.vocab, h, 1);
}

}  // namespace llmtk
