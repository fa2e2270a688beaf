// Perplexity through the real forward pass: a tiny GGUF model written here
// whose logits are known in closed form, and stories260K against the
// numbers llama.cpp's llama-perplexity printed.
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "absl/strings/str_split.h"
#include "gtest/gtest.h"
#include "lib/formats/gguf_writer.h"
#include "lib/model/model.h"
#include "lib/model/session.h"
#include "lib/eval/perplexity.h"

namespace llmtk {
namespace {

constexpr int kEmbd = 16, kVocab = 4;
const double kTable[kVocab][kVocab] = {
    {2.0, 0.5, -1.0, 0.0}, {0.0, 3.0, 1.0, -2.0}, {1.0, 1.0, 1.0, 1.5}, {-0.5, 0.0, 2.5, 0.25}};

// One layer whose attention and FFN weights are all zero, so the residual
// stream is the embedding: token t embeds as the unit vector e_t. After the
// final RMSNorm (weight 1) it is e_t / rms with rms = sqrt(1/16 + eps), and
// output row v holds kTable[t][v] at column t: logits(t)[v] = kTable[t][v] / rms.
std::string WriteTinyModel() {
  std::string path = (std::filesystem::temp_directory_path() / ("tiny_" + std::to_string(getpid()) + ".gguf")).string();
  GgufMetadata md;
  md.SetString("general.architecture", "llama");
  md.SetU32("llama.block_count", 1);
  md.SetU32("llama.embedding_length", kEmbd);
  md.SetU32("llama.attention.head_count", 1);
  md.SetU32("llama.feed_forward_length", kEmbd);
  md.SetU32("llama.context_length", 64);
  md.SetF32("llama.attention.layer_norm_rms_epsilon", 1e-5f);
  std::vector<GgufTensorSpec> t = {
      {"token_embd.weight", GgmlType::kF32, {kEmbd, kVocab}}, {"output_norm.weight", GgmlType::kF32, {kEmbd}},
      {"output.weight", GgmlType::kF32, {kEmbd, kVocab}},     {"blk.0.attn_norm.weight", GgmlType::kF32, {kEmbd}},
      {"blk.0.attn_q.weight", GgmlType::kF32, {kEmbd, kEmbd}}, {"blk.0.attn_k.weight", GgmlType::kF32, {kEmbd, kEmbd}},
      {"blk.0.attn_v.weight", GgmlType::kF32, {kEmbd, kEmbd}}, {"blk.0.attn_output.weight", GgmlType::kF32, {kEmbd, kEmbd}},
      {"blk.0.ffn_norm.weight", GgmlType::kF32, {kEmbd}},      {"blk.0.ffn_gate.weight", GgmlType::kF32, {kEmbd, kEmbd}},
      {"blk.0.ffn_up.weight", GgmlType::kF32, {kEmbd, kEmbd}}, {"blk.0.ffn_down.weight", GgmlType::kF32, {kEmbd, kEmbd}},
  };
  absl::Status s = WriteGguf(path, md, t, [&](size_t i, uint8_t* out, size_t n) {
    std::vector<float> v(n / 4, 0.f);
    const std::string& name = t[i].name;
    if (name == "token_embd.weight") {
      for (int tok = 0; tok < kVocab; ++tok) v[tok * kEmbd + tok] = 1.f;
    } else if (name == "output.weight") {
      for (int row = 0; row < kVocab; ++row)
        for (int tok = 0; tok < kVocab; ++tok) v[row * kEmbd + tok] = static_cast<float>(kTable[tok][row]);
    } else if (name.find("norm") != std::string::npos) {
      std::fill(v.begin(), v.end(), 1.f);
    }
    memcpy(out, v.data(), n);
    return absl::OkStatus();
  });
  EXPECT_TRUE(s.ok()) << s;
  return path;
}

double ExpectedNll(int32_t from, int32_t to) {
  const double rms = std::sqrt(1.0 / kEmbd + 1e-5);
  double lse = 0;
  for (int v = 0; v < kVocab; ++v) lse += std::exp(kTable[from][v] / rms);
  return -(kTable[from][to] / rms - std::log(lse));
}

TEST(PplModel, TinyModelMatchesTheClosedForm) {
  std::string path = WriteTinyModel();
  auto model = Model::Load(path);
  ASSERT_TRUE(model.ok()) << model.status();
  SessionOptions so;
  so.n_ctx = 8;
  so.threads = 2;
  auto session = Session::Create(**model, so).value();
  EvalFn eval = [&](absl::Span<const int32_t> toks, std::vector<float>* logits) {
    session->Truncate(0);
    return session->Eval(toks, LogitsMode::kAll, logits);
  };
  std::vector<int32_t> toks = {0, 1, 2, 3, 3, 2, 1, 0, 1, 1, 2, 2, 3, 0, 0, 2, 1};
  CorpusOptions co;
  co.n_ctx = 8;
  co.n_vocab = kVocab;
  co.bos = 1;  // replaces each chunk's first token; positions >= 4 are scored
  auto stats = CorpusPerplexity(eval, toks, co);
  ASSERT_TRUE(stats.ok()) << stats.status();
  double want = 0;
  int n = 0;
  for (int c = 0; c < 2; ++c)
    for (int j = 4; j < 7; ++j, ++n) want += ExpectedNll(toks[c * 8 + j], toks[c * 8 + j + 1]);
  EXPECT_EQ(stats->count, 6u);
  EXPECT_NEAR(stats->sum, want, 1e-4);
  EXPECT_NEAR(stats->Ppl(), std::exp(want / n), 1e-4);
  std::filesystem::remove(path);
}

std::string Testdata(const std::string& rel) { return std::string(LLMTK_TESTDATA) + "/" + rel; }

std::string RunPpl(const std::string& args) {
  std::string cmd = std::string(LLMTK_BINDIR) + "/llmtk-ppl " + args + " 2>&1";
  FILE* p = popen(cmd.c_str(), "r");
  std::string out;
  char buf[4096];
  for (size_t k; (k = fread(buf, 1, sizeof(buf), p)) > 0;) out.append(buf, k);
  pclose(p);
  return out;
}

// llama.cpp's llama-perplexity on stories260K (../shared perplexity.tsv):
// the same numbers to the 4 decimals it prints.
TEST(PplModel, Stories260KMatchesLlamaCpp) {
  std::ifstream tsv(Testdata("ppl/perplexity.tsv"));
  std::string line;
  std::getline(tsv, line);  // header
  int checked = 0;
  while (std::getline(tsv, line)) {
    std::vector<std::string> f = absl::StrSplit(line, '\t');
    ASSERT_EQ(f.size(), 5u) << line;
    std::string model;
    for (const char* dir : {"run/", "quant/"}) {
      if (std::filesystem::exists(Testdata(dir + f[0]))) model = Testdata(dir + f[0]);
    }
    if (model.empty()) continue;  // Q6_K is not copied: it equals q8_0 here
    std::string got = RunPpl("-m " + model + " -f " + Testdata("ppl/" + f[1]) + " -c " + f[2] + " --quiet");
    std::string want = "PPL = " + f[3] + " +/- " + f[4] + "\n";
    // The token perplexity line is llama.cpp's; the per-byte line follows it.
    const size_t eol = got.find('\n');
    EXPECT_EQ(got.substr(0, eol + 1), want) << line;
    EXPECT_EQ(got.substr(eol + 1, 12), "bits/byte = ") << got;
    ++checked;
  }
  EXPECT_EQ(checked, 16);
}

TEST(PplModel, PerDocumentEqualsCorpusSlidingWindow) {
  std::string text_path = Testdata("ppl/stories_selfgen.txt");
  std::ifstream in(text_path);
  std::stringstream ss;
  ss << in.rdbuf();
  std::string text = ss.str().substr(0, 3000);
  std::string dir = std::filesystem::temp_directory_path() / ("ppl_doc_" + std::to_string(getpid()));
  std::filesystem::create_directories(dir);
  std::ofstream(dir + "/t.txt") << text;
  std::string json = "{\"id\":7,\"text\":\"";
  for (char c : text) {
    if (c == '\n') json += "\\n";
    else if (c == '"') json += "\\\"";
    else json += c;
  }
  json += "\"}\n{\"id\":8,\"text\":\"\"}\n";
  std::ofstream(dir + "/d.jsonl") << json;
  std::string model = Testdata("run/stories260K-hf-f32.gguf");
  std::string corpus = RunPpl("-m " + model + " -f " + dir + "/t.txt -c 128 --stride 64 --json --quiet");
  std::string docs = RunPpl("-m " + model + " --jsonl " + dir + "/d.jsonl -c 128 --stride 64 --quiet");
  auto field = [](const std::string& s, const std::string& key) {
    size_t p = s.find("\"" + key + "\":");
    return p == std::string::npos ? std::string("missing") : s.substr(p + key.size() + 3, s.find_first_of(",}", p) - p - key.size() - 3);
  };
  EXPECT_EQ(field(corpus, "nll"), field(docs, "nll")) << corpus << "\n" << docs;
  EXPECT_NE(field(corpus, "nll"), "missing");
  EXPECT_NE(docs.find("{\"id\":8,\"text\":\"\",\"ppl\":null,\"nll\":null,\"tokens\":0,\"bytes\":0,\"words\":0,"
                      "\"bits_per_byte\":null,\"byte_perplexity\":null,\"word_perplexity\":null}\n"),
            std::string::npos)
      << docs;
  // Every token after BOS is scored in both: the whole text's bytes and
  // words, the same per-byte figures.
  for (const char* key : {"bytes", "words", "bits_per_byte", "byte_perplexity", "word_perplexity"}) {
    EXPECT_EQ(field(corpus, key), field(docs, key)) << key;
    EXPECT_NE(field(corpus, key), "missing") << key;
  }
  EXPECT_EQ(field(corpus, "bytes"), std::to_string(text.size()));
  std::filesystem::remove_all(dir);
}

TEST(PplModel, KlDivergenceOfAModelWithItselfIsZero) {
  std::string dir = std::filesystem::temp_directory_path() / ("ppl_kl_" + std::to_string(getpid()));
  std::filesystem::create_directories(dir);
  std::string model = Testdata("run/stories260K-hf-Q4_K_M.gguf");
  std::string text = Testdata("ppl/stories_selfgen.txt");
  std::string save = RunPpl("-m " + model + " -f " + text + " -c 128 --chunks 4 --quiet --save-logits " + dir + "/base.bin");
  EXPECT_EQ(save.substr(0, 6), "PPL = ") << save;
  std::string kl = RunPpl("-m " + model + " -f " + text + " -c 128 --chunks 4 --json --quiet --kl-divergence " + dir + "/base.bin");
  EXPECT_NE(kl.find("\"mean\":0,"), std::string::npos) << kl;
  EXPECT_NE(kl.find("\"same_top1\":1,"), std::string::npos) << kl;
  EXPECT_NE(kl.find("\"delta_ppl\":0}"), std::string::npos) << kl;
  // A different text is refused.
  std::string other = RunPpl("-m " + model + " -f " + Testdata("ppl/en_heldout_40k.txt") +
                          " -c 128 --chunks 4 --quiet --kl-divergence " + dir + "/base.bin");
  EXPECT_EQ(other, "llmtk-ppl: error: the logits file was made for a different text, " + dir +
                       "/base.bin; use the same -f input\n");
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace llmtk
