// vram/formats: how many bytes a weight tensor takes in a given
// storage format — plain dtypes, the quantizers HF models are served with
// (bitsandbytes int8/NF4 with or without double quantization, GPTQ/AWQ int4),
// every ggml tensor type, and llama.cpp's file types that mix them.
//
// Byte counts include the format's scale overhead exactly (NF4: 4 bits per
// weight plus an fp32 absmax per 64 weights = 4.5 bits; Q4_K: 144 bytes per
// 256 weights = 4.5 bits). llama.cpp's Q4_K_S/Q4_K_M/Q5_K_S/Q5_K_M mixes
// follow its per-tensor rules for dense models (output in Q6_K; attn_v and
// ffn_down promoted on the layers use_more_bits picks).
//
// Thread-safety: immutable values; safe from any thread.
#ifndef LLMTK_LIB_VRAM_FORMATS_H_
#define LLMTK_LIB_VRAM_FORMATS_H_

#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "lib/ggml/types.h"
#include "lib/vram/model_shape.h"

namespace llmtk {

class WeightFormat {
 public:
  // Names (case-insensitive): fp32, fp16, bf16, fp8, int8, nf4, fp4, nf4-dq
  // (double quantization), int4 (= gptq/awq: 4 bits, group 128, fp16 scale
  // and 4-bit zero), any ggml type (q4_0, q4_k, iq4_xs, ...) applied to every
  // 2-D tensor, or a llama.cpp file type q4_k_s, q4_k_m, q5_k_s, q5_k_m.
  // `compute` is the dtype non-quantized tensors keep (bytes: 2 or 4).
  // InvalidArgument for an unknown name.
  static absl::StatusOr<WeightFormat> Parse(std::string_view name, int compute_bytes = 2);

  const std::string& name() const { return name_; }
  // Bytes of `count` tensors of rows x cols with this role, at `layer` of `layers`.
  int64_t Bytes(TensorRole role, int64_t layer, int64_t layers, int64_t rows, int64_t cols,
                int64_t count, bool tied) const;
  // One line for --explain: what a weight costs in this format.
  std::string Describe() const;
  // Bits per weight of the main (linear) tensors, for summaries.
  double LinearBits() const;
  bool IsGguf() const { return kind_ == Kind::kGgufPure || kind_ == Kind::kGgufMix; }
  // Bytes per element of non-quantized tensors (embeddings, norms).
  int compute_bytes() const { return compute_bytes_; }

 private:
  enum class Kind { kDense, kFp8, kInt8, kNf4, kGptq4, kGgufPure, kGgufMix };
  int64_t GgufBytes(GgmlType t, int64_t rows, int64_t cols) const;
  GgmlType MixType(TensorRole role, int64_t layer, int64_t layers, bool tied) const;

  std::string name_;
  Kind kind_ = Kind::kDense;
  int dense_bytes_ = 2;
  int compute_bytes_ = 2;
  bool double_quant_ = false;
  GgmlType ggml_ = GgmlType::kF16;  // pure type, or the mix's base type
  enum class Mix { kNone, kQ4KS, kQ4KM, kQ5KS, kQ5KM } mix_ = Mix::kNone;
};

// Bytes per element of a KV-cache / activation dtype name: fp32 4, fp16/bf16
// 2, fp8/int8 1, q8_0 34/32, q4_0 18/32 (llama.cpp cache types). Returned as
// a ratio numerator/denominator to stay exact.
struct ElemBytes {
  int64_t num = 2;
  int64_t den = 1;
  int64_t Of(int64_t elems) const { return (elems * num + den - 1) / den; }
};
absl::StatusOr<ElemBytes> ParseCacheDtype(std::string_view name);

}  // namespace llmtk

#endif  // LLMTK_LIB_VRAM_FORMATS_H_
