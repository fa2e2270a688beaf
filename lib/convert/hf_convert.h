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

#include "lib/convert/hf_arch_config.h"
#include "lib/convert/model_source.h"
#include "lib/formats/hf_config.h"
#include "lib/base/status.h"

namespace llmtk {


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
