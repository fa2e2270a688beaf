// The tokenizer's fast paths against their references, byte for byte: the
// Unigram word cache (EncodeWord vs EncodeWordUncached), BertNormalizer's
// ASCII table (BertNormalize vs BertNormalizeReference) and the Precompiled
// normalizer's ASCII table (NormalizeHf vs NormalizeHfReference), on the
// test corpora and on random strings over the characters where the
// shortcuts could go wrong (controls, CR LF, combining marks out of
// canonical order, Prepend characters, emoji sequences); and the Unigram
// trie's arrays against the hash map they are built from, and the word
// caches' map (WordIdsMap) against std::map.
#include <algorithm>
#include <map>
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
#include "lib/tokenizer/word_ids_map.h"

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


TEST(TokenizerFastPathsTest, UnigramTrieArraysMatchHashMap) {
  std::vector<std::string> texts = MetaspaceWords();
  for (std::string& t : RandomTexts(20000, 3)) texts.push_back(std::move(t));
  for (const char* name : {"uni.model", "uni-bf.model"}) {
    auto bytes = ReadFileToString(kTestdata + "/tok/spm/" + name);
    ASSERT_TRUE(bytes.ok()) << bytes.status();
    auto tok = Tokenizer::FromSentencePiece(*bytes, name);
    ASSERT_TRUE(tok.ok()) << tok.status();
    const auto* uni = dynamic_cast<const UnigramModel*>(&(*tok)->model());
    ASSERT_NE(uni, nullptr);
    size_t matches = 0, longest = 0;
    for (const std::string& t : texts) {
      for (size_t k = 0; k < t.size(); ++k) {  // every byte offset, mid-character too
        const std::string_view s = std::string_view(t).substr(k);
        const auto fast = uni->PrefixMatches(s, false);
        ASSERT_EQ(fast, uni->PrefixMatches(s, true)) << name << ", text \"" << t << "\" from byte " << k;
        matches += fast.size();
        if (!fast.empty()) longest = std::max(longest, fast.back().first);
      }
    }
    EXPECT_GT(matches, 100000u) << name;
    EXPECT_GE(longest, 8u) << name;
  }
}

TEST(TokenizerFastPathsTest, WordIdsMapMatchesStdMap) {
  // Words colliding in length and prefix, ids of every count up to 40; the
  // map empties itself at 1000 words, the model map follows it.
  WordIdsMap map(1000);
  std::map<std::string, std::vector<uint32_t>> want;
  std::mt19937 rng(4);
  size_t hits = 0, clears = 0;
  for (int i = 0; i < 200000; ++i) {
    std::string w(1 + rng() % 40, 'a');
    for (char& c : w) c = static_cast<char>("ab\xE4\xB8\xAD"[rng() % 4]);
    std::span<const uint32_t> got;
    const bool found = map.Find(w, &got);
    auto it = want.find(w);
    ASSERT_EQ(found, it != want.end()) << "word " << i;
    if (found) {
      ASSERT_EQ(std::vector<uint32_t>(got.begin(), got.end()), it->second) << "word " << i;
      ++hits;
      continue;
    }
    std::vector<uint32_t> ids(rng() % 41);
    for (uint32_t& id : ids) id = rng();
    if (map.size() == 1000) {
      want.clear();
      ++clears;
    }
    map.Insert(w, ids);
    want[w] = ids;
    ASSERT_EQ(map.size(), want.size());
  }
  EXPECT_GT(hits, 5000u);
  EXPECT_GT(clears, 10u);
}

}  // namespace
}  // namespace llmtk
