// hf_convert: a Hugging Face checkpoint as GGUF -- what llama.cpp's
// convert_hf_to_gguf.py does for the LLaMA family: `llama` (Llama 2/3,
// TinyLlama, SmolLM), `mistral` (written as llama), `qwen2` (q/k/v biases)
// and `qwen3` (q/k RMS norms). config.json gives the architecture keys,
// safetensors (single or sharded) the tensors, mapped to GGUF names with
// HF's rotary q/k row layout undone for llama/mistral; tied embeddings
// write no output tensor; the tokenizer keys come from hf_convert_tokenizer.
// Metadata keys appear in convert_hf_to_gguf.py's order, general.file_type
// and general.quantization_version included (QuantizeModel fills them in).
//
// Thread-safety: the returned ModelSource's loaders run on one thread.
#ifndef LLMTK_LIB_HF_CONVERT_H_
#define LLMTK_LIB_HF_CONVERT_H_

#include <string>
#include <vector>

#include "lib/quantize_model.h"
#include "lib/status.h"

namespace llmtk {

// Unimplemented naming the architecture, or listing unmapped tensors.
absl::StatusOr<ModelSource> OpenHfSource(const std::string& dir);

// Rows of a [rows, cols] row-major matrix reordered from HF's rotary layout
// (per head: all real parts, then all imaginary) to GGUF's interleaved one.
// `n_head` heads; rows must divide into n_head * 2.
void UnpermuteRotaryRows(const uint8_t* src, uint8_t* dst, int64_t rows, size_t row_bytes, int64_t n_head);

}  // namespace llmtk

#endif  // LLMTK_LIB_HF_CONVERT_H_
