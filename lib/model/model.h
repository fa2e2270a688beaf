// model/model: a LLaMA-family transformer read from a GGUF file, and the
// inference state (KV cache, scratch) that runs its forward pass.
//
// Model holds the architecture description (from GGUF metadata) and views of
// the weights inside the memory-mapped file; nothing is copied. Supported
// architectures: `llama` (Llama 2/3, TinyLlama, SmolLM, Mistral), `qwen2`
// (q/k/v biases), `qwen3` (per-head q/k RMSNorm); GQA/MQA; tied or separate
// output; RoPE in normal or NeoX layout with linear or YaRN scaling.
//
// The forward pass follows llama.cpp's CPU graph operation for operation,
// including its roundings: matmul activations are encoded like ggml's
// vec_dot_type (see kernels/kernels.h); with the default F16 KV cache, K and V are
// stored as F16, Q is rounded to F16 for Q·K and the attention
// probabilities are rounded to F16 for P·V, as ggml does for F16 tensors.
//
// Thread-safety: a Model is immutable after Load and may be shared by any
// number of Sessions on any threads. A Session is used by one thread at a
// time (it runs its own worker threads internally).
#ifndef LLMTK_LIB_MODEL_MODEL_H_
#define LLMTK_LIB_MODEL_MODEL_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/types/span.h"
#include "lib/formats/gguf.h"
#include "lib/kernels/kernels.h"
#include "lib/base/status.h"

namespace llmtk {

enum class RopeLayout { kNormal, kNeox };

struct ModelConfig {
  std::string arch;  // "llama", "qwen2", "qwen3"
  std::string name;  // general.name, may be empty
  int n_layer = 0;
  int n_embd = 0;
  int n_head = 0;
  int n_head_kv = 0;
  int head_dim = 0;  // key/value length per head
  int n_ff = 0;
  int n_vocab = 0;
  int n_ctx_train = 0;
  float rms_eps = 1e-5f;
  // RoPE
  RopeLayout rope_layout = RopeLayout::kNormal;
  int n_rot = 0;             // rotated dimensions per head
  float rope_base = 10000.f;
  float rope_freq_scale = 1.f;  // 1 / scaling factor
  bool rope_yarn = false;
  int yarn_orig_ctx = 0;
  float yarn_beta_fast = 32.f;
  float yarn_beta_slow = 1.f;
  float yarn_attn_factor = 1.f;
  bool tied_output = false;
  bool qkv_bias = false;
  bool qk_norm = false;
};

// Weights of one transformer block, viewed in the mapped file.
struct LayerWeights {
  const float* attn_norm = nullptr;
  WeightMatrix wq, wk, wv, wo;
  const float* bq = nullptr;
  const float* bk = nullptr;
  const float* bv = nullptr;
  const float* q_norm = nullptr;
  const float* k_norm = nullptr;
  const float* ffn_norm = nullptr;
  WeightMatrix w_gate, w_up, w_down;
};

class Model {
 public:
  // Maps and validates `path`: NotFound for a missing file, DataLoss for a
  // corrupt file or missing/misshapen tensors, Unimplemented for an
  // architecture or tensor type we do not run.
  static absl::StatusOr<std::unique_ptr<Model>> Load(const std::string& path);
  // Same, over an already-open file (which the Model then owns).
  static absl::StatusOr<std::unique_ptr<Model>> FromGguf(std::unique_ptr<GgufFile> file);

  const ModelConfig& config() const { return config_; }
  const GgufFile& gguf() const { return *file_; }
  const std::vector<LayerWeights>& layers() const { return layers_; }
  const WeightMatrix& token_embd() const { return token_embd_; }
  const WeightMatrix& output() const { return output_; }
  const float* output_norm() const { return output_norm_; }
  // Llama 3.1's per-frequency RoPE divisors (rope_freqs.weight, n_rot / 2
  // values), or null: llama.cpp divides each pair's angle by its factor.
  const float* rope_freqs() const { return rope_freqs_; }
  // Bytes of all tensor data (what a forward pass streams through).
  uint64_t weight_bytes() const { return weight_bytes_; }
  // "Q4_K: 123, F32: 11" style summary of tensor types.
  std::string TypeSummary() const;

 private:
  Model() = default;
  std::unique_ptr<GgufFile> file_;
  ModelConfig config_;
  std::vector<LayerWeights> layers_;
  WeightMatrix token_embd_, output_;
  const float* output_norm_ = nullptr;
  const float* rope_freqs_ = nullptr;
  uint64_t weight_bytes_ = 0;
};

struct SessionOptions {
  int n_ctx = 0;          // 0: the model's training context
  bool kv_f32 = false;    // store K/V as F32 instead of F16
  int threads = 0;        // <= 0: all cores
  int max_batch = 512;    // tokens per forward step during prompt processing
};

// Which positions of an Eval produce logits.
enum class LogitsMode { kNone, kLast, kAll };

class ComputePool;

class Session {
 public:
  // InvalidArgument for a bad context size.
  static absl::StatusOr<std::unique_ptr<Session>> Create(const Model& model, const SessionOptions& opts);
  ~Session();

  const Model& model() const { return model_; }
  int n_ctx() const { return n_ctx_; }
  // Positions already in the KV cache.
  int n_past() const { return n_past_; }
  uint64_t kv_bytes() const { return kv_bytes_; }
  uint64_t scratch_bytes() const;
  int threads() const;

  // Appends `tokens` at positions n_past()..; fills `logits` (row-major,
  // n_vocab per row: one row for kLast, one per token for kAll).
  // ResourceExhausted when the tokens do not fit the context; InvalidArgument
  // for token ids outside the vocabulary.
  absl::Status Eval(absl::Span<const int32_t> tokens, LogitsMode mode, std::vector<float>* logits);

  // Forgets cached positions >= n (n <= n_past()), e.g. to reuse a prompt
  // prefix or to start over with Truncate(0).
  void Truncate(int n);

 private:
  Session(const Model& model, const SessionOptions& opts);
  void Forward(const int32_t* tokens, int n, LogitsMode mode, float* logits);
  void Attention(int layer, int n, int pos0);
  void ParallelRun(size_t n, const std::function<void(size_t)>& fn);

  const Model& model_;
  int n_ctx_ = 0;
  bool kv_f32_ = false;
  int max_batch_ = 512;
  int n_past_ = 0;
  uint64_t kv_bytes_ = 0;
  std::unique_ptr<ComputePool> pool_;
  ParallelFor pfor_;
  // KV cache: [layer][pos][n_head_kv * head_dim], F16 or F32.
  std::vector<uint8_t> k_cache_, v_cache_;
  // Scratch for one batch of up to max_batch_ tokens.
  std::vector<float> x_, xb_, q_, k_, v_, att_, hb_, hb2_;
  std::vector<uint8_t> enc_;
  std::vector<float> scores_;  // per head: n_ctx_ floats
  std::vector<uint16_t> q16_;  // per head: head_dim halves
  std::vector<float> pv_lanes_;  // per head: 16 x head_dim partial sums
  std::vector<float> rope_cos_, rope_sin_;  // per batch token: n_rot / 2
};

}  // namespace llmtk

#endif  // LLMTK_LIB_MODEL_MODEL_H_
