// GGUF input for the memory estimator: the architecture's hyperparameters
// from the metadata and the real tensor bytes from the tensor table.
#include <string>

#include "absl/strings/str_cat.h"
#include "lib/formats/gguf.h"
#include "lib/formats/gguf_keys.h"
#include "lib/vram/model_shape.h"
#include "lib/base/status.h"

namespace llmtk {
namespace {

struct ArchMap {
  const char* gguf;
  const char* model_type;
};
constexpr ArchMap kArchs[] = {
    {"llama", "llama"},         {"mistral", "mistral"},     {"qwen2", "qwen2"},
    {"qwen3", "qwen3"},         {"qwen2moe", "qwen2_moe"},  {"qwen3moe", "qwen3_moe"},
    {"deepseek", "deepseek"},   {"deepseek2", "deepseek_v2"}, {"gemma", "gemma"},
    {"gemma2", "gemma2"},       {"gemma3", "gemma3_text"},  {"gpt2", "gpt2"},
    {"phi3", "phi3"},           {"chatglm", "glm"},
};

}  // namespace

absl::StatusOr<ModelShape> LoadModelShapeFromGguf(const std::string& path) {
  ASSIGN_OR_RETURN(std::unique_ptr<GgufFile> f, GgufFile::Open(path));
  const std::string_view arch_key = GgufKeyName(GgufKey::kGeneralArchitecture);
  ASSIGN_OR_RETURN(std::string_view arch, f->GetString(arch_key));
  ModelShape m;
  m.source = path;
  for (const ArchMap& a : kArchs) {
    if (arch == a.gguf) m.model_type = a.model_type;
  }
  if (m.model_type.empty()) {
    return absl::UnimplementedError(absl::StrCat(path, ": ", ToAbsl(arch_key), " '", ToAbsl(arch),
                                                 "' is not supported by the estimator"));
  }
  using K = GgufArchKey;
  auto u32 = [&](K key) { return f->GetU32(GgufKeyName(key, arch)); };
  auto opt = [&](K key, int64_t def) -> absl::StatusOr<int64_t> {
    const std::string k = GgufKeyName(key, arch);
    if (!f->Has(k)) return def;
    ASSIGN_OR_RETURN(uint32_t v, f->GetU32(k));
    return static_cast<int64_t>(v);
  };
  ASSIGN_OR_RETURN(uint32_t layers, u32(K::kBlockCount));
  ASSIGN_OR_RETURN(uint32_t hidden, u32(K::kEmbeddingLength));
  ASSIGN_OR_RETURN(uint32_t heads, u32(K::kAttentionHeadCount));
  m.layers = layers;
  m.hidden = hidden;
  m.heads = heads;
  if (m.layers <= 0 || m.hidden <= 0 || m.heads <= 0) {
    return absl::DataLossError(absl::StrCat(path, ": ", ToAbsl(GgufArchKeySuffix(K::kBlockCount)), ", ",
                                            ToAbsl(GgufArchKeySuffix(K::kEmbeddingLength)), " and ",
                                            ToAbsl(GgufArchKeySuffix(K::kAttentionHeadCount)), " must be positive"));
  }
  ASSIGN_OR_RETURN(m.kv_heads, opt(K::kAttentionHeadCountKv, m.heads));
  if (m.kv_heads <= 0 || m.heads % m.kv_heads != 0) {
    return absl::DataLossError(absl::StrCat(path, ": ", GgufKeyName(K::kAttentionHeadCountKv, arch), " = ",
                                            m.kv_heads, " does not divide head_count ", m.heads));
  }
  ASSIGN_OR_RETURN(m.head_dim, opt(K::kAttentionKeyLength, m.hidden / m.heads));
  ASSIGN_OR_RETURN(m.intermediate, opt(K::kFeedForwardLength, 0));
  ASSIGN_OR_RETURN(m.max_positions, opt(K::kContextLength, 0));
  ASSIGN_OR_RETURN(m.experts, opt(K::kExpertCount, 0));
  ASSIGN_OR_RETURN(m.experts_per_token, opt(K::kExpertUsedCount, 0));
  ASSIGN_OR_RETURN(m.moe_intermediate, opt(K::kExpertFeedForwardLength, m.intermediate));
  ASSIGN_OR_RETURN(m.sliding_window, opt(K::kAttentionSlidingWindow, 0));
  // llama.cpp (c392e50) keeps phi3's whole context in the cache, its window
  // only masks (newer llama.cpp ignores it); llmtk-run rings it.
  if (m.model_type == "phi3") {
    m.masked_window = m.sliding_window;
    m.sliding_window = 0;
  }
  if (m.model_type == "llama" && m.experts > 0) m.model_type = "mixtral";
  ASSIGN_OR_RETURN(m.shared_expert_intermediate, opt(K::kExpertSharedFeedForwardLength, 0));
  m.shared_expert_gate = m.shared_expert_intermediate > 0;
  if (m.model_type == "deepseek_v2") {
    m.attention = AttentionKind::kLatent;
    ASSIGN_OR_RETURN(m.kv_lora_rank, opt(K::kAttentionKvLoraRank, 0));
    ASSIGN_OR_RETURN(m.q_lora_rank, opt(K::kAttentionQLoraRank, 0));
    ASSIGN_OR_RETURN(m.qk_rope_head_dim, opt(K::kRopeDimensionCount, 0));
    ASSIGN_OR_RETURN(m.v_head_dim, opt(K::kAttentionValueLength, 0));
    m.qk_nope_head_dim = m.head_dim - m.qk_rope_head_dim;
    m.kv_heads = m.heads;
    ASSIGN_OR_RETURN(m.shared_experts, opt(K::kExpertSharedCount, 0));
    ASSIGN_OR_RETURN(m.first_dense_layers, opt(K::kLeadingDenseBlockCount, 0));
  }
  if (m.model_type == "gemma2") {
    m.norms_per_layer = 4;
    for (int64_t i = 0; i < m.layers; ++i) m.sliding_layers.push_back(i % 2 == 0);
  }
  // Gemma 3: five local layers to one global, as llama.cpp sets them.
  if (m.model_type == "gemma3_text") {
    m.norms_per_layer = 4;
    for (int64_t i = 0; i < m.layers; ++i) m.sliding_layers.push_back((i + 1) % 6 != 0);
  }
  m.qk_norm = m.model_type == "qwen3" || m.model_type == "qwen3_moe";
  m.tied_embeddings = f->FindTensor("output.weight") == nullptr;
  const GgufTensor* embd = f->FindTensor("token_embd.weight");
  if (embd == nullptr || embd->dims.size() != 2) {
    return absl::DataLossError(absl::StrCat(path, ": tensor 'token_embd.weight' is missing or "
                                                  "not 2-D"));
  }
  m.vocab = embd->dims[1];
  if (m.model_type == "gpt2") {
    m.mlp = MlpKind::kPlain;
    m.linear_bias = m.layernorm_bias = m.learned_positions = m.attention_dropout_masks = true;
  }
  for (const GgufTensor& t : f->tensors()) {
    m.file_weight_bytes += static_cast<int64_t>(t.n_bytes);
    m.file_params += t.n_elements;
  }
  return m;
}

}  // namespace llmtk
