// formats/imatrix_file: importance-matrix files, the two forms llama.cpp has
// written, each read and written here only.
//
// - The legacy binary `.dat` of llama-imatrix up to the GGUF change (the
//   reference commit c392e50 writes only this one): int32 entry count; per
//   entry int32 name length, the name, int32 ncall, int32 value count, the
//   values (mean of x^2 per input column times ncall); then int32 last call
//   and the calibration file's name (int32 length + bytes).
// - The GGUF form introduced by llama.cpp PR #9400 (build b5999 on, here as
//   at ggml-org/llama.cpp 006e7ef): general.type = "imatrix",
//   imatrix.datasets (strings), imatrix.chunk_count and imatrix.chunk_size
//   (u32); per matrix `<name>.in_sum2` (F32 [n_cols, n_mat]: sums of x^2)
//   and `<name>.counts` (F32 [1, n_mat]: activations summed), tensors sorted
//   by name. `<name>.in_sum` (newer, sums of x) is accepted and ignored.
//
// Imatrix holds llama-imatrix c392e50's collector state, so that --in-file
// merging (`--combine`) and the entry order of a written .dat (the iteration
// order of a std::unordered_map filled in the same order) are llama.cpp's.
//
// Thread-safety: value types; functions are reentrant.
#ifndef LLMTK_LIB_FORMATS_IMATRIX_FILE_H_
#define LLMTK_LIB_FORMATS_IMATRIX_FILE_H_

#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

#include "lib/base/status.h"

namespace llmtk {

// One matrix's statistics as llama-imatrix's collector keeps them.
struct ImatrixStats {
  std::vector<float> values;    // sums of x^2 per input column (n_mat blocks of n_cols)
  std::vector<int64_t> counts;  // per column: how many x were summed
  int ncall = 0;                // forward steps (or, after a .dat load, chunks) seen
  int n_mat = 1;                // experts stacked in the matrix (1 for a dense one)
  // Loaded from a .dat: values are means times ncall and counts are ncall,
  // so a GGUF written from them scales both by the chunk size (as llama.cpp
  // does) to hold activation counts again.
  bool legacy = false;
};

struct Imatrix {
  // Filled in the order the matrices are first seen; its iteration order is
  // the .dat's entry order.
  std::unordered_map<std::string, ImatrixStats> stats;
  int last_call = 0;                  // the largest ncall seen while collecting
  std::string prompt_file;            // calibration file of this run ("" when combining)
  std::vector<std::string> datasets;  // from loaded GGUF files
};

// Adds `path` to `m` as llama-imatrix --in-file does (c392e50 for a .dat: values
// += stored, counts and ncall += stored ncall; the GGUF form as llama.cpp's
// loader, with ncall = chunks the counts make at `chunk_size`). The form is
// told by the GGUF magic. DataLoss naming the byte offset and entry for a
// truncated or malformed file, an entry without values or a zero count;
// InvalidArgument for a size that disagrees with an entry already in `m`.
absl::Status LoadImatrix(const std::string& path, int chunk_size, Imatrix* m);

// The .dat llama-imatrix c392e50 writes: entries with a zero count anywhere
// (matrices without data) are left out, as it does; `skipped` gets their names.
std::string SerializeImatrixDat(const Imatrix& m, std::vector<std::string>* skipped = nullptr);
absl::Status WriteImatrixDat(const Imatrix& m, const std::string& path, std::vector<std::string>* skipped = nullptr);
// The GGUF form (every entry, sorted by name).
absl::Status WriteImatrixGguf(const Imatrix& m, int chunk_size, const std::string& path);

// What llama-quantize --imatrix reads from either form: per matrix the mean
// of x^2 per column (c392e50: stored / ncall; GGUF: in_sum2 / count, 1 where
// an expert has no count).
struct ImatrixWeights {
  std::unordered_map<std::string, std::vector<float>> values;
  std::vector<std::string> datasets;  // the .dat's one file name, or the GGUF list
  int chunks = 0;                     // the .dat's last call, or imatrix.chunk_count
};
// DataLoss as LoadImatrix, also for non-finite values (llama-quantize refuses those).
absl::StatusOr<ImatrixWeights> ReadImatrixWeights(const std::string& path);

}  // namespace llmtk

#endif  // LLMTK_LIB_FORMATS_IMATRIX_FILE_H_
