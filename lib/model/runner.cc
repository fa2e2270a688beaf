// Generation and scoring over a Session.
#include "lib/model/runner.h"

#include <algorithm>
#include <chrono>
#include <numeric>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "lib/base/unicode.h"

namespace llmtk {
namespace {

double Seconds(std::chrono::steady_clock::time_point since) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - since).count();
}

// Length of the longest suffix of `text` that is a proper prefix of a stop
// string: those bytes must wait for more output.
size_t HeldBack(std::string_view text, const std::vector<std::string>& stops) {
  size_t hold = 0;
  for (const std::string& s : stops)
    for (size_t k = std::min(s.size() - 1, text.size()); k > hold; --k)
      if (text.substr(text.size() - k) == std::string_view(s).substr(0, k)) {
        hold = k;
        break;
      }
  return hold;
}

}  // namespace

absl::StatusOr<ScoreTokens> EncodeScorePair(const Vocab& vocab, std::string_view prompt, std::string_view completion,
                                            bool add_bos) {
  // The prompt's trailing whitespace joins the completion (step 1).
  size_t keep = 0;
  for (size_t pos = 0; pos < prompt.size();) {
    const int32_t cp = DecodeUtf8(prompt, &pos);
    if (cp == kInvalidUtf8 || !IsPythonSpace(static_cast<char32_t>(cp))) keep = pos;
  }
  std::string whole(prompt);
  whole.append(completion);
  // Without specials, so an EOS the vocabulary appends cannot shift the split.
  ASSIGN_OR_RETURN(std::vector<int32_t> all, vocab.Encode(whole, false));
  ASSIGN_OR_RETURN(std::vector<int32_t> context, vocab.Encode(std::string_view(whole).substr(0, keep), false));
  ScoreTokens t;
  if (add_bos && vocab.add_bos() && vocab.bos() >= 0) t.prompt.push_back(vocab.bos());
  t.prompt.insert(t.prompt.end(), context.begin(), context.end());
  if (all.size() > context.size()) t.completion.assign(all.begin() + static_cast<ptrdiff_t>(context.size()), all.end());
  return t;
}

absl::StatusOr<std::unique_ptr<Runner>> Runner::Create(const Model& model, const SessionOptions& opts) {
  ASSIGN_OR_RETURN(Vocab vocab, Vocab::FromGguf(model.gguf()));
  if (vocab.size() != model.config().n_vocab)
    return absl::DataLossError(absl::StrFormat("%s: the tokenizer has %d tokens but the model's embedding has %d",
                                               model.gguf().name(), vocab.size(), model.config().n_vocab));
  std::unique_ptr<Runner> r(new Runner(model, std::move(vocab)));
  ASSIGN_OR_RETURN(r->session_, Session::Create(model, opts));
  return r;
}

absl::StatusOr<std::vector<int32_t>> Runner::Tokenize(std::string_view text, bool add_bos) const {
  return vocab_.Encode(text, add_bos);
}

absl::StatusOr<GenerationResult> Runner::Generate(std::string_view prompt, const GenerateOptions& opts,
                                                  const std::function<absl::Status(std::string_view)>& on_text) {
  RETURN_IF_ERROR(ValidateSamplingParams(opts.sampling));
  GenerationResult res;
  ASSIGN_OR_RETURN(std::vector<int32_t> tokens, Tokenize(prompt, opts.add_bos));
  if (tokens.empty()) return absl::InvalidArgumentError("the prompt is empty and the model adds no BOS token");
  res.prompt_tokens = static_cast<int>(tokens.size());
  Session& s = *session_;
  if (res.prompt_tokens > s.n_ctx())
    return absl::ResourceExhaustedError(absl::StrFormat(
        "the prompt has %d tokens but the context holds %d (raise --ctx or shorten the prompt)", res.prompt_tokens,
        s.n_ctx()));
  s.Truncate(0);
  const auto t0 = std::chrono::steady_clock::now();
  std::vector<float> logits;
  RETURN_IF_ERROR(s.Eval(tokens, LogitsMode::kLast, &logits));
  res.prompt_seconds = Seconds(t0);
  const auto t1 = std::chrono::steady_clock::now();
  Sampler sampler(opts.sampling);
  std::string text;   // the whole completion so far
  size_t emitted = 0; // bytes of `text` passed to on_text
  res.finish_reason = "length";
  for (int i = 0; opts.max_tokens < 0 || i < opts.max_tokens; ++i) {
    const int32_t id = sampler.Sample(logits, tokens);
    if (opts.logprobs > 0) {
      const std::vector<float> lp = LogSoftmax(logits);
      std::vector<int32_t> order(lp.size());
      std::iota(order.begin(), order.end(), 0);
      const int k = std::min<int>(opts.logprobs, static_cast<int>(lp.size()));
      std::partial_sort(order.begin(), order.begin() + k, order.end(),
                        [&](int32_t a, int32_t b) { return lp[a] > lp[b] || (lp[a] == lp[b] && a < b); });
      std::vector<TokenLogprob> entry{{id, vocab_.Piece(id), lp[id]}};
      for (int j = 0; j < k; ++j) entry.push_back({order[j], vocab_.Piece(order[j]), lp[order[j]]});
      res.logprobs.push_back(std::move(entry));
    }
    if (vocab_.IsEog(id)) {
      res.finish_reason = "stop";
      break;
    }
    tokens.push_back(id);
    ++res.completion_tokens;
    text += vocab_.Piece(id);
    // Stop strings: cut the text before the first one.
    size_t cut = std::string::npos;
    for (const std::string& stop : opts.stop) {
      const size_t from = emitted > stop.size() ? emitted - stop.size() : 0;
      const size_t at = text.find(stop, from);
      if (at != std::string::npos) cut = std::min(cut, at);
    }
    if (cut != std::string::npos) {
      text.resize(cut);
      res.finish_reason = "stop";
      break;
    }
    const size_t ready = text.size() - HeldBack(text, opts.stop);
    if (on_text && ready > emitted) {
      RETURN_IF_ERROR(on_text(std::string_view(text).substr(emitted, ready - emitted)));
      emitted = ready;
    }
    if (s.n_past() >= s.n_ctx()) break;  // context full: "length"
    if (opts.max_tokens >= 0 && i + 1 >= opts.max_tokens) break;
    RETURN_IF_ERROR(s.Eval(absl::MakeConstSpan(&tokens.back(), 1), LogitsMode::kLast, &logits));
  }
  if (on_text && text.size() > emitted) RETURN_IF_ERROR(on_text(std::string_view(text).substr(emitted)));
  res.generation_seconds = Seconds(t1);
  res.text = std::move(text);
  return res;
}

absl::StatusOr<ScoreResult> Runner::Score(std::string_view prompt, std::string_view completion, bool add_bos) {
  ScoreResult r;
  ASSIGN_OR_RETURN(ScoreTokens split, EncodeScorePair(vocab_, prompt, completion, add_bos));
  std::vector<int32_t>& tokens = split.prompt;
  const std::vector<int32_t>& ctoks = split.completion;
  if (tokens.empty()) return absl::InvalidArgumentError("the prompt is empty and the model adds no BOS token");
  if (completion.empty()) return absl::InvalidArgumentError("the completion to score is empty");
  if (ctoks.empty())
    return absl::InvalidArgumentError(
        "the completion adds no token to the prompt's (it merges into the prompt's last token; put the boundary "
        "between words)");
  r.prompt_tokens = static_cast<int>(tokens.size());
  r.completion_tokens = static_cast<int>(ctoks.size());
  const int total = r.prompt_tokens + r.completion_tokens;
  Session& s = *session_;
  if (total > s.n_ctx())
    return absl::ResourceExhaustedError(absl::StrFormat(
        "prompt and completion have %d tokens but the context holds %d (raise --ctx)", total, s.n_ctx()));
  tokens.insert(tokens.end(), ctoks.begin(), ctoks.end());
  s.Truncate(0);
  std::vector<float> logits;
  RETURN_IF_ERROR(s.Eval(tokens, LogitsMode::kAll, &logits));
  const int V = model_.config().n_vocab;
  for (int i = 0; i < r.completion_tokens; ++i) {
    const int pos = r.prompt_tokens - 1 + i;  // logits at pos predict pos + 1
    const absl::Span<const float> row(&logits[static_cast<size_t>(pos) * V], V);
    const std::vector<float> lp = LogSoftmax(row);
    const int32_t want = ctoks[i];
    r.logprob += lp[want];
    if (std::max_element(row.begin(), row.end()) - row.begin() != want) r.greedy = false;
  }
  return r;
}

}  // namespace llmtk
