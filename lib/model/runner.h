// model/runner: text in, text out — prompt tokenization, prompt processing in
// batches, token-by-token generation with sampling and stop conditions,
// log-probabilities and completion scoring; and the llmtk-run tool's modes
// (single prompt streamed to a sink, or a JSONL batch).
//
// Scoring tokenizes a prompt and its completion as lm-evaluation-harness
// does (its `_encode_pair`), so multiple-choice scores built as
// `context + " " + answer` mean what they mean there:
//   1. whitespace at the end of the prompt moves to the front of the
//      completion ("Q: ", "A" is scored as "Q:", " A");
//   2. the whole text prompt+completion is encoded, and the prompt alone;
//   3. the completion's tokens are the whole text's tokens after as many
//      tokens as the prompt alone has.
// The model then reads the prompt's own tokens followed by those completion
// tokens. So a SentencePiece completion " there" is the one token "▁there"
// (not "▁" "▁there"), and byte-level BPE's " there" is "Ġthere", exactly the
// tokens the model sees when it reads the whole text. Tokens are encoded
// without specials; BOS (when the vocabulary asks for it and `add_bos`) goes
// in front of the prompt, and counts as one of its tokens. Where a merge
// crosses the boundary (prompt "a wor", completion "ld") the split is still
// by count, as lm-evaluation-harness's is; a completion that adds no token
// is an error.
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

// The token ids Runner::Score evaluates for a prompt and a completion
// (tokenized as the header comment says).
struct ScoreTokens {
  std::vector<int32_t> prompt;      // BOS first when added
  std::vector<int32_t> completion;  // the tokens scored
};
absl::StatusOr<ScoreTokens> EncodeScorePair(const Vocab& vocab, std::string_view prompt, std::string_view completion,
                                            bool add_bos = true);

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
  // Log-likelihood of `completion` following `prompt`, tokenized by
  // EncodeScorePair (lm-evaluation-harness's split; see the header comment).
  absl::StatusOr<ScoreResult> Score(std::string_view prompt, std::string_view completion, bool add_bos = true);

 private:
  Runner(const Model& model, Vocab vocab) : model_(model), vocab_(std::move(vocab)) {}
  absl::StatusOr<std::vector<int32_t>> Tokenize(std::string_view text, bool add_bos) const;
  const Model& model_;
  Vocab vocab_;
  std::unique_ptr<Session> session_;
};

}  // namespace llmtk

#endif  // LLMTK_LIB_MODEL_RUNNER_H_
