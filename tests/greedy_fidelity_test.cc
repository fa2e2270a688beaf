// Generation as llama.cpp c392e50 computes it: the prompt in one batch (only
// its last position's logits wanted), then one token per step, each step a
// one-token batch that ggml multiplies through vec_dot, not tinyBLAS. For
// stories260K in F32, F16, BF16, Q8_0 and Q4_K_M, the 100 greedy ids equal
// llama.cpp's and so do all 100 logits rows, bit for bit (their SHA-256;
// testdata/run/greedy-stories260K.tsv, from scripts/reference/greedy_logits.c).
#include <algorithm>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/str_split.h"
#include "gtest/gtest.h"
#include "lib/base/sha256.h"
#include "lib/model/model.h"
#include "lib/model/session.h"

namespace llmtk {
namespace {

const std::string kTestdata = std::string(LLMTK_TESTDATA) + "/";

std::vector<int32_t> Ids(const std::string& text) {
  std::vector<int32_t> ids;
  std::istringstream s(text);
  for (int32_t v; s >> v;) ids.push_back(v);
  return ids;
}

TEST(GreedyFidelity, IdsAndLogitsEqualLlamaCpp) {
  std::ifstream in(kTestdata + "run/greedy-stories260K.tsv");
  std::string line;
  std::getline(in, line);  // what made the file
  std::getline(in, line);
  std::getline(in, line);
  ASSERT_EQ(line.rfind("# ", 0), 0u);
  const std::vector<int32_t> prompt = Ids(line.substr(2));
  ASSERT_EQ(prompt.size(), 25u);
  int files = 0;
  while (std::getline(in, line)) {
    const std::vector<std::string> f = absl::StrSplit(line, '\t');
    ASSERT_EQ(f.size(), 3u) << line;
    const std::vector<int32_t> want = Ids(f[1]);
    ASSERT_EQ(want.size(), 100u);
    auto model = Model::Load(kTestdata + f[0]);
    ASSERT_TRUE(model.ok()) << model.status();
    SessionOptions so;
    so.n_ctx = 512;
    so.threads = 2;
    auto session = Session::Create(**model, so);
    ASSERT_TRUE(session.ok()) << session.status();
    std::vector<float> logits;
    ASSERT_TRUE((*session)->Eval(prompt, LogitsMode::kLast, &logits).ok());
    std::vector<int32_t> got;
    Sha256 sha;
    for (int i = 0; i < 100; ++i) {
      sha.Update(logits.data(), logits.size() * sizeof(float));
      const auto next = static_cast<int32_t>(std::max_element(logits.begin(), logits.end()) - logits.begin());
      got.push_back(next);
      ASSERT_TRUE((*session)->Eval({next}, LogitsMode::kLast, &logits).ok());
    }
    EXPECT_EQ(got, want) << f[0];
    EXPECT_EQ(sha.FinishHex(), f[2]) << f[0] << ": the logits differ from llama.cpp's";
    ++files;
  }
  EXPECT_EQ(files, 5);
}

}  // namespace
}  // namespace llmtk
