// An IQ3_S model end to end against llama.cpp c392e50:
// testdata/run/random-llama-256-imatrix-IQ3_S.gguf (every 2-D tensor IQ3_S,
// llama-quantize --pure --imatrix) through llmtk-ppl and greedy decoding,
// against testdata/run/iq3s-llamacpp.tsv
// (scripts/reference/iq3s-llamacpp-reference). Its logits are checked with
// the other files' in model_test.
#include <algorithm>
#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "gtest/gtest.h"
#include "lib/model/model.h"
#include "lib/model/session.h"

namespace llmtk {
namespace {

const std::string kModel = std::string(LLMTK_TESTDATA) + "/run/random-llama-256-imatrix-IQ3_S.gguf";

struct Row {
  std::string kind, ctx, value;
};

std::vector<Row> Reference() {
  std::ifstream in(std::string(LLMTK_TESTDATA) + "/run/iq3s-llamacpp.tsv");
  std::string line;
  std::getline(in, line);  // header
  std::vector<Row> rows;
  while (std::getline(in, line)) {
    std::vector<std::string> f = absl::StrSplit(line, '\t');
    if (f.size() == 3) rows.push_back({f[0], f[1], f[2]});
  }
  return rows;
}

std::string RunCommand(const std::string& cmd) {
  FILE* p = popen((cmd + " 2>&1").c_str(), "r");
  std::string out;
  char buf[4096];
  for (size_t k; (k = fread(buf, 1, sizeof(buf), p)) > 0;) out.append(buf, k);
  pclose(p);
  return out;
}

TEST(Iq3sModel, PerplexityEqualsLlamaPerplexity) {
  int checked = 0;
  for (const Row& r : Reference()) {
    if (r.kind != "ppl") continue;
    const std::string out = RunCommand(std::string(LLMTK_BINDIR) + "/llmtk-ppl -m " + kModel + " -f " +
                                       LLMTK_TESTDATA + "/ppl/stories_selfgen.txt -c " + r.ctx + " --threads 2 --quiet");
    const size_t at = out.find("PPL = ");
    ASSERT_NE(at, std::string::npos) << out;
    EXPECT_EQ(out.substr(at, out.find('\n', at) - at), r.value) << "-c " << r.ctx;
    ++checked;
  }
  EXPECT_EQ(checked, 2);
}

TEST(Iq3sModel, GreedyIdsEqualLlamaCli) {
  int checked = 0;
  for (const Row& r : Reference()) {
    if (r.kind != "greedy") continue;
    std::vector<int32_t> want;
    for (absl::string_view s : absl::StrSplit(r.value, ' ')) {
      int32_t id;
      ASSERT_TRUE(absl::SimpleAtoi(s, &id)) << r.value;
      want.push_back(id);
    }
    ASSERT_EQ(want.size(), 5u + 64u);  // BOS + "Once upon a time", then 64 generated
    auto model = Model::Load(kModel);
    ASSERT_TRUE(model.ok()) << model.status();
    SessionOptions so;
    so.n_ctx = std::stoi(r.ctx);
    so.threads = 2;
    auto session = Session::Create(**model, so);
    ASSERT_TRUE(session.ok()) << session.status();
    std::vector<int32_t> got(want.begin(), want.begin() + 5);
    std::vector<float> logits;
    ASSERT_TRUE((*session)->Eval(got, LogitsMode::kLast, &logits).ok());
    while (got.size() < want.size()) {
      const int32_t next = static_cast<int32_t>(std::max_element(logits.begin(), logits.end()) - logits.begin());
      got.push_back(next);
      ASSERT_TRUE((*session)->Eval({&got.back(), 1}, LogitsMode::kLast, &logits).ok());
    }
    EXPECT_EQ(got, want);
    ++checked;
  }
  EXPECT_EQ(checked, 1);
}

}  // namespace
}  // namespace llmtk
