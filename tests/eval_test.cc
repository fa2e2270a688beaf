// Tests of llmtk-eval's library: the accuracy formulas on hand-computed
// log-likelihoods, llama.cpp's task files and draws, and the scoring's
// shared prefixes against fresh evaluation.
#include <cmath>
#include <random>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "lib/base/io.h"
#include "lib/base/unicode.h"
#include "lib/eval/choice_metrics.h"
#include "lib/eval/llamacpp_score.h"
#include "lib/eval/llamacpp_tasks.h"
#include "lib/eval/mc_items.h"
#include "lib/model/model.h"
#include "lib/model/runner.h"
#include "lib/model/session.h"

namespace llmtk {
namespace {

const std::string kData = std::string(LLMTK_TESTDATA) + "/";

ChoiceScore C(double loglik, int64_t chars) {
  ChoiceScore c;
  c.loglik = loglik;
  c.chars = chars;
  return c;
}

TEST(ChoiceMetrics, AccAndAccNormOnHandComputedLoglik) {
  // acc: the largest sum, -4 (choice 0). acc_norm: -4/2 = -2, -6/6 = -1,
  // -9/3 = -3: choice 1.
  ChoicePredictions p = Predict(std::vector<ChoiceScore>{C(-4, 2), C(-6, 6), C(-9, 3)});
  EXPECT_EQ(p.acc, 0);
  EXPECT_EQ(p.acc_norm, 1);
}

TEST(ChoiceMetrics, TiesGoToTheFirstChoiceAsNumpyArgmax) {
  // Sums tie between 1 and 2; per character -1.5/3 = -0.5 ties with
  // -1/2 = -0.5 (choices 0 and 2 after 1's -0.75).
  ChoicePredictions p = Predict(std::vector<ChoiceScore>{C(-1.5, 3), C(-1.5, 2), C(-1, 2)});
  EXPECT_EQ(p.acc, 2);
  EXPECT_EQ(p.acc_norm, 0);
  p = Predict(std::vector<ChoiceScore>{C(-2, 1), C(-2, 1)});
  EXPECT_EQ(p.acc, 0);
  EXPECT_EQ(p.acc_norm, 0);
  EXPECT_EQ(ArgmaxFirst(std::vector<double>{}), -1);
}

TEST(ChoiceMetrics, CharacterLengthIsCodePoints) {
  EXPECT_EQ(CodePoints("Paris"), 5);
  EXPECT_EQ(CodePoints("café"), 4);      // é is two bytes
  EXPECT_EQ(CodePoints("日本語"), 3);    // three bytes each
  EXPECT_EQ(CodePoints("🙂!"), 2);
}

TEST(ChoiceMetrics, StderrIsLmEvalMeanStderr) {
  // [1, 0, 1, 1]: mean 0.75, squared deviations 3 * 0.0625 + 0.5625 = 0.75,
  // sample variance 0.75 / 3 = 0.25, stddev 0.5, stderr 0.5 / sqrt(4) = 0.25
  // = sqrt(p (1 - p) / (n - 1)).
  EXPECT_DOUBLE_EQ(MeanStderr(std::vector<double>{1, 0, 1, 1}), 0.25);
  // [1, 1, 0, 0, 0]: mean 0.4, deviations 2 * 0.36 + 3 * 0.16 = 1.2,
  // variance 0.3, stderr sqrt(0.3) / sqrt(5) = sqrt(0.06).
  EXPECT_DOUBLE_EQ(MeanStderr(std::vector<double>{1, 1, 0, 0, 0}), std::sqrt(0.3) / std::sqrt(5.0));
  EXPECT_DOUBLE_EQ(MeanStderr(std::vector<double>{1, 1, 1}), 0.0);
  EXPECT_TRUE(std::isnan(MeanStderr(std::vector<double>{1})));
  MeanStat m;
  for (double x : {1, 0, 1, 1}) m.Add(x);
  EXPECT_DOUBLE_EQ(m.Mean(), 0.75);
  EXPECT_DOUBLE_EQ(m.Stderr(), 0.25);
}

#ifdef __GLIBCXX__
TEST(LlamaCppDraw, UniformIndexIsLibstdcxxDistribution) {
  std::mt19937 a(1), b(1);
  for (size_t n : std::vector<size_t>{1, 2, 3, 5, 7, 100, 1000, 10042, 65537, 4000000000u}) {
    for (int i = 0; i < 200; ++i) {
      std::uniform_int_distribution<size_t> dist(0, n - 1);
      ASSERT_EQ(LlamaCppUniformIndex(a, n), dist(b)) << n;
    }
  }
}
#endif

TEST(LlamaCppDraw, ScaledIndexIsFloatArithmetic) {
  std::mt19937 a(1), b(1);
  for (size_t n : std::vector<size_t>{2, 3, 10, 1267, 10042}) {
    for (int i = 0; i < 100; ++i) {
      const float scale = 1.f / 4294967296.f;
      const size_t want = static_cast<size_t>(static_cast<int>(scale * static_cast<float>(b()) * static_cast<float>(n)));
      ASSERT_EQ(LlamaCppScaledIndex(a, n), want);
    }
  }
}

std::string Hellaswag(int tasks) {
  std::string s;
  for (int i = 0; i < tasks; ++i) {
    s += "Context " + std::to_string(i) + "\n" + std::to_string(i % 4) + "\nA\nB\nC\nD\n";
  }
  return s;
}

TEST(LlamaCppTasks, HellaswagDrawIsLlamaCpps) {
  // llama.cpp: uniform_int_distribution<size_t>(0, left - 1) on mt19937(1),
  // each drawn task erased from the list.
  auto f = ReadLlamaCppTasks(LlamaCppFormat::kHellaswag, Hellaswag(20), "hs.txt", 7);
  ASSERT_TRUE(f.ok()) << f.status();
  ASSERT_EQ(f->tasks.size(), 7u);
  EXPECT_EQ(f->available, 20u);
  std::vector<int> left(20);
  for (int i = 0; i < 20; ++i) left[i] = i;
  std::mt19937 rng(1);
  for (size_t i = 0; i < 7; ++i) {
    std::uniform_int_distribution<size_t> dist(0, left.size() - 1);
    const size_t idx = dist(rng);
    EXPECT_EQ(f->tasks[i].context, "Context " + std::to_string(left[idx]));
    EXPECT_EQ(f->tasks[i].where, "hs.txt:" + std::to_string(left[idx] * 6 + 1));
    left.erase(left.begin() + idx);
  }
}

TEST(LlamaCppTasks, MalformedHellaswagNamesFileAndLine) {
  auto f = ReadLlamaCppTasks(LlamaCppFormat::kHellaswag, Hellaswag(2) + "extra\n", "hs.txt", 0);
  EXPECT_EQ(f.status().message(),
            "hs.txt: 13 lines, not a multiple of 6 (HellaSwag files have 6 lines a task: context, gold ending "
            "index, 4 endings); the last task, from line 13, has 1");
  f = ReadLlamaCppTasks(LlamaCppFormat::kHellaswag, "ctx\n4\na\nb\nc\nd\n", "hs.txt", 0);
  EXPECT_EQ(f.status().message(), "hs.txt:2: the gold ending index '4' is not 0, 1, 2 or 3");
  f = ReadLlamaCppTasks(LlamaCppFormat::kHellaswag, "ctx\nx\na\nb\nc\nd\n", "hs.txt", 0);
  EXPECT_EQ(f.status().message(), "hs.txt:2: the gold ending index 'x' is not 0, 1, 2 or 3");
}

TEST(LlamaCppTasks, WinograndeQuotesHeaderAndErrors) {
  const std::string ok =
      "index,sentence,option1,option2,answer\n"
      "0,\"Tom, not Sue, said _ was hungry.\",Tom,Sue,1\n"
      "1,Sue saw _ run.,Tom,Sue,2\r\n\n";  // the empty line lets llama.cpp read the last one
  auto f = ReadLlamaCppTasks(LlamaCppFormat::kWinogrande, ok, "w.csv", 0);
  ASSERT_TRUE(f.ok()) << f.status();
  ASSERT_EQ(f->tasks.size(), 2u);
  EXPECT_EQ(f->tasks[0].context, "Tom, not Sue, said ");
  EXPECT_EQ(f->tasks[0].after, " was hungry.");
  EXPECT_EQ(f->tasks[0].choices, (std::vector<std::string>{"Tom", "Sue"}));
  EXPECT_EQ(f->tasks[1].labels, (std::vector<int>{0, 1}));
  EXPECT_EQ(f->tasks[1].where, "w.csv:3");
  EXPECT_TRUE(f->note.empty());

  // llama.cpp's -f drops the final line break, and its getline loop a last
  // line without one: the last task of a normal file is never scored.
  for (const char* text : {"0,a _ b,x,y,1\n1,c _ d,x,y,2", "0,a _ b,x,y,1\n1,c _ d,x,y,2\n"}) {
    f = ReadLlamaCppTasks(LlamaCppFormat::kWinogrande, text, "w.csv", 0);
    ASSERT_TRUE(f.ok());
    EXPECT_EQ(f->tasks.size(), 1u);
    EXPECT_EQ(f->note,
              "w.csv:2, the last line, is not scored: llama-perplexity drops the file's final line break (-f) and "
              "then skips a last line without one, so it never scores the last line of a Winogrande file that ends "
              "in one line break; llmtk-eval does the same (end the file with an empty line to have both score it)");
  }
  f = ReadLlamaCppTasks(LlamaCppFormat::kWinogrande, "0,a _ b,x,y,1\n1,c _ d,x,y,2\n\n", "w.csv", 0);
  ASSERT_TRUE(f.ok());
  EXPECT_EQ(f->tasks.size(), 2u);
  EXPECT_TRUE(f->note.empty());

  f = ReadLlamaCppTasks(LlamaCppFormat::kWinogrande, "0,a _ b,x,y,1\n1,\"c _ d,x,y,2\n\n", "w.csv", 0);
  EXPECT_EQ(f.status().message(),
            "w.csv:2: a double quote is not closed before the end of the line (Winogrande CSV lines are "
            "index,sentence,option1,option2,answer)");
  f = ReadLlamaCppTasks(LlamaCppFormat::kWinogrande, "0,\"a _\" b,x,y,1\n\n", "w.csv", 0);
  EXPECT_EQ(f.status().message(), "w.csv:1: the quoted sentence does not end with a double quote before its comma");
  f = ReadLlamaCppTasks(LlamaCppFormat::kWinogrande, "0,a _ b,x,y,1\n1,c _ d,x,y,3\n\n", "w.csv", 0);
  EXPECT_EQ(f.status().message(), "w.csv:2: the answer 3 is out of range (1 or 2)");
  f = ReadLlamaCppTasks(LlamaCppFormat::kWinogrande, "0,a _ b,x,y,1\n1,c d,x,y,1\n\n", "w.csv", 0);
  EXPECT_EQ(f.status().message(), "w.csv:2: the sentence has no '_' to fill: c d");
  f = ReadLlamaCppTasks(LlamaCppFormat::kWinogrande, "0,a _ b,x,y,1\n1,c _ d,x\n\n", "w.csv", 0);
  EXPECT_EQ(f.status().message(),
            "w.csv:2: 3 fields, expected 5 (Winogrande CSV lines are index,sentence,option1,option2,answer)");
}

std::string U32(uint32_t v) { return std::string(reinterpret_cast<const char*>(&v), 4); }
std::string Str(const std::string& s) { return U32(static_cast<uint32_t>(s.size())) + s; }

std::string McFile() {
  std::string t0 = Str("Q0") + U32(2) + Str("a") + Str("b") + U32(0) + U32(1) + U32(0);
  std::string t1 = Str("Q1") + U32(3) + Str("c") + Str("d") + Str("e") + U32(1) + U32(0) + U32(0) + U32(0);
  return U32(2) + U32(12) + U32(12 + static_cast<uint32_t>(t0.size())) + t0 + t1;
}

TEST(LlamaCppTasks, MultipleChoiceBinary) {
  auto f = ReadLlamaCppTasks(LlamaCppFormat::kMultipleChoice, McFile(), "mc.bin", 0);
  ASSERT_TRUE(f.ok()) << f.status();
  ASSERT_EQ(f->tasks.size(), 2u);
  EXPECT_EQ(f->tasks[1].context, "Q1");
  EXPECT_EQ(f->tasks[1].choices, (std::vector<std::string>{"c", "d", "e"}));
  EXPECT_EQ(f->tasks[1].labels, (std::vector<int>{1, 0, 0}));
  const std::string full = McFile();
  f = ReadLlamaCppTasks(LlamaCppFormat::kMultipleChoice, full.substr(0, full.size() - 3), "mc.bin", 0);
  EXPECT_EQ(f.status().message(),
            "mc.bin: task 1 at byte 44: truncated at byte 81: the answer count needs 4 bytes, the file has 82");
  std::string many = full;
  many[50] = 101;  // task 1's answer count
  f = ReadLlamaCppTasks(LlamaCppFormat::kMultipleChoice, many, "mc.bin", 0);
  EXPECT_EQ(f.status().message(), "mc.bin: task 1 at byte 44: the answer count 101 at byte 50 is over llama.cpp's limit of 100");
  f = ReadLlamaCppTasks(LlamaCppFormat::kMultipleChoice, full.substr(0, 10), "mc.bin", 0);
  EXPECT_EQ(f.status().message(), "mc.bin: truncated at byte 4: the table of 2 task offsets needs 8 bytes, the file has 10");
  f = ReadLlamaCppTasks(LlamaCppFormat::kMultipleChoice, U32(0), "mc.bin", 0);
  EXPECT_EQ(f.status().message(), "mc.bin: no tasks (the task count is 0)");
}

class EvalModel : public ::testing::Test {
 protected:
  void SetUp() override {
    auto m = Model::Load(kData + "run/stories260K-hf-f32.gguf");
    ASSERT_TRUE(m.ok()) << m.status();
    model_ = std::move(*m);
    auto v = Vocab::FromGguf(model_->gguf());
    ASSERT_TRUE(v.ok());
    vocab_ = std::make_unique<Vocab>(std::move(*v));
  }
  std::unique_ptr<Session> NewSession(int threads) {
    SessionOptions so;
    so.n_ctx = 512;
    so.threads = threads;
    return std::move(*Session::Create(*model_, so));
  }
  std::unique_ptr<Model> model_;
  std::unique_ptr<Vocab> vocab_;
};

TEST_F(EvalModel, CellsWithoutGapsAreTheContiguousLayout) {
  auto a = NewSession(1), b = NewSession(1);
  auto ids = *vocab_->Encode("Once upon a time, there was a little girl", true);
  std::vector<float> la, lb;
  ASSERT_TRUE(a->Eval(ids, LogitsMode::kAll, &la).ok());
  ASSERT_TRUE(b->SetNextCell(0).ok());
  ASSERT_TRUE(b->Eval(absl::MakeConstSpan(ids).subspan(0, 4), LogitsMode::kAll, &lb).ok());
  std::vector<float> rest;
  ASSERT_TRUE(b->Eval(absl::MakeConstSpan(ids).subspan(4), LogitsMode::kAll, &rest).ok());
  lb.insert(lb.end(), rest.begin(), rest.end());
  EXPECT_EQ(la, lb);
  // A gap changes only the attention sums' lanes: the same figures to a few
  // float roundings, not bit for bit.
  auto c = NewSession(1);
  std::vector<float> lc;
  ASSERT_TRUE(c->Eval(absl::MakeConstSpan(ids).subspan(0, 4), LogitsMode::kAll, &lc).ok());
  ASSERT_TRUE(c->SetNextCell(9).ok());
  ASSERT_TRUE(c->Eval(absl::MakeConstSpan(ids).subspan(4), LogitsMode::kAll, &rest).ok());
  const size_t V = model_->config().n_vocab;
  for (size_t i = 0; i < rest.size(); ++i) EXPECT_NEAR(rest[i], la[4 * V + i], 1e-3) << i;
  EXPECT_FALSE(c->SetNextCell(3).ok());  // before the next free cell
  c->Truncate(4);
  EXPECT_TRUE(c->SetNextCell(5).ok());
}

TEST_F(EvalModel, BranchesEqualOneChoiceAtATimeAtTheSameCells) {
  // EvalBranches puts every choice in one pass; each must get the logits it
  // ("a little girl named Lily" is 7 tokens: cells 10..16, so 12 overlaps)
  // gets alone at the same cells (Truncate back to the prefix, SetNextCell).
  auto prefix = *vocab_->Encode("Once upon a time, there was", true);
  const std::vector<std::vector<int32_t>> br = {*vocab_->Encode("a little girl named Lily", false),
                                                *vocab_->Encode("a big dog", false),
                                                *vocab_->Encode("a boy who liked to play outside", false)};
  const std::vector<int> cells = {3 + static_cast<int>(prefix.size()), 40, 50};
  for (int threads : {1, 2}) {
    auto a = NewSession(threads);
    ASSERT_TRUE(a->SetNextCell(3).ok());
    ASSERT_TRUE(a->Eval(prefix, LogitsMode::kLast, nullptr).ok());
    std::vector<float> all;
    ASSERT_TRUE(a->EvalBranches(br, cells, &all).ok());
    EXPECT_EQ(a->n_past(), static_cast<int>(prefix.size()));
    auto b = NewSession(1);
    ASSERT_TRUE(b->SetNextCell(3).ok());
    ASSERT_TRUE(b->Eval(prefix, LogitsMode::kLast, nullptr).ok());
    std::vector<float> one, want;
    for (size_t k = 0; k < br.size(); ++k) {
      b->Truncate(static_cast<int>(prefix.size()));
      ASSERT_TRUE(b->SetNextCell(cells[k]).ok());
      ASSERT_TRUE(b->Eval(br[k], LogitsMode::kAll, &one).ok());
      want.insert(want.end(), one.begin(), one.end());
    }
    EXPECT_EQ(all, want) << threads;
  }
  auto c = NewSession(1);
  ASSERT_TRUE(c->Eval(prefix, LogitsMode::kLast, nullptr).ok());
  std::vector<float> out;
  EXPECT_EQ(std::string(c->EvalBranches(br, std::vector<int>{10, 12, 30}, &out).message()),
            "branch 1 starts at cell 12, before the next free cell 17");
}

TEST_F(EvalModel, SharedPromptScoresEqualFreshScores) {
  // ScoreMcItem keeps the cached prompt across items and choices; each
  // choice's log-likelihood must equal the runner's fresh Score.
  auto items = ReadMcItems(kData + "eval/mc.jsonl", 6);
  ASSERT_TRUE(items.ok()) << items.status();
  auto dev = ReadMcItems(kData + "eval/mc-dev.jsonl");
  ASSERT_TRUE(dev.ok());
  McPromptOptions po;
  po.shots = 1;
  auto prompter = McPrompter::Create(po, *dev);
  ASSERT_TRUE(prompter.ok());
  SessionOptions so;
  so.n_ctx = 512;
  so.threads = 1;
  auto runner = Runner::Create(*model_, so);
  ASSERT_TRUE(runner.ok());
  auto s = NewSession(2);
  std::vector<int32_t> cached;
  int reused = 0;
  for (const McItem& it : *items) {
    auto r = prompter->Render(it);
    ASSERT_TRUE(r.ok()) << r.status();
    auto res = ScoreMcItem(it, *r, *vocab_, *s, &cached);
    ASSERT_TRUE(res.ok()) << res.status();
    reused += res->reused_tokens;
    for (size_t k = 0; k < it.choices.size(); ++k) {
      auto fresh = (*runner)->Score(r->prompt, r->answers[k]);
      ASSERT_TRUE(fresh.ok());
      EXPECT_EQ(res->choices[k].loglik, fresh->logprob) << it.where << " choice " << k;
      EXPECT_EQ(res->choices[k].tokens, fresh->completion_tokens);
    }
  }
  EXPECT_GT(reused, 0);
}

TEST_F(EvalModel, TemplateAndShots) {
  McItem it;
  it.question = "Who ran?";
  it.choices = {"Tom", "Sue"};
  it.answer = 1;
  it.subject = "high_school_x";
  McItem d = it;
  d.question = "Who sat?";
  d.answer = 0;
  McPromptOptions po;
  po.shots = 1;
  po.description = "About {subject}.\n\n";
  auto p = McPrompter::Create(po, {d});
  ASSERT_TRUE(p.ok());
  auto r = p->Render(it);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->prompt, "About high school x.\n\nWho sat?\nA. Tom\nB. Sue\nAnswer: A\n\nWho ran?\nA. Tom\nB. Sue\nAnswer: ");
  EXPECT_EQ(r->answers, (std::vector<std::string>{"A", "B"}));
  po.template_text = "Q: {question} {{x}} A: {answer}";
  po.shots = 0;
  p = McPrompter::Create(po, {});
  ASSERT_TRUE(p.ok());
  r = p->Render(it);
  EXPECT_EQ(r->prompt, "About high school x.\n\nQ: Who ran? {x} A: ");
  EXPECT_EQ(r->answers, (std::vector<std::string>{"Tom", "Sue"}));
  po.template_text = "{question} {bogus} {answer}";
  EXPECT_EQ(McPrompter::Create(po, {}).status().message(),
            "--template: unknown placeholder {bogus} (known: {question}, {context}, {subject}, {choices}, {answer}; "
            "{{ and }} for braces)");
  po.template_text = "{question}";
  EXPECT_EQ(McPrompter::Create(po, {}).status().message(),
            "--template has no {answer}: it marks where the scored answer goes");
}

TEST_F(EvalModel, LlamaCppScoresDoNotDependOnThreads) {
  auto f = ReadLlamaCppTasks(LlamaCppFormat::kHellaswag, *ReadFileToString(kData + "eval/hellaswag.txt"), "hs", 12);
  ASSERT_TRUE(f.ok());
  std::vector<std::vector<double>> got[2];
  for (int t : {1, 2}) {
    auto s = NewSession(t);
    ASSERT_TRUE(ScoreLlamaCppTasks(LlamaCppFormat::kHellaswag, f->tasks, *vocab_, *s, LlamaCppScoreOptions{},
                                   [&](size_t, const LlamaCppTaskResult& r) {
                                     std::vector<double> v;
                                     for (const auto& c : r.choices) v.push_back(c.loglik);
                                     got[t - 1].push_back(v);
                                     return absl::OkStatus();
                                   })
                    .ok());
  }
  EXPECT_EQ(got[0], got[1]);
}

}  // namespace
}  // namespace llmtk
