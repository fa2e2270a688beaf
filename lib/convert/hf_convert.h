// convert/hf_convert: a Hugging Face checkpoint as GGUF -- what llama.cpp's
// convert_hf_to_gguf.py does for the LLaMA family: `llama` (Llama 2/3,
// TinyLlama, SmolLM), `mistral` (written as llama), `qwen2` (q/k/v biases)
// and `qwen3` (q/k RMS norms); `phi3` and `chatglm` in convert/hf_phi3_glm.h. config.json (read by formats/hf_config.h)
// gives the architecture keys, safetensors (single or sharded) the tensors,
// mapped to GGUF names with HF's rotary q/k row layout undone for
// llama/mistral; tied embeddings write no output tensor; the tokenizer keys
// come from convert/hf_tokenizer.
// Metadata keys appear in convert_hf_to_gguf.py's order, general.file_type
// and general.quantization_version included (QuantizeModel fills them in).
//
// Thread-safety: the returned ModelSource's loaders run on one thread.
#ifndef LLMTK_LIB_CONVERT_HF_CONVERT_H_
#define LLMTK_LIB_CONVERT_HF_CONVERT_H_

#include <string>
#include <string_view>
#include <vector>

#include "lib/convert/model_source.h"
#include "lib/formats/hf_config.h"
#include "lib/base/status.h"

namespace llmtk {

// What convert_hf_to_gguf.py takes from config.json.
struct HfConfig {
  std::string arch;  // GGUF architecture
  bool permute_qk = false;
  int64_t n_layer = 0, n_embd = 0, n_ff = 0, n_head = 0, n_head_kv = 0, n_ctx = 0, vocab = 0, head_dim = 0;
  bool has_ctx = false, has_head_kv = false, has_theta = false, has_head_dim = false;
  double rope_theta = 0, rms_eps = 1e-6;
  bool tied = false;
  std::string rope_scaling_type;
  double rope_scaling_factor = 0;
  // rope_type "llama3" (Llama 3.1+): written as a rope_freqs.weight tensor.
  double low_freq_factor = 1.0, high_freq_factor = 4.0;
  int64_t original_ctx = 8192;
  // Families whose keys convert/hf_phi3_glm.cc writes (phi3, chatglm).
  int64_t n_rot = 0;                         // rope.dimension_count
  int64_t sliding_window = 0;                // phi3: attention.sliding_window
  std::vector<float> rope_long, rope_short;  // phi3 su/longrope factors, head_dim / 2 each
  double rope_attn_factor = 0;               // phi3 with rope_scaling; 0: not written
  bool qkv_bias = false;                     // chatglm: attention_bias
};

// Parses a config.json; Unimplemented for unsupported architectures.
absl::StatusOr<HfConfig> ReadHfConfig(const std::string& config_path);

// The general.* and architecture keys in convert_hf_to_gguf.py's order,
// with a placeholder general.file_type.
void AddHfArchMetadata(const HfConfig& cfg, const std::string& name, uint64_t n_params, GgufMetadata* md);

// Unimplemented naming the architecture, or listing unmapped tensors.
absl::StatusOr<ModelSource> OpenHfSource(const std::string& dir);

// Llama 3.1's per-frequency RoPE factors (head_dim / 2 values), computed
// in float32 as convert_hf_to_gguf.py does with torch.
std::vector<float> Llama3RopeFactors(const HfConfig& cfg);
// The generated `rope_freqs.weight` tensor (F32, head_dim / 2 factors) that
// convert_hf_to_gguf.py writes for llama3 rope scaling, before the
// checkpoint's own tensors.
SourceTensor RopeFreqsTensor(const HfConfig& cfg);

// Rows of a [rows, cols] row-major matrix reordered from HF's rotary layout
// (per head: all real parts, then all imaginary) to GGUF's interleaved one.
// `n_head` heads; rows must divide into n_head * 2.
void UnpermuteRotaryRows(const uint8_t* src, uint8_t* dst, int64_t rows, size_t row_bytes, int64_t n_head);

// Phi-3 and GLM-4 (defined in convert/hf_phi3_glm.cc, see hf_phi3_glm.h):
// the HF architectures handled there.
bool IsPhi3GlmHfArch(std::string_view hf_arch);
bool IsPhi3GlmArch(const HfConfig& cfg);

// Reads config.json (already parsed) as the converter's class does; errors
// name `path` and the key.
absl::StatusOr<HfConfig> ReadPhi3GlmConfig(const HfConfigJson& json, std::string_view hf_arch,
                                           const std::string& path);

// The architecture keys after general.*, in the converter's order.
void AddPhi3GlmArchKeys(const HfConfig& cfg, GgufMetadata* md);

// GLM-4's byte-level BPE vocabulary: the converter recognizes its
// tokenizer by hash and names the pre-tokenizer "chatglm-bpe" (Llama 3's
// regex, which AddHfTokenizerMetadata would call "llama-bpe"). No-op for
// other architectures and for SentencePiece vocabularies.
void FixPhi3GlmVocab(const HfConfig& cfg, GgufMetadata* md);

// Generated tensors the converter writes before the checkpoint's (phi3
// rope_factors_long/short), F32; empty when none.
std::vector<SourceTensor> Phi3GlmExtraTensors(const HfConfig& cfg);

}  // namespace llmtk

#endif  // LLMTK_LIB_CONVERT_HF_CONVERT_H_
