// WordPiece (BERT) tokenizers against HF tokenizers 0.23.2 (npm `tokenizers`):
// bert-base-uncased's vocab.txt (testdata/tok/bert-base-uncased-vocab.txt.zst)
// made into tokenizer.json by BertTokenizerJsonFromVocab, uncased and cased,
// on the golden documents (ids and decode from scripts/tok-golden-wordpiece),
// edge cases (HF's answers written below), and exact errors on corrupt
// vocab.txt and tokenizer.json fields.
#include <string>
#include <string_view>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "gtest/gtest.h"
#include "lib/base/io.h"
#include "lib/tokenizer/bert_vocab.h"
#include "lib/tokenizer/tokenizer.h"
#include "simdjson.h"

namespace llmtk {
namespace {

using namespace std::string_view_literals;

const std::string kDir = std::string(LLMTK_TESTDATA) + "/tok/";

std::string Vocab() {
  auto v = ReadFileToString(kDir + "bert-base-uncased-vocab.txt.zst");
  EXPECT_TRUE(v.ok()) << v.status();
  return v.ok() ? *v : "";
}

std::string Json(bool lowercase) {
  BertVocabOptions o;
  o.lowercase = lowercase;
  auto j = BertTokenizerJsonFromVocab(Vocab(), "vocab.txt", o);
  EXPECT_TRUE(j.ok()) << j.status();
  return j.ok() ? *j : "";
}

std::unique_ptr<Tokenizer> Load(const std::string& json) {
  auto t = Tokenizer::FromJson(json, "tokenizer.json");
  EXPECT_TRUE(t.ok()) << t.status();
  return t.ok() ? std::move(*t) : nullptr;
}

std::string Join(const std::vector<uint32_t>& ids) {
  std::string s;
  for (uint32_t id : ids) absl::StrAppend(&s, s.empty() ? "" : " ", id);
  return s;
}

std::vector<std::string> Lines(const std::string& path) {
  auto data = ReadFileToString(path);
  EXPECT_TRUE(data.ok()) << path;
  std::vector<std::string> out = absl::StrSplit(*data, '\n');
  if (!out.empty() && out.back().empty()) out.pop_back();
  return out;
}

class GoldenBert : public ::testing::TestWithParam<std::string> {};

TEST_P(GoldenBert, IdsAndDecodeAsHf) {
  auto tok = Load(Json(GetParam() == "uncased"));
  ASSERT_TRUE(tok);
  std::vector<std::string> ids = Lines(kDir + "golden-bert-" + GetParam() + ".ids.zst");
  std::vector<std::string> dec = Lines(kDir + "golden-bert-" + GetParam() + ".decoded.zst");
  std::vector<std::string> docs = Lines(kDir + "golden-docs.jsonl");
  ASSERT_EQ(ids.size(), docs.size());
  ASSERT_EQ(dec.size(), docs.size());
  simdjson::dom::parser parser;
  for (size_t i = 0; i < docs.size(); ++i) {
    std::string_view text;
    ASSERT_EQ(parser.parse(simdjson::padded_string(docs[i]))["text"].get_string().get(text), simdjson::SUCCESS);
    std::vector<uint32_t> got, bare;
    ASSERT_TRUE(tok->Encode(text, true, &got).ok());
    EXPECT_EQ(Join(got), ids[i]) << "document " << i;
    // Without special tokens: the same ids less [CLS] and [SEP].
    ASSERT_TRUE(tok->Encode(text, false, &bare).ok());
    ASSERT_GE(got.size(), 2u);
    EXPECT_EQ(bare, std::vector<uint32_t>(got.begin() + 1, got.end() - 1)) << "document " << i;
    auto d = tok->Decode(got, false);
    ASSERT_TRUE(d.ok());
    std::string want;
    ASSERT_EQ(parser.parse(simdjson::padded_string(dec[i])).get_string().get(text), simdjson::SUCCESS);
    EXPECT_EQ(*d, text) << "document " << i;
  }
}

INSTANTIATE_TEST_SUITE_P(Bert, GoldenBert, ::testing::Values("uncased", "cased"));

struct EdgeCase {
  std::string_view file, text, ids, decoded;
};

// HF's answers (encode with special tokens; decode skipping them) for
// bert-base-uncased made uncased; "keepacc": strip_accents false (so
// lowercase alone, İ becoming "i\u0307"); "max5": that and
// max_input_chars_per_word 5.
TEST(WordPiece, EdgeCasesAsHf) {
  const EdgeCase cases[] = {
#include "tests/wordpiece_cases.inc"
  };
  std::string uncased = Json(true);
  std::string keepacc = absl::StrReplaceAll(uncased, {{"\"strip_accents\":null", "\"strip_accents\":false"}});
  std::string max5 = absl::StrReplaceAll(keepacc, {{"\"max_input_chars_per_word\":100", "\"max_input_chars_per_word\":5"}});
  auto a = Load(uncased), b = Load(keepacc), c = Load(max5);
  ASSERT_TRUE(a && b && c);
  for (const EdgeCase& e : cases) {
    const Tokenizer& t = e.file == "uncased" ? *a : e.file == "keepacc" ? *b : *c;
    std::vector<uint32_t> ids;
    ASSERT_TRUE(t.Encode(e.text, true, &ids).ok());
    EXPECT_EQ(Join(ids), e.ids) << e.file << " [" << e.text << "]";
    auto d = t.Decode(ids, true);
    ASSERT_TRUE(d.ok());
    EXPECT_EQ(*d, e.decoded) << e.file << " [" << e.text << "]";
  }
}

std::string VocabError(std::string_view vocab) {
  auto j = BertTokenizerJsonFromVocab(vocab, "v.txt", {});
  return j.ok() ? "ok" : std::string(j.status().message());
}

TEST(WordPiece, CorruptVocabTxt) {
  EXPECT_EQ(VocabError("[UNK]\n[CLS]\n[SEP]\nab\xff\n"),
            "v.txt:4: invalid UTF-8 at byte 2 of the line (a vocab.txt is UTF-8 text, one token a line)");
  EXPECT_EQ(VocabError("[UNK]\r\n[CLS]\r\n"),
            "v.txt:1: line ends with \\r (CRLF line ends would become part of every token); convert the file to LF "
            "line ends");
  EXPECT_EQ(VocabError("[UNK]\n[CLS]\n[SEP]\nthe\nthe\n"), "v.txt:5: token \"the\" repeats line 4 (each token needs one id)");
  EXPECT_EQ(VocabError("[UNK]\n[SEP]\n"), "v.txt: no line holds \"[CLS]\"; a BERT vocab.txt has [PAD] [UNK] [CLS] [SEP] [MASK]");
  EXPECT_EQ(VocabError(""), "v.txt: empty vocabulary (no lines)");
  EXPECT_EQ(VocabError("[UNK]\n[CLS]\n[SEP]"), "ok");  // no final newline
}

std::string JsonError(const std::string& json) {
  auto t = Tokenizer::FromJson(json, "t.json");
  return t.ok() ? "ok" : std::string(t.status().message());
}

TEST(WordPiece, CorruptTokenizerJsonFields) {
  const std::string model = R"("model": {"type": "WordPiece", "vocab": {"[UNK]": 0, "a": 1, "##b": 2})";
  EXPECT_EQ(JsonError("{" + model + "}}"), "ok");
  EXPECT_EQ(JsonError("{" + model + R"(, "unk_token": "<unk>"}})"),
            "t.json: model.unk_token: \"<unk>\" is not in model.vocab (WordPiece needs it for words it cannot split)");
  EXPECT_EQ(JsonError("{" + model + R"(, "unk_token": 3}})"), "t.json: model.unk_token: not a string");
  EXPECT_EQ(JsonError("{" + model + R"(, "max_input_chars_per_word": -1}})"),
            "t.json: model.max_input_chars_per_word: not a non-negative integer");
  EXPECT_EQ(JsonError("{" + model + R"(, "continuing_subword_prefix": null}})"),
            "t.json: model.continuing_subword_prefix: not a string");
  EXPECT_EQ(JsonError(R"({"model": {"type": "WordPiece", "vocab": {"[UNK]": "x"}}})"),
            "t.json: model.vocab: token \"[UNK]\" has no valid id");
  EXPECT_EQ(JsonError("{" + model + R"(}, "normalizer": {"type": "BertNormalizer", "lowercase": "yes"}})"),
            "t.json: normalizer BertNormalizer: \"lowercase\" is not true or false");
  EXPECT_EQ(JsonError("{" + model + R"(}, "decoder": {"type": "WordPiece", "cleanup": 1}})"),
            "t.json: decoder WordPiece: \"cleanup\" is not true or false");
}

TEST(WordPiece, GreedyLongestMatchFirst) {
  auto t = Load(R"({"model": {"type": "WordPiece", "vocab": {"[UNK]": 0, "un": 1, "##aff": 2, "##able": 3, "##a": 4, "ba": 5, "##na": 6}}})");
  ASSERT_TRUE(t);
  auto enc = [&](std::string_view s) {
    std::vector<uint32_t> ids;
    EXPECT_TRUE(t->Encode(s, false, &ids).ok());
    return Join(ids);
  };
  EXPECT_EQ(enc("unaffable"), "1 2 3");
  EXPECT_EQ(enc("banana"), "5 6 6");
  EXPECT_EQ(enc("nanana"), "0");  // no word-start piece "na": the whole word is [UNK]
  EXPECT_EQ(enc("unaffablex"), "0");
}

}  // namespace
}  // namespace llmtk
