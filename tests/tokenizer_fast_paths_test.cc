// The tokenizer's fast paths against their references, byte for byte: the
// Unigram word cache (EncodeWord vs EncodeWordUncached), BertNormalizer's
// ASCII table (BertNormalize vs BertNormalizeReference) and the Precompiled
// normalizer's ASCII table (NormalizeHf vs NormalizeHfReference), on the
// test corpora and on random strings over the characters where the
// shortcuts could go wrong (controls, CR LF, combining marks out of
// canonical order, Prepend characters, emoji sequences).
#include <random>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "gtest/gtest.h"
#include "lib/base/io.h"
#include "lib/base/jsonl.h"
#include "lib/formats/sentencepiece_model.h"
#include "lib/tokenizer/bert_normalize.h"
#include "lib/tokenizer/charsmap.h"
#include "lib/tokenizer/spm_to_json.h"
#include "lib/tokenizer/tokenizer.h"
#include "lib/tokenizer/unigram.h"

namespace llmtk {
namespace {

const std::string kTestdata = LLMTK_TESTDATA;

std::vector<std::string> CorpusTexts() {
  std::vector<std::string> texts;
  for (const std::string& f : {kTestdata + "/tok/golden-docs.jsonl", kTestdata + "/corpus/sample.jsonl"}) {
    auto reader = DocumentReader::Open({f}, {});
    EXPECT_TRUE(reader.ok()) << reader.status();
    Document doc;
    while (true) {
      auto more = (*reader)->Next(&doc);
      EXPECT_TRUE(more.ok()) << more.status();
      if (!more.ok() || !*more) break;
      texts.emplace_back(doc.text);
    }
  }
  EXPECT_GT(texts.size(), 500u);
  return texts;
}

std::vector<std::string> RandomTexts(int n, uint32_t seed) {
  const std::vector<std::string> alphabet = {
      "a", "Z", "e", " ", "  ", "\t", "\n", "\r", "\r\n", "\x01", "\x0b", "\x7f", std::string(1, '\0'), ".", "'",
      "\xC3\xA9",          // é
      "\xC3\x89",          // É
      "\xCC\x81",          // combining acute (ccc 230)
      "\xCC\x96",          // combining grave below (ccc 220)
      "\xCC\xA7",          // combining cedilla (ccc 202)
      "\xD8\x80",          // U+0600, a Prepend character
      "\xE0\xA4\x95",      // क
      "\xE0\xA5\x8D",      // virama
      "\xE4\xB8\xAD",      // 中
      "\xEA\xB0\x80",      // 가
      "\xE1\x84\x80",      // Hangul jamo
      "\xC4\xB0",          // İ
      "\xCE\xA3",          // Σ
      "\xEF\xBC\xA1",      // fullwidth A
      "\xEF\xBF\xBD",      // U+FFFD
      "\xE2\x80\x8B",      // zero-width space
      "\xE2\x80\x8D",      // ZWJ
      "\xF0\x9F\x91\xA9",  // 👩
      "\xF0\x9F\x87\xAB",  // regional indicator F
      "\xC2\xA0",          // no-break space
      "\xE3\x80\x80",      // ideographic space
      "\xEF\xAC\x81",      // ﬁ
  };
  std::mt19937 rng(seed);
  std::vector<std::string> out;
  for (int i = 0; i < n; ++i) {
    std::string s;
    const int len = static_cast<int>(rng() % 20);
    for (int k = 0; k < len; ++k) s += alphabet[rng() % alphabet.size()];
    out.push_back(std::move(s));
  }
  return out;
}

TEST(TokenizerFastPathsTest, BertNormalizeMatchesReference) {
  std::vector<std::string> texts = CorpusTexts();
  for (std::string& t : RandomTexts(20000, 1)) texts.push_back(std::move(t));
  for (int bits = 0; bits < 16; ++bits) {
    BertNormalizerOptions o;
    o.clean_text = bits & 1;
    o.handle_chinese_chars = bits & 2;
    o.strip_accents = bits & 4;
    o.lowercase = bits & 8;
    for (const std::string& t : texts) {
      std::string fast, ref;
      ASSERT_TRUE(BertNormalize(t, o, &fast).ok());
      ASSERT_TRUE(BertNormalizeReference(t, o, &ref).ok());
      ASSERT_EQ(fast, ref) << "options " << bits << ", text \"" << t << "\"";
    }
  }
  std::string out;
  EXPECT_EQ(BertNormalize("ab\xC3", {}, &out).message(), "BertNormalizer: invalid UTF-8");
}

TEST(TokenizerFastPathsTest, PrecompiledMatchesReference) {
  auto bytes = ReadFileToString(kTestdata + "/tok/spm/uni.model");
  ASSERT_TRUE(bytes.ok()) << bytes.status();
  auto model = ReadSentencePieceModel(*bytes, "uni.model");
  ASSERT_TRUE(model.ok()) << model.status();
  auto map = PrecompiledCharsmap::Parse(model->normalizer.precompiled_charsmap, "uni.model");
  ASSERT_TRUE(map.ok()) << map.status();
  ASSERT_FALSE(map->empty());
  std::vector<std::string> texts = CorpusTexts();
  for (std::string& t : RandomTexts(50000, 2)) texts.push_back(std::move(t));
  size_t changed = 0;
  for (const std::string& t : texts) {
    std::string fast, ref;
    map->NormalizeHf(t, &fast);
    map->NormalizeHfReference(t, &ref);
    ASSERT_EQ(fast, ref) << "text \"" << t << "\"";
    changed += fast != t;
  }
  EXPECT_GT(changed, 1000u);  // the rules did apply

  auto none = PrecompiledCharsmap::Parse("", "empty");
  ASSERT_TRUE(none.ok());
  std::string out;
  none->NormalizeHf("ab\xEF\xBC\xA1 c\r\n", &out);
  EXPECT_EQ(out, "ab\xEF\xBC\xA1 c\r\n");
}

// Every word of the corpora, as Metaspace hands them to the model.
std::vector<std::string> MetaspaceWords() {
  std::vector<std::string> words;
  for (const std::string& t : CorpusTexts()) {
    for (absl::string_view w : absl::StrSplit(t, absl::ByAnyChar(" \n"), absl::SkipEmpty())) {
      words.push_back(absl::StrCat("\xE2\x96\x81", w));
    }
  }
  return words;
}

TEST(TokenizerFastPathsTest, UnigramCacheMatchesUncached) {
  const std::vector<std::string> words = MetaspaceWords();
  for (const char* name : {"uni.model", "uni-bf.model"}) {
    auto bytes = ReadFileToString(kTestdata + "/tok/spm/" + name);
    ASSERT_TRUE(bytes.ok()) << bytes.status();
    auto model = ReadSentencePieceModel(*bytes, name);
    ASSERT_TRUE(model.ok()) << model.status();
    auto json = SentencePieceToTokenizerJson(*model, name);
    ASSERT_TRUE(json.ok()) << json.status();
    // SentencePiece's arithmetic (the .model) and HF's (its tokenizer.json).
    auto spm = Tokenizer::FromSentencePiece(*bytes, name);
    auto hf = Tokenizer::FromJson(*json, name);
    ASSERT_TRUE(spm.ok()) << spm.status();
    ASSERT_TRUE(hf.ok()) << hf.status();
    for (const Tokenizer* tok : {spm->get(), hf->get()}) {
      const auto* uni = dynamic_cast<const UnigramModel*>(&tok->model());
      ASSERT_NE(uni, nullptr);
      for (int round = 0; round < 2; ++round) {  // the second from the cache
        for (const std::string& w : words) {
          std::vector<uint32_t> cached, plain;
          uni->EncodeWord(w, &cached);
          uni->EncodeWordUncached(w, &plain);
          ASSERT_EQ(cached, plain) << name << ", word \"" << w << "\"";
        }
      }
    }
  }
}

}  // namespace
}  // namespace llmtk
