// Files with IQ2_XS and IQ2_S tensors (llama-quantize --imatrix outputs of
// random-llama-256) generate the ids llama.cpp c392e50 does: 64 greedy ids
// after a 16-id prompt, one token per step (testdata/run/greedy-iq2s.tsv,
// from scripts/reference/greedy_ids.c). Their logits are checked in
// model_test's ReferenceLogits, their perplexity in tests/cli/ppl/iq2s-llamacpp.
#include <algorithm>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/str_split.h"
#include "gtest/gtest.h"
#include "lib/model/model.h"
#include "lib/model/session.h"

namespace llmtk {
namespace {

const std::string kRun = std::string(LLMTK_TESTDATA) + "/run/";

std::vector<int32_t> Ids(const std::string& text) {
  std::vector<int32_t> ids;
  std::istringstream s(text);
  for (int32_t v; s >> v;) ids.push_back(v);
  return ids;
}

TEST(ModelIq2s, GreedyIdsEqualLlamaCpp) {
  std::ifstream in(kRun + "greedy-iq2s.tsv");
  std::string line;
  std::getline(in, line);  // what made the file
  std::getline(in, line);
  ASSERT_EQ(line.rfind("# ", 0), 0u);
  const std::vector<int32_t> prompt = Ids(line.substr(2));
  ASSERT_EQ(prompt.size(), 16u);
  int files = 0;
  while (std::getline(in, line)) {
    const std::vector<std::string> f = absl::StrSplit(line, '\t');
    ASSERT_EQ(f.size(), 2u) << line;
    const std::vector<int32_t> want = Ids(f[1]);
    ASSERT_EQ(want.size(), 64u);
    auto model = Model::Load(kRun + f[0]);
    ASSERT_TRUE(model.ok()) << model.status();
    SessionOptions so;
    so.n_ctx = 80;
    so.threads = 2;
    auto session = Session::Create(**model, so);
    ASSERT_TRUE(session.ok()) << session.status();
    std::vector<float> logits;
    ASSERT_TRUE((*session)->Eval(prompt, LogitsMode::kLast, &logits).ok());
    std::vector<int32_t> got;
    for (int i = 0; i < 64; ++i) {
      const auto next = static_cast<int32_t>(std::max_element(logits.begin(), logits.end()) - logits.begin());
      got.push_back(next);
      ASSERT_TRUE((*session)->Eval({next}, LogitsMode::kLast, &logits).ok());
    }
    EXPECT_EQ(got, want) << f[0];
    ++files;
  }
  EXPECT_EQ(files, 2);
}

}  // namespace
}  // namespace llmtk
