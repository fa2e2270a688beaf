#include "lib/vram/formats.h"

#include <algorithm>
#include <cctype>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "lib/base/status.h"

namespace llmtk {
namespace {

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

int64_t CeilDiv(int64_t a, int64_t b) { return (a + b - 1) / b; }

// llama.cpp's use_more_bits(i_layer, n_layers): the first and last eighth of
// the layers and every third layer in between get the bigger type.
bool UseMoreBits(int64_t i, int64_t n) {
  return i < n / 8 || i >= 7 * n / 8 || (i - n / 8) % 3 == 2;
}

double BitsPerWeight(GgmlType t) {
  const GgmlTypeInfo& info = TypeInfo(t);
  return 8.0 * static_cast<double>(info.type_size) / static_cast<double>(info.block_size);
}

}  // namespace

absl::StatusOr<WeightFormat> WeightFormat::Parse(std::string_view name, int compute_bytes) {
  WeightFormat f;
  f.name_ = Lower(name);
  f.compute_bytes_ = compute_bytes;
  const std::string& n = f.name_;
  if (n == "fp32" || n == "f32" || n == "float32") {
    f.kind_ = Kind::kDense;
    f.dense_bytes_ = 4;
    f.compute_bytes_ = 4;
  } else if (n == "fp16" || n == "f16" || n == "float16" || n == "bf16" || n == "bfloat16") {
    f.kind_ = Kind::kDense;
    f.dense_bytes_ = 2;
  } else if (n == "fp8") {
    f.kind_ = Kind::kFp8;
  } else if (n == "int8") {
    f.kind_ = Kind::kInt8;
  } else if (n == "nf4" || n == "fp4" || n == "nf4-dq" || n == "fp4-dq") {
    f.kind_ = Kind::kNf4;
    f.double_quant_ = n.size() > 3;
  } else if (n == "int4" || n == "gptq" || n == "awq") {
    f.kind_ = Kind::kGptq4;
  } else if (n == "q4_k_s" || n == "q4_k_m" || n == "q5_k_s" || n == "q5_k_m") {
    f.kind_ = Kind::kGgufMix;
    const bool q4 = n[1] == '4';
    f.ggml_ = q4 ? GgmlType::kQ4_K : GgmlType::kQ5_K;
    f.mix_ = n.back() == 's' ? (q4 ? Mix::kQ4KS : Mix::kQ5KS) : (q4 ? Mix::kQ4KM : Mix::kQ5KM);
  } else if (auto t = ParseGgmlType(n); t.has_value() && *t != GgmlType::kQ8_1 &&
                                        *t != GgmlType::kQ8_K && *t != GgmlType::kI8 &&
                                        *t != GgmlType::kI16 && *t != GgmlType::kI32 &&
                                        *t != GgmlType::kI64 && *t != GgmlType::kF64) {
    f.kind_ = Kind::kGgufPure;
    f.ggml_ = *t;
  } else {
    return absl::InvalidArgumentError(absl::StrCat(
        "unknown weight format '", ToAbsl(name),
        "'; use fp32, fp16, bf16, fp8, int8, nf4, nf4-dq, int4, a ggml type (q4_0, q8_0, q4_k, "
        "iq4_xs, ...) or q4_k_s, q4_k_m, q5_k_s, q5_k_m"));
  }
  return f;
}

int64_t WeightFormat::GgufBytes(GgmlType t, int64_t rows, int64_t cols) const {
  const GgmlTypeInfo& info = TypeInfo(t);
  // llama.cpp falls back when a row is not a whole number of blocks.
  if (cols % info.block_size != 0) {
    if (cols % 32 == 0) return rows * (cols / 32) * 34;  // q8_0
    return rows * cols * 2;                               // f16
  }
  return rows * (cols / info.block_size) * static_cast<int64_t>(info.type_size);
}

GgmlType WeightFormat::MixType(TensorRole role, int64_t layer, int64_t layers, bool tied) const {
  if (role == TensorRole::kOutput || (role == TensorRole::kEmbedding && tied)) {
    // llama.cpp writes output.weight (or the tied embedding) in Q6_K unless
    // the file type is already at least 8 bits.
    if (kind_ == Kind::kGgufPure) {
      const GgmlType t = ggml_;
      if (t == GgmlType::kQ8_0 || t == GgmlType::kF16 || t == GgmlType::kBF16 ||
          t == GgmlType::kF32 || t == GgmlType::kQ6_K)
        return t;
    }
    return GgmlType::kQ6_K;
  }
  if (kind_ == Kind::kGgufPure) return ggml_;
  const GgmlType more = GgmlType::kQ6_K;
  const GgmlType five = GgmlType::kQ5_K;
  switch (mix_) {
    case Mix::kQ4KM:
    case Mix::kQ5KM:
      if ((role == TensorRole::kAttnV || role == TensorRole::kFfnDown) &&
          UseMoreBits(layer, layers))
        return more;
      return ggml_;
    case Mix::kQ4KS:
      if ((role == TensorRole::kAttnV && layer < 4) ||
          (role == TensorRole::kFfnDown && layer < layers / 8))
        return five;
      return ggml_;
    case Mix::kQ5KS:
      if ((role == TensorRole::kAttnV && layer < 4) ||
          (role == TensorRole::kFfnDown && layer < layers / 8))
        return more;
      return ggml_;
    case Mix::kNone:
      break;
  }
  return ggml_;
}

int64_t WeightFormat::Bytes(TensorRole role, int64_t layer, int64_t layers, int64_t rows,
                            int64_t cols, int64_t count, bool tied) const {
  const int64_t n = rows * cols;
  if (role == TensorRole::kSmall || rows == 1) {
    // Norms and biases: f32 in GGUF files, the compute dtype otherwise.
    return count * n * (IsGguf() ? 4 : compute_bytes_);
  }
  if (IsGguf()) {
    // ggml keeps the pure type for embeddings too (token_embd is quantized).
    return count * GgufBytes(MixType(role, layer, layers, tied), rows, cols);
  }
  // HF quantizers leave embeddings and the LM head in the compute dtype.
  const bool quantizable = role != TensorRole::kEmbedding && role != TensorRole::kOutput;
  switch (kind_) {
    case Kind::kDense:
      return count * n * dense_bytes_;
    case Kind::kFp8:
      // One byte each plus an fp32 scale per output row (per-channel).
      return count * (quantizable ? n + 4 * rows : n * compute_bytes_);
    case Kind::kInt8:
      // LLM.int8: int8 weights and an fp32 scale per output row.
      return count * (quantizable ? n + 4 * rows : n * compute_bytes_);
    case Kind::kNf4: {
      if (!quantizable) return count * n * compute_bytes_;
      // Packed nibbles, absmax per 64: fp32, or (double quantization) one
      // byte each plus an fp32 scale per 256 absmaxes.
      const int64_t blocks = CeilDiv(n, 64);
      const int64_t absmax = double_quant_ ? blocks + 4 * CeilDiv(blocks, 256) : 4 * blocks;
      return count * (CeilDiv(n, 2) + absmax);
    }
    case Kind::kGptq4: {
      if (!quantizable) return count * n * compute_bytes_;
      // 4-bit weights; per group of 128 along the input: fp16 scale, 4-bit zero.
      const int64_t groups = rows * CeilDiv(cols, 128);
      return count * (CeilDiv(n, 2) + 2 * groups + CeilDiv(groups, 2));
    }
    default:
      break;
  }
  return count * n * 2;
}

double WeightFormat::LinearBits() const {
  switch (kind_) {
    case Kind::kDense: return 8.0 * dense_bytes_;
    case Kind::kFp8:
    case Kind::kInt8: return 8.0;
    case Kind::kNf4: return double_quant_ ? 4.0 + 8.0 / 64 + 32.0 / (64 * 256) : 4.5;
    case Kind::kGptq4: return 4.0 + 20.0 / 128;
    default: return BitsPerWeight(ggml_);
  }
}

std::string WeightFormat::Describe() const {
  switch (kind_) {
    case Kind::kDense:
      return absl::StrCat(name_, ": ", dense_bytes_, " bytes per weight");
    case Kind::kFp8:
      return "fp8: 1 byte per linear weight + fp32 scale per output row; embeddings, norms in "
             "compute dtype";
    case Kind::kInt8:
      return "int8 (LLM.int8): 1 byte per linear weight + fp32 scale per output row; "
             "embeddings, norms in compute dtype";
    case Kind::kNf4:
      return double_quant_
                 ? "nf4 double-quant: 4 bits + 8-bit absmax per 64 + fp32 per 256 absmaxes = "
                   "4.127 bits per linear weight; embeddings, norms in compute dtype"
                 : "nf4: 4 bits + fp32 absmax per 64 = 4.5 bits per linear weight; "
                   "embeddings, norms in compute dtype";
    case Kind::kGptq4:
      return "int4 (GPTQ/AWQ, group 128): 4 bits + fp16 scale + 4-bit zero per 128 = 4.156 "
             "bits per linear weight";
    case Kind::kGgufPure:
      return absl::StrFormat("%s: %.4g bits per weight (%d bytes per %d); output in Q6_K unless "
                             ">= 6 bits; norms f32",
                             std::string(TypeInfo(ggml_).name), BitsPerWeight(ggml_),
                             static_cast<int>(TypeInfo(ggml_).type_size),
                             static_cast<int>(TypeInfo(ggml_).block_size));
    case Kind::kGgufMix:
      return absl::StrCat(name_, ": llama.cpp mix, base ", ToAbsl(TypeInfo(ggml_).name),
                          ", output q6_K, attn_v/ffn_down promoted per llama.cpp rules; norms f32");
  }
  return name_;
}

absl::StatusOr<ElemBytes> ParseCacheDtype(std::string_view name) {
  const std::string n = Lower(name);
  if (n == "fp32" || n == "f32") return ElemBytes{4, 1};
  if (n == "fp16" || n == "f16" || n == "bf16" || n == "auto") return ElemBytes{2, 1};
  if (n == "fp8" || n == "fp8_e4m3" || n == "fp8_e5m2" || n == "int8") return ElemBytes{1, 1};
  // llama.cpp's quantized cache types: their blocks as ggml lays them out.
  if (n == "q8_0" || n == "q4_0" || n == "q4_1" || n == "q5_0" || n == "q5_1" || n == "iq4_nl") {
    const GgmlTypeInfo& t = TypeInfo(*ParseGgmlType(n));
    return ElemBytes{static_cast<int64_t>(t.type_size), t.block_size};
  }
  return absl::InvalidArgumentError(absl::StrCat(
      "unknown cache dtype '", ToAbsl(name), "'; use fp32, fp16, bf16, fp8, int8, q8_0, q4_0, q4_1, "
                                     "q5_0, q5_1 or iq4_nl"));
}

}  // namespace llmtk
