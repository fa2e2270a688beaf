// convert/quant_recipe: llama.cpp's per-tensor type choices for a file type.
//
// A llama.cpp "file type" (Q4_K_M, Q3_K_M, ...) is a default tensor type
// plus a recipe that moves some tensors up (output -> Q6_K, some attn_v and
// ffn_down -> Q6_K, ...) and a fallback for tensors whose rows do not split
// into the chosen type's blocks (Q4_K -> Q5_0, Q6_K -> Q8_0, Q2_K/Q3_K ->
// IQ4_NL, and F16 when even that does not divide). PlanTensorTypes
// reproduces llama.cpp's llama_tensor_get_type for the non-imatrix file
// types, including its counters, which depend on the order tensors are
// visited (LlamaQuantizeOrder).
//
// Thread-safety: stateless.
#ifndef LLMTK_LIB_CONVERT_QUANT_RECIPE_H_
#define LLMTK_LIB_CONVERT_QUANT_RECIPE_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "lib/ggml/types.h"
#include "lib/base/status.h"

namespace llmtk {

// llama_ftype values (stored as general.file_type).
enum class LlamaFileType : uint32_t {
  kAllF32 = 0,
  kF16 = 1,
  kQ4_0 = 2,
  kQ4_1 = 3,
  kQ8_0 = 7,
  kQ5_0 = 8,
  kQ5_1 = 9,
  kQ2_K = 10,
  kQ3_K_S = 11,
  kQ3_K_M = 12,
  kQ3_K_L = 13,
  kQ4_K_S = 14,
  kQ4_K_M = 15,
  kQ5_K_S = 16,
  kQ5_K_M = 17,
  kQ6_K = 18,
  kIQ2_XXS = 19,
  kIQ2_XS = 20,
  kQ2_K_S = 21,
  kIQ3_XS = 22,
  kIQ3_XXS = 23,
  kIQ1_S = 24,
  kIQ4_NL = 25,
  kIQ3_S = 26,
  kIQ3_M = 27,
  kIQ2_S = 28,
  kIQ2_M = 29,
  kIQ4_XS = 30,
  kIQ1_M = 31,
  kBF16 = 32,
};

struct QuantTarget {
  LlamaFileType ftype = LlamaFileType::kAllF32;
  GgmlType default_type = GgmlType::kF32;
  bool pure = false;  // every quantizable tensor in default_type (plus fallbacks)
  bool has_imatrix = false;  // llama.cpp's recipe differs in a few places with one
  // llama-quantize --output-tensor-type / --token-embedding-type: the type of
  // output.weight / token_embd.weight whatever the recipe says (with a tied
  // output, token_embd.weight takes the output type unless it has its own).
  std::optional<GgmlType> output_type, token_embd_type;
};

// The ggml types llama-quantize refuses to write without an importance
// matrix ("the result will be garbage"): IQ2_XXS, IQ2_XS, IQ2_S, IQ1_S, IQ1_M
// (not for token_embd/output), and Q2_K in a Q2_K_S file (not token_embd).
bool NeedsImatrix(GgmlType type, LlamaFileType ftype, std::string_view tensor);

// Parses a --type value as llama-quantize does: file types (Q4_K_M, Q3_K_S,
// Q8_0, F16, IQ4_XS, Q2_K_S, the IQ3 types, and the 1- and 2-bit IQ types,
// accepted for llama.cpp's refusal without an imatrix, ...) and the aliases Q3_K/Q4_K/Q5_K (= _M). Case-insensitive.
// InvalidArgument listing the accepted names otherwise.
absl::StatusOr<QuantTarget> ParseQuantTarget(std::string_view name, bool pure);
// "Q4_K_M", "F16", ...
std::string_view LlamaFileTypeName(LlamaFileType ftype);
// Names accepted by ParseQuantTarget, for help texts.
std::string QuantTargetNames();

// What the recipe needs to know about the model.
struct RecipeModel {
  std::string arch = "llama";
  int64_t n_layer = 0;
  int64_t n_head = 0;
  int64_t n_head_kv = 0;
  int64_t n_expert = 0;
};

struct RecipeTensor {
  std::string name;
  std::vector<int64_t> dims;
  GgmlType type;  // current type
};

// llama.cpp's tensor_allows_quantization (default parameters).
bool TensorAllowsQuantization(const RecipeTensor& t);

// Chosen type per tensor, for `tensors` in llama-quantize's visiting order.
std::vector<GgmlType> PlanTensorTypes(const QuantTarget& target, const RecipeModel& model,
                                      const std::vector<RecipeTensor>& tensors);

// llama-quantize's tensor order: non-layer tensors first, then by layer
// number, names ascending within each group. Returns indices into `names`.
std::vector<size_t> LlamaQuantizeOrder(const std::vector<std::string>& names);

}  // namespace llmtk

#endif  // LLMTK_LIB_CONVERT_QUANT_RECIPE_H_
