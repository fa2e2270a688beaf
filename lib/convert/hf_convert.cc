#include "lib/convert/hf_convert.h"

// Llama3RopeFactors follows torch's float32 evaluation; no FMA contraction.
#if defined(__clang__)
#pragma clang fp contract(off)
#elif defined(__GNUC__)
#pragma GCC optimize("fp-contract=off")
#endif

#include <cmath>
#include <cstring>
#include <algorithm>
#include <map>
#include <memory>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "lib/convert/gemma_convert.h"
#include "lib/convert/hf_deepseek2.h"
#include "lib/convert/hf_moe.h"
#include "lib/convert/hf_tokenizer.h"
#include "lib/formats/hf_config.h"
#include "lib/formats/gguf_keys.h"
#include "lib/base/io.h"
#include "lib/ggml/quant.h"
#include "lib/formats/safetensors.h"

namespace llmtk {

absl::StatusOr<HfConfig> ReadHfConfig(const std::string& path) {
  absl::StatusOr<std::string> text = ReadFileToString(path);
  if (!text.ok()) {
    return absl::NotFoundError(absl::StrCat(path, ": cannot read (is this a Hugging Face model directory?)"));
  }
  absl::StatusOr<HfConfigJson> json = ParseHfConfigJson(WidenBigIntegers(*text));
  if (!json.ok()) return absl::DataLossError(absl::StrCat(path, ": not valid JSON (", json.status().message(), ")"));
  const HfConfigJson& c = *json;
  HfConfig cfg;
  const std::vector<HfConfigValue>& archs = c.architectures.elements;
  if (archs.empty() || !archs[0].AsString()) {
    return absl::DataLossError(absl::StrCat(path, ": missing \"architectures\""));
  }
  const std::string_view arch = *archs[0].AsString();
  if (IsGemmaHfArchitecture(arch)) return ReadGemmaHfConfig(c, arch, path);
  if (arch == "LlamaForCausalLM" || arch == "MistralForCausalLM" || arch == "MixtralForCausalLM") {
    cfg.arch = "llama";
    cfg.permute_qk = true;
  } else if (arch == "Qwen2ForCausalLM") {
    cfg.arch = "qwen2";
  } else if (arch == "Qwen3ForCausalLM") {
    cfg.arch = "qwen3";
  } else if (arch == "Qwen2MoeForCausalLM") {
    cfg.arch = "qwen2moe";
  } else if (arch == "Qwen3MoeForCausalLM") {
    cfg.arch = "qwen3moe";
  } else if (arch == "DeepseekV2ForCausalLM") {
    cfg.arch = "deepseek2";
  } else if (IsPhi3GlmHfArch(arch)) {
    return ReadPhi3GlmConfig(c, arch, path);
  } else {
    return absl::UnimplementedError(absl::StrCat(path, ": architecture ", ToAbsl(arch),
                                                 " is not supported (supported: LlamaForCausalLM, "
                                                 "MistralForCausalLM, MixtralForCausalLM, Qwen2ForCausalLM, Qwen3ForCausalLM, "
                                                 "Qwen2MoeForCausalLM, Qwen3MoeForCausalLM, DeepseekV2ForCausalLM, Phi3ForCausalLM, "
                                                 "GlmForCausalLM, Gemma2ForCausalLM, Gemma3ForCausalLM, "
                                                 "Gemma3ForConditionalGeneration)"));
  }
  // The converter's reading: an integer key must hold a JSON integer; a
  // value of another type counts as absent.
  auto get_int = [](const HfConfigValue& v, int64_t* out) {
    if (!v.AsInt64()) return false;
    *out = *v.AsInt64();
    return true;
  };
  auto get_double = [](const HfConfigValue& v, double* out) {
    if (!v.AsDouble()) return false;
    *out = *v.AsDouble();
    return true;
  };
  auto require = [&](const HfConfigValue& v, int64_t* out) -> absl::Status {
    if (!get_int(v, out) || *out <= 0) {
      return absl::DataLossError(absl::StrCat(path, ": missing or invalid \"", ToAbsl(v.key), "\""));
    }
    return absl::OkStatus();
  };
  RETURN_IF_ERROR(require(c.num_hidden_layers, &cfg.n_layer));
  RETURN_IF_ERROR(require(c.hidden_size, &cfg.n_embd));
  RETURN_IF_ERROR(require(c.intermediate_size, &cfg.n_ff));
  RETURN_IF_ERROR(require(c.num_attention_heads, &cfg.n_head));
  RETURN_IF_ERROR(require(c.vocab_size, &cfg.vocab));
  cfg.has_head_kv = get_int(c.num_key_value_heads, &cfg.n_head_kv);
  if (!cfg.has_head_kv) cfg.n_head_kv = cfg.n_head;
  if (cfg.n_head_kv <= 0 || cfg.n_head % cfg.n_head_kv != 0) {
    return absl::DataLossError(absl::StrCat(path, ": num_key_value_heads must divide num_attention_heads"));
  }
  cfg.has_ctx = get_int(c.max_position_embeddings, &cfg.n_ctx);
  cfg.has_head_dim = get_int(c.head_dim, &cfg.head_dim) && cfg.head_dim > 0;
  if (!cfg.has_head_dim) cfg.head_dim = cfg.n_embd / cfg.n_head;
  cfg.has_theta = get_double(c.rope_theta, &cfg.rope_theta);
  (void)get_double(c.rms_norm_eps, &cfg.rms_eps);
  if (c.tie_word_embeddings.AsBool()) cfg.tied = *c.tie_word_embeddings.AsBool();
  RETURN_IF_ERROR(ReadMoeHfConfig(c, path, &cfg));
  const HfRopeScalingJson& rs = c.rope_scaling;
  if (rs.is_object) {
    std::string_view t;
    if (rs.rope_type.AsString()) {
      t = *rs.rope_type.AsString();
    } else if (rs.type.AsString()) {
      t = *rs.type.AsString();
    }
    cfg.rope_scaling_type = std::string(t);
    (void)get_double(rs.factor, &cfg.rope_scaling_factor);
    if (cfg.rope_scaling_type == "llama3") {
      if (cfg.rope_scaling_factor == 0) cfg.rope_scaling_factor = 8.0;
      (void)get_double(rs.low_freq_factor, &cfg.low_freq_factor);
      (void)get_double(rs.high_freq_factor, &cfg.high_freq_factor);
      // convert_hf_to_gguf.py reads this key at the top level of config.json.
      (void)get_int(c.original_max_position_embeddings, &cfg.original_ctx);
      if (cfg.high_freq_factor == cfg.low_freq_factor) {
        return absl::DataLossError(absl::StrCat(path, ": rope_scaling high_freq_factor equals low_freq_factor"));
      }
    }
    if (cfg.rope_scaling_type != "linear" && cfg.rope_scaling_type != "yarn" && cfg.rope_scaling_type != "default" &&
        cfg.rope_scaling_type != "llama3" &&
        !cfg.rope_scaling_type.empty()) {
      return absl::UnimplementedError(absl::StrCat(path, ": rope_scaling type '", cfg.rope_scaling_type,
                                                   "' is not supported (linear, yarn and llama3 are)"));
    }
  }
  if (cfg.arch == "deepseek2") RETURN_IF_ERROR(ReadDeepseek2HfConfig(c, path, &cfg));
  return cfg;
}

namespace {

// HF name -> GGUF name; "" when the tensor is dropped; nullopt when unknown.
std::optional<std::string> MapName(const std::string& n, const HfConfig& cfg) {
  if (n == "model.embed_tokens.weight") return std::string("token_embd.weight");
  if (n == "model.norm.weight") return std::string("output_norm.weight");
  if (n == "lm_head.weight") return cfg.tied ? std::string() : std::string("output.weight");
  int layer = -1;
  char rest[128];
  if (std::sscanf(n.c_str(), "model.layers.%d.%127s", &layer, rest) != 2 || layer < 0) return std::nullopt;
  static const std::pair<const char*, const char*> kMap[] = {
      {"input_layernorm.weight", "attn_norm.weight"},
      {"post_attention_layernorm.weight", "ffn_norm.weight"},
      {"self_attn.q_proj.weight", "attn_q.weight"},
      {"self_attn.k_proj.weight", "attn_k.weight"},
      {"self_attn.v_proj.weight", "attn_v.weight"},
      {"self_attn.o_proj.weight", "attn_output.weight"},
      {"self_attn.q_proj.bias", "attn_q.bias"},
      {"self_attn.k_proj.bias", "attn_k.bias"},
      {"self_attn.v_proj.bias", "attn_v.bias"},
      {"self_attn.q_norm.weight", "attn_q_norm.weight"},
      {"self_attn.k_norm.weight", "attn_k_norm.weight"},
      {"mlp.gate_proj.weight", "ffn_gate.weight"},
      {"mlp.up_proj.weight", "ffn_up.weight"},
      {"mlp.down_proj.weight", "ffn_down.weight"},
      {"self_attn.qkv_proj.weight", "attn_qkv.weight"},  // phi3
      {"mlp.gate_up_proj.weight", "ffn_up.weight"},      // phi3, glm
  };
  if (std::strcmp(rest, "self_attn.rotary_emb.inv_freq") == 0) return std::string();
  if (cfg.arch == "deepseek2") {
    if (auto m = Deepseek2BlockTensorName(rest)) return absl::StrCat("blk.", layer, ".", *m);
  }
  if (auto m = MoeBlockTensorName(cfg, rest)) return absl::StrCat("blk.", layer, ".", *m);
  if (IsGemmaArch(cfg.arch)) {
    if (auto g = GemmaBlockTensorName(rest)) return absl::StrCat("blk.", layer, ".", ToAbsl(*g));
  }
  for (const auto& [hf, gg] : kMap) {
    if (std::strcmp(rest, hf) == 0) return absl::StrCat("blk.", layer, ".", gg);
  }
  return std::nullopt;
}

std::optional<GgmlType> DtypeType(const std::string& d) {
  if (d == "F32") return GgmlType::kF32;
  if (d == "F16") return GgmlType::kF16;
  if (d == "BF16") return GgmlType::kBF16;
  return std::nullopt;
}

// gguf-py's model_weight_count_rounded_notation (min_digits 2).
std::string SizeLabel(uint64_t n) {
  double scaled;
  const char* suffix;
  if (n > 1e12) {
    scaled = n * 1e-12;
    suffix = "T";
  } else if (n > 1e9) {
    scaled = n * 1e-9;
    suffix = "B";
  } else if (n > 1e6) {
    scaled = n * 1e-6;
    suffix = "M";
  } else {
    scaled = n * 1e-3;
    suffix = "K";
  }
  std::string digits = absl::StrCat(static_cast<int64_t>(std::nearbyint(scaled)));
  while (!digits.empty() && digits[0] == '0') digits.erase(0, 1);
  const int fix = std::max(2 - static_cast<int>(digits.size()), 0);
  return absl::StrCat(absl::StrFormat("%.*f", fix, scaled), suffix);
}

bool EndsWith(const std::string& s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

std::string BaseName(std::string p) {
  while (p.size() > 1 && p.back() == '/') p.pop_back();
  const size_t s = p.rfind('/');
  return s == std::string::npos ? p : p.substr(s + 1);
}

}  // namespace

std::vector<float> Llama3RopeFactors(const HfConfig& cfg) {
  const int64_t dim = cfg.head_dim;
  const float base = static_cast<float>(cfg.has_theta ? cfg.rope_theta : 10000.0);
  const float factor = static_cast<float>(cfg.rope_scaling_factor);
  const float lo = static_cast<float>(cfg.low_freq_factor), hi = static_cast<float>(cfg.high_freq_factor);
  const double low_freq_wavelen = static_cast<double>(cfg.original_ctx) / cfg.low_freq_factor;
  const double high_freq_wavelen = static_cast<double>(cfg.original_ctx) / cfg.high_freq_factor;
  std::vector<float> out;
  for (int64_t k = 0; k < dim; k += 2) {
    const float freq = 1.0f / std::pow(base, static_cast<float>(k) / static_cast<float>(dim));
    const float wavelen = static_cast<float>(2 * M_PI) / freq;
    if (wavelen < high_freq_wavelen) {
      out.push_back(1.0f);
    } else if (wavelen > low_freq_wavelen) {
      out.push_back(factor);
    } else {
      const float smooth = (static_cast<float>(cfg.original_ctx) / wavelen - lo) / (hi - lo);
      out.push_back(1.0f / ((1.0f - smooth) / factor + smooth));
    }
  }
  return out;
}

SourceTensor RopeFreqsTensor(const HfConfig& cfg) {
  SourceTensor rf;
  rf.name = "rope_freqs.weight";
  rf.dims = {cfg.head_dim / 2};
  rf.type = GgmlType::kF32;
  const std::vector<float> factors = Llama3RopeFactors(cfg);
  rf.load = [factors](std::vector<uint8_t>* out) {
    out->resize(factors.size() * 4);
    std::memcpy(out->data(), factors.data(), out->size());
    return absl::OkStatus();
  };
  return rf;
}

void UnpermuteRotaryRows(const uint8_t* src, uint8_t* dst, int64_t rows, size_t row_bytes, int64_t n_head) {
  const int64_t hd = rows / n_head;  // rows per head
  const int64_t half = hd / 2;
  for (int64_t h = 0; h < n_head; ++h) {
    for (int64_t i = 0; i < half; ++i) {
      for (int64_t j = 0; j < 2; ++j) {
        const int64_t out_row = h * hd + 2 * i + j;
        const int64_t in_row = h * hd + j * half + i;
        std::memcpy(dst + out_row * row_bytes, src + in_row * row_bytes, row_bytes);
      }
    }
  }
}

void AddHfArchMetadata(const HfConfig& cfg, const std::string& name, uint64_t n_params, GgufMetadata* md) {
  const std::string& a = cfg.arch;
  using K = GgufArchKey;
  auto u32 = [&](K key, int64_t v) { md->SetU32(GgufKeyName(key, a), static_cast<uint32_t>(v)); };
  auto f32 = [&](K key, double v) { md->SetF32(GgufKeyName(key, a), static_cast<float>(v)); };
  md->SetString(GgufKeyName(GgufKey::kGeneralArchitecture), a);
  // Phi-3's converter writes it while generating its rope factor tensors,
  // before the general.* keys.
  if (cfg.rope_attn_factor != 0) f32(K::kRopeScalingAttnFactor, cfg.rope_attn_factor);
  md->SetString(GgufKeyName(GgufKey::kGeneralType), "model");
  md->SetString(GgufKeyName(GgufKey::kGeneralName), name);
  md->SetString(GgufKeyName(GgufKey::kGeneralSizeLabel),
                cfg.moe_size_label.empty() ? SizeLabel(n_params)
                                           : absl::StrCat(cfg.n_expert, "x", SizeLabel(n_params)));
  if (IsGemmaArch(a)) {
    AddGemmaArchMetadata(cfg, md);
    return;
  }
  if (IsPhi3GlmArch(cfg)) return AddPhi3GlmArchKeys(cfg, md);
  if (a == "deepseek2") return AddDeepseek2ArchKeys(cfg, md);
  u32(K::kBlockCount, cfg.n_layer);
  if (cfg.has_ctx) u32(K::kContextLength, cfg.n_ctx);
  u32(K::kEmbeddingLength, cfg.n_embd);
  u32(K::kFeedForwardLength, cfg.n_ff);
  u32(K::kAttentionHeadCount, cfg.n_head);
  if (cfg.has_head_kv) u32(K::kAttentionHeadCountKv, cfg.n_head_kv);
  if (cfg.has_theta) f32(K::kRopeFreqBase, cfg.rope_theta);
  f32(K::kAttentionLayerNormRmsEpsilon, cfg.rms_eps);
  if (cfg.has_local_experts) u32(K::kExpertCount, cfg.n_expert);
  if (cfg.has_experts_used) u32(K::kExpertUsedCount, cfg.n_expert_used);
  if (cfg.has_head_dim) {
    u32(K::kAttentionKeyLength, cfg.head_dim);
    u32(K::kAttentionValueLength, cfg.head_dim);
  }
  md->SetU32(GgufKeyName(GgufKey::kGeneralFileType), 0);  // filled in by QuantizeModel
  AddMoeArchKeys(cfg, md);
  if (a == "llama") {
    u32(K::kVocabSize, cfg.vocab);
    u32(K::kRopeDimensionCount, cfg.head_dim);
  }
  if (cfg.rope_scaling_type == "linear" || cfg.rope_scaling_type == "yarn") {
    md->SetString(GgufKeyName(K::kRopeScalingType, a), cfg.rope_scaling_type);
    f32(K::kRopeScalingFactor, cfg.rope_scaling_factor);
  }
}

absl::StatusOr<ModelSource> OpenHfSource(const std::string& dir) {
  ASSIGN_OR_RETURN(HfConfig cfg, ReadHfConfig(dir + "/config.json"));
  ASSIGN_OR_RETURN(std::unique_ptr<SafetensorsModel> st, SafetensorsModel::Open(dir));
  ModelSource src;
  src.name = dir;
  src.from_converter = true;
  src.release_pages = true;
  std::vector<std::string> unknown;
  uint64_t n_params = 0;
  if (cfg.rope_scaling_type == "llama3") {
    // convert_hf_to_gguf.py yields this generated tensor before the checkpoint's.
    src.tensors.push_back(RopeFreqsTensor(cfg));
  }
  for (SourceTensor& t : Phi3GlmExtraTensors(cfg)) {
    n_params += static_cast<uint64_t>(t.dims[0]);
    src.tensors.push_back(std::move(t));
  }
  // convert_hf_to_gguf.py reads each file's tensors in safetensors' keys()
  // order, which is sorted by name, whatever order the header has.
  std::vector<const SafetensorsTensor*> order;
  std::map<std::string, size_t> file_rank;
  for (const SafetensorsTensor& t : st->tensors()) {
    order.push_back(&t);
    file_rank.emplace(t.file, file_rank.size());
  }
  std::stable_sort(order.begin(), order.end(), [&](const SafetensorsTensor* a, const SafetensorsTensor* b) {
    const size_t fa = file_rank[a->file], fb = file_rank[b->file];
    return fa != fb ? fa < fb : a->name < b->name;
  });
  // Experts: a layer's are merged into 3-D tensors once all have been read.
  std::map<int, std::vector<std::pair<MoeExpertName, const SafetensorsTensor*>>> pending;
  for (const SafetensorsTensor* tp_sorted : order) {
    const SafetensorsTensor& t = *tp_sorted;
    if (std::optional<MoeExpertName> e = ParseMoeExpertName(cfg, t.name)) {
      auto& group = pending[e->layer];
      group.emplace_back(*e, &t);
      if (group.size() < static_cast<size_t>(3 * cfg.n_expert)) continue;
      ASSIGN_OR_RETURN(std::vector<SourceTensor> merged, MergeExperts(cfg, group));
      for (SourceTensor& m : merged) {
        uint64_t n = 1;
        for (int64_t d : m.dims) n *= static_cast<uint64_t>(d);
        n_params += n;
        src.tensors.push_back(std::move(m));
      }
      pending.erase(e->layer);
      continue;
    }
    std::optional<std::string> name = MapName(t.name, cfg);
    if (!name) {
      unknown.push_back(t.name);
      continue;
    }
    if (name->empty()) continue;
    std::optional<GgmlType> type = DtypeType(t.dtype);
    if (!type) {
      return absl::UnimplementedError(
          absl::StrCat(t.file, ": tensor '", t.name, "' has dtype ", t.dtype, "; only F32, F16 and BF16 are supported"));
    }
    SourceTensor s;
    s.name = *name;
    for (auto it = t.shape.rbegin(); it != t.shape.rend(); ++it) s.dims.push_back(*it);
    if (s.dims.empty()) s.dims.push_back(1);
    n_params += static_cast<uint64_t>(t.n_elements);
    const bool is_q = EndsWith(s.name, ".attn_q.weight");
    const bool is_k = EndsWith(s.name, ".attn_k.weight");
    const bool permute = cfg.permute_qk && (is_q || is_k) && t.shape.size() == 2;
    // convert_hf_to_gguf.py keeps 1-D tensors (norms, biases) in F32.
    // and the MoE router (FFN_GATE_INP) in F32.
    const bool to_f32 = (t.shape.size() <= 1 || EndsWith(s.name, ".ffn_gate_inp.weight")) && *type != GgmlType::kF32;
    // Gemma's norms scale by (1 + w): the converter adds the 1, in the
    // checkpoint's dtype (torch rounds the sum to BF16/F16), then widens.
    const bool shift = IsGemmaArch(cfg.arch) && GemmaNormShifted(s.name);
    s.type = to_f32 || shift ? GgmlType::kF32 : *type;
    if (shift) {
      const SafetensorsTensor* tp = &t;
      const GgmlType from = *type;
      s.load = [tp, from](std::vector<uint8_t>* out) -> absl::Status {
        out->resize(static_cast<size_t>(tp->n_elements) * 4);
        float* f = reinterpret_cast<float*>(out->data());
        DequantizeRow(from, tp->data, f, tp->n_elements);
        for (int64_t i = 0; i < tp->n_elements; ++i) f[i] = GemmaShiftNorm(f[i], from);
        return absl::OkStatus();
      };
    } else if (!permute && !to_f32) {
      s.data = t.data;
    } else {
      const SafetensorsTensor* tp = &t;
      const GgmlType from = *type;
      const int64_t heads = is_q ? cfg.n_head : cfg.n_head_kv;
      if (permute && (t.shape[0] % (2 * heads) != 0)) {
        return absl::DataLossError(absl::StrCat(t.file, ": tensor '", t.name, "' has ", t.shape[0],
                                                " rows, not a multiple of 2 x ", heads, " heads"));
      }
      s.load = [tp, from, permute, to_f32, heads](std::vector<uint8_t>* out) -> absl::Status {
        if (to_f32) {
          out->resize(static_cast<size_t>(tp->n_elements) * 4);
          DequantizeRow(from, tp->data, reinterpret_cast<float*>(out->data()), tp->n_elements);
          return absl::OkStatus();
        }
        out->resize(tp->n_bytes);
        const int64_t rows = tp->shape[0];
        UnpermuteRotaryRows(tp->data, out->data(), rows, tp->n_bytes / static_cast<size_t>(rows), heads);
        return absl::OkStatus();
      };
    }
    src.tensors.push_back(std::move(s));
  }
  if (!pending.empty()) {
    return absl::DataLossError(absl::StrCat(dir, ": layer ", pending.begin()->first, " has ",
                                            pending.begin()->second.size(), " expert tensors of the ", 3 * cfg.n_expert,
                                            " its config needs (", cfg.n_expert, " experts x 3)"));
  }
  if (!unknown.empty()) {
    if (unknown.size() > 8) unknown.resize(8);
    return absl::UnimplementedError(absl::StrCat(dir, ": cannot map these tensors to GGUF for ", cfg.arch, ": ",
                                                 absl::StrJoin(unknown, ", ")));
  }

  GgufMetadata& md = src.metadata;
  if (cfg.n_expert > 0) n_params = MoeCountParams(src.tensors, &cfg);
  AddHfArchMetadata(cfg, BaseName(dir), n_params, &md);
  // Gemma 3 and Qwen3-MoE follow the convert_hf_to_gguf.py that knows them
  // (2025 on), which writes the quantization version before the vocabulary.
  const bool qv_first = cfg.arch == "gemma3" || cfg.arch == "qwen3moe";
  if (qv_first) md.SetU32(GgufKeyName(GgufKey::kGeneralQuantizationVersion), 2);
  RETURN_IF_ERROR(AddHfTokenizerMetadata(dir, cfg.vocab, &md));
  if (IsGemmaArch(cfg.arch)) AddGemmaTokenizerMetadata(dir, &md);
  FixPhi3GlmVocab(cfg, &md);
  if (!qv_first) md.SetU32(GgufKeyName(GgufKey::kGeneralQuantizationVersion), 2);
  src.keepalive = std::shared_ptr<const SafetensorsModel>(std::move(st));
  return src;
}

}  // namespace llmtk
