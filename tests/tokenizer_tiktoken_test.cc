// tiktoken rank files: ids against the npm `tiktoken` package (1.0.22), on a
// tiny hand-made rank file and on Llama 3's ranks (rebuilt from its
// tokenizer.json, whose vocabulary is original/tokenizer.model's), and the
// errors for corrupt files.
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "gtest/gtest.h"
#include "simdjson.h"
#include "lib/base/io.h"
#include "lib/tokenizer/byte_level.h"
#include "lib/tokenizer/tokenizer.h"

namespace llmtk {
namespace {

const std::string kDir = std::string(LLMTK_TESTDATA) + "/tok/";
constexpr std::string_view kGpt2 =
    "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+";

std::vector<uint32_t> Ids(const Tokenizer& t, std::string_view text) {
  std::vector<uint32_t> ids;
  EXPECT_TRUE(t.Encode(text, false, &ids).ok());
  return ids;
}

std::string Base64(std::string_view s) {
  static const char* k = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  for (size_t i = 0; i < s.size(); i += 3) {
    uint32_t n = static_cast<uint8_t>(s[i]) << 16;
    if (i + 1 < s.size()) n |= static_cast<uint8_t>(s[i + 1]) << 8;
    if (i + 2 < s.size()) n |= static_cast<uint8_t>(s[i + 2]);
    out += k[n >> 18];
    out += k[(n >> 12) & 63];
    out += i + 1 < s.size() ? k[(n >> 6) & 63] : '=';
    out += i + 2 < s.size() ? k[n & 63] : '=';
  }
  return out;
}

// The 256 single bytes, ranks 0..255, as every valid file needs.
std::string ByteRanks() {
  std::string f;
  for (int b = 0; b < 256; ++b) f += absl::StrCat(Base64(std::string(1, static_cast<char>(b))), " ", b, "\n");
  return f;
}

TEST(Tiktoken, TinyRankFileMatchesNpmTiktoken) {
  auto bytes = ReadFileToString(kDir + "tiny.tiktoken");
  ASSERT_TRUE(bytes.ok());
  ASSERT_TRUE(LooksLikeTiktoken(*bytes));
  auto tok = Tokenizer::FromTiktoken(*bytes, "tiny.tiktoken", kGpt2);
  ASSERT_TRUE(tok.ok()) << tok.status();
  EXPECT_EQ((*tok)->vocab_size(), 266u);
  // Expected ids: npm tiktoken 1.0.22, new Tiktoken(ranks, {}, GPT-2's pattern).
  EXPECT_EQ(Ids(**tok, "abc"), (std::vector<uint32_t>{258}));
  EXPECT_EQ(Ids(**tok, "abcd"), (std::vector<uint32_t>{258, 100}));
  // "xyz" is a token with no two-token split: only the whole-piece rule finds it.
  EXPECT_EQ(Ids(**tok, "xyz"), (std::vector<uint32_t>{259}));
  EXPECT_EQ(Ids(**tok, "xyzw"), (std::vector<uint32_t>{120, 121, 122, 119}));
  EXPECT_EQ(Ids(**tok, "cccc"), (std::vector<uint32_t>{262, 262}));
  EXPECT_EQ(Ids(**tok, "ccccc"), (std::vector<uint32_t>{262, 263}));
  // " abc": "ab" (256) merges before " a" (260), then "abc" (258) before " ab" (261).
  EXPECT_EQ(Ids(**tok, "a abc ab \xC3\xA9t\xC3\xA9"), (std::vector<uint32_t>{97, 32, 258, 261, 265}));
  EXPECT_EQ(Ids(**tok, "bcab xyz\n\n  \xC3\xA9t\xC3\xA9"),
            (std::vector<uint32_t>{257, 256, 32, 120, 121, 122, 10, 10, 32, 265}));
  std::vector<uint32_t> ids = Ids(**tok, "a abc ab \xC3\xA9t\xC3\xA9");
  auto text = (*tok)->Decode(ids, false);
  ASSERT_TRUE(text.ok());
  EXPECT_EQ(*text, "a abc ab \xC3\xA9t\xC3\xA9");
  // Byte-level spelling (" été" as "ĠÃ©tÃ©"), as HF's conversion of tiktoken files writes it.
  EXPECT_EQ((*tok)->IdToToken(265), "\xC4\xA0\xC3\x83\xC2\xA9t\xC3\x83\xC2\xA9");
}

TEST(Tiktoken, Llama3RanksMatchNpmTiktokenOnGoldenDocs) {
  auto json = Tokenizer::Load(kDir + "llama3-tokenizer.json.zst");
  ASSERT_TRUE(json.ok()) << json.status();
  std::string ranks;
  for (uint32_t id = 0; id < 128000; ++id) {
    std::string b;
    ASSERT_TRUE(ByteLevelToBytes((*json)->IdToToken(id), &b)) << id;
    absl::StrAppend(&ranks, Base64(b), " ", id, "\n");
  }
  auto tok = Tokenizer::FromTiktoken(ranks, "llama3.tiktoken");  // chosen by its 128000 ranks
  ASSERT_TRUE(tok.ok()) << tok.status();
  EXPECT_EQ((*tok)->parts().description, "tiktoken llama3 (byte-level BPE by rank, 128000 ranks)");
  EXPECT_EQ((*tok)->vocab_size(), 128256u);
  EXPECT_EQ((*tok)->TokenToId("<|eot_id|>"), 128009u);
  EXPECT_EQ((*tok)->TokenToId("<|reserved_special_token_250|>"), 128255u);
  auto docs = ReadFileToString(kDir + "golden-docs.jsonl");
  auto want = ReadFileToString(kDir + "golden-tiktoken-llama3.ids.zst");  // scripts/tiktoken-ref.js encode llama3
  ASSERT_TRUE(docs.ok() && want.ok());
  std::vector<std::string> lines = absl::StrSplit(*want, '\n');
  size_t n = 0;
  simdjson::dom::parser parser;
  for (absl::string_view line : absl::StrSplit(*docs, '\n')) {
    if (line.empty()) continue;
    simdjson::padded_string p(line.data(), line.size());
    std::string_view text;
    ASSERT_EQ(parser.parse(p)["text"].get_string().get(text), simdjson::SUCCESS);
    std::string got;
    for (uint32_t id : Ids(**tok, text)) absl::StrAppend(&got, got.empty() ? "" : " ", id);
    ASSERT_LT(n, lines.size());
    EXPECT_EQ(got, lines[n]) << "document " << n + 1;
    ++n;
  }
  EXPECT_EQ(n, 310u);
}

std::string LoadError(const std::string& file, std::string_view pattern = "x") {
  auto tok = Tokenizer::FromTiktoken(file, "r.tiktoken", pattern);
  return tok.ok() ? "ok" : std::string(tok.status().message());
}

TEST(Tiktoken, CorruptRankFilesNameTheLine) {
  const std::string kHint = " (a tiktoken rank file has one \"base64(token) rank\" line per token)";
  EXPECT_EQ(LoadError(ByteRanks() + "YWJj 256\n"), "ok");
  EXPECT_EQ(LoadError(ByteRanks() + "YW*j 256\n"), "r.tiktoken:257: \"YW*j\" is not valid base64" + kHint);
  EXPECT_EQ(LoadError(ByteRanks() + "YWJ 256\n"), "r.tiktoken:257: \"YWJ\" is not valid base64" + kHint);
  EXPECT_EQ(LoadError(ByteRanks() + "YWJj 255\n"),
            "r.tiktoken:257: rank 255 repeats or goes back (expected 256: ranks run 0, 1, 2, ... one per line)" + kHint);
  EXPECT_EQ(LoadError(ByteRanks() + "YWJj 258\n"),
            "r.tiktoken:257: rank 258 leaves a gap (expected 256: ranks run 0, 1, 2, ... one per line)" + kHint);
  EXPECT_EQ(LoadError(ByteRanks() + "YWJj 256\nYWJj 257\n"),
            "r.tiktoken:258: token of rank 257 is the same bytes as rank 256" + kHint);
  EXPECT_EQ(LoadError(ByteRanks() + "YWJj 25x\n"), "r.tiktoken:257: rank \"25x\" is not a number" + kHint);
  EXPECT_EQ(LoadError(ByteRanks() + "YWJj  256\n"), "r.tiktoken:257: not two fields separated by one space" + kHint);
  EXPECT_EQ(LoadError("YQ== 0\n"), "r.tiktoken: no token for the single byte 0x00 (a tiktoken rank file ranks all 256 bytes)");
  EXPECT_EQ(LoadError(ByteRanks(), ""),
            "r.tiktoken: a tiktoken rank file of 256 ranks, not one whose split pattern llmtk knows by its size "
            "(cl100k_base 100256, o200k_base 199998, llama3 128000); name it with --tiktoken-pattern "
            "cl100k_base|o200k_base|llama3|REGEX");
  EXPECT_FALSE(LooksLikeTiktoken("{\"model\": 1}\n"));
  EXPECT_FALSE(LooksLikeTiktoken("YWJj\n"));
  EXPECT_TRUE(LooksLikeTiktoken("YWJj 0\r\n"));
}

TEST(Tiktoken, NamedEncodingGivesItsSpecialTokens) {
  auto tok = Tokenizer::FromTiktoken(ByteRanks(), "r.tiktoken", "cl100k_base");
  ASSERT_TRUE(tok.ok()) << tok.status();
  EXPECT_EQ((*tok)->parts().eos_id, 100257u);
  EXPECT_EQ(Ids(**tok, "a<|endoftext|>"), (std::vector<uint32_t>{97, 100257}));
}

}  // namespace
}  // namespace llmtk
