// convert/gemma_convert: what convert_hf_to_gguf.py does differently for
// Gemma 2 (Gemma2ForCausalLM, llama.cpp's `gemma2`) and Gemma 3's language
// model (Gemma3ForCausalLM, or the text_config of
// Gemma3ForConditionalGeneration: `gemma3`): the config keys and their
// defaults, the architecture keys in the converter's order, the tensor names
// of the pre/post norms, and the (1 + w) norm weights folded at conversion.
//
// Thread-safety: pure functions.
#ifndef LLMTK_LIB_CONVERT_GEMMA_CONVERT_H_
#define LLMTK_LIB_CONVERT_GEMMA_CONVERT_H_

#include <optional>
#include <string>
#include <string_view>

#include "lib/convert/hf_arch_config.h"
#include "lib/formats/gguf_writer.h"
#include "lib/ggml/types.h"
#include "lib/formats/hf_config.h"

namespace llmtk {

// True for the HF architecture names this file handles.
bool IsGemmaHfArchitecture(std::string_view hf_arch);
bool IsGemmaArch(std::string_view gguf_arch);

// Fills `cfg` from config.json as the converter reads it (gemma2: every key
// required as Gemma2Model.set_gguf_parameters indexes it; gemma3: the
// defaults Gemma3Model and transformers' Gemma3TextConfig give).
absl::StatusOr<HfConfig> ReadGemmaHfConfig(const HfConfigJson& json, std::string_view hf_arch,
                                           const std::string& path);

// The architecture keys after general.*, in the converter's order, with a
// placeholder general.file_type where it writes it.
void AddGemmaArchMetadata(const HfConfig& cfg, GgufMetadata* md);

// The GGUF name of a block tensor whose HF name ends in `rest` (after
// "model.layers.N."), where Gemma differs from Llama; nullopt otherwise.
std::optional<std::string_view> GemmaBlockTensorName(std::string_view rest);

// Whether the converter adds 1 to this (GGUF-named) tensor: Gemma's RMSNorm
// multiplies by (1 + w).
bool GemmaNormShifted(std::string_view gguf_name);
// w + 1 as the converter computes it for a checkpoint tensor of `dtype`:
// in F16 for F16 (rounded), in F32 for F32 and BF16 (widened first).
float GemmaShiftNorm(float w, GgmlType dtype);

// What Gemma2Model/Gemma3Model.set_vocab add after the SentencePiece
// vocabulary: tokenizer.ggml.add_space_prefix = false (when the checkpoint
// has a tokenizer.model).
void AddGemmaTokenizerMetadata(const std::string& dir, GgufMetadata* md);

}  // namespace llmtk

#endif  // LLMTK_LIB_CONVERT_GEMMA_CONVERT_H_
