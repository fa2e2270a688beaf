// tools/ppl/ppl_tool: what `llmtk-ppl` does — perplexity of a GGUF model over a text
// (llama.cpp's definition, or HF's sliding window with --stride), per
// document over JSONL, and KL divergence against saved reference logits.
//
// Thread-safety: one call at a time; the model's Session uses its own
// worker threads.
#ifndef LLMTK_TOOLS_PPL_PPL_TOOL_H_
#define LLMTK_TOOLS_PPL_PPL_TOOL_H_

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "lib/base/io.h"
#include "lib/base/jsonl.h"
#include "lib/base/status.h"

namespace llmtk {

struct PplToolOptions {
  std::string model_path;
  std::string text_path;                // -f: one text, corpus perplexity
  bool ids = false;                     // -f holds token ids, not text
  std::vector<std::string> jsonl_paths; // --jsonl: per-document scores
  std::string output = "-";
  OutputOptions output_options;
  int n_ctx = 512;
  int stride = 0;       // 0: llama.cpp chunks; > 0: sliding window
  int max_chunks = 0;   // 0: all
  int max_batch = 512;
  int ubatch = 512;     // forward steps of min(max_batch, ubatch) tokens
  int threads = 0;
  bool kv_f32 = false;
  std::string save_logits;    // write reference logits here
  std::string kl_divergence;  // compare with reference logits from here
  int top_k = 0;              // saved logits per position (0: min(vocab, 256))
  bool json = false;
  bool progress = false;
  bool quiet = false;
  // Per-document mode.
  DocumentReaderOptions reader;
  std::string ppl_key = "ppl", nll_key = "nll", tokens_key = "tokens";
};

// `err` receives progress and the summary (stderr in the tool).
absl::Status RunPplTool(const PplToolOptions& opts, const std::function<void(std::string_view)>& err);

}  // namespace llmtk

#endif  // LLMTK_TOOLS_PPL_PPL_TOOL_H_
