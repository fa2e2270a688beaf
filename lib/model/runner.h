// model/runner: text in, text out — prompt tokenization, prompt processing in
// batches, token-by-token generation with sampling and stop conditions,
// log-probabilities and completion scoring; and the llmtk-run tool's modes
// (single prompt streamed to a sink, or a JSONL batch).
//
// Thread-safety: a Runner owns one Session; one thread at a time.
#ifndef LLMTK_LIB_MODEL_RUNNER_H_
#define LLMTK_LIB_MODEL_RUNNER_H_

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "lib/base/jsonl.h"
#include "lib/model/model.h"
#include "lib/model/session.h"
#include "lib/model/vocab.h"
#include "lib/model/sampling.h"
#include "lib/base/status.h"

namespace llmtk {

struct GenerateOptions {
  int max_tokens = 256;           // < 0: until the context is full
  std::vector<std::string> stop;  // stop strings (not included in the output)
  SamplingParams sampling;
  int logprobs = 0;  // top-K log-probabilities per generated token (0: none)
  bool add_bos = true;  // when the vocabulary asks for BOS
};

struct TokenLogprob {
  int32_t id;
  std::string text;
  float logprob;
};

struct GenerationResult {
  std::string text;  // the completion (without the prompt)
  int prompt_tokens = 0;
  int completion_tokens = 0;
  std::string finish_reason;  // "stop" (EOS or a stop string), "length"
  double prompt_seconds = 0, generation_seconds = 0;
  // Per generated token: the chosen token first, then the top K.
  std::vector<std::vector<TokenLogprob>> logprobs;
};

struct ScoreResult {
  int prompt_tokens = 0;
  int completion_tokens = 0;
  double logprob = 0;  // sum over the completion's tokens
  bool greedy = true;  // every completion token was the argmax
};

class Runner {
 public:
  static absl::StatusOr<std::unique_ptr<Runner>> Create(const Model& model, const SessionOptions& opts);
  const Vocab& vocab() const { return vocab_; }
  Session& session() { return *session_; }

  // Generates a completion of `prompt`. `on_text` (may be null) receives the
  // completion's bytes as soon as they are final (held back only while they
  // could still start a stop string); its error aborts generation.
  absl::StatusOr<GenerationResult> Generate(std::string_view prompt, const GenerateOptions& opts,
                                            const std::function<absl::Status(std::string_view)>& on_text);
  // Log-likelihood of `completion` following `prompt` (tokenized as one text
  // after the prompt's tokens, as multiple-choice evaluations do).
  absl::StatusOr<ScoreResult> Score(std::string_view prompt, std::string_view completion, bool add_bos = true);

 private:
  Runner(const Model& model, Vocab vocab) : model_(model), vocab_(std::move(vocab)) {}
  absl::StatusOr<std::vector<int32_t>> Tokenize(std::string_view text, bool add_bos) const;
  const Model& model_;
  Vocab vocab_;
  std::unique_ptr<Session> session_;
};

// Everything `llmtk-run` does, selected by the options.
struct RunToolOptions {
  std::string model_path;
  std::string prompt;       // -p
  std::string prompt_file;  // -f
  std::string batch_path;   // --batch (JSONL with "prompt", optional "completion")
  std::string output = "-";
  bool score = false;       // --score: log-likelihood of each line's "completion"
  bool timings = false;     // --timings on stderr
  bool echo_prompt = false; // print the prompt before the completion
  bool quiet = false;
  bool json = false;
  // --bench: time a synthetic prompt of bench_pp tokens, then bench_tg
  // generated tokens (no tokenizer needed), like llama-bench: after one
  // warm-up pass over the weights, bench_reps runs, medians reported.
  // Generation starts from an empty cache, as llama-bench's tg test does,
  // or after bench_depth cached tokens (its -d).
  bool bench = false;
  int bench_pp = 512;
  int bench_tg = 128;
  int bench_depth = 0;
  int bench_reps = 3;
  // --batch input: the prompt's key (default "prompt"), bad-line policy.
  DocumentReaderOptions reader = [] {
    DocumentReaderOptions r;
    r.text_key = "prompt";
    return r;
  }();
  GenerateOptions generate;
  SessionOptions session;
};

// Runs the tool; writes data to `out` (stdout in the tool) and diagnostics
// to `err`.
absl::Status RunTool(const RunToolOptions& opts, const std::function<absl::Status(std::string_view)>& out,
                     const std::function<void(std::string_view)>& err);

}  // namespace llmtk

#endif  // LLMTK_LIB_MODEL_RUNNER_H_
