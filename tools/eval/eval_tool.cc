#include "tools/eval/eval_tool.h"

#include <chrono>
#include <cmath>
#include <map>
#include <memory>
#include <optional>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "lib/base/io.h"
#include "lib/base/json_writer.h"
#include "lib/base/progress.h"
#include "lib/eval/choice_metrics.h"
#include "lib/eval/generation_task.h"
#include "lib/eval/llamacpp_score.h"
#include "lib/eval/llamacpp_tasks.h"
#include "lib/eval/mc_items.h"
#include "lib/model/model.h"
#include "lib/model/session.h"
#include "lib/model/runner.h"
#include "lib/model/vocab.h"
#include "tools/common/chat_flags.h"
#include "tools/eval/generate_mode.h"

namespace llmtk {
namespace {

using Clock = std::chrono::steady_clock;

struct Loaded {
  std::unique_ptr<Model> model;
  std::unique_ptr<Vocab> vocab;
  std::unique_ptr<Session> session;
  std::unique_ptr<Runner> runner;  // for --generate only
};

absl::StatusOr<Loaded> Load(const EvalToolOptions& o) {
  Loaded l;
  ASSIGN_OR_RETURN(l.model, Model::Load(o.model_path));
  ASSIGN_OR_RETURN(Vocab v, Vocab::FromGguf(l.model->gguf()));
  l.vocab = std::make_unique<Vocab>(std::move(v));
  SessionOptions so;
  so.n_ctx = o.n_ctx;
  so.kv_f32 = o.kv_f32;
  so.threads = o.threads;
  so.max_batch = o.max_batch;
  // Multiple-choice scoring goes back to a prompt and places continuations
  // at llama.cpp's cells: more than a sliding-window ring holds.
  so.swa_full = true;
  ASSIGN_OR_RETURN(l.session, Session::Create(*l.model, so));
  if (!o.generate_paths.empty()) {
    ASSIGN_OR_RETURN(l.runner, Runner::Create(*l.model, so));
  }
  return l;
}

absl::StatusOr<std::string> ReadAll(const std::string& path) {
  ASSIGN_OR_RETURN(std::unique_ptr<InputStream> in, OpenInput(path));
  std::string data;
  for (;;) {
    const size_t old = data.size();
    data.resize(old + (size_t{1} << 20));
    ASSIGN_OR_RETURN(size_t n, in->Read(data.data() + old, size_t{1} << 20));
    data.resize(old + n);
    if (n == 0) break;
  }
  return data;
}

// 0/1 scores of one rule over the items of a group.
struct Scores {
  std::vector<double> v;
  double Mean() const {
    double s = 0;
    for (double x : v) s += x;
    return v.empty() ? std::nan("") : s / static_cast<double>(v.size());
  }
  double Stderr() const { return MeanStderr(v); }
};

struct GroupScores {
  Scores acc, acc_norm, acc_per_token;
};

// What one task file gave.
struct TaskSetReport {
  std::string path;
  std::string format;      // "hellaswag", "winogrande", "multiple-choice", "jsonl"
  size_t tasks = 0, available = 0;
  std::string selection;   // "file order", "llama.cpp random draw"
  // The llama.cpp formats' own figure, under the name llama-perplexity uses.
  std::string headline;    // "acc_norm" (HellaSwag), "acc"; empty for JSONL
  GroupScores all;
  std::map<std::string, GroupScores> subjects, categories;
  // Format "generate": exact match per item, and items without a match of
  // the extraction pattern.
  Scores exact_match;
  uint64_t invalid = 0;
  double seconds = 0;
};

void AddItemScores(GroupScores& g, const ChoicePredictions& p, int llama_pred, int gold, bool llama_correct) {
  g.acc.v.push_back(p.acc == gold ? 1 : 0);
  g.acc_norm.v.push_back(p.acc_norm == gold ? 1 : 0);
  g.acc_per_token.v.push_back(llama_pred >= 0 ? (llama_correct ? 1 : 0) : 0);
}

void WriteChoices(JsonWriter& w, const std::vector<ChoiceScore>& cs) {
  w.Key("choices").BeginArray();
  for (const ChoiceScore& c : cs) {
    w.BeginObject().Key("loglik").Double(c.loglik).Key("tokens").Int(c.tokens).Key("chars").Int(c.chars)
        .Key("per_token").Double(c.per_token).EndObject();
  }
  w.EndArray();
}

const char* FormatName(LlamaCppFormat f) {
  switch (f) {
    case LlamaCppFormat::kHellaswag: return "hellaswag";
    case LlamaCppFormat::kWinogrande: return "winogrande";
    case LlamaCppFormat::kMultipleChoice: return "multiple-choice";
  }
  return "";
}

absl::StatusOr<TaskSetReport> RunLlamaCppFile(const EvalToolOptions& o, LlamaCppFormat f, const std::string& path,
                                              Loaded& l, OutputFile* items,
                                              const std::function<absl::Status(std::string_view)>& out,
                                              const std::function<void(std::string_view)>& err) {
  const auto t0 = Clock::now();
  ASSIGN_OR_RETURN(std::string data, ReadAll(path));
  const size_t n_tasks = o.tasks < 0 ? LlamaCppDefaultTasks(f) : static_cast<size_t>(o.tasks);
  ASSIGN_OR_RETURN(LlamaCppTaskFile file, ReadLlamaCppTasks(f, data, path, n_tasks));
  if (!file.note.empty() && !o.quiet) err(absl::StrCat("llmtk-eval: note: ", file.note, "\n"));
  TaskSetReport rep;
  rep.path = path;
  rep.format = FormatName(f);
  rep.tasks = file.tasks.size();
  rep.available = file.available;
  const bool random = f == LlamaCppFormat::kHellaswag || file.tasks.size() < file.available;
  rep.selection = random ? "llama.cpp random draw" : "file order";
  rep.headline = f == LlamaCppFormat::kHellaswag ? "acc_norm" : "acc";
  LlamaCppReport lines(f, file.tasks.size(), random);
  if (o.per_task) RETURN_IF_ERROR(out(lines.Header()));
  Progress progress("llmtk-eval", o.progress || (!o.quiet && !o.json && !o.per_task && isatty(2)), "tasks");
  progress.SetTotalItems(static_cast<int64_t>(file.tasks.size()));
  LlamaCppScoreOptions so;
  so.n_ctx = o.n_ctx;
  RETURN_IF_ERROR(ScoreLlamaCppTasks(
      f, file.tasks, *l.vocab, *l.session, so, [&](size_t i, const LlamaCppTaskResult& r) -> absl::Status {
        const ChoicePredictions p = Predict(r.choices);
        AddItemScores(rep.all, p, r.pred, r.gold, r.correct);
        if (o.per_task) RETURN_IF_ERROR(out(lines.TaskLine(i, r)));
        if (items != nullptr) {
          JsonWriter w;
          w.BeginObject().Key("index").Uint(i).Key("source").String(file.tasks[i].where);
          WriteChoices(w, r.choices);
          w.Key("pred").Int(r.pred).Key("pred_acc").Int(p.acc).Key("pred_acc_norm").Int(p.acc_norm)
              .Key("gold").Int(r.gold).Key("correct").Bool(r.correct).EndObject();
          RETURN_IF_ERROR(items->Write(w.Take() + "\n"));
        }
        progress.Add(1);
        return absl::OkStatus();
      }));
  progress.Finish();
  if (o.per_task) RETURN_IF_ERROR(out(lines.Final()));
  rep.seconds = std::chrono::duration<double>(Clock::now() - t0).count();
  return rep;
}

absl::StatusOr<TaskSetReport> RunJsonlFile(const EvalToolOptions& o, const McPrompter& prompter,
                                           const ChatPrompter* chat, const std::string& path, Loaded& l,
                                           OutputFile* items) {
  const auto t0 = Clock::now();
  ASSIGN_OR_RETURN(std::vector<McItem> list, ReadMcItems(path, o.limit));
  TaskSetReport rep;
  rep.path = path;
  rep.format = "jsonl";
  rep.tasks = rep.available = list.size();
  rep.selection = o.limit > 0 ? "first items" : "file order";
  Progress progress("llmtk-eval", o.progress || (!o.quiet && !o.json && isatty(2)), "items");
  progress.SetTotalItems(static_cast<int64_t>(list.size()));
  std::vector<int32_t> cached;
  l.session->Truncate(0);
  for (size_t i = 0; i < list.size(); ++i) {
    const McItem& it = list[i];
    ASSIGN_OR_RETURN(McPrompter::Rendered r, prompter.Render(it));
    if (chat != nullptr) {
      // The choices follow the generation prompt directly (no target
      // delimiter), as lm-evaluation-harness scores them in chat mode.
      auto rendered = ChatOrPlainPrompt(chat, o.system, r.prompt);
      if (!rendered.ok()) return Annotate(rendered.status(), it.where);
      r.prompt = std::string(chat->TokenizerText(*rendered));
    }
    ASSIGN_OR_RETURN(McItemResult res, ScoreMcItem(it, r, *l.vocab, *l.session, &cached));
    const bool ok_pt = res.pred_per_token == it.answer;
    AddItemScores(rep.all, res.pred, res.pred_per_token, it.answer, ok_pt);
    if (!it.subject.empty()) AddItemScores(rep.subjects[it.subject], res.pred, res.pred_per_token, it.answer, ok_pt);
    if (!it.category.empty()) {
      AddItemScores(rep.categories[it.category], res.pred, res.pred_per_token, it.answer, ok_pt);
    }
    if (items != nullptr) {
      JsonWriter w;
      w.BeginObject().Key("index").Uint(i).Key("source").String(it.where);
      if (!it.subject.empty()) w.Key("subject").String(it.subject);
      if (!it.category.empty()) w.Key("category").String(it.category);
      WriteChoices(w, res.choices);
      w.Key("pred").Int(res.pred.acc).Key("pred_acc_norm").Int(res.pred.acc_norm)
          .Key("pred_per_token").Int(res.pred_per_token).Key("gold").Int(it.answer)
          .Key("correct").Bool(res.pred.acc == it.answer).Key("correct_norm").Bool(res.pred.acc_norm == it.answer)
          .Key("prompt_tokens").Int(res.prompt_tokens).Key("cached_tokens").Int(res.reused_tokens).EndObject();
      RETURN_IF_ERROR(items->Write(w.Take() + "\n"));
    }
    progress.Add(1);
  }
  progress.Finish();
  rep.seconds = std::chrono::duration<double>(Clock::now() - t0).count();
  return rep;
}

void WriteMetric(JsonWriter& w, const std::string& name, const Scores& s) {
  w.Key(name).Double(s.Mean()).Key(name + "_stderr").Double(s.Stderr());
}

void WriteGroups(JsonWriter& w, const std::string& key, const std::map<std::string, GroupScores>& groups) {
  if (groups.empty()) return;
  w.Key(key).BeginObject();
  for (const auto& [name, g] : groups) {
    w.Key(name).BeginObject().Key("items").Uint(g.acc.v.size());
    WriteMetric(w, "acc", g.acc);
    WriteMetric(w, "acc_norm", g.acc_norm);
    w.EndObject();
  }
  w.EndObject();
}

void WriteReport(JsonWriter& w, const TaskSetReport& r) {
  w.BeginObject().Key("file").String(r.path).Key("format").String(r.format).Key("tasks").Uint(r.tasks)
      .Key("available").Uint(r.available).Key("selection").String(r.selection);
  if (r.format == "generate") {
    WriteMetric(w, "exact_match", r.exact_match);
    w.Key("invalid").Uint(r.invalid);
  } else if (!r.headline.empty()) {
    // llama-perplexity's figure under its name, and under acc_per_token.
    WriteMetric(w, r.headline, r.all.acc_per_token);
    WriteMetric(w, "acc_per_token", r.all.acc_per_token);
    w.Key("lm_eval").BeginObject();
    WriteMetric(w, "acc", r.all.acc);
    WriteMetric(w, "acc_norm", r.all.acc_norm);
    w.EndObject();
  } else {
    WriteMetric(w, "acc", r.all.acc);
    WriteMetric(w, "acc_norm", r.all.acc_norm);
    WriteMetric(w, "acc_per_token", r.all.acc_per_token);
  }
  WriteGroups(w, "subjects", r.subjects);
  WriteGroups(w, "categories", r.categories);
  w.Key("seconds").Double(r.seconds).Key("tasks_per_second").Double(r.seconds > 0 ? r.tasks / r.seconds : 0);
  w.EndObject();
}

std::string Row(const std::string& file, const std::string& format, const std::string& tasks, const std::string& metric,
                const Scores& s) {
  return absl::StrFormat("%-24s %-15s %9s  %-34s %8.4f %8.4f\n", file, format, tasks, metric, 100 * s.Mean(),
                         100 * s.Stderr());
}

std::string Table(const std::vector<TaskSetReport>& reports) {
  std::string t = absl::StrFormat("%-24s %-15s %9s  %-34s %8s %8s\n", "file", "format", "tasks", "metric", "value%",
                                  "stderr%");
  for (const TaskSetReport& r : reports) {
    std::string file = r.path.size() > 24 ? "..." + r.path.substr(r.path.size() - 21) : r.path;
    const std::string n = absl::StrCat(r.tasks);
    if (r.format == "generate") {
      absl::StrAppend(&t, Row(file, r.format, n, absl::StrCat("exact_match (", r.invalid, " invalid)"),
                              r.exact_match));
    } else if (!r.headline.empty()) {
      absl::StrAppend(&t, Row(file, r.format, n, absl::StrCat(r.headline, " (llama.cpp: per token)"),
                              r.all.acc_per_token));
      absl::StrAppend(&t, Row("", "", "", "acc (lm-eval: summed loglik)", r.all.acc));
      absl::StrAppend(&t, Row("", "", "", "acc_norm (lm-eval: loglik/chars)", r.all.acc_norm));
    } else {
      absl::StrAppend(&t, Row(file, r.format, n, "acc", r.all.acc));
      absl::StrAppend(&t, Row("", "", "", "acc_norm", r.all.acc_norm));
      for (const auto& [key, groups] : {std::pair{"subject", &r.subjects}, std::pair{"category", &r.categories}}) {
        for (const auto& [name, g] : *groups) {
          const std::string label = absl::StrCat(key, " ", name);
          absl::StrAppend(&t, Row("", "", absl::StrCat(g.acc.v.size()), absl::StrCat(label, ": acc"), g.acc));
          absl::StrAppend(&t, Row("", "", "", absl::StrCat(label, ": acc_norm"), g.acc_norm));
        }
      }
    }
  }
  return t;
}

}  // namespace

absl::Status RunEvalTool(const EvalToolOptions& o, const std::function<absl::Status(std::string_view)>& out,
                         const std::function<void(std::string_view)>& err) {
  std::vector<std::pair<LlamaCppFormat, std::string>> llama_files;
  if (!o.hellaswag.empty()) llama_files.emplace_back(LlamaCppFormat::kHellaswag, o.hellaswag);
  if (!o.winogrande.empty()) llama_files.emplace_back(LlamaCppFormat::kWinogrande, o.winogrande);
  if (!o.multiple_choice.empty()) llama_files.emplace_back(LlamaCppFormat::kMultipleChoice, o.multiple_choice);
  if (llama_files.empty() && o.task_paths.empty() && o.generate_paths.empty()) {
    return absl::InvalidArgumentError(
        "no tasks: name JSONL task files, --generate FILE, or --hellaswag / --winogrande / --multiple-choice FILE");
  }
  if (o.task_paths.empty() && o.generate_paths.empty() &&
      (!o.dev_path.empty() || o.shots > 0 || !o.template_text.empty())) {
    return absl::InvalidArgumentError(
        "--template, --dev and --shots apply to JSONL task files and --generate files; none is named");
  }
  // Checked before the model loads: a bad pattern is a usage error at once.
  std::optional<GenerateSetup> gen;
  if (!o.generate_paths.empty()) {
    ASSIGN_OR_RETURN(GenerateSetup g, MakeGenerateSetup(o));
    gen = std::move(g);
  }
  if (o.n_ctx < 8) return absl::InvalidArgumentError(absl::StrCat("--ctx must be at least 8, got ", o.n_ctx));
  if (o.per_task && o.json) return absl::InvalidArgumentError("--per-task prints text lines; it does not go with --json");
  if (!o.chat && (!o.system.empty() || !o.chat_template_path.empty()))
    return absl::InvalidArgumentError("--system and --chat-template work with --chat");
  if (o.chat && !llama_files.empty()) {
    return absl::InvalidArgumentError(
        "--chat applies to JSONL task files and --generate; llama.cpp's --hellaswag, --winogrande and "
        "--multiple-choice files are scored as llama-perplexity scores them, without a chat template");
  }
  ASSIGN_OR_RETURN(Loaded l, Load(o));
  std::optional<ChatPrompter> chat;
  if (o.chat) {
    ASSIGN_OR_RETURN(chat, MakeChatPrompter(o.model_path, o.chat_template_path, *l.vocab));
    if (gen) {
      gen->task.chat = &*chat;
      gen->task.system = o.system;
    }
  }
  std::unique_ptr<OutputFile> items;
  if (!o.items_path.empty()) {
    ASSIGN_OR_RETURN(items, OutputFile::Open(o.items_path, OutputOptions{}));
  }
  std::vector<TaskSetReport> reports;
  for (const auto& [f, path] : llama_files) {
    ASSIGN_OR_RETURN(TaskSetReport r, RunLlamaCppFile(o, f, path, l, items.get(), out, err));
    reports.push_back(std::move(r));
  }
  if (!o.task_paths.empty()) {
    std::vector<McItem> dev;
    if (!o.dev_path.empty()) {
      ASSIGN_OR_RETURN(dev, ReadMcItems(o.dev_path));
    }
    McPromptOptions po;
    po.template_text = o.template_text;
    po.description = o.description;
    po.shots = o.shots;
    ASSIGN_OR_RETURN(McPrompter prompter, McPrompter::Create(po, std::move(dev)));
    for (const std::string& path : o.task_paths) {
      ASSIGN_OR_RETURN(TaskSetReport r, RunJsonlFile(o, prompter, chat ? &*chat : nullptr, path, l, items.get()));
      reports.push_back(std::move(r));
    }
  }
  for (const std::string& path : o.generate_paths) {
    ASSIGN_OR_RETURN(GenerateFileReport g, RunGenerateFile(o, *gen, path, *l.runner, items.get()));
    TaskSetReport r;
    r.path = g.path;
    r.format = "generate";
    r.tasks = g.items;
    r.available = g.available;
    r.selection = g.items < g.available ? "first items" : "file order";
    r.exact_match.v = std::move(g.scores);
    r.invalid = g.invalid;
    r.seconds = g.seconds;
    reports.push_back(std::move(r));
  }
  if (items) RETURN_IF_ERROR(items->Close());
  if (o.json) {
    JsonWriter w;
    if (reports.size() == 1) {
      WriteReport(w, reports[0]);
    } else {
      w.BeginObject().Key("model").String(o.model_path).Key("task_sets").BeginArray();
      for (const TaskSetReport& r : reports) WriteReport(w, r);
      w.EndArray().EndObject();
    }
    return out(w.Take() + "\n");
  }
  // --per-task has printed llama.cpp's own lines for its formats.
  std::vector<TaskSetReport> rest;
  for (TaskSetReport& r : reports) {
    if (!o.per_task || r.headline.empty()) rest.push_back(std::move(r));
  }
  return rest.empty() ? absl::OkStatus() : out(Table(rest));
}

}  // namespace llmtk
