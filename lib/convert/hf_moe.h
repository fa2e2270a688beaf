// convert/hf_moe: what convert_hf_to_gguf.py does for mixtures of experts
// with softmax routing:
// - MixtralForCausalLM -> `llama` with expert_count (num_local_experts) and
//   expert_used_count (num_experts_per_tok); each expert intermediate_size
//   wide; block_sparse_moe.experts.N.w1/w2/w3 merged into 3-D
//   ffn_gate_exps/ffn_down_exps/ffn_up_exps, block_sparse_moe.gate ->
//   ffn_gate_inp (kept F32 whatever the output type);
// - Qwen2MoeForCausalLM -> `qwen2moe` (llama.cpp c392e50): num_experts,
//   moe_intermediate_size, shared_expert_intermediate_size written after the
//   file type; mlp.experts.N.{down,gate,up}_proj merged in that order;
//   mlp.shared_expert.* -> ffn_*_shexp, mlp.shared_expert_gate -> the
//   one-row ffn_gate_inp_shexp;
// - Qwen3MoeForCausalLM -> `qwen3moe` (the converter that knows it, newer than
//   c392e50): Qwen2-MoE's keys without a shared expert, plus q/k norms;
//   expert_count among the generic keys (before expert_used_count).
// The merged tensors are written where the converter writes them: when the
// last of a layer's expert tensors has been read.
//
// Thread-safety: pure functions.
#ifndef LLMTK_LIB_CONVERT_HF_MOE_H_
#define LLMTK_LIB_CONVERT_HF_MOE_H_

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "lib/base/status.h"
#include "lib/convert/hf_arch_config.h"
#include "lib/convert/model_source.h"
#include "lib/formats/hf_config.h"
#include "lib/formats/safetensors.h"

namespace llmtk {

// Reads the expert keys of a Mixtral/Qwen-MoE config.json into `cfg` (whose
// arch is already set); no-op for dense architectures. DataLoss naming
// `path` and the key for a missing or impossible expert count.
absl::Status ReadMoeHfConfig(const HfConfigJson& json, const std::string& path, HfConfig* cfg);

// The keys qwen2moe/qwen3moe's converter writes after general.file_type.
void AddMoeArchKeys(const HfConfig& cfg, GgufMetadata* md);

// A block's feed-forward tensors for an MoE config (router, merged experts,
// shared expert), as llama.cpp's loader wants them: name suffix after
// "blk.N." and ggml dims.
struct MoeTensorSpec {
  std::string suffix;
  std::vector<int64_t> dims;
};
std::vector<MoeTensorSpec> MoeFfnTensorSpecs(const HfConfig& cfg);

// An HF expert tensor's place: `layer`, `expert`, and which of the merged
// GGUF tensors it goes to (`merged`, e.g. "ffn_down_exps"), with the rank
// the converter gives that tensor in a layer's merged group.
struct MoeExpertName {
  int layer = -1, expert = -1;
  std::string merged;
  int rank = 0;
};
std::optional<MoeExpertName> ParseMoeExpertName(const HfConfig& cfg, const std::string& hf_name);
// A layer's 3 x n_expert expert tensors (all read) as the converter's three
// merged tensors, in its order: torch.stack of the experts' [rows, cols]
// matrices, i.e. ggml dims [cols, rows, n_expert], the checkpoint's dtype.
// DataLoss when the experts' shapes or dtypes differ.
absl::StatusOr<std::vector<SourceTensor>> MergeExperts(
    const HfConfig& cfg, const std::vector<std::pair<MoeExpertName, const SafetensorsTensor*>>& group);

// gguf-py's parameter count of a mixture's tensors: the parameters outside
// the *_exps tensors plus one expert's share of those; sets
// cfg->moe_size_label (marking the label as "<experts>x<count>").
uint64_t MoeCountParams(const std::vector<SourceTensor>& tensors, HfConfig* cfg);

// The GGUF suffix ("ffn_gate_inp.weight", ...) of a non-expert MoE block
// tensor (after "model.layers.N."), or nullopt.
std::optional<std::string> MoeBlockTensorName(const HfConfig& cfg, std::string_view rest);

}  // namespace llmtk

#endif  // LLMTK_LIB_CONVERT_HF_MOE_H_
