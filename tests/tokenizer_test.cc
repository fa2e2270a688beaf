// Tokenizer library: ids and decoded text identical to HF tokenizers (golden
// files made by scripts/tok-golden from the npm `tokenizers` Rust binding),
// round trips, the heap merge loop against the plain reference, and exact
// errors on bad input.
#include "lib/tokenizer/tokenizer.h"

#include <unistd.h>

#include <filesystem>
#include <string>
#include <vector>

#include "absl/strings/str_split.h"
#include "gtest/gtest.h"
#include "lib/formats/gguf_writer.h"
#include "lib/base/io.h"
#include "simdjson.h"

namespace llmtk {
namespace {

const std::string kDir = std::string(LLMTK_TESTDATA) + "/tok/";

std::vector<std::string> Texts() {
  auto data = ReadFileToString(kDir + "golden-docs.jsonl");
  EXPECT_TRUE(data.ok());
  std::vector<std::string> out;
  simdjson::dom::parser parser;
  for (absl::string_view line : absl::StrSplit(*data, '\n')) {
    if (line.empty()) continue;
    simdjson::padded_string p(line.data(), line.size());
    std::string_view t;
    EXPECT_EQ(parser.parse(p)["text"].get_string().get(t), simdjson::SUCCESS);
    out.emplace_back(t);
  }
  return out;
}

std::vector<std::string> Lines(const std::string& path) {
  auto data = ReadFileToString(path);
  EXPECT_TRUE(data.ok()) << path;
  std::vector<std::string> out = absl::StrSplit(*data, '\n');
  if (!out.empty() && out.back().empty()) out.pop_back();
  return out;
}

std::string Join(const std::vector<uint32_t>& ids) {
  std::string s;
  for (size_t i = 0; i < ids.size(); ++i) {
    if (i) s += ' ';
    s += std::to_string(ids[i]);
  }
  return s;
}

struct Case {
  std::string name, file;
};

class GoldenTest : public ::testing::TestWithParam<Case> {};

TEST_P(GoldenTest, IdsAndDecodeMatchHf) {
  auto tok = Tokenizer::Load(kDir + GetParam().file);
  ASSERT_TRUE(tok.ok()) << tok.status();
  std::vector<std::string> texts = Texts();
  std::vector<std::string> ids = Lines(kDir + "golden-" + GetParam().name + ".ids.zst");
  std::vector<std::string> decoded = Lines(kDir + "golden-" + GetParam().name + ".decoded.zst");
  ASSERT_EQ(texts.size(), 310u);
  ASSERT_EQ(ids.size(), texts.size());
  ASSERT_EQ(decoded.size(), texts.size());
  simdjson::dom::parser parser;
  for (size_t i = 0; i < texts.size(); ++i) {
    std::vector<uint32_t> got;
    ASSERT_TRUE((*tok)->Encode(texts[i], true, &got).ok());
    EXPECT_EQ(Join(got), ids[i]) << "document " << i << ": " << texts[i].substr(0, 80);
    auto text = (*tok)->Decode(got, false);
    ASSERT_TRUE(text.ok()) << text.status();
    simdjson::padded_string p(decoded[i]);
    std::string_view want;
    ASSERT_EQ(parser.parse(p).get_string().get(want), simdjson::SUCCESS);
    EXPECT_EQ(*text, want) << "document " << i;
  }
}

INSTANTIATE_TEST_SUITE_P(Tokenizers, GoldenTest,
                         ::testing::Values(Case{"gpt2", "../quant/gpt2-tokenizer.json.zst"},
                                           Case{"llama3", "llama3-tokenizer.json.zst"},
                                           Case{"stories260K", "stories260K-tokenizer.json"}),
                         [](const auto& info) { return info.param.name; });

// Every component variant made by scripts/tok-variants: ids and decoded
// text identical to HF.
TEST(TokenizerTest, ComponentVariantsMatchHf) {
  const std::string dir = kDir + "variants/";
  std::vector<std::string> texts;
  {
    auto data = ReadFileToString(dir + "docs.jsonl");
    ASSERT_TRUE(data.ok());
    simdjson::dom::parser parser;
    for (absl::string_view line : absl::StrSplit(*data, '\n')) {
      if (line.empty()) continue;
      simdjson::padded_string p(line.data(), line.size());
      std::string_view t;
      ASSERT_EQ(parser.parse(p)["text"].get_string().get(t), simdjson::SUCCESS);
      texts.emplace_back(t);
    }
  }
  ASSERT_EQ(texts.size(), 62u);
  int variants = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    std::string name = entry.path().filename().string();
    if (name.size() < 9 || name.substr(name.size() - 9) != ".json.zst") continue;
    ++variants;
    std::string stem = name.substr(0, name.size() - 9);
    auto tok = Tokenizer::Load(entry.path().string());
    ASSERT_TRUE(tok.ok()) << stem << ": " << tok.status();
    std::vector<std::string> want = Lines(dir + stem + ".ids.zst");
    std::vector<std::string> decoded = Lines(dir + stem + ".decoded.zst");
    ASSERT_EQ(want.size(), texts.size()) << stem;
    ASSERT_EQ(decoded.size(), texts.size()) << stem;
    simdjson::dom::parser parser;
    for (size_t i = 0; i < texts.size(); ++i) {
      std::vector<uint32_t> got;
      ASSERT_TRUE((*tok)->Encode(texts[i], true, &got).ok());
      EXPECT_EQ(Join(got), want[i]) << stem << " document " << i << ": " << texts[i].substr(0, 60);
      auto text = (*tok)->Decode(got, false);
      ASSERT_TRUE(text.ok()) << text.status();
      simdjson::padded_string p(decoded[i]);
      std::string_view hf;
      ASSERT_EQ(parser.parse(p).get_string().get(hf), simdjson::SUCCESS);
      EXPECT_EQ(*text, hf) << stem << " decode of document " << i;
    }
  }
  EXPECT_EQ(variants, 19);
}

TEST(TokenizerTest, ByteLevelRoundTripsExactly) {
  auto tok = Tokenizer::Load(kDir + "../quant/gpt2-tokenizer.json.zst");
  ASSERT_TRUE(tok.ok()) << tok.status();
  for (const std::string& t : Texts()) {
    std::vector<uint32_t> ids;
    ASSERT_TRUE((*tok)->Encode(t, false, &ids).ok());
    auto back = (*tok)->Decode(ids, false);
    ASSERT_TRUE(back.ok());
    EXPECT_EQ(*back, t);
  }
}

TEST(TokenizerTest, MergeLoopsMatchReference) {
  // Whole documents as single words: up to thousands of symbols, each loop
  // on every one (EncodeWord itself takes the scan below 257 symbols).
  for (const char* file : {"llama3-tokenizer.json.zst", "stories260K-tokenizer.json"}) {
    auto tok = Tokenizer::Load(kDir + file);
    ASSERT_TRUE(tok.ok()) << tok.status();
    size_t checked = 0;
    for (const std::string& t : Texts()) {
      std::vector<uint32_t> fast, ref, scan, heap;
      (*tok)->bpe()->EncodeWord(t, &fast);
      (*tok)->bpe()->EncodeWordReference(t, &ref);
      (*tok)->bpe()->EncodeWordUncached(t, BpeMergeLoop::kScan, &scan);
      (*tok)->bpe()->EncodeWordUncached(t, BpeMergeLoop::kHeap, &heap);
      ASSERT_EQ(fast, ref) << file << ": " << t.substr(0, 60);
      ASSERT_EQ(scan, ref) << file << ": " << t.substr(0, 60);
      ASSERT_EQ(heap, ref) << file << ": " << t.substr(0, 60);
      checked += t.size() > 100;
    }
    EXPECT_GT(checked, 100u);
  }
}

TEST(TokenizerTest, ByteFallbackAndSpecials) {
  auto tok = Tokenizer::Load(kDir + "stories260K-tokenizer.json");
  ASSERT_TRUE(tok.ok());
  std::vector<uint32_t> ids;
  ASSERT_TRUE((*tok)->Encode("\xF0\x9F\x99\x82", false, &ids).ok());  // 🙂: not in a 512 vocab
  ASSERT_EQ(ids.size(), 5u);  // ▁ + four <0xXX>
  for (size_t i = 1; i < 5; ++i) EXPECT_TRUE((*tok)->IsByteFallback(ids[i]));
  EXPECT_EQ((*tok)->IdToToken(ids[1]), "<0xF0>");
  EXPECT_EQ((*tok)->parts().post.prefix, std::vector<uint32_t>{1});
  auto s = (*tok)->Decode(std::vector<uint32_t>{1, 0, 2}, true);
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(*s, "");
}

// ---- bad input -------------------------------------------------------------

absl::Status LoadJson(std::string_view json) { return Tokenizer::FromJson(json, "t.json").status(); }

constexpr std::string_view kMinimal =
    R"({"model": {"type": "BPE", "vocab": {"a": 0, "b": 1, "ab": 2}, "merges": ["a b"]}, "pre_tokenizer": PRE})";

std::string WithPre(std::string_view pre) {
  std::string s(kMinimal);
  s.replace(s.find("PRE"), 3, pre);
  return s;
}

TEST(TokenizerErrors, CorruptJson) {
  absl::Status s = LoadJson(R"({"model": {"type": "BPE", "vocab": {"a": 0)");
  EXPECT_EQ(s.code(), absl::StatusCode::kDataLoss);
  EXPECT_EQ(s.message(), "t.json: not valid JSON (The JSON document has an improper structure: missing or superfluous commas, braces, missing keys, etc.)");
}

TEST(TokenizerErrors, UnknownComponentsAreUnimplemented) {
  absl::Status s = LoadJson(R"({"model": {"type": "WordLevel", "vocab": {}}})");
  EXPECT_EQ(s.code(), absl::StatusCode::kUnimplemented);
  EXPECT_EQ(s.message(), "t.json: model type \"WordLevel\" is not supported (llmtk implements BPE, Unigram and WordPiece)");
  s = LoadJson(WithPre(R"({"type": "CharDelimiterSplit", "delimiter": "x"})"));
  EXPECT_EQ(s.code(), absl::StatusCode::kUnimplemented);
  EXPECT_EQ(s.message(), "t.json: pre_tokenizer type \"CharDelimiterSplit\" is not supported by llmtk");
  s = LoadJson(WithPre(R"({"type": "Sequence", "pretokenizers": [{"type": "Digits"}, {"type": "UnicodeScripts"}]})"));
  EXPECT_EQ(s.message(), "t.json: pre_tokenizer type \"UnicodeScripts\" is not supported by llmtk");
}

TEST(TokenizerErrors, BadMergeAndRegex) {
  absl::Status s = LoadJson(R"({"model": {"type": "BPE", "vocab": {"a": 0, "b": 1}, "merges": ["a c"]}})");
  EXPECT_EQ(s.code(), absl::StatusCode::kDataLoss);
  EXPECT_EQ(s.message(), "t.json: model.merges: merge 0 (\"a c\") uses a token that is not in the vocabulary");
  s = LoadJson(WithPre(R"({"type": "Split", "pattern": {"Regex": "(ab"}, "behavior": "Isolated"})"));
  EXPECT_EQ(s.code(), absl::StatusCode::kDataLoss);
  EXPECT_EQ(s.message(), "regex pattern \"(ab\" does not compile at offset 3: missing closing parenthesis");
}

TEST(TokenizerErrors, InvalidUtf8AndOutOfRangeIds) {
  auto tok = Tokenizer::FromJson(WithPre("null"), "t.json");
  ASSERT_TRUE(tok.ok()) << tok.status();
  std::vector<uint32_t> ids;
  absl::Status s = (*tok)->Encode("ab\xC3(", false, &ids);
  EXPECT_EQ(s.code(), absl::StatusCode::kDataLoss);
  EXPECT_EQ(s.message(),
            "invalid UTF-8 at byte 2 of the text (0xC3): HF tokenizers takes only valid strings and refuses it too; "
            "repair the text (e.g. --invalid-utf8=replace) or use the model's GGUF vocabulary, which tokenizes it "
            "as llama.cpp does");
  ASSERT_TRUE((*tok)->Encode("abab", false, &ids).ok());
  EXPECT_EQ(ids, (std::vector<uint32_t>{2, 2}));
  auto d = (*tok)->Decode(std::vector<uint32_t>{2, 3}, false);
  EXPECT_EQ(d.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_EQ(d.status().message(), "token id 3 at position 1 is outside the vocabulary (size 3)");
}

// A "bert" vocabulary (WordPiece) needs its unknown token.
TEST(TokenizerErrors, GgufBertWithoutUnknownToken) {
  GgufMetadata md;
  md.SetString("tokenizer.ggml.model", "bert");
  md.SetStringArray("tokenizer.ggml.tokens", {"[PAD]", "a"});
  std::string path = ::testing::TempDir() + "/bert-" + std::to_string(getpid()) + ".gguf";
  ASSERT_TRUE(WriteGguf(path, md, {}, nullptr).ok());
  auto tok = Tokenizer::Load(path);
  std::filesystem::remove(path);
  EXPECT_EQ(tok.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_EQ(tok.status().message(),
            path + ": a \"bert\" (WordPiece) vocabulary needs tokenizer.ggml.unknown_token_id, the id of [UNK]");
}

}  // namespace
}  // namespace llmtk
