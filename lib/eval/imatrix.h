// eval/imatrix: the importance matrix of a model over a calibration text, as
// llama-imatrix (llama.cpp c392e50) computes it.
//
// The tokens are cut into chunks of n_ctx (after dropping `from_chunk`
// chunks); each chunk is evaluated from an empty cache in batches of n_batch
// tokens, the chunk's first token replaced by BOS when the vocabulary adds
// one. Every token of the chunk counts (llama-imatrix's "second half" is its
// perplexity estimate only). Every matrix multiplication of the blocks
// (`blk.*`; `output.weight` too with process_output) whose input has at
// least 16 rows adds, per input column, x^2 to a float sum in row order and
// 1 to the column's count, and one call to the matrix's ncall. The sums stay
// sums; formats/imatrix_file writes them as llama-imatrix does.
//
// Thread-safety: uses the Session (one thread at a time) it is given.
#ifndef LLMTK_LIB_EVAL_IMATRIX_H_
#define LLMTK_LIB_EVAL_IMATRIX_H_

#include <cstdint>
#include <functional>
#include <vector>

#include "absl/types/span.h"
#include "lib/base/status.h"
#include "lib/formats/imatrix_file.h"
#include "lib/model/session.h"

namespace llmtk {

struct ImatrixOptions {
  int n_ctx = 512;
  int n_batch = 2048;       // tokens per forward step, at most n_ctx (as llama-imatrix clamps it)
  int max_chunks = -1;      // < 0: all
  int from_chunk = 0;       // chunks skipped at the start (--chunk)
  bool process_output = false;
  int32_t bos = -1;         // replaces each chunk's first token; -1: none
};

// Called after each chunk: 1-based number, total.
using ImatrixChunkFn = std::function<void(int chunk, int n_chunks)>;

// Adds the statistics of `tokens` to `m` (which may hold loaded files).
// The Session's context must hold n_ctx tokens and its max_batch must be
// n_batch. FailedPrecondition (llama-imatrix's advice) for a text shorter
// than two chunks; DataLoss when a sum stops being finite.
absl::Status CollectImatrix(Session& session, absl::Span<const int32_t> tokens, const ImatrixOptions& opts,
                            Imatrix* m, const ImatrixChunkFn& on_chunk = nullptr);

}  // namespace llmtk

#endif  // LLMTK_LIB_EVAL_IMATRIX_H_
