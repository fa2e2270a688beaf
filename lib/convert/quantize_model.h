// convert/quantize_model: the llmtk-quant pipeline -- a model in, a quantized GGUF
// out, the way llama-quantize does it.
//
// The input is a ModelSource (convert/model_source.h). QuantizeModel plans
// every tensor's type with llama.cpp's recipe, copies the metadata (setting
// general.quantization_version and general.file_type as llama-quantize
// does), orders tensors as llama-quantize does and streams the output: peak
// memory is about one tensor plus its float copy. Output bytes do not depend
// on the thread count.
//
// Thread-safety: QuantizeModel uses its own worker threads; a ModelSource
// is used from the calling thread only.
#ifndef LLMTK_LIB_CONVERT_QUANTIZE_MODEL_H_
#define LLMTK_LIB_CONVERT_QUANTIZE_MODEL_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "lib/formats/gguf.h"
#include "lib/formats/gguf_writer.h"
#include "lib/formats/imatrix_file.h"
#include "lib/convert/model_source.h"
#include "lib/convert/quant_recipe.h"
#include "lib/base/status.h"

namespace llmtk {

struct QuantPlanEntry {
  std::string name;
  std::vector<int64_t> dims;
  GgmlType from;
  GgmlType to;
  size_t bytes = 0;  // output bytes
};

struct QuantizeReport {
  LlamaFileType ftype;
  std::vector<QuantPlanEntry> tensors;  // in output order
  uint64_t input_bytes = 0;   // tensor data in
  uint64_t output_bytes = 0;  // whole output file
};

struct QuantizeOptions {
  QuantTarget target;
  // llama-quantize --imatrix: per tensor name the mean x^2 per column, used
  // by the weighted quantizers (ggml/quant.h QuantizeRowWeighted). A tensor
  // without an entry is quantized without one. Set target.has_imatrix too.
  const ImatrixWeights* imatrix = nullptr;
  std::string imatrix_file;  // recorded in the output as llama-quantize does
  int threads = 1;
  bool dry_run = false;  // plan only; nothing is written
  // Called before each tensor is written: (index, count, entry).
  std::function<void(size_t, size_t, const QuantPlanEntry&)> progress;
};

// Plans (and unless dry_run writes) `output`. DataLoss/Unimplemented when a
// tensor cannot be converted (e.g. requantizing an already quantized one).
absl::StatusOr<QuantizeReport> QuantizeModel(const ModelSource& source, const std::string& output,
                                             const QuantizeOptions& options);

// The llmtk-quant command: INPUT is a GGUF file or a Hugging Face model
// directory (config.json + safetensors + tokenizer.json); `type` a --type
// value (see ParseQuantTarget).
struct QuantizeFileOptions {
  std::string input;
  std::string output;
  std::string type;
  bool pure = false;
  bool dry_run = false;
  int threads = 1;
  std::string imatrix;  // --imatrix FILE (.dat or GGUF form)
  // llama-quantize's --include-weights / --exclude-weights: keep only (or
  // drop) the imatrix entries whose names contain one of these.
  std::vector<std::string> include_weights, exclude_weights;
  std::string output_tensor_type, token_embedding_type;  // ggml type names ("q8_0"), "" for the recipe's
  std::function<void(size_t, size_t, const QuantPlanEntry&)> progress;
};
absl::StatusOr<QuantizeReport> QuantizeFile(const QuantizeFileOptions& options);

// The plan (tensor, shape, from -> to, bytes) and totals, text or JSON.
std::string FormatQuantizeReport(const QuantizeReport& report, bool json);

// Converts `rows` rows of `n_per_row` values from `from` to `to` with up to
// `threads` threads, in row chunks, so the bytes never depend on `threads`.
// With `imatrix` (n_per_row floats per matrix of `rows_per_matrix` rows),
// each row is quantized with its matrix's importance weights.
absl::Status ConvertRows(GgmlType from, const uint8_t* src, GgmlType to, uint8_t* dst, int64_t rows,
                         int64_t n_per_row, int threads, const float* imatrix = nullptr,
                         int64_t rows_per_matrix = 0);

}  // namespace llmtk

#endif  // LLMTK_LIB_CONVERT_QUANTIZE_MODEL_H_
