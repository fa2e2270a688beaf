#include "lib/convert/hf_moe.h"

#include <cstdio>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "lib/formats/gguf_keys.h"

namespace llmtk {
namespace {

// llama.cpp's LLAMA_MAX_EXPERTS.
constexpr int64_t kMaxExperts = 256;

bool IsQwenMoe(const HfConfig& cfg) { return cfg.arch == "qwen2moe" || cfg.arch == "qwen3moe"; }

}  // namespace

absl::Status ReadMoeHfConfig(const HfConfigJson& c, const std::string& path, HfConfig* cfg) {
  const HfConfigValue* count = nullptr;
  if (cfg->arch == "llama" && c.num_local_experts.present()) {
    count = &c.num_local_experts;
    cfg->has_local_experts = true;
  } else if (IsQwenMoe(*cfg)) {
    count = &c.num_experts;
    // The converter that knows Qwen3-MoE writes expert_count with the
    // generic keys (before expert_used_count); c392e50's Qwen2-MoE writes it
    // after the file type.
    cfg->has_local_experts = cfg->arch == "qwen3moe";
  } else {
    return absl::OkStatus();
  }
  auto bad = [&](const HfConfigValue& v, std::string_view why) {
    return absl::DataLossError(absl::StrCat(path, ": \"", ToAbsl(v.key), "\" ", ToAbsl(why)));
  };
  if (!count->AsInt64() || *count->AsInt64() <= 0 || *count->AsInt64() > kMaxExperts)
    return bad(*count, absl::StrCat("must be an expert count from 1 to ", kMaxExperts));
  cfg->n_expert = *count->AsInt64();
  const HfConfigValue& used = c.num_experts_per_tok;
  if (!used.AsInt64() || *used.AsInt64() <= 0 || *used.AsInt64() > cfg->n_expert)
    return bad(used, absl::StrCat("must be from 1 to the ", cfg->n_expert, " experts"));
  cfg->n_expert_used = *used.AsInt64();
  cfg->has_experts_used = true;
  cfg->n_ff_exp = cfg->n_ff;
  if (IsQwenMoe(*cfg)) {
    if (!c.moe_intermediate_size.AsInt64() || *c.moe_intermediate_size.AsInt64() <= 0)
      return bad(c.moe_intermediate_size, "must be a positive integer");
    cfg->n_ff_exp = *c.moe_intermediate_size.AsInt64();
    // llama.cpp runs every layer sparse; a config with dense layers among
    // them is another model.
    if (c.decoder_sparse_step.AsInt64() && *c.decoder_sparse_step.AsInt64() != 1)
      return bad(c.decoder_sparse_step, "other than 1 (dense layers between sparse ones) is not supported");
    if (!c.mlp_only_layers.elements.empty()) return bad(c.mlp_only_layers, "(dense layers) is not supported");
  }
  if (cfg->arch == "qwen2moe") {
    if (!c.shared_expert_intermediate_size.AsInt64() || *c.shared_expert_intermediate_size.AsInt64() <= 0)
      return bad(c.shared_expert_intermediate_size, "must be a positive integer");
    cfg->n_ff_shexp = *c.shared_expert_intermediate_size.AsInt64();
  }
  return absl::OkStatus();
}

void AddMoeArchKeys(const HfConfig& cfg, GgufMetadata* md) {
  if (!IsQwenMoe(cfg)) return;
  auto u32 = [&](GgufArchKey key, int64_t v) { md->SetU32(GgufKeyName(key, cfg.arch), static_cast<uint32_t>(v)); };
  if (!cfg.has_local_experts) u32(GgufArchKey::kExpertCount, cfg.n_expert);
  u32(GgufArchKey::kExpertFeedForwardLength, cfg.n_ff_exp);
  if (cfg.n_ff_shexp > 0) u32(GgufArchKey::kExpertSharedFeedForwardLength, cfg.n_ff_shexp);
}

std::vector<MoeTensorSpec> MoeFfnTensorSpecs(const HfConfig& cfg) {
  const int64_t E = cfg.n_embd, F = cfg.n_ff_exp, X = cfg.n_expert;
  std::vector<MoeTensorSpec> s = {
      {"ffn_gate_inp.weight", {E, X}},
      {"ffn_gate_exps.weight", {E, F, X}},
      {"ffn_down_exps.weight", {F, E, X}},
      {"ffn_up_exps.weight", {E, F, X}},
  };
  if (cfg.n_ff_shexp > 0) {
    const int64_t S = cfg.n_ff_shexp;
    s.push_back({"ffn_gate_inp_shexp.weight", {E, 1}});
    s.push_back({"ffn_gate_shexp.weight", {E, S}});
    s.push_back({"ffn_up_shexp.weight", {E, S}});
    s.push_back({"ffn_down_shexp.weight", {S, E}});
  }
  return s;
}

std::optional<MoeExpertName> ParseMoeExpertName(const HfConfig& cfg, const std::string& n) {
  if (cfg.n_expert == 0) return std::nullopt;
  MoeExpertName e;
  char which[16];
  int end = 0;
  if (cfg.arch == "llama") {
    // The converter stacks w1, w2, w3: gate, down, up.
    if (std::sscanf(n.c_str(), "model.layers.%d.block_sparse_moe.experts.%d.%2[w123].weight%n", &e.layer, &e.expert,
                    which, &end) != 3 ||
        static_cast<size_t>(end) != n.size())
      return std::nullopt;
    static const char* kMerged[] = {"ffn_gate_exps", "ffn_down_exps", "ffn_up_exps"};
    if (std::strlen(which) != 2 || which[0] != 'w' || which[1] < '1' || which[1] > '3') return std::nullopt;
    e.rank = which[1] - '1';
    e.merged = kMerged[e.rank];
  } else {
    if (std::sscanf(n.c_str(), "model.layers.%d.mlp.experts.%d.%15[a-z_].weight%n", &e.layer, &e.expert, which,
                    &end) != 3 ||
        static_cast<size_t>(end) != n.size())
      return std::nullopt;
    // Stacked down, gate, up.
    const std::string w = which;
    if (w == "down_proj") {
      e.rank = 0, e.merged = "ffn_down_exps";
    } else if (w == "gate_proj") {
      e.rank = 1, e.merged = "ffn_gate_exps";
    } else if (w == "up_proj") {
      e.rank = 2, e.merged = "ffn_up_exps";
    } else {
      return std::nullopt;
    }
  }
  if (e.layer < 0 || e.expert < 0 || e.expert >= cfg.n_expert) return std::nullopt;
  return e;
}

std::optional<std::string> MoeBlockTensorName(const HfConfig& cfg, std::string_view rest) {
  if (cfg.n_expert == 0) return std::nullopt;
  static const std::pair<std::string_view, std::string_view> kMixtral[] = {
      {"block_sparse_moe.gate.weight", "ffn_gate_inp.weight"}};
  static const std::pair<std::string_view, std::string_view> kQwen[] = {
      {"mlp.gate.weight", "ffn_gate_inp.weight"},
      {"mlp.shared_expert.gate_proj.weight", "ffn_gate_shexp.weight"},
      {"mlp.shared_expert.up_proj.weight", "ffn_up_shexp.weight"},
      {"mlp.shared_expert.down_proj.weight", "ffn_down_shexp.weight"},
      {"mlp.shared_expert_gate.weight", "ffn_gate_inp_shexp.weight"},
  };
  if (cfg.arch == "llama") {
    for (const auto& [hf, gg] : kMixtral)
      if (rest == hf) return std::string(gg);
    return std::nullopt;
  }
  for (const auto& [hf, gg] : kQwen)
    if (rest == hf) return std::string(gg);
  return std::nullopt;
}

uint64_t MoeCountParams(const std::vector<SourceTensor>& tensors, HfConfig* cfg) {
  uint64_t shared = 0, expert = 0;
  for (const SourceTensor& t : tensors) {
    uint64_t n = 1;
    for (int64_t d : t.dims) n *= static_cast<uint64_t>(d);
    if (t.name.find("_exps.") != std::string::npos && t.dims.size() == 3) {
      expert += n / static_cast<uint64_t>(t.dims[2]);
    } else {
      shared += n;
    }
  }
  cfg->moe_size_label = "experts";
  return shared + expert;
}

absl::StatusOr<std::vector<SourceTensor>> MergeExperts(
    const HfConfig& cfg, const std::vector<std::pair<MoeExpertName, const SafetensorsTensor*>>& group) {
  std::vector<SourceTensor> out;
  for (int rank = 0; rank < 3; ++rank) {
    std::vector<const SafetensorsTensor*> parts(cfg.n_expert, nullptr);
    std::string merged;
    for (const auto& [e, t] : group) {
      if (e.rank != rank) continue;
      parts[e.expert] = t;
      merged = absl::StrCat("blk.", e.layer, ".", e.merged, ".weight");
    }
    const SafetensorsTensor* first = parts[0];
    for (const SafetensorsTensor* p : parts) {
      if (p == nullptr) return absl::DataLossError(absl::StrCat(merged, ": an expert's tensor is missing"));
      if (p->shape != first->shape || p->dtype != first->dtype || p->shape.size() != 2)
        return absl::DataLossError(absl::StrCat(p->file, ": expert tensor '", p->name, "' differs in shape or dtype from '",
                                                first->name, "' (experts must be alike 2-D matrices)"));
    }
    SourceTensor s;
    s.name = merged;
    s.dims = {first->shape[1], first->shape[0], cfg.n_expert};
    if (first->dtype == "F32") {
      s.type = GgmlType::kF32;
    } else if (first->dtype == "F16") {
      s.type = GgmlType::kF16;
    } else if (first->dtype == "BF16") {
      s.type = GgmlType::kBF16;
    } else {
      return absl::UnimplementedError(absl::StrCat(first->file, ": tensor '", first->name, "' has dtype ", first->dtype,
                                                   "; only F32, F16 and BF16 are supported"));
    }
    s.load = [parts](std::vector<uint8_t>* buf) {
      size_t total = 0;
      for (const SafetensorsTensor* p : parts) total += p->n_bytes;
      buf->resize(total);
      size_t at = 0;
      for (const SafetensorsTensor* p : parts) {
        std::memcpy(buf->data() + at, p->data, p->n_bytes);
        at += p->n_bytes;
      }
      return absl::OkStatus();
    };
    out.push_back(std::move(s));
  }
  return out;
}

}  // namespace llmtk
