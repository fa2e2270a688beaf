#include <fstream>
#include <map>
#include <string>
#include <vector>

#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "absl/strings/str_format.h"
#include "lib/tokenizer/train/bpe_trainer.h"
#include "lib/tokenizer/train/alphabet.h"
#include "lib/tokenizer/train/merge.h"
#include "lib/tokenizer/train/output.h"
#include "lib/tokenizer/train/split.h"
#include "lib/tokenizer/train/words.h"
#include "lib/formats/gguf.h"
#include "lib/base/io.h"
#include "lib/tokenizer/tokenizer.h"
#include "lib/base/unicode.h"

namespace llmtk {
namespace {

std::vector<std::string> Split(const std::string& pre, std::string_view text) {
  auto split = MakeRegexSplitter(PreTokenizerPattern(pre));
  EXPECT_TRUE(split.ok()) << split.status();
  std::vector<std::string_view> words;
  (*split)(text, &words);
  return std::vector<std::string>(words.begin(), words.end());
}

TEST(BpeTrainerSplit, Llama3Pattern) {
  EXPECT_EQ(Split("llama3", "Hello world's 12345 \"ok\"\n\n  end"),
            (std::vector<std::string>{"Hello", " world", "'s", " ", "123", "45", " \"", "ok",
                                      "\"\n\n", " ", " end"}));
  // A whole Han clause is one word under Llama 3; punctuation joins the next.
  EXPECT_EQ(Split("llama3", "你好世界，天下"),
            (std::vector<std::string>{"你好世界", "，天下"}));
}

TEST(BpeTrainerSplit, CjkPatternCutsHanRuns) {
  EXPECT_EQ(Split("cjk", "你好世界，天下 hi"),
            (std::vector<std::string>{"你好", "世界", "，", "天下", " hi"}));
}

TEST(BpeTrainerSplit, InvalidUtf8BytesBecomeTheirOwnWords) {
  EXPECT_EQ(Split("llama3", "ab\xff\xfe" "cd"),
            (std::vector<std::string>{"ab", "\xff", "\xfe", "cd"}));
}

TEST(BpeTrainerSplit, BadPatternIsInvalidArgument) {
  auto s = MakeRegexSplitter("(abc");
  EXPECT_EQ(s.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(s.status().message(),
            "--pre-tokenizer: regex pattern \"(abc\" does not compile at offset 4: missing "
            "closing parenthesis");
}

TEST(BpeTrainerWords, PruneDropsRarestCountClasses) {
  WordTable table(4);
  WordCountMap batch = {{"a", 5}, {"b", 1}, {"c", 1}, {"d", 2}, {"e", 3}};
  table.Merge(batch);
  // 5 > 4 words: keep at most 3 (3/4 of the bound) by dropping counts <= 1.
  EXPECT_EQ(table.counts(), (WordCountMap{{"a", 5}, {"d", 2}, {"e", 3}}));
  EXPECT_EQ(table.pruned_words(), 2u);
  EXPECT_EQ(table.occurrences(), 12u);
}

BpeTrainerOptions Opts(int merges) {
  BpeTrainerOptions o;
  o.vocab_size = 256 + merges;
  return o;
}

std::vector<std::string> MergeStrings(const TrainedBpe& m) {
  std::vector<std::string> out;
  for (auto [a, b] : m.merges) out.push_back(m.tokens[a] + " " + m.tokens[b]);
  return out;
}

TEST(BpeTrainerMerge, MergesByCountThenSmallestPair) {
  auto m = LearnMerges({{"ab", 5}, {"abc", 3}, {"bc", 2}, {"xy", 2}, {"yz", 2}}, Opts(5));
  ASSERT_TRUE(m.ok()) << m.status();
  // (a,b)=8; then (ab,c)=3; then the ties at 2: (b,c) < (x,y) < (y,z) by id.
  EXPECT_EQ(MergeStrings(*m), (std::vector<std::string>{"a b", "ab c", "b c", "x y", "y z"}));
  EXPECT_EQ(m->tokens.size(), 261u);
  EXPECT_EQ(m->tokens[256], "ab");
}

TEST(BpeTrainerMerge, OverlappingPairsMergeLeftToRight) {
  auto m = LearnMerges({{"aaa", 1}}, Opts(5));
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(MergeStrings(*m), (std::vector<std::string>{"a a", "aa a"}));
  EXPECT_DOUBLE_EQ(m->train_bytes_per_token, 3.0);
}

TEST(BpeTrainerMerge, ByteLevelAlphabetInCodePointOrder) {
  auto m = LearnMerges({{" \n", 4}}, Opts(1));
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(m->tokens[0], "!");
  EXPECT_EQ(m->tokens[93], "~");
  EXPECT_EQ(m->tokens[94], "\xC2\xA1");      // ¡ (byte 0xA1)
  EXPECT_EQ(m->tokens[188], "\xC4\x80");     // Ā = byte 0x00
  EXPECT_EQ(MergeStrings(*m), (std::vector<std::string>{"Ġ Ċ"}));
}

TEST(BpeTrainerMerge, MinFrequencyAndMaxTokenLength) {
  BpeTrainerOptions o = Opts(10);
  o.min_frequency = 3;
  auto m = LearnMerges({{"ab", 5}, {"cd", 2}}, o);
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(MergeStrings(*m), (std::vector<std::string>{"a b"}));
  o = Opts(10);
  o.max_token_length = 2;
  m = LearnMerges({{"abcd", 5}}, o);
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(MergeStrings(*m), (std::vector<std::string>{"a b", "c d"}));
}

TEST(BpeTrainerMerge, SpecialTokensComeFirst) {
  BpeTrainerOptions o = Opts(1);
  o.special_tokens = {"<s>", "</s>"};
  o.vocab_size = 259;
  auto m = LearnMerges({{"ab", 1}}, o);
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(m->num_special, 2);
  EXPECT_EQ(m->tokens[0], "<s>");
  EXPECT_EQ(m->tokens[2], "!");
  EXPECT_EQ(m->tokens[258], "ab");
}

TEST(BpeTrainerMerge, BadOptions) {
  BpeTrainerOptions o = Opts(0);
  o.vocab_size = 100;
  o.special_tokens = {"<s>"};
  auto m = LearnMerges({{"ab", 1}}, o);
  EXPECT_EQ(m.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(m.status().message(),
            "--vocab-size 100 is below the alphabet: the 256 byte symbols and 1 special tokens "
            "need at least 257");
  o = Opts(3);
  o.special_tokens = {"<s>", "<s>"};
  o.vocab_size = 300;
  EXPECT_EQ(LearnMerges({{"ab", 1}}, o).status().message(),
            "--special-tokens: \"<s>\" is given twice");
}

std::string TempPath(const std::string& name) {
  return std::string(::testing::TempDir()) + "/bpe_trainer_test_" + name;
}

TEST(BpeTrainer, SameBytesForAnyThreadCount) {
  const std::string corpus = std::string(LLMTK_TESTDATA) + "/corpus/sample.jsonl.zst";
  BpeTrainerOptions o;
  o.vocab_size = 1000;
  o.special_tokens = {"<|endoftext|>"};
  std::vector<std::string> outs;
  for (int threads : {1, 2, 3}) {
    o.threads = threads;
    std::string out = TempPath(absl::StrCat("t", threads, ".json"));
    auto r = TrainBpe({corpus}, {}, o, out, false);
    ASSERT_TRUE(r.ok()) << r.status();
    EXPECT_EQ(r->documents, 550u);
    EXPECT_EQ(r->vocab_size, 1000);
    auto text = ReadFileToString(out);
    ASSERT_TRUE(text.ok());
    outs.push_back(*text);
  }
  EXPECT_EQ(outs[0], outs[1]);
  EXPECT_EQ(outs[0], outs[2]);
  // The golden file was checked to load in HF tokenizers (scripts/check-tok-train).
  auto golden = ReadFileToString(std::string(LLMTK_TESTDATA) + "/tok-train/sample-1000.json");
  ASSERT_TRUE(golden.ok()) << golden.status();
  EXPECT_EQ(outs[0], *golden);
}

TEST(BpeTrainer, EmptyCorpusIsDataLoss) {
  std::string path = TempPath("empty.txt");
  std::ofstream(path) << "";
  auto r = TrainBpe({path}, {}, Opts(10), TempPath("out.json"), false);
  EXPECT_EQ(r.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_EQ(r.status().message(),
            "no text to train on: 0 documents, 0 bytes of text in " + path);
}

TEST(BpeTrainer, MissingFileIsNotFound) {
  auto r = TrainBpe({"/nonexistent/corpus.jsonl"}, {}, Opts(10), TempPath("out.json"), false);
  EXPECT_EQ(r.status().code(), absl::StatusCode::kNotFound);
}

TEST(BpeTrainer, ReplacedInvalidUtf8IsCounted) {
  std::string path = TempPath("bad.txt");
  std::ofstream(path) << "caf\xe9 au lait\nplain line\n";
  DocumentReaderOptions ro;
  ro.invalid_utf8 = InvalidUtf8Policy::kReplace;
  auto r = TrainBpe({path}, ro, Opts(10), TempPath("out.json"), false);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->replaced_utf8_docs, 1u);
  EXPECT_EQ(r->documents, 2u);
}

}  // namespace
}  // namespace llmtk

namespace llmtk {
namespace {

// A plain rank-order BPE encoder over the trained model: the meaning we give
// tokenizer.json. HF tokenizers' ids for the same file must agree with it.
std::vector<uint32_t> ReferenceEncode(const TrainedBpe& m, const WordSplitFn& split,
                                      std::string_view text) {
  std::map<std::pair<std::string, std::string>, size_t> rank;
  for (size_t i = 0; i < m.merges.size(); ++i) {
    rank.emplace(std::make_pair(m.tokens[m.merges[i].first], m.tokens[m.merges[i].second]), i);
  }
  std::map<std::string, uint32_t> id;
  for (size_t i = 0; i < m.tokens.size(); ++i) id.emplace(m.tokens[i], i);
  std::vector<std::string_view> words;
  split(text, &words);
  std::vector<uint32_t> out;
  for (std::string_view w : words) {
    std::vector<std::string> parts;
    for (unsigned char b : w) parts.push_back(ByteLevelChar(b));
    for (;;) {
      size_t best = SIZE_MAX, at = 0;
      for (size_t i = 0; i + 1 < parts.size(); ++i) {
        auto it = rank.find({parts[i], parts[i + 1]});
        if (it != rank.end() && it->second < best) best = it->second, at = i;
      }
      if (best == SIZE_MAX) break;
      parts[at] += parts[at + 1];
      parts.erase(parts.begin() + at + 1);
    }
    for (const std::string& p : parts) out.push_back(id.at(p));
  }
  return out;
}

TEST(BpeTrainer, HfTokenizersGivesTheSameIds) {
  // testdata/tok-train/sample-1000.hf-ids.zst: HF tokenizers' ids for every
  // document of the sample, encoded with the golden tokenizer.json.
  const std::string corpus = std::string(LLMTK_TESTDATA) + "/corpus/sample.jsonl.zst";
  auto split = MakeRegexSplitter(PreTokenizerPattern("llama3"));
  ASSERT_TRUE(split.ok());
  WordTable table;
  std::vector<std::string> docs;
  auto reader = DocumentReader::Open({corpus}, {});
  ASSERT_TRUE(reader.ok());
  Document doc;
  while (*(*reader)->Next(&doc)) docs.emplace_back(doc.text);
  size_t next = 0;
  ASSERT_TRUE(CountWords(
                  [&](std::string* t) -> absl::StatusOr<bool> {
                    if (next == docs.size()) return false;
                    *t = docs[next++];
                    return true;
                  },
                  *split, 2, &table, nullptr)
                  .ok());
  BpeTrainerOptions o;
  o.vocab_size = 1000;
  o.special_tokens = {"<|endoftext|>"};
  auto model = LearnMerges(table.counts(), o);
  ASSERT_TRUE(model.ok());
  auto golden = ReadFileToString(std::string(LLMTK_TESTDATA) + "/tok-train/sample-1000.json");
  ASSERT_TRUE(golden.ok());
  ASSERT_EQ(TokenizerJson(*model, PreTokenizerPattern("llama3")), *golden);

  auto hf = ReadFileToString(std::string(LLMTK_TESTDATA) + "/tok-train/sample-1000.hf-ids.zst");
  ASSERT_TRUE(hf.ok()) << hf.status();
  std::vector<std::string> lines = absl::StrSplit(*hf, '\n');
  ASSERT_EQ(lines.size(), docs.size() + 1);
  for (size_t i = 0; i < docs.size(); ++i) {
    std::vector<uint32_t> ids = ReferenceEncode(*model, *split, docs[i]);
    std::string ours = absl::StrJoin(ids, " ");
    ASSERT_EQ(ours, lines[i]) << "document " << i;
  }
}

}  // namespace
}  // namespace llmtk

namespace llmtk {
namespace {

TEST(BpeTrainerOutput, GgufVocabHoldsTheSameTokensAndMerges) {
  BpeTrainerOptions o;
  o.vocab_size = 261;
  o.special_tokens = {"<s>"};
  auto m = LearnMerges({{"hello", 3}, {" hell", 2}}, o);
  ASSERT_TRUE(m.ok());
  const std::string path = TempPath("vocab.gguf");
  ASSERT_TRUE(WriteGgufVocab(*m, "llama3", path).ok());
  auto f = GgufFile::Open(path);
  ASSERT_TRUE(f.ok()) << f.status();
  EXPECT_EQ(*(*f)->GetString("tokenizer.ggml.model"), "gpt2");
  EXPECT_EQ(*(*f)->GetString("tokenizer.ggml.pre"), "llama-bpe");
  auto tokens = (*f)->GetStringArray("tokenizer.ggml.tokens");
  ASSERT_TRUE(tokens.ok());
  EXPECT_EQ(std::vector<std::string>(tokens->begin(), tokens->end()), m->tokens);
  auto merges = (*f)->GetStringArray("tokenizer.ggml.merges");
  ASSERT_TRUE(merges.ok());
  EXPECT_EQ(std::vector<std::string>(merges->begin(), merges->end()), MergeStrings(*m));
  const GgufValue* types = (*f)->Find("tokenizer.ggml.token_type");
  ASSERT_NE(types, nullptr);
  EXPECT_EQ(*types->AsInt(0), 3);
  EXPECT_EQ(*types->AsInt(1), 1);
  EXPECT_EQ(WriteGgufVocab(*m, "cjk", path).code(), absl::StatusCode::kUnimplemented);
}

}  // namespace
}  // namespace llmtk

namespace llmtk {
namespace {

// Rank-order BPE the SentencePiece way: "▁" words of characters, characters
// outside the vocabulary as <0xXX> byte tokens.
std::vector<uint32_t> ReferenceEncodeSp(const TrainedBpe& m, std::string_view text) {
  std::map<std::pair<std::string, std::string>, size_t> rank;
  for (size_t i = 0; i < m.merges.size(); ++i) {
    rank.emplace(std::make_pair(m.tokens[m.merges[i].first], m.tokens[m.merges[i].second]), i);
  }
  std::map<std::string, uint32_t> id;
  for (size_t i = 0; i < m.tokens.size(); ++i) id.emplace(m.tokens[i], i);
  std::vector<std::string_view> words;
  SplitOnSpaces(text, &words);
  std::vector<uint32_t> out;
  for (std::string_view raw : words) {
    std::string w = MetaspaceWord(raw);
    std::vector<std::string> parts;
    for (size_t pos = 0; pos < w.size();) {
      size_t start = pos;
      DecodeUtf8(w, &pos);
      std::string ch = w.substr(start, pos - start);
      if (id.count(ch)) {
        parts.push_back(ch);
      } else {
        for (unsigned char b : ch) parts.push_back(absl::StrFormat("<0x%02X>", b));
      }
    }
    for (;;) {
      size_t best = SIZE_MAX, at = 0;
      for (size_t i = 0; i + 1 < parts.size(); ++i) {
        auto it = rank.find({parts[i], parts[i + 1]});
        if (it != rank.end() && it->second < best) best = it->second, at = i;
      }
      if (best == SIZE_MAX) break;
      parts[at] += parts[at + 1];
      parts.erase(parts.begin() + at + 1);
    }
    for (const std::string& p : parts) out.push_back(id.at(p));
  }
  return out;
}

TEST(BpeTrainer, SentencePieceStyleHfTokenizersGivesTheSameIds) {
  const std::string corpus = std::string(LLMTK_TESTDATA) + "/corpus/sample.jsonl.zst";
  BpeTrainerOptions o;
  o.style = BpeStyle::kSentencePiece;
  o.character_coverage = 0.95;
  o.vocab_size = 3000;
  const std::string out = TempPath("sp.json");
  auto r = TrainBpe({corpus}, {}, o, out, false);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->alphabet_size, 1232);  // 256 byte-fallback tokens + 976 characters
  auto text = ReadFileToString(out);
  auto golden = ReadFileToString(std::string(LLMTK_TESTDATA) + "/tok-train/sample-sp-3000.json");
  ASSERT_TRUE(text.ok() && golden.ok());
  ASSERT_EQ(*text, *golden);

  // Rebuild the model to encode with it.
  WordTable table;
  std::vector<std::string> docs;
  auto reader = DocumentReader::Open({corpus}, {});
  ASSERT_TRUE(reader.ok());
  Document doc;
  while (*(*reader)->Next(&doc)) docs.emplace_back(doc.text);
  std::vector<std::string_view> scratch;
  WordCountMap local;
  for (const std::string& d : docs) WordTable::CountText(d, SplitOnSpaces, &local, &scratch);
  table.Merge(local);
  auto model = LearnMerges(table.counts(), o);
  ASSERT_TRUE(model.ok());
  ASSERT_EQ(TokenizerJson(*model, ""), *golden);

  auto hf = ReadFileToString(std::string(LLMTK_TESTDATA) + "/tok-train/sample-sp-3000.hf-ids.zst");
  ASSERT_TRUE(hf.ok()) << hf.status();
  std::vector<std::string> lines = absl::StrSplit(*hf, '\n');
  ASSERT_EQ(lines.size(), docs.size() + 1);
  for (size_t i = 0; i < docs.size(); ++i) {
    ASSERT_EQ(absl::StrJoin(ReferenceEncodeSp(*model, docs[i]), " "), lines[i]) << "document " << i;
  }
}

TEST(BpeTrainerAlphabet, SentencePieceWords) {
  std::vector<std::string_view> w;
  SplitOnSpaces(" a  bc", &w);
  EXPECT_EQ(std::vector<std::string>(w.begin(), w.end()),
            (std::vector<std::string>{"", " a", " ", " bc"}));
  EXPECT_EQ(MetaspaceWord(""), "▁");
  EXPECT_EQ(MetaspaceWord("ab"), "▁ab");
  EXPECT_EQ(MetaspaceWord(" ab"), "▁ab");
}

}  // namespace
}  // namespace llmtk

namespace llmtk {
namespace {

// The trained files through the project's own tokenizer (lib/tokenizer/tokenizer.h):
// same ids as HF tokenizers, for tokenizer.json and for the GGUF vocabulary,
// and decode(encode(x)) == x.
TEST(BpeTrainer, OurEncoderMatchesHfOnTrainedFiles) {
  const std::string corpus = std::string(LLMTK_TESTDATA) + "/corpus/sample.jsonl.zst";
  std::vector<std::string> docs;
  auto reader = DocumentReader::Open({corpus}, {});
  ASSERT_TRUE(reader.ok());
  Document doc;
  while (*(*reader)->Next(&doc)) docs.emplace_back(doc.text);

  BpeTrainerOptions o;
  o.vocab_size = 1000;
  o.special_tokens = {"<|endoftext|>"};
  const std::string gguf = TempPath("sample.gguf");
  ASSERT_TRUE(TrainBpe({corpus}, {}, o, gguf, true).ok());

  for (const std::string name : {"sample-1000", "sample-sp-3000", "gguf"}) {
    const std::string dir = std::string(LLMTK_TESTDATA) + "/tok-train/";
    auto tok = Tokenizer::Load(name == "gguf" ? gguf : dir + name + ".json");
    ASSERT_TRUE(tok.ok()) << name << ": " << tok.status();
    auto hf = ReadFileToString(dir + (name == "gguf" ? "sample-1000" : name) + ".hf-ids.zst");
    ASSERT_TRUE(hf.ok());
    std::vector<std::string> lines = absl::StrSplit(*hf, '\n');
    ASSERT_EQ(lines.size(), docs.size() + 1);
    for (size_t i = 0; i < docs.size(); ++i) {
      std::vector<uint32_t> ids;
      ASSERT_TRUE((*tok)->Encode(docs[i], false, &ids).ok());
      ASSERT_EQ(absl::StrJoin(ids, " "), lines[i]) << name << " document " << i;
      auto back = (*tok)->Decode(ids, false);
      ASSERT_TRUE(back.ok());
      ASSERT_EQ(*back, docs[i]) << name << " document " << i;
    }
  }
}

}  // namespace
}  // namespace llmtk
