// WordPiece training against HF tokenizers 0.23.2's WordPieceTrainer (npm
// `tokenizers`, BertNormalizer + BertPreTokenizer, its defaults: 30,000
// tokens, no special tokens). HF orders the "##c" tokens by a per-process
// hash, so two HF runs differ; given one run's order, our vocabulary must be
// that run's, token for token. testdata/tok-train/wordpiece-sample-hf{1,2}
// are two such runs on corpus/sample.jsonl (scripts/check-tok-train-wordpiece
// writes them; they differ: 8350 and 8355 tokens); the sample runs out of
// pairs before 30,000, so every merge step is compared, repeats of a pair
// and reused strings included.
#include <fstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "gtest/gtest.h"
#include "lib/base/io.h"
#include "lib/base/jsonl.h"
#include "lib/base/unicode.h"
#include "lib/tokenizer/tokenizer.h"
#include "lib/tokenizer/train/wordpiece_merge.h"
#include "lib/tokenizer/train/wordpiece_trainer.h"
#include "lib/tokenizer/train/words.h"

namespace llmtk {
namespace {

const std::string kData = std::string(LLMTK_TESTDATA);

std::vector<std::string> Lines(const std::string& path) {
  auto text = ReadFileToString(path);
  EXPECT_TRUE(text.ok()) << text.status();
  if (!text.ok()) return {};
  std::vector<std::string> out = absl::StrSplit(*text, '\n');
  if (!out.empty() && out.back().empty()) out.pop_back();
  return out;
}

const WordCountMap& SampleWords() {
  static const WordCountMap* words = [] {
    auto* table = new WordTable();
    auto reader = DocumentReader::Open({kData + "/corpus/sample.jsonl"}, {});
    EXPECT_TRUE(reader.ok()) << reader.status();
    auto status = CountWords(
        [&](std::string* t) -> absl::StatusOr<bool> {
          Document doc;
          ASSIGN_OR_RETURN(bool more, (*reader)->Next(&doc));
          if (more) t->assign(doc.text);
          return more;
        },
        MakeBertWordSplitter(true), 2, table, nullptr);
    EXPECT_TRUE(status.ok()) << status;
    return &table->counts();
  }();
  return *words;
}

// The single-character "##" tokens of an HF vocabulary, in id order.
std::vector<std::string> ContinuationOrder(const std::vector<std::string>& vocab) {
  std::vector<std::string> out;
  for (const std::string& t : vocab) {
    if (t.size() > 2 && t.compare(0, 2, "##") == 0 && CodePoints(t) == 3) out.push_back(t);
  }
  return out;
}

TEST(WordPieceTrainer, SplitterIsBertNormalizerAndPreTokenizer) {
  std::vector<std::string_view> words;
  MakeBertWordSplitter(true)("Héllo, WORLD!\t你好 a-b\x01", &words);
  EXPECT_EQ(std::vector<std::string>(words.begin(), words.end()),
            (std::vector<std::string>{"hello", ",", "world", "!", "你", "好", "a", "-", "b"}));
  words.clear();
  MakeBertWordSplitter(false)("Héllo bad\xff" "byte", &words);
  EXPECT_EQ(std::vector<std::string>(words.begin(), words.end()),
            (std::vector<std::string>{"Héllo", "badbyte"}));
}

TEST(WordPieceTrainer, EqualsEachHfRunGivenItsContinuationOrder) {
  for (const char* run : {"hf1", "hf2"}) {
    SCOPED_TRACE(run);
    const std::vector<std::string> hf = Lines(kData + "/tok-train/wordpiece-sample-" + run + ".vocab.txt.zst");
    ASSERT_GT(hf.size(), 8000u);
    WordPieceTrainerOptions o;
    o.special_tokens = {};  // HF's default trainer has none
    o.continuation_order = ContinuationOrder(hf);
    ASSERT_EQ(o.continuation_order.size(), 31u);
    auto m = LearnWordPiece(SampleWords(), o);
    ASSERT_TRUE(m.ok()) << m.status();
    EXPECT_EQ(m->alphabet_size, 3417);
    EXPECT_EQ(m->continuation_size, 31);
    ASSERT_EQ(m->tokens.size(), hf.size());
    size_t first_diff = 0;
    while (first_diff < hf.size() && m->tokens[first_diff] == hf[first_diff]) ++first_diff;
    EXPECT_EQ(first_diff, hf.size()) << "first differing id " << first_diff;
    // A smaller vocabulary is the same run stopped earlier: HF's prefix.
    o.vocab_size = 5000;
    auto small = LearnWordPiece(SampleWords(), o);
    ASSERT_TRUE(small.ok()) << small.status();
    EXPECT_EQ(small->tokens, std::vector<std::string>(hf.begin(), hf.begin() + 5000));
  }
}

std::string TempPath(const std::string& name) {
  return std::string(::testing::TempDir()) + "/wordpiece_trainer_test_" + name;
}

TEST(WordPieceTrainer, SameBytesForAnyThreadCountAndGolden) {
  WordPieceTrainerOptions o;
  o.vocab_size = 4000;
  std::vector<std::string> outs;
  for (int threads : {1, 3}) {
    o.threads = threads;
    const std::string out = TempPath(absl::StrCat("t", threads, ".json"));
    auto r = TrainWordPiece({kData + "/corpus/sample.jsonl.zst"}, {}, o, out);
    ASSERT_TRUE(r.ok()) << r.status();
    EXPECT_EQ(r->documents, 550u);
    EXPECT_EQ(r->vocab_size, 4000);
    EXPECT_EQ(r->alphabet_size, 3417 + 31);
    auto text = ReadFileToString(out);
    ASSERT_TRUE(text.ok());
    outs.push_back(*text);
  }
  EXPECT_EQ(outs[0], outs[1]);
  // Golden: ids by code point for "##c"; loads in HF tokenizers 0.23.2 and
  // encodes the sample as llmtk does (scripts/check-tok-train-wordpiece).
  auto golden = ReadFileToString(kData + "/tok-train/wordpiece-sample-4000.json.zst");
  ASSERT_TRUE(golden.ok()) << golden.status();
  EXPECT_EQ(outs[0], *golden);
  auto tok = Tokenizer::FromJson(outs[0], "trained");
  ASSERT_TRUE(tok.ok()) << tok.status();
  EXPECT_EQ((*tok)->vocab_size(), 4000u);
  EXPECT_EQ((*tok)->TokenToId("[UNK]"), 1u);
  EXPECT_EQ((*tok)->TokenToId("##a"), 5u + 3417u + 3u);  // after ##3 ##5 ##8
}

TEST(WordPieceTrainer, TrainedFileEncodesTheSampleAsHf) {
  // wordpiece-sample-4000.hf-ids.zst: HF tokenizers 0.23.2's ids (no special
  // tokens) for every document of the sample (most of it Chinese) with the
  // golden tokenizer.json (scripts/tok-train-hf.js encode).
  auto golden = ReadFileToString(kData + "/tok-train/wordpiece-sample-4000.json.zst");
  ASSERT_TRUE(golden.ok()) << golden.status();
  auto tok = Tokenizer::FromJson(*golden, "wordpiece-sample-4000.json");
  ASSERT_TRUE(tok.ok()) << tok.status();
  const std::vector<std::string> hf = Lines(kData + "/tok-train/wordpiece-sample-4000.hf-ids.zst");
  auto reader = DocumentReader::Open({kData + "/corpus/sample.jsonl"}, {});
  ASSERT_TRUE(reader.ok()) << reader.status();
  Document doc;
  size_t n = 0;
  while (*(*reader)->Next(&doc)) {
    ASSERT_LT(n, hf.size());
    std::vector<uint32_t> ids;
    ASSERT_TRUE((*tok)->Encode(doc.text, false, &ids).ok());
    ASSERT_EQ(absl::StrJoin(ids, " "), hf[n]) << "document " << n;
    ++n;
  }
  EXPECT_EQ(n, hf.size());
  EXPECT_EQ(n, 550u);
}

TEST(WordPieceTrainer, ContinuationOrderMustBeTheCorpusSet) {
  WordPieceTrainerOptions o;
  o.special_tokens = {};
  o.continuation_order = {"##a"};
  auto m = LearnWordPiece(SampleWords(), o);
  EXPECT_EQ(m.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(m.status().message(),
            "continuation order: 30 of the corpus's 31 \"##\" character tokens are not listed (first: \"##3\")");
  o.continuation_order = {"##a", "##é"};
  m = LearnWordPiece(SampleWords(), o);
  EXPECT_EQ(m.status().message(),
            "continuation order: \"##é\" is not a \"##\" character token of this corpus (the order must come "
            "from a run on the same words and alphabet)");
}

TEST(WordPieceTrainer, ContinuationOrderFileErrorsNameTheLine) {
  const std::string path = TempPath("order.txt");
  std::ofstream(path) << "##a\n##bc\n";
  auto o = ReadContinuationOrder(path);
  EXPECT_EQ(o.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(o.status().message(), path + ":2: \"##bc\" is not \"##\" and one character (a continuation order "
                                         "lists the \"##c\" tokens, one a line)");
  std::ofstream(path) << "##a\n\n##é\n";
  o = ReadContinuationOrder(path);
  ASSERT_TRUE(o.ok()) << o.status();
  EXPECT_EQ(*o, (std::vector<std::string>{"##a", "##é"}));
}

TEST(WordPieceTrainer, SpecialTokensNeedUnkClsSep) {
  WordPieceTrainerOptions o;
  o.special_tokens = {"[PAD]", "[UNK]", "[SEP]"};
  auto r = TrainWordPiece({kData + "/corpus/sample.jsonl.zst"}, {}, o, TempPath("x.json"));
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(r.status().message(),
            "--special-tokens must include [CLS] (WordPiece's unknown token and BERT's [CLS] $A [SEP] template "
            "need [UNK], [CLS] and [SEP]); given: [PAD],[UNK],[SEP]");
}

TEST(WordPieceTrainer, LimitAlphabetKeepsTheMostFrequent) {
  WordCountMap words = {{"ab", 5}, {"ba", 5}, {"c", 2}, {"d", 2}, {"e", 1}};
  WordPieceTrainerOptions o;
  o.special_tokens = {"[UNK]"};
  o.limit_alphabet = 3;  // a, b (10 each), then c over d (equal counts: smaller code point)
  o.vocab_size = 100;
  auto m = LearnWordPiece(words, o);
  ASSERT_TRUE(m.ok()) << m.status();
  EXPECT_EQ(m->tokens, (std::vector<std::string>{"[UNK]", "a", "b", "c", "##a", "##b", "ab", "ba"}));
}

}  // namespace
}  // namespace llmtk
