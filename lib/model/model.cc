// Model loading: architecture from GGUF metadata, weight views, validation.
#include "lib/model/model.h"

#include <cmath>
#include <map>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "lib/formats/gguf_keys.h"
#include "lib/model/arch_gemma.h"

namespace llmtk {
namespace {

// Metadata lookups that name the file and key in their errors.
class Meta {
 public:
  Meta(const GgufFile& f, std::string arch) : f_(f), arch_(std::move(arch)) {}
  std::string Key(GgufArchKey k) const { return GgufKeyName(k, arch_); }

  absl::StatusOr<int> RequiredInt(GgufArchKey k) const {
    const std::string key = Key(k);
    auto v = f_.GetU32(key);
    if (!v.ok()) {
      if (absl::IsNotFound(v.status()))
        return absl::DataLossError(absl::StrCat(f_.name(), ": required key '", key, "' is missing"));
      return v.status();
    }
    if (*v == 0 || *v > (1u << 30))
      return absl::DataLossError(absl::StrCat(f_.name(), ": key '", key, "' has implausible value ", *v));
    return static_cast<int>(*v);
  }
  absl::StatusOr<int> OptionalInt(GgufArchKey k, int def) const {
    if (!f_.Has(Key(k))) return def;
    return RequiredInt(k);
  }
  absl::StatusOr<float> OptionalFloat(GgufArchKey k, float def) const {
    if (!f_.Has(Key(k))) return def;
    return f_.GetF32(Key(k));
  }

 private:
  const GgufFile& f_;
  std::string arch_;
};

class TensorBinder {
 public:
  explicit TensorBinder(const GgufFile& f) : f_(f) {}

  // A 2-D weight of `cols` x `rows` (ggml order: dims[0] = cols).
  absl::Status Matrix(const std::string& name, int64_t cols, int64_t rows, WeightMatrix* out,
                      bool optional = false) {
    const GgufTensor* t = f_.FindTensor(name);
    if (t == nullptr) {
      if (optional) return absl::OkStatus();
      return Missing(name);
    }
    if (t->dims.size() < 2 || t->dims[0] != cols || t->rows() != rows)
      return Shape(*t, absl::StrFormat("[%d, %d]", cols, rows));
    if (!KernelSupports(static_cast<uint32_t>(t->type)))
      return absl::UnimplementedError(absl::StrCat(
          f_.name(), ": tensor '", ToAbsl(t->name), "' has type ", ToAbsl(GgmlTypeName(t->type)),
          ", which llmtk-run cannot compute with (supported: f32, f16, bf16, q4_0, q4_1, q5_0, q5_1, "
          "q8_0, q2_K..q6_K, iq4_nl)"));
    *out = WeightMatrix{t->type, rows, cols, t->data};
    return absl::OkStatus();
  }

  // A 1-D F32 vector of `n` elements.
  absl::Status Vector(const std::string& name, int64_t n, const float** out, bool optional = false) {
    const GgufTensor* t = f_.FindTensor(name);
    if (t == nullptr) {
      if (optional) return absl::OkStatus();
      return Missing(name);
    }
    if (t->n_elements != n) return Shape(*t, absl::StrFormat("[%d]", n));
    if (t->type != GgmlType::kF32)
      return absl::UnimplementedError(absl::StrCat(f_.name(), ": tensor '", ToAbsl(t->name), "' has type ",
                                                   ToAbsl(GgmlTypeName(t->type)), ", expected f32"));
    if (reinterpret_cast<uintptr_t>(t->data) % alignof(float) != 0)
      return absl::DataLossError(absl::StrCat(f_.name(), ": tensor '", ToAbsl(t->name), "' is misaligned"));
    *out = reinterpret_cast<const float*>(t->data);
    return absl::OkStatus();
  }

 private:
  absl::Status Missing(const std::string& name) const {
    return absl::DataLossError(absl::StrCat(f_.name(), ": tensor '", name, "' is missing"));
  }
  absl::Status Shape(const GgufTensor& t, const std::string& want) const {
    std::string got;
    for (size_t i = 0; i < t.dims.size(); ++i) absl::StrAppend(&got, i ? ", " : "", t.dims[i]);
    return absl::DataLossError(absl::StrCat(f_.name(), ": tensor '", ToAbsl(t.name), "' has shape [", got,
                                            "], expected ", want));
  }
  const GgufFile& f_;
};

// phi3 and chatglm: what llama.cpp's loader (c392e50, llama-model.cpp) reads
// beyond the keys every architecture has.
bool IsPhi3GlmModelArch(const std::string& arch) { return arch == "phi3" || arch == "chatglm"; }

absl::Status ReadPhi3GlmKeys(const GgufFile& f, ModelConfig* c) {
  if (c->arch != "phi3") return absl::OkStatus();
  // llama.cpp's graph scales q after RoPE and calls softmax with scale 1;
  // the roundings differ from scaling inside softmax.
  c->q_prescale = true;
  const std::string key = GgufKeyName(GgufArchKey::kAttentionSlidingWindow, c->arch);
  if (f.Has(key)) {
    ASSIGN_OR_RETURN(uint32_t w, f.GetU32(key));
    c->n_swa = static_cast<int>(w);  // 0: no window (Phi-4)
    return absl::OkStatus();
  }
  // Files converted before the key existed: the values llama.cpp assumes.
  if ((c->n_layer == 32 || c->n_layer == 40) && c->n_ctx_train == 4096) {
    c->n_swa = 2047;
  } else if (c->n_layer == 32 && c->n_head_kv == 32 && c->n_ctx_train == 131072) {
    c->n_swa = 262144;
  } else if (c->n_layer == 40 && c->n_ctx_train == 131072) {
    c->n_swa = 131072;
  } else {
    return absl::DataLossError(absl::StrCat(f.name(), ": required key '", key, "' is missing"));
  }
  return absl::OkStatus();
}

uint64_t MatrixBytes(const WeightMatrix& w) { return RowBytes(w.type, w.cols) * static_cast<uint64_t>(w.rows); }

}  // namespace

uint64_t Model::WeightBytesPerToken(const Model& m) {
  const ModelConfig& c = m.config_;
  uint64_t b = m.weight_bytes_;
  for (int i = 0; i < c.n_layer; ++i) {
    if (!c.moe.is_sparse(i)) continue;
    const MoeLayerWeights& w = m.layers_[i].moe;
    // Each expert is a whole number of rows of the merged tensor.
    for (const WeightMatrix* e : {&w.gate_exps, &w.up_exps, &w.down_exps}) {
      const uint64_t all = MatrixBytes(*e);
      b -= all - all / c.moe.n_expert * c.moe.n_expert_used;
    }
  }
  // A token looks up one row of the table; tied, the table is the output
  // matrix and read whole.
  if (!c.tied_output) b -= MatrixBytes(m.token_embd_) - RowBytes(m.token_embd_.type, m.token_embd_.cols);
  // gemma2's graph never reads an output.weight the file may hold.
  if (const GgufTensor* o = m.file_->FindTensor("output.weight"); c.arch == "gemma2" && o != nullptr) b -= o->n_bytes;
  return b;
}

absl::StatusOr<std::unique_ptr<Model>> Model::Load(const std::string& path) {
  ASSIGN_OR_RETURN(auto file, GgufFile::Open(path));
  return FromGguf(std::move(file));
}

absl::StatusOr<std::unique_ptr<Model>> Model::FromGguf(std::unique_ptr<GgufFile> file) {
  std::unique_ptr<Model> m(new Model());
  m->file_ = std::move(file);
  const GgufFile& f = *m->file_;
  ModelConfig& c = m->config_;
  auto arch = f.GetString(GgufKeyName(GgufKey::kGeneralArchitecture));
  if (!arch.ok())
    return absl::DataLossError(absl::StrCat(f.name(), ": not a model file: '",
                                            ToAbsl(GgufKeyName(GgufKey::kGeneralArchitecture)), "' is missing"));
  c.arch = std::string(*arch);
  const bool deepseek2 = c.arch == "deepseek2";
  if (c.arch != "llama" && c.arch != "qwen2" && c.arch != "qwen3" && c.arch != "qwen2moe" && c.arch != "qwen3moe" &&
      !deepseek2 && !IsPhi3GlmModelArch(c.arch) && !IsGemmaModelArch(c.arch))
    return absl::UnimplementedError(absl::StrCat(f.name(), ": architecture '", c.arch,
                                                 "' is not supported (supported: llama, qwen2, qwen3, qwen2moe, qwen3moe, "
                                                 "deepseek2, phi3, chatglm, gemma2, gemma3)"));
  if (auto name = f.GetString(GgufKeyName(GgufKey::kGeneralName)); name.ok()) c.name = std::string(*name);
  const Meta meta(f, c.arch);
  ASSIGN_OR_RETURN(c.n_layer, meta.RequiredInt(GgufArchKey::kBlockCount));
  ASSIGN_OR_RETURN(c.n_embd, meta.RequiredInt(GgufArchKey::kEmbeddingLength));
  ASSIGN_OR_RETURN(c.n_head, meta.RequiredInt(GgufArchKey::kAttentionHeadCount));
  ASSIGN_OR_RETURN(c.n_head_kv, meta.OptionalInt(GgufArchKey::kAttentionHeadCountKv, c.n_head));
  ASSIGN_OR_RETURN(c.n_ff, meta.RequiredInt(GgufArchKey::kFeedForwardLength));
  ASSIGN_OR_RETURN(c.n_ctx_train, meta.OptionalInt(GgufArchKey::kContextLength, 2048));
  ASSIGN_OR_RETURN(c.moe, ReadMoeConfig(f, c.arch, c.n_ff));
  if (c.n_embd % c.n_head != 0 || c.n_head % c.n_head_kv != 0)
    return absl::DataLossError(absl::StrFormat("%s: inconsistent heads: embedding %d, heads %d, kv heads %d",
                                               f.name(), c.n_embd, c.n_head, c.n_head_kv));
  ASSIGN_OR_RETURN(c.head_dim, meta.OptionalInt(GgufArchKey::kAttentionKeyLength, c.n_embd / c.n_head));
  ASSIGN_OR_RETURN(c.head_dim_v, meta.OptionalInt(GgufArchKey::kAttentionValueLength, c.head_dim));
  if (c.head_dim_v != c.head_dim && !deepseek2)
    return absl::UnimplementedError(absl::StrCat(f.name(), ": key length ", c.head_dim,
                                                 " differs from value length ", c.head_dim_v));
  ASSIGN_OR_RETURN(c.rms_eps, meta.OptionalFloat(GgufArchKey::kAttentionLayerNormRmsEpsilon, 1e-5f));
  ASSIGN_OR_RETURN(c.n_rot, meta.OptionalInt(GgufArchKey::kRopeDimensionCount, c.head_dim));
  if (c.n_rot > c.head_dim || c.n_rot % 2 != 0)
    return absl::DataLossError(absl::StrFormat("%s: %s %d does not fit head size %d", f.name(),
                                               ToAbsl(GgufArchKeySuffix(GgufArchKey::kRopeDimensionCount)), c.n_rot,
                                               c.head_dim));
  ASSIGN_OR_RETURN(c.rope_base, meta.OptionalFloat(GgufArchKey::kRopeFreqBase, 10000.f));
  c.rope_layout = c.arch == "llama" || c.arch == "chatglm" || deepseek2 ? RopeLayout::kNormal : RopeLayout::kNeox;
  // llama.cpp applies both whatever the scaling type.
  ASSIGN_OR_RETURN(c.rope_attn_factor, meta.OptionalFloat(GgufArchKey::kRopeScalingAttnFactor, 1.f));
  ASSIGN_OR_RETURN(c.n_ctx_orig, meta.OptionalInt(GgufArchKey::kRopeScalingOriginalContextLength, c.n_ctx_train));
  RETURN_IF_ERROR(ReadPhi3GlmKeys(f, &c));
  // Scaling: rope.scaling.type (none|linear|yarn) with rope.scaling.factor;
  // older files carry only rope.scale_linear.
  std::string scaling = "none";
  if (auto s = f.GetString(meta.Key(GgufArchKey::kRopeScalingType)); s.ok()) scaling = std::string(*s);
  float factor = 0.f;
  ASSIGN_OR_RETURN(factor, meta.OptionalFloat(GgufArchKey::kRopeScalingFactor, 0.f));
  if (factor == 0.f) {
    ASSIGN_OR_RETURN(factor, meta.OptionalFloat(GgufArchKey::kRopeScaleLinear, 0.f));
    if (factor != 0.f && scaling == "none") scaling = "linear";
  }
  if (scaling == "linear" || scaling == "yarn") {
    if (!(factor > 0.f) || !std::isfinite(factor))
      return absl::DataLossError(absl::StrCat(f.name(), ": rope scaling '", scaling, "' without a valid factor"));
    c.rope_freq_scale = 1.f / factor;
    c.rope_yarn = scaling == "yarn";
    ASSIGN_OR_RETURN(c.yarn_orig_ctx, meta.OptionalInt(GgufArchKey::kRopeScalingOriginalContextLength, c.n_ctx_train));
    ASSIGN_OR_RETURN(c.yarn_attn_factor, meta.OptionalFloat(GgufArchKey::kRopeScalingAttnFactor, 1.f));
    ASSIGN_OR_RETURN(c.yarn_beta_fast, meta.OptionalFloat(GgufArchKey::kRopeScalingYarnBetaFast, 32.f));
    ASSIGN_OR_RETURN(c.yarn_beta_slow, meta.OptionalFloat(GgufArchKey::kRopeScalingYarnBetaSlow, 1.f));
  } else if (scaling != "none") {
    return absl::UnimplementedError(absl::StrCat(f.name(), ": rope scaling type '", scaling, "' is not supported"));
  }
  if (deepseek2) {
    ASSIGN_OR_RETURN(c.mla, ReadMlaConfig(f, c.n_layer, c.head_dim, c.n_rot));
    c.rope_offset = c.mla.n_nope;
    // llama.cpp's graph: the softmax scale from the file's attn_factor, RoPE
    // with its own (cparams' yarn_attn_factor is rope.scaling.attn_factor).
    c.kq_scale = Deepseek2KqScale(c.rope_attn_factor, c.mla.yarn_log_mul, c.rope_freq_scale, c.head_dim);
    c.rope_attn_factor = Deepseek2RopeAttnFactor(c.rope_freq_scale);
  }
  if (IsGemmaModelArch(c.arch)) {
    ASSIGN_OR_RETURN(GemmaConfig g, LoadGemmaConfig(f, c.arch, c.n_layer, c.n_embd, c.n_head, c.head_dim,
                                                    c.rope_base, c.rope_freq_scale));
    c.gemma = true;
    c.attn_scale = g.attn_scale;
    c.attn_softcap = g.attn_softcap;
    c.final_softcap = g.final_softcap;
    c.n_swa = g.n_swa;
    c.swa_layers = std::move(g.swa_layers);
    c.rope_base_swa = g.rope_base_swa;
    c.rope_freq_scale_swa = g.rope_freq_scale_swa;
  }

  TensorBinder bind(f);
  const GgufTensor* emb = f.FindTensor("token_embd.weight");
  if (emb == nullptr || emb->dims.size() != 2 || emb->dims[0] != c.n_embd)
    return absl::DataLossError(
        absl::StrCat(f.name(), ": tensor 'token_embd.weight' is missing or not [", c.n_embd, ", vocab]"));
  c.n_vocab = static_cast<int>(emb->dims[1]);
  RETURN_IF_ERROR(bind.Matrix("token_embd.weight", c.n_embd, c.n_vocab, &m->token_embd_));
  RETURN_IF_ERROR(bind.Vector("output_norm.weight", c.n_embd, &m->output_norm_));
  // gemma2's graph always multiplies by the embedding, whatever else the file holds.
  if (c.arch != "gemma2")
    RETURN_IF_ERROR(bind.Matrix("output.weight", c.n_embd, c.n_vocab, &m->output_, /*optional=*/!deepseek2));
  if (m->output_.data == nullptr) {
    c.tied_output = true;
    m->output_ = m->token_embd_;
  }
  // Llama 3.1 files (convert_hf_to_gguf.py, rope_type llama3) carry it;
  // ignoring it would compute another model.
  RETURN_IF_ERROR(bind.Vector("rope_freqs.weight", c.n_rot / 2, &m->rope_freqs_, /*optional=*/true));
  RETURN_IF_ERROR(bind.Vector("rope_factors_long.weight", c.n_rot / 2, &m->rope_long_, /*optional=*/true));
  RETURN_IF_ERROR(bind.Vector("rope_factors_short.weight", c.n_rot / 2, &m->rope_short_, /*optional=*/true));
  if ((m->rope_long_ == nullptr) != (m->rope_short_ == nullptr))
    return absl::DataLossError(absl::StrCat(f.name(), ": has one of rope_factors_long/short but not the other"));
  const int64_t q_dim = static_cast<int64_t>(c.n_head) * c.head_dim;
  const int64_t kv_dim = static_cast<int64_t>(c.n_head_kv) * c.head_dim;
  m->layers_.resize(c.n_layer);
  for (int i = 0; i < c.n_layer; ++i) {
    LayerWeights& l = m->layers_[i];
    auto n = [&](const char* what) { return absl::StrCat("blk.", i, ".", what, ".weight"); };
    auto b = [&](const char* what) { return absl::StrCat("blk.", i, ".", what, ".bias"); };
    RETURN_IF_ERROR(bind.Vector(n("attn_norm"), c.n_embd, &l.attn_norm));
    // phi3 and chatglm files may fuse q, k, v (llama.cpp prefers the fused
    // matrix when present).
    const bool fused = IsPhi3GlmModelArch(c.arch) && f.FindTensor(n("attn_qkv")) != nullptr;
    if (deepseek2) {
      RETURN_IF_ERROR(BindMlaLayer(f, c.mla, c.n_embd, c.n_head, c.head_dim_v, i, &l.mla));
    } else if (fused) {
      RETURN_IF_ERROR(bind.Matrix(n("attn_qkv"), c.n_embd, q_dim + 2 * kv_dim, &l.wqkv));
      RETURN_IF_ERROR(bind.Vector(b("attn_qkv"), q_dim + 2 * kv_dim, &l.bqkv, /*optional=*/true));
      c.fused_qkv = true;
    } else {
      RETURN_IF_ERROR(bind.Matrix(n("attn_q"), c.n_embd, q_dim, &l.wq));
      RETURN_IF_ERROR(bind.Matrix(n("attn_k"), c.n_embd, kv_dim, &l.wk));
      RETURN_IF_ERROR(bind.Matrix(n("attn_v"), c.n_embd, kv_dim, &l.wv));
    }
    RETURN_IF_ERROR(bind.Matrix(n("attn_output"), static_cast<int64_t>(c.n_head) * c.head_dim_v, c.n_embd, &l.wo));
    const bool need_bias = c.arch == "qwen2" || c.arch == "qwen2moe";
    RETURN_IF_ERROR(bind.Vector(b("attn_q"), q_dim, &l.bq, !need_bias));
    RETURN_IF_ERROR(bind.Vector(b("attn_k"), kv_dim, &l.bk, !need_bias));
    RETURN_IF_ERROR(bind.Vector(b("attn_v"), kv_dim, &l.bv, !need_bias));
    const bool need_norm = c.arch == "qwen3" || c.arch == "gemma3" || c.arch == "qwen3moe";
    RETURN_IF_ERROR(bind.Vector(n("attn_q_norm"), c.head_dim, &l.q_norm, !need_norm));
    RETURN_IF_ERROR(bind.Vector(n("attn_k_norm"), c.head_dim, &l.k_norm, !need_norm));
    RETURN_IF_ERROR(bind.Vector(n("ffn_norm"), c.n_embd, &l.ffn_norm));
    if (c.moe.is_sparse(i)) {
      RETURN_IF_ERROR(BindMoeLayer(f, c.moe, c.n_embd, i, &l.moe));
    } else if (IsPhi3GlmModelArch(c.arch)) {  // gate rows then up rows in ffn_up
      RETURN_IF_ERROR(bind.Matrix(n("ffn_up"), c.n_embd, 2 * static_cast<int64_t>(c.n_ff), &l.w_up));
      c.fused_ffn_up = true;
    } else {
      RETURN_IF_ERROR(bind.Matrix(n("ffn_gate"), c.n_embd, c.n_ff, &l.w_gate));
      RETURN_IF_ERROR(bind.Matrix(n("ffn_up"), c.n_embd, c.n_ff, &l.w_up));
    }
    if (!c.moe.is_sparse(i)) RETURN_IF_ERROR(bind.Matrix(n("ffn_down"), c.n_ff, c.n_embd, &l.w_down));
    RETURN_IF_ERROR(bind.Vector(n("post_attention_norm"), c.n_embd, &l.attn_post_norm, !c.gemma));
    RETURN_IF_ERROR(bind.Vector(n("post_ffw_norm"), c.n_embd, &l.ffn_post_norm, !c.gemma));
    if (l.bq != nullptr || l.bqkv != nullptr) c.qkv_bias = true;
    if (l.q_norm != nullptr) c.qk_norm = true;
  }
  for (const GgufTensor& t : f.tensors()) m->weight_bytes_ += t.n_bytes;
  m->weight_bytes_per_token_ = WeightBytesPerToken(*m);
  return m;
}

std::string Model::TypeSummary() const {
  std::map<std::string, int> counts;
  for (const GgufTensor& t : file_->tensors()) ++counts[std::string(GgmlTypeName(t.type))];
  std::string out;
  for (const auto& [name, count] : counts) absl::StrAppend(&out, out.empty() ? "" : ", ", name, ": ", count);
  return out;
}

}  // namespace llmtk
