// IQ1_S and IQ1_M through the runner and llmtk-ppl against llama.cpp
// c392e50, on llama-quantize --pure --imatrix r256-c128.dat IQ1_S of
// random-llama-256 with --token-embedding-type/--output-tensor-type iq1_m
// (testdata/run/random-llama-256-imatrix-IQ1_S-iq1_m.gguf; the commands are
// in testdata/README.md): every 2-D tensor IQ1_S but token_embd and output,
// which are IQ1_M (quantized without an imatrix, as llama-quantize does).
// Its logits are checked in model_test (ReferenceLogits).
#include <algorithm>
#include <cstdio>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "lib/formats/gguf.h"
#include "lib/model/model.h"
#include "lib/model/session.h"

namespace llmtk {
namespace {

const std::string kModel = std::string(LLMTK_TESTDATA) + "/run/random-llama-256-imatrix-IQ1_S-iq1_m.gguf";

TEST(ModelIq1, FileHoldsBothTypes) {
  auto f = GgufFile::Open(kModel);
  ASSERT_TRUE(f.ok()) << f.status();
  EXPECT_EQ((*f)->FindTensor("output.weight")->type, GgmlType::kIQ1_M);
  EXPECT_EQ((*f)->FindTensor("token_embd.weight")->type, GgmlType::kIQ1_M);
  for (const char* t : {"blk.0.attn_q.weight", "blk.1.ffn_down.weight", "blk.1.attn_v.weight"}) {
    EXPECT_EQ((*f)->FindTensor(t)->type, GgmlType::kIQ1_S) << t;
  }
}

// llama-perplexity -f testdata/ppl/stories_selfgen.txt -c 128 / -c 256.
TEST(ModelIq1, PerplexityLineEqualsLlamaPerplexity) {
  const std::pair<int, const char*> want[] = {{128, "PPL = 569.0969 +/- 4.96720\n"},
                                              {256, "PPL = 562.3741 +/- 4.81262\n"}};
  for (const auto& [ctx, line] : want) {
    const std::string cmd = std::string(LLMTK_BINDIR) + "/llmtk-ppl -m " + kModel + " -f " + LLMTK_TESTDATA +
                            "/ppl/stories_selfgen.txt -c " + std::to_string(ctx) + " --quiet 2>&1";
    FILE* p = popen(cmd.c_str(), "r");
    ASSERT_NE(p, nullptr);
    std::string out;
    char buf[4096];
    for (size_t k; (k = fread(buf, 1, sizeof(buf), p)) > 0;) out.append(buf, k);
    EXPECT_EQ(pclose(p), 0) << out;
    EXPECT_EQ(out.substr(0, out.find('\n') + 1), line) << "ctx " << ctx;
  }
}

// llama-cli -p "Once upon a time" -n 65 --temp 0 -c 256 (its "eval:" ids):
// BOS and the prompt, then 64 greedy ids.
TEST(ModelIq1, GreedyIdsEqualLlamaCli) {
  const std::vector<int32_t> want = {
      1,  403, 407, 261, 378, 364, 224, 224, 224, 224, 224, 132, 224, 510, 132, 132, 132, 132, 132, 132, 61, 61, 61,
      61, 61,  61,  61,  61,  61,  61,  61,  61,  61,  61,  61,  61,  61,  61,  61,  61,  61,  61,  61,  61, 61, 61,
      61, 61,  61,  61,  61,  61,  61,  61,  61,  61,  61,  61,  61,  61,  61,  61,  61,  61,  61,  61,  61, 61, 61};
  ASSERT_EQ(want.size(), 5u + 64u);
  auto model = Model::Load(kModel);
  ASSERT_TRUE(model.ok()) << model.status();
  SessionOptions so;
  so.n_ctx = 256;
  so.threads = 2;
  auto session = Session::Create(**model, so);
  ASSERT_TRUE(session.ok()) << session.status();
  std::vector<int32_t> got(want.begin(), want.begin() + 5);
  std::vector<float> logits;
  ASSERT_TRUE((*session)->Eval(got, LogitsMode::kLast, &logits).ok());
  while (got.size() < want.size()) {
    got.push_back(static_cast<int32_t>(std::max_element(logits.begin(), logits.end()) - logits.begin()));
    ASSERT_TRUE((*session)->Eval({&got.back(), 1}, LogitsMode::kLast, &logits).ok());
  }
  EXPECT_EQ(got, want);
}

}  // namespace
}  // namespace llmtk
