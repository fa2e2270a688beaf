// convert/random_model: seeded random-weight models with real shapes, for
// benchmarks -- the tensors a config.json describes (LLaMA family), filled
// with heavy-tailed values (a normal with rare 10x outliers, like trained
// weights), written as an F32/F16/BF16 GGUF. Every tensor llama.cpp's loader
// requires is there (qwen2's q/k/v biases, qwen3's q/k norms, phi3/chatglm's
// fused tensors (convert/hf_phi3_glm.h); Llama 3.1's rope_freqs and Phi-3's
// rope factors as the converter writes them), so llmtk-run and llama.cpp load
// the file; there is no tokenizer (llama.cpp then needs the tokenizer model
// key overridden to "no_vocab" with --override-kv, see the README;
// llmtk-run runs --bench) unless `vocab` names a GGUF whose vocabulary keys
// are copied (e.g. llama.cpp's ggml-vocab-llama-spm.gguf for TinyLlama's
// shapes), for benchmarks that tokenize text.
//
// Each tensor draws from its own generator seeded from (seed, tensor index),
// so the bytes depend only on the config, seed and type.
//
// Thread-safety: stateless.
#ifndef LLMTK_LIB_CONVERT_RANDOM_MODEL_H_
#define LLMTK_LIB_CONVERT_RANDOM_MODEL_H_

#include <cstdint>
#include <string>

#include "lib/convert/quantize_model.h"
#include "lib/base/status.h"

namespace llmtk {

struct RandomModelOptions {
  std::string config;  // config.json path
  uint64_t seed = 1;
  int64_t layers = -1;  // > 0: override num_hidden_layers (smaller, same shapes)
  int64_t experts = -1; // > 0: fewer experts of the same shape (at least the experts used per token)
  std::string vocab;    // a GGUF whose vocabulary is copied (its size must be the config's)
};

// A ModelSource of random tensors (generated on load).
absl::StatusOr<ModelSource> RandomModelSource(const RandomModelOptions& options);

// Writes the random model to `output` in `type` (F32, F16, BF16, or any
// --type value: then it is quantized too).
absl::StatusOr<QuantizeReport> WriteRandomModel(const RandomModelOptions& options, const std::string& output,
                                                const std::string& type, int threads);

}  // namespace llmtk

#endif  // LLMTK_LIB_CONVERT_RANDOM_MODEL_H_
