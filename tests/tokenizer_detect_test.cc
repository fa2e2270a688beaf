// Tokenizer::Load telling tokenizer files apart by content: a
// tokenizer.json, a SentencePiece .model, a tiktoken rank file, a WordPiece
// vocab.txt (uncased by default, as `llmtk-tok convert`; --cased) and a GGUF,
// each also under a name that says nothing; anything else is an error naming
// what was expected.
#include <unistd.h>

#include <fstream>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "lib/base/io.h"
#include "lib/tokenizer/bert_vocab.h"
#include "lib/tokenizer/tokenizer.h"

namespace llmtk {
namespace {

const std::string kTok = std::string(LLMTK_TESTDATA) + "/tok/";

// `bytes` written under a name that tells nothing of the format (and is
// this process's own: ctest -j runs the parameterized cases side by side).
std::string Anonymous(const std::string& bytes, const std::string& name) {
  const std::string path = testing::TempDir() + "/" + name + "." + std::to_string(getpid());
  std::ofstream(path, std::ios::binary) << bytes;
  return path;
}

std::vector<uint32_t> Ids(const Tokenizer& tok, std::string_view text) {
  std::vector<uint32_t> ids;
  EXPECT_TRUE(tok.Encode(text, false, &ids).ok());
  return ids;
}

struct Kind {
  std::string file;         // in testdata/tok
  std::string pattern;      // --tiktoken-pattern
  std::string format;       // TokenizerParts::format
  std::string description;  // TokenizerParts::description starts so
};

class DetectTest : public testing::TestWithParam<Kind> {};

TEST_P(DetectTest, ByContentWhateverTheName) {
  auto bytes = ReadFileToString(kTok + GetParam().file);  // .zst files come decompressed
  ASSERT_TRUE(bytes.ok()) << bytes.status();
  for (const std::string& path : {kTok + GetParam().file, Anonymous(*bytes, "tokenizer-file")}) {
    auto tok = Tokenizer::Load(path, GetParam().pattern);
    ASSERT_TRUE(tok.ok()) << path << ": " << tok.status();
    EXPECT_EQ((*tok)->parts().format, GetParam().format) << path;
    EXPECT_TRUE((*tok)->parts().description.starts_with(GetParam().description)) << (*tok)->parts().description;
    EXPECT_FALSE(Ids(**tok, "Hello world").empty());
  }
}

INSTANTIATE_TEST_SUITE_P(
    Kinds, DetectTest,
    testing::Values(Kind{"stories260K-tokenizer.json", "", "tokenizer.json", "BPE"},
                    Kind{"spm/uni.model", "", "sentencepiece", "SentencePiece Unigram"},
                    Kind{"tiny.tiktoken", " ?\\p{L}+| ?[^\\s\\p{L}]+|\\s+", "tiktoken", "tiktoken (pattern given)"},
                    Kind{"bert-base-uncased-vocab.txt.zst", "", "tokenizer.json", "WordPiece, uncased"},
                    Kind{"ggml-vocab-bert-bge.gguf.zst", "", "gguf", "gguf bert (WordPiece, llama.cpp WPM)"}));

TEST(Detect, VocabTxtUncasedByDefaultCasedOnRequest) {
  auto bytes = ReadFileToString(kTok + "bert-base-uncased-vocab.txt.zst");
  ASSERT_TRUE(bytes.ok()) << bytes.status();
  const std::string path = Anonymous(*bytes, "vocab.txt");
  auto uncased = Tokenizer::Load(path);
  ASSERT_TRUE(uncased.ok()) << uncased.status();
  // bert-base-uncased: "hello" 7592, "world" 2088, "cafe" 7668.
  EXPECT_EQ(Ids(**uncased, "Hello World Café"), (std::vector<uint32_t>{7592, 2088, 7668}));
  TokenizerFileOptions o;
  o.cased = true;
  auto cased = Tokenizer::Load(path, o);
  ASSERT_TRUE(cased.ok()) << cased.status();
  BertVocabOptions bo;
  bo.lowercase = false;
  auto json = BertTokenizerJsonFromVocab(*bytes, path, bo);
  ASSERT_TRUE(json.ok()) << json.status();
  auto converted = Tokenizer::FromJson(*json, path);
  ASSERT_TRUE(converted.ok()) << converted.status();
  const std::string text = "Hello World Café";
  EXPECT_EQ(Ids(**cased, text), Ids(**converted, text));
  EXPECT_NE(Ids(**cased, text), Ids(**uncased, text));
}

TEST(Detect, RankFileAndVocabTxtApart) {
  auto vocab = ReadFileToString(kTok + "bert-base-uncased-vocab.txt.zst");
  auto ranks = ReadFileToString(kTok + "tiny.tiktoken");
  ASSERT_TRUE(vocab.ok() && ranks.ok());
  EXPECT_TRUE(LooksLikeWordPieceVocab(*vocab));
  EXPECT_FALSE(LooksLikeTiktoken(*vocab));
  EXPECT_TRUE(LooksLikeTiktoken(*ranks));
  EXPECT_FALSE(LooksLikeWordPieceVocab(*ranks));
  EXPECT_TRUE(LooksLikeWordPieceVocab("[PAD]\r\n[UNK]\r\n[CLS]\r\n[SEP]\r\n"));
  EXPECT_FALSE(LooksLikeWordPieceVocab("[PAD]\n[UNK]\n[CLS]\n"));  // no [SEP]
  EXPECT_FALSE(LooksLikeWordPieceVocab("x[UNK]\n[CLS]\n[SEP]\n"));
  EXPECT_FALSE(LooksLikeWordPieceVocab("{\"a\": \"\n[UNK]\n[CLS]\n[SEP]\n\"}"));
}

TEST(Detect, CrlfVocabTxtNamesTheLineEnds) {
  const std::string path = Anonymous("[PAD]\r\n[UNK]\r\n[CLS]\r\n[SEP]\r\nhello\r\n", "crlf-vocab");
  auto tok = Tokenizer::Load(path);
  ASSERT_FALSE(tok.ok());
  EXPECT_NE(tok.status().message().find("CRLF"), std::string_view::npos) << tok.status();
}

TEST(Detect, UnknownFileNamesWhatWasExpected) {
  const std::string expected =
      ": not a tokenizer file llmtk knows; expected a tokenizer.json (a JSON object), a SentencePiece .model "
      "(protobuf), a tiktoken rank file (\"base64 rank\" lines), a WordPiece vocab.txt (a token a line, with [UNK], "
      "[CLS] and [SEP]) or a GGUF file";
  for (const std::string& bytes : {std::string("hello world\nsecond line\n"), std::string(""),
                                   std::string("[PAD]\n[UNK]\nhello\n")}) {
    const std::string path = Anonymous(bytes, "mystery.txt");
    auto tok = Tokenizer::Load(path);
    ASSERT_FALSE(tok.ok()) << bytes;
    EXPECT_EQ(tok.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_EQ(tok.status().message(), path + expected);
  }
}

}  // namespace
}  // namespace llmtk
