// llmtk-eval on every architecture family beside llama/qwen: seeded random
// models at the tiny configs (Mixtral, Qwen2-MoE, Qwen3-MoE, DeepSeek-V2,
// Gemma 2, Gemma 3, Phi-3, GLM-4) with stories260K's vocabulary. The tool
// scores multiple-choice items (testdata/eval/mc.jsonl, the choice text
// after the question) with the prompt cached across choices; each choice's
// log-likelihood in its --items file must equal, bit for bit, the runner's
// fresh Score of prompt + choice (what llmtk-run --score prints).
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "lib/base/io.h"
#include "lib/convert/random_model.h"
#include "lib/eval/mc_items.h"
#include "lib/model/model.h"
#include "lib/model/runner.h"

namespace llmtk {
namespace {

std::string Testdata(const std::string& rel) { return std::string(LLMTK_TESTDATA) + "/" + rel; }

int RunCommand(const std::string& cmd, std::string* out) {
  FILE* p = popen((cmd + " 2>&1").c_str(), "r");
  char buf[4096];
  for (size_t k; (k = fread(buf, 1, sizeof(buf), p)) > 0;) out->append(buf, k);
  return pclose(p);
}

class EvalFamilies : public testing::TestWithParam<const char*> {};

TEST_P(EvalFamilies, ChoiceScoresEqualTheRunnersFreshScores) {
  const std::string config = GetParam();
  const std::string dir =
      (std::filesystem::temp_directory_path() / ("eval_families_" + config + "_" + std::to_string(getpid()))).string();
  std::filesystem::create_directories(dir);
  RandomModelOptions ro;
  ro.config = Testdata(config);
  ro.vocab = Testdata("run/stories260K-hf-f32.gguf");
  const std::string model_path = dir + "/model.gguf";
  auto w = WriteRandomModel(ro, model_path, "F32", 2);
  ASSERT_TRUE(w.ok()) << w.status();

  const std::string tmpl = "{question} {answer}";
  const int kItems = 4;
  std::string out;
  const int rc = RunCommand(std::string(LLMTK_BINDIR) + "/llmtk-eval -m " + model_path + " " + Testdata("eval/mc.jsonl") +
                         " --template '" + tmpl + "' --limit " + std::to_string(kItems) + " --items " + dir +
                         "/items.jsonl",
                     &out);
  ASSERT_EQ(rc, 0) << out;
  EXPECT_NE(out.find("acc_norm"), std::string::npos) << out;

  auto items = ReadMcItems(Testdata("eval/mc.jsonl"), kItems);
  ASSERT_TRUE(items.ok()) << items.status();
  McPromptOptions po;
  po.template_text = tmpl;
  auto prompter = McPrompter::Create(po, {});
  ASSERT_TRUE(prompter.ok());
  auto model = Model::Load(model_path);
  ASSERT_TRUE(model.ok()) << model.status();
  SessionOptions so;
  so.n_ctx = 512;
  auto runner = Runner::Create(**model, so);
  ASSERT_TRUE(runner.ok()) << runner.status();

  auto lines = ReadFileToString(dir + "/items.jsonl");
  ASSERT_TRUE(lines.ok()) << lines.status();
  std::istringstream in(*lines);
  std::string line;
  const std::regex loglik("\"loglik\":(-?[0-9.eE+-]+)");
  size_t item = 0;
  int compared = 0;
  for (; std::getline(in, line); ++item) {
    ASSERT_LT(item, items->size()) << line;
    auto r = prompter->Render((*items)[item]);
    ASSERT_TRUE(r.ok()) << r.status();
    size_t k = 0;
    for (auto m = std::sregex_iterator(line.begin(), line.end(), loglik); m != std::sregex_iterator(); ++m, ++k) {
      ASSERT_LT(k, r->answers.size()) << line;
      auto fresh = (*runner)->Score(r->prompt, r->answers[k]);
      ASSERT_TRUE(fresh.ok()) << fresh.status();
      EXPECT_EQ(std::strtod((*m)[1].str().c_str(), nullptr), fresh->logprob)
          << config << " item " << item << " choice " << k;
      ++compared;
    }
    EXPECT_EQ(k, r->answers.size()) << line;
  }
  EXPECT_EQ(item, static_cast<size_t>(kItems));
  EXPECT_GE(compared, 2 * kItems);
  std::filesystem::remove_all(dir);
}

INSTANTIATE_TEST_SUITE_P(Configs, EvalFamilies,
                         testing::Values("configs/tiny-mixtral.config.json", "configs/tiny-qwen2moe.config.json",
                                         "configs/tiny-qwen3moe.config.json", "configs/tiny-deepseek2.config.json",
                                         "configs/tiny-phi3-4k.config.json", "configs/tiny-glm4.config.json",
                                         "run/gemma/gemma2-tiny.config.json", "run/gemma/gemma3-tiny.config.json"),
                         [](const testing::TestParamInfo<const char*>& info) {
                           std::string n = std::filesystem::path(info.param).filename().string();
                           n = n.substr(0, n.find(".config"));
                           for (char& c : n)
                             if (!isalnum(static_cast<unsigned char>(c))) c = '_';
                           return n;
                         });

}  // namespace
}  // namespace llmtk
