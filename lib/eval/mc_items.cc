#include "lib/eval/mc_items.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_replace.h"
#include "lib/base/io.h"
#include "lib/base/unicode.h"
#include "lib/model/runner.h"
#include "lib/model/sampling.h"
#include "simdjson.h"

namespace llmtk {
namespace {

constexpr std::string_view kAnswer = "{answer}";

absl::StatusOr<McItem> ParseItem(std::string_view line, const std::string& where, simdjson::dom::parser& parser) {
  auto bad = [&](std::string_view why) {
    return absl::DataLossError(absl::StrCat(where, ": ", std::string(why),
                                            " (items are {\"question\" or \"context\": text, \"choices\": [texts], "
                                            "\"answer\": index})"));
  };
  simdjson::dom::element doc;
  if (parser.parse(line.data(), line.size()).get(doc) != simdjson::SUCCESS || !doc.is_object()) {
    return bad("not a JSON object");
  }
  McItem it;
  it.where = where;
  std::string_view text;
  if (doc["question"].get(text) == simdjson::SUCCESS) {
    it.question = std::string(text);
  } else if (doc["context"].get(text) == simdjson::SUCCESS) {
    it.question = std::string(text);
    it.is_context = true;
  } else {
    return bad("no \"question\" or \"context\" string");
  }
  simdjson::dom::array choices;
  if (doc["choices"].get(choices) != simdjson::SUCCESS) return bad("no \"choices\" array");
  for (simdjson::dom::element c : choices) {
    if (c.get(text) != simdjson::SUCCESS) return bad("a choice is not a string");
    if (text.empty()) return bad(absl::StrFormat("choice %d is empty", it.choices.size()));
    it.choices.emplace_back(text);
  }
  if (it.choices.size() < 2) return bad(absl::StrFormat("%d choices; at least 2 are needed", it.choices.size()));
  simdjson::dom::element ans;
  if (doc["answer"].get(ans) != simdjson::SUCCESS) return bad("no \"answer\"");
  int64_t idx = -1;
  if (ans.get(idx) == simdjson::SUCCESS) {
  } else if (ans.get(text) == simdjson::SUCCESS && text.size() == 1 && text[0] >= 'A' && text[0] <= 'Z') {
    idx = text[0] - 'A';
  } else {
    return bad("\"answer\" is not an index or a letter A-Z");
  }
  if (idx < 0 || idx >= static_cast<int64_t>(it.choices.size())) {
    return absl::DataLossError(absl::StrFormat("%s: the answer index %d is out of range for %d choices (0..%d)",
                                               where, idx, it.choices.size(), it.choices.size() - 1));
  }
  it.answer = static_cast<int>(idx);
  if (doc["subject"].get(text) == simdjson::SUCCESS) it.subject = std::string(text);
  if (doc["category"].get(text) == simdjson::SUCCESS) it.category = std::string(text);
  return it;
}

std::string Letter(size_t i) { return std::string(1, static_cast<char>('A' + i)); }

}  // namespace

absl::StatusOr<std::vector<McItem>> ReadMcItems(const std::string& path, int64_t limit) {
  ASSIGN_OR_RETURN(std::unique_ptr<InputStream> in, OpenInput(path));
  LineReader lines(std::move(in));
  simdjson::dom::parser parser;
  std::vector<McItem> items;
  std::string_view line;
  for (;;) {
    if (limit > 0 && static_cast<int64_t>(items.size()) >= limit) break;
    ASSIGN_OR_RETURN(bool more, lines.Next(&line));
    if (!more) break;
    if (line.find_first_not_of(" \t\r") == std::string_view::npos) continue;
    ASSIGN_OR_RETURN(McItem it, ParseItem(line, absl::StrCat(path, ":", lines.line_number()), parser));
    items.push_back(std::move(it));
  }
  if (items.empty()) return absl::DataLossError(absl::StrCat(path, ": no items"));
  return items;
}

absl::StatusOr<McPrompter> McPrompter::Create(const McPromptOptions& o, std::vector<McItem> dev) {
  McPrompter p;
  p.o_ = o;
  p.dev_ = std::move(dev);
  if (o.shots < 0) return absl::InvalidArgumentError("--shots must be 0 or more");
  if (o.shots > 0 && p.dev_.empty()) return absl::InvalidArgumentError("--shots needs --dev FILE with examples");
  if (!o.template_text.empty()) {
    const size_t at = o.template_text.find(kAnswer);
    if (at == std::string::npos) {
      return absl::InvalidArgumentError("--template has no {answer}: it marks where the scored answer goes");
    }
    if (o.template_text.find(kAnswer, at + 1) != std::string::npos) {
      return absl::InvalidArgumentError("--template has {answer} more than once");
    }
    McItem probe;
    probe.question = "q";
    probe.choices = {"a", "b"};
    bool has = false;
    RETURN_IF_ERROR(p.Fill(o.template_text.substr(0, at), probe, &has).status());
    RETURN_IF_ERROR(p.Fill(o.template_text.substr(at + kAnswer.size()), probe, &has).status());
  }
  return p;
}

absl::StatusOr<std::string> McPrompter::Fill(const std::string& tmpl, const McItem& item, bool* has_choices) const {
  std::string out;
  for (size_t i = 0; i < tmpl.size(); ++i) {
    const char c = tmpl[i];
    if ((c == '{' || c == '}') && i + 1 < tmpl.size() && tmpl[i + 1] == c) {
      out.push_back(c);
      ++i;
      continue;
    }
    if (c != '{') {
      out.push_back(c);
      continue;
    }
    const size_t end = tmpl.find('}', i);
    const std::string name = end == std::string::npos ? tmpl.substr(i) : tmpl.substr(i + 1, end - i - 1);
    if (name == "question" || name == "context") {
      out += item.question;
    } else if (name == "subject") {
      out += absl::StrReplaceAll(item.subject, {{"_", " "}});
    } else if (name == "choices") {
      *has_choices = true;
      for (size_t k = 0; k < item.choices.size(); ++k) {
        absl::StrAppend(&out, k ? "\n" : "", Letter(k), ". ", item.choices[k]);
      }
    } else {
      return absl::InvalidArgumentError(absl::StrCat(
          "--template: unknown placeholder {", name,
          "} (known: {question}, {context}, {subject}, {choices}, {answer}; {{ and }} for braces)"));
    }
    i = end;
  }
  return out;
}

absl::StatusOr<McPrompter::Rendered> McPrompter::Render(const McItem& item) const {
  const std::string tmpl = !o_.template_text.empty() ? o_.template_text
                           : item.is_context        ? std::string("{context} {answer}")
                                                    : std::string("{question}\n{choices}\nAnswer: {answer}");
  const size_t at = tmpl.find(kAnswer);
  const std::string head = tmpl.substr(0, at), tail = tmpl.substr(at + kAnswer.size());
  if (item.choices.size() > 26 && tmpl.find("{choices}") != std::string::npos) {
    return absl::DataLossError(absl::StrCat(item.where, ": more than 26 choices cannot be lettered A-Z"));
  }
  Rendered r;
  std::string prefix;
  if (!o_.description.empty()) {
    bool unused = false;
    ASSIGN_OR_RETURN(prefix, Fill(o_.description, item, &unused));
  }
  int taken = 0;
  const bool by_subject = !item.subject.empty();
  for (const McItem& d : dev_) {
    if (taken >= o_.shots) break;
    if (by_subject && !d.subject.empty() && d.subject != item.subject) continue;
    bool letters = false;
    ASSIGN_OR_RETURN(std::string h, Fill(head, d, &letters));
    ASSIGN_OR_RETURN(std::string t, Fill(tail, d, &letters));
    absl::StrAppend(&prefix, h, letters ? Letter(d.answer) : d.choices[d.answer], t, "\n\n");
    ++taken;
  }
  if (taken < o_.shots) {
    return absl::FailedPreconditionError(absl::StrFormat(
        "%s: the dev file has %d examples%s, fewer than --shots %d", item.where, taken,
        by_subject ? absl::StrCat(" of subject '", item.subject, "'") : "", o_.shots));
  }
  bool letters = false;
  ASSIGN_OR_RETURN(std::string h, Fill(head, item, &letters));
  r.prompt = prefix + h;
  for (size_t k = 0; k < item.choices.size(); ++k) r.answers.push_back(letters ? Letter(k) : item.choices[k]);
  return r;
}

absl::StatusOr<McItemResult> ScoreMcItem(const McItem& item, const McPrompter::Rendered& r, const Vocab& vocab,
                                         Session& session, std::vector<int32_t>* cached) {
  const int V = session.model().config().n_vocab;
  std::vector<ScoreTokens> split;
  for (const std::string& a : r.answers) {
    auto t = EncodeScorePair(vocab, r.prompt, a, true);
    if (!t.ok()) return Annotate(t.status(), item.where);
    if (t->completion.empty()) {
      return absl::FailedPreconditionError(absl::StrFormat(
          "%s: the answer '%s' adds no token after the prompt (it merges into the prompt's last token)", item.where,
          a));
    }
    split.push_back(std::move(*t));
  }
  const std::vector<int32_t>& prompt = split[0].prompt;
  if (prompt.empty()) return absl::FailedPreconditionError(absl::StrCat(item.where, ": the prompt is empty"));
  // The cached prompt tokens that agree with this one stay; at least the last
  // token is evaluated again, for its logits.
  size_t keep = 0;
  while (keep < cached->size() && keep < prompt.size() && (*cached)[keep] == prompt[keep]) ++keep;
  keep = std::min(keep, prompt.size() - 1);
  McItemResult res;
  res.prompt_tokens = static_cast<int>(prompt.size());
  res.reused_tokens = static_cast<int>(keep);
  cached->clear();
  session.Truncate(static_cast<int>(keep));
  std::vector<float> prompt_logits, logits;
  // Batches of at least two tokens wanting every row's logits (kAll), so
  // each row rounds as in the runner's fresh Score (one batch): a one-token
  // batch, or one wanting only its last row, goes through ggml's vec_dot
  // order, as in llama.cpp.
  const size_t from = prompt.size() - keep < 2 && keep > 0 ? keep - 1 : keep;
  session.Truncate(static_cast<int>(from));
  if (absl::Status s = session.Eval(absl::MakeConstSpan(prompt).subspan(from), LogitsMode::kAll, &prompt_logits);
      !s.ok()) {
    return Annotate(s, item.where);
  }
  prompt_logits.erase(prompt_logits.begin(), prompt_logits.end() - V);
  *cached = prompt;
  for (size_t k = 0; k < split.size(); ++k) {
    const std::vector<int32_t>& c = split[k].completion;
    ChoiceScore cs;
    // The runner's log-softmax, so a choice scores what llmtk-run --score gives it.
    auto logprob = [V](const float* row, int32_t tok) { return LogSoftmax(absl::MakeConstSpan(row, V))[tok]; };
    cs.loglik = logprob(prompt_logits.data(), c[0]);
    if (c.size() > 1) {
      // The prompt's last token again in front (its row is the prompt's
      // logits again), so the batch has two tokens or more.
      std::vector<int32_t> batch = {prompt.back()};
      batch.insert(batch.end(), c.begin(), c.end() - 1);
      session.Truncate(static_cast<int>(prompt.size()) - 1);
      if (absl::Status s = session.Eval(batch, LogitsMode::kAll, &logits); !s.ok()) {
        return Annotate(s, item.where);
      }
      for (size_t j = 1; j < c.size(); ++j) cs.loglik += logprob(logits.data() + j * V, c[j]);
    }
    cs.tokens = static_cast<int>(c.size());
    cs.chars = CodePoints(r.answers[k]);
    cs.per_token = cs.loglik / cs.tokens;
    res.choices.push_back(cs);
  }
  session.Truncate(static_cast<int>(prompt.size()));
  res.pred = Predict(res.choices);
  std::vector<double> pt;
  for (const ChoiceScore& cs : res.choices) pt.push_back(cs.per_token);
  res.pred_per_token = ArgmaxFirst(pt);
  return res;
}

}  // namespace llmtk
