#include "lib/eval/llamacpp_score.h"

#include <algorithm>
#include <cmath>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "lib/base/unicode.h"

namespace llmtk {
namespace {

// A task as token sequences, with where llama.cpp's batch puts it.
struct Prepared {
  std::vector<std::vector<int32_t>> seq;  // one per choice, BOS first
  size_t common = 0;                      // shared prefix length
  size_t required = 0;                    // tokens the task takes in a batch
  std::vector<size_t> n_base;             // Winogrande: tokens of before + choice
  int cell = 0;                           // the batch cell of its first token
};

absl::StatusOr<Prepared> Prepare(LlamaCppFormat f, const LlamaCppTask& t, const Vocab& vocab) {
  Prepared p;
  for (const std::string& c : t.choices) {
    const std::string text = f == LlamaCppFormat::kWinogrande ? absl::StrCat(t.context, c, t.after)
                                                               : absl::StrCat(t.context, " ", c);
    auto ids = vocab.Encode(text, /*add_special=*/true, /*parse_special=*/false);
    if (!ids.ok()) return Annotate(ids.status(), t.where);
    p.seq.push_back(std::move(*ids));
    if (f == LlamaCppFormat::kWinogrande) {
      auto base = vocab.Encode(absl::StrCat(t.context, c), true, false);
      if (!base.ok()) return Annotate(base.status(), t.where);
      p.n_base.push_back(base->size());
    }
  }
  size_t min_len = p.seq[0].size();
  for (const auto& s : p.seq) min_len = std::min(min_len, s.size());
  while (p.common < min_len) {
    bool same = true;
    for (const auto& s : p.seq) same = same && s[p.common] == p.seq[0][p.common];
    if (!same) break;
    ++p.common;
  }
  if (p.common == 0) {
    return absl::FailedPreconditionError(
        absl::StrCat(t.where, ": the choices share no first token (llama.cpp needs a BOS or a common start)"));
  }
  for (size_t s = 0; s < p.seq.size(); ++s) {
    if (p.seq[s].size() == p.common) {
      return absl::FailedPreconditionError(absl::StrFormat(
          "%s: choice %d adds no token after the part all choices share (are two choices the same?)", t.where, s));
    }
  }
  p.required = p.common;
  for (const auto& s : p.seq) p.required += s.size() - p.common;
  return p;
}

// llama-perplexity's batching: tasks in order, each taking `required` cells
// and one sequence per choice, while they fit n_ctx and the sequence limit.
absl::Status PlaceInBatches(LlamaCppFormat f, std::vector<Prepared>& tasks, const std::vector<LlamaCppTask>& src,
                            const LlamaCppScoreOptions& o) {
  // llama.cpp caps the sequences of a batch at llama_n_seq_max(), which at
  // c392e50 returns the KV cache's size (n_ctx, padded to 32), not -np.
  const int per_batch_cap = f == LlamaCppFormat::kWinogrande ? 2 * 128 : 4 * 32;
  const int max_seq = std::min(per_batch_cap, (o.n_ctx + 31) / 32 * 32);
  size_t n_cur = 0;
  int s0 = 0;
  for (size_t i = 0; i < tasks.size(); ++i) {
    Prepared& p = tasks[i];
    if (p.required > static_cast<size_t>(o.n_ctx)) {
      return absl::FailedPreconditionError(absl::StrFormat(
          "%s: the task needs %d tokens and does not fit in the context window of %d (raise --ctx, as "
          "llama-perplexity's -c)",
          src[i].where, p.required, o.n_ctx));
    }
    const int nseq = static_cast<int>(p.seq.size());
    if (n_cur + p.required > static_cast<size_t>(o.n_ctx) || s0 + nseq > max_seq) {
      n_cur = 0;
      s0 = 0;
    }
    p.cell = static_cast<int>(n_cur);
    n_cur += p.required;
    s0 += nseq;
  }
  return absl::OkStatus();
}

}  // namespace

float LlamaCppFirstLogprob(const float* logits, int n_vocab, int32_t tok) {
  float mx = logits[0];
  for (int i = 0; i < n_vocab; ++i) mx = std::max(mx, logits[i]);
  double sum = 0;
  for (int i = 0; i < n_vocab; ++i) sum += std::exp(logits[i] - mx);
  const float p = static_cast<float>(static_cast<double>(std::exp(logits[tok] - mx)) / sum);
  return std::log(p);
}

float LlamaCppTokenLogprob(const float* logits, int n_vocab, int32_t tok) {
  float mx = logits[0];
  for (int i = 1; i < n_vocab; ++i) mx = std::max(mx, logits[i]);
  float sum = 0.f;
  for (int i = 0; i < n_vocab; ++i) sum += std::exp(logits[i] - mx);
  return logits[tok] - mx - std::log(sum);
}

absl::Status ScoreLlamaCppTasks(LlamaCppFormat f, const std::vector<LlamaCppTask>& tasks, const Vocab& vocab,
                                Session& session, const LlamaCppScoreOptions& opts, const LlamaCppTaskFn& on_task) {
  const int V = session.model().config().n_vocab;
  if (session.n_ctx() < opts.n_ctx) {
    return absl::InternalError(absl::StrFormat("session context %d < %d", session.n_ctx(), opts.n_ctx));
  }
  std::vector<Prepared> prep;
  prep.reserve(tasks.size());
  for (const LlamaCppTask& t : tasks) {
    ASSIGN_OR_RETURN(Prepared p, Prepare(f, t, vocab));
    prep.push_back(std::move(p));
  }
  RETURN_IF_ERROR(PlaceInBatches(f, prep, tasks, opts));

  const bool wino = f == LlamaCppFormat::kWinogrande;
  // Each of llama.cpp's batches in one pass (Session::EvalCells): every task
  // of it, its prefix and then its choices, at the cells llama.cpp gives
  // them. Logits are needed up to each choice's second-to-last token
  // (Winogrande's second choice may borrow the first choice's last one), so
  // the last tokens are left out; their cells stay empty.
  std::vector<Session::CellToken> batch;
  std::vector<float> logits;
  std::vector<size_t> prefix_row(tasks.size());
  std::vector<std::vector<size_t>> choice_row(tasks.size());  // each choice's first row
  for (size_t i0 = 0; i0 < tasks.size();) {
    size_t i1 = i0 + 1;
    while (i1 < tasks.size() && prep[i1].cell != 0) ++i1;
    batch.clear();
    for (size_t k = i0; k < i1; ++k) {
      const Prepared& p = prep[k];
      const size_t cp = p.common;
      const int group = static_cast<int>(k - i0);
      for (size_t j = 0; j < cp; ++j) {
        batch.push_back({p.seq[0][j], static_cast<int32_t>(j), p.cell + static_cast<int32_t>(j), group, -1});
      }
      prefix_row[k] = batch.size() - 1;
      size_t gap = 0;
      choice_row[k].clear();
      for (size_t c = 0; c < p.seq.size(); ++c) {
        const std::vector<int32_t>& seq = p.seq[c];
        const size_t n_eval = seq.size() - cp - ((wino && c == 0) ? 0 : 1);
        choice_row[k].push_back(batch.size());
        for (size_t i = 0; i < n_eval; ++i) {
          batch.push_back({seq[cp + i], static_cast<int32_t>(cp + i), p.cell + static_cast<int32_t>(cp + gap + i),
                           group, static_cast<int32_t>(c)});
        }
        gap += seq.size() - cp;
      }
    }
    RETURN_IF_ERROR(session.EvalCells(batch, &logits));
    for (size_t ti = i0; ti < i1; ++ti) {
    const LlamaCppTask& t = tasks[ti];
    const Prepared& p = prep[ti];
    const size_t cp = p.common;
    const size_t n_choices = p.seq.size();
    // The logits that predict token pos + 1 of choice s.
    auto at = [&](size_t s, size_t pos) -> const float* {
      return logits.data() + (pos + 1 == cp ? prefix_row[ti] : choice_row[ti][s] + pos - cp) * V;
    };

    LlamaCppTaskResult r;
    r.prefix_tokens = static_cast<int>(cp);
    for (size_t s = 0; s < n_choices; ++s) {
      if (t.labels[s] == 1 && r.gold < 0) r.gold = static_cast<int>(s);
    }
    r.choices.resize(n_choices);
    if (!wino) {
      for (size_t s = 0; s < n_choices; ++s) {
        const std::vector<int32_t>& seq = p.seq[s];
        ChoiceScore& c = r.choices[s];
        const float first = LlamaCppFirstLogprob(at(s, cp - 1), V, seq[cp]);
        double hs = first;  // HellaSwag sums in double
        float mc = first;   // multiple choice in float
        c.loglik = first;
        c.tokens = 1;
        for (size_t j = cp; j + 1 < seq.size(); ++j) {
          const float lp = LlamaCppTokenLogprob(at(s, j), V, seq[j + 1]);
          hs += lp;
          mc += lp;
          c.loglik += lp;
          ++c.tokens;
        }
        c.per_token = f == LlamaCppFormat::kHellaswag ? hs / c.tokens : static_cast<double>(mc / c.tokens);
        c.chars = CodePoints(t.choices[s]);
      }
      // The first maximum: HellaSwag compares doubles, multiple choice floats
      // (per_token holds the float exactly).
      r.pred = 0;
      for (size_t s = 1; s < n_choices; ++s) {
        if (r.choices[s].per_token > r.choices[r.pred].per_token) r.pred = static_cast<int>(s);
      }
    } else {
      constexpr size_t kMinTrailing = 3;
      const bool skip_choice = p.seq[0].size() - cp > kMinTrailing && p.seq[1].size() - cp > kMinTrailing;
      float score[2];
      for (size_t s = 0; s < 2; ++s) {
        const std::vector<int32_t>& seq = p.seq[s];
        const size_t n_base = skip_choice ? p.n_base[s] : cp;
        if (n_base < cp || n_base >= seq.size()) {
          return absl::FailedPreconditionError(absl::StrFormat(
              "%s: choice %d: the sentence up to the choice tokenizes to %d tokens, outside the %d..%d that "
              "llama.cpp's scoring reads",
              t.where, s + 1, n_base, cp, seq.size() - 1));
        }
        const size_t last = seq.size() - n_base > 1 ? 1 : 0;
        ChoiceScore& c = r.choices[s];
        float sum = 0.f;
        for (size_t j = n_base - 1; j < seq.size() - 1 - last; ++j) {
          // llama.cpp's FIXME: the second choice's first logits, when the
          // choice word is scored, are the first choice's last token's.
          const float* lg = (s == 1 && j + 1 == cp) ? at(0, p.seq[0].size() - 1) : at(s, j);
          const float lp = LlamaCppTokenLogprob(lg, V, seq[j + 1]);
          sum += lp;
          c.loglik += lp;
          ++c.tokens;
        }
        score[s] = sum / static_cast<float>(seq.size() - n_base - last);
        c.per_token = score[s];
        c.chars = CodePoints(skip_choice ? t.after : absl::StrCat(t.choices[s], t.after));
      }
      r.pred = score[0] > score[1] ? 0 : 1;
    }
    r.correct = t.labels[r.pred] == 1;
    if (on_task) RETURN_IF_ERROR(on_task(ti, r));
    }
    i0 = i1;
  }
  return absl::OkStatus();
}

std::string LlamaCppReport::Header() const {
  return f_ == LlamaCppFormat::kWinogrande ? std::string() : std::string("\ntask\tacc_norm\n");
}

std::string LlamaCppReport::TaskLine(size_t index, const LlamaCppTaskResult& r) {
  ++n_done_;
  n_correct_ += r.correct;
  n_answers_ += static_cast<int>(r.choices.size());
  switch (f_) {
    case LlamaCppFormat::kHellaswag:
      return absl::StrFormat("%d\t%.8f\n", index + 1, static_cast<double>(n_correct_) / double(index + 1) * 100.0);
    case LlamaCppFormat::kWinogrande:
      return absl::StrFormat("%d\t%.4f\t%10.6f  %10.6f  %d  %d\n", index + 1, 100.0 * n_correct_ / n_done_,
                             r.choices[0].per_token, r.choices[1].per_token, r.pred + 1, r.gold + 1);
    case LlamaCppFormat::kMultipleChoice:
      return absl::StrFormat("%d\t%.8f\n", n_done_, 100. * n_correct_ / n_done_);
  }
  return "";
}

std::string LlamaCppReport::Final() const {
  switch (f_) {
    case LlamaCppFormat::kHellaswag:
      return "\n";
    case LlamaCppFormat::kWinogrande: {
      if (n_done_ < 100) return "\n";
      const float p = 1.f * n_correct_ / n_done_;
      const float sigma = 100.f * std::sqrt(p * (1 - p) / (n_done_ - 1));
      return absl::StrFormat("\nFinal Winogrande score(%d tasks): %.4f +/- %.4f\n", n_done_, 100 * p, sigma);
    }
    case LlamaCppFormat::kMultipleChoice: {
      // llama.cpp returns early only for a random draw of < 100 tasks, and
      // its test of that never holds (it compares the count with itself).
      float p = 1.f * n_correct_ / n_done_;
      float sigma = std::sqrt(p * (1 - p) / (n_done_ - 1));
      std::string out = absl::StrFormat("\nFinal result: %.4f +/- %.4f\n", 100.f * p, 100.f * sigma);
      p = 1.f * n_done_ / n_answers_;
      sigma = std::sqrt(p * (1 - p) / (n_done_ - 1));
      absl::StrAppend(&out, absl::StrFormat("Random chance: %.4f +/- %.4f\n\n", 100.f * p, 100.f * sigma));
      return out;
    }
  }
  return "";
}

}  // namespace llmtk
