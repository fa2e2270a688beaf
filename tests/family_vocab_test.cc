// The tokenizers Gemma, Phi-3 and GLM-4 GGUF files ship, through both doors
// text comes in by: llmtk-tok's library (Tokenizer::FromGguf) and the
// runner's vocabulary (Vocab::FromGguf, what llmtk-run and llmtk-ppl encode
// prompts with). Every case of llama.cpp's test inputs must give llama.cpp's
// ids:
// - Phi-3: its Llama (SentencePiece BPE) vocabulary, ggml-vocab-phi-3.gguf,
//   against llama.cpp's vectors (made with HF tokenizers), and chat markup
//   with its control tokens against c392e50's llama-tokenize
//   (phi-3-special.out).
// - Gemma: SentencePiece BPE without the space prefix
//   (tokenizer.ggml.add_space_prefix = false, as Gemma's GGUF files say; its
//   vocabulary is not redistributable here), on llama-spm's vocabulary so
//   relabelled, against llama.cpp c392e50's llama-tokenize
//   (llama-spm-no-space-prefix.out).
// - GLM-4: byte-level BPE with the chatglm-bpe pre-tokenizer on falcon's
//   vocabulary so relabelled, against llama-tokenize
//   (chatglm-bpe-falcon-vocab.out; BOS rules included, as llama-cli encodes).
#include <unistd.h>

#include <filesystem>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "gtest/gtest.h"
#include "lib/base/io.h"
#include "lib/formats/gguf.h"
#include "lib/formats/gguf_keys.h"
#include "lib/formats/gguf_writer.h"
#include "lib/model/vocab.h"
#include "lib/tokenizer/tokenizer.h"

namespace llmtk {
namespace {

std::string Tok(const std::string& rel) { return std::string(LLMTK_TESTDATA) + "/tok/" + rel; }

std::vector<std::string> Lines(const std::string& path, const char* sep) {
  auto text = ReadFileToString(path);
  EXPECT_TRUE(text.ok()) << text.status();
  std::vector<std::string> out = absl::StrSplit(*text, sep);
  if (!out.empty() && out.back().empty()) out.pop_back();
  return out;
}

std::string Join(const std::vector<uint32_t>& ids) {
  std::string s;
  for (uint32_t id : ids) absl::StrAppend(&s, " ", id);
  return s;
}

// A vocabulary file from one of testdata's, with metadata changed.
std::string Relabelled(const std::string& zst, const std::string& name,
                       const std::function<void(GgufMetadata*)>& change) {
  auto bytes = ReadFileToString(Tok(zst));
  EXPECT_TRUE(bytes.ok()) << bytes.status();
  auto f = GgufFile::FromBuffer(*bytes, name);
  EXPECT_TRUE(f.ok()) << f.status();
  GgufMetadata md;
  md.CopyFrom(**f);
  change(&md);
  const std::string path = testing::TempDir() + "/" + name + "-" + std::to_string(::getpid()) + ".gguf";
  EXPECT_TRUE(WriteGguf(path, md, {}, [](size_t, uint8_t*, size_t) { return absl::OkStatus(); }).ok());
  return path;
}

// Runs `inputs` through both the library's tokenizer and the runner's
// vocabulary of the GGUF at `path`.
void Check(const std::string& path, const std::string& inputs, const std::string& expected, bool add_special,
           bool parse_special = false) {
  const std::vector<std::string> in = Lines(Tok(inputs), "\n__ggml_vocab_test__\n");
  std::vector<std::string> want = Lines(Tok(expected), "\n");
  ASSERT_EQ(in.size(), want.size());
  auto file = GgufFile::Open(path);
  ASSERT_TRUE(file.ok()) << file.status();
  auto tok = Tokenizer::FromGguf(**file);
  ASSERT_TRUE(tok.ok()) << tok.status();
  auto vocab = Vocab::FromGguf(**file);
  ASSERT_TRUE(vocab.ok()) << vocab.status();
  int differ = 0;
  for (size_t i = 0; i < in.size(); ++i) {
    while (!want[i].empty() && want[i].back() == ' ') want[i].pop_back();
    std::vector<uint32_t> ids;
    ASSERT_TRUE((*tok)->Encode(in[i], add_special, &ids, parse_special).ok());
    auto run = vocab->Encode(in[i], add_special, parse_special);
    ASSERT_TRUE(run.ok()) << run.status();
    const std::vector<uint32_t> run_ids(run->begin(), run->end());
    if (Join(ids) != want[i] || Join(run_ids) != want[i]) {
      ++differ;
      ADD_FAILURE() << path << " case " << i << " [" << in[i] << "]\n  want:" << want[i] << "\n  tok: " << Join(ids)
                    << "\n  run: " << Join(run_ids);
    }
  }
  EXPECT_EQ(differ, 0);
}

TEST(FamilyVocab, Phi3LlamaTokenizer) {
  const std::string path = Relabelled("ggml-vocab-phi-3.gguf.zst", "phi-3", [](GgufMetadata*) {});
  Check(path, "ggml-vocab-phi-3.gguf.inp", "ggml-vocab-phi-3.gguf.out", /*add_special=*/false);
  std::filesystem::remove(path);
}

// Chat markup with control tokens parsed (llama-cli's prompts): llama.cpp
// gives the special tokens of a model named Phi-3 (general.name "Phi3"
// here) rstrip, ASCII whitespace only; not <unk>, <s>, <|endoftext|>.
TEST(FamilyVocab, Phi3SpecialTokensStripTheWhitespaceAfter) {
  const std::string path = Relabelled("ggml-vocab-phi-3.gguf.zst", "phi-3-special", [](GgufMetadata*) {});
  Check(path, "phi-3-special.inp", "phi-3-special.out", /*add_special=*/false, /*parse_special=*/true);
  std::filesystem::remove(path);
}

TEST(FamilyVocab, GemmaSentencePieceWithoutSpacePrefix) {
  const std::string path = Relabelled("ggml-vocab-llama-spm.gguf.zst", "gemma-style", [](GgufMetadata* md) {
    md->SetBool(GgufKeyName(GgufKey::kTokenizerAddSpacePrefix), false);
  });
  Check(path, "ggml-vocab-llama-spm.gguf.inp", "llama-spm-no-space-prefix.out", /*add_special=*/false);
  std::filesystem::remove(path);
}

TEST(FamilyVocab, Glm4ChatGlmBpe) {
  const std::string path = Relabelled("ggml-vocab-falcon.gguf.zst", "chatglm-bpe", [](GgufMetadata* md) {
    md->SetString(GgufKeyName(GgufKey::kTokenizerPre), "chatglm-bpe");
    md->Remove(GgufKeyName(GgufKey::kTokenizerBosId));
  });
  Check(path, "ggml-vocab-llama-bpe.gguf.inp", "chatglm-bpe-falcon-vocab.out", /*add_special=*/true);
  std::filesystem::remove(path);
}

}  // namespace
}  // namespace llmtk
