// Every code point through the BERT-style components, against HF tokenizers'
// answers (testdata/tok/wordpiece-unicode.txt.zst, made by
// scripts/wordpiece-unicode-ref.js from the npm `tokenizers` 0.23.2 Rust
// binding; its header says what each field means). The components are loaded
// from tokenizer.json snippets, so the loader's lowering is checked too.
#include <cstdlib>
#include <fstream>
#include <functional>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "gtest/gtest.h"
#include "lib/base/io.h"
#include "lib/base/unicode.h"
#include "lib/tokenizer/tokenizer.h"

namespace llmtk {
namespace {

std::unique_ptr<Tokenizer> Load(const std::string& part) {
  std::string json = absl::StrCat(R"({"model": {"type": "BPE", "vocab": {"a": 0}, "merges": []}, )", part, "}");
  auto tok = Tokenizer::FromJson(json, "snippet");
  EXPECT_TRUE(tok.ok()) << tok.status();
  return tok.ok() ? std::move(*tok) : nullptr;
}

std::string Hex(std::string_view s) {
  std::string out;
  size_t i = 0;
  while (i < s.size()) {
    int32_t cp = DecodeUtf8(s, &i);
    if (!out.empty()) out += ',';
    out += absl::StrFormat("%X", cp);
  }
  return out.empty() ? "-" : out;
}

using Field = std::function<std::optional<std::string>(const std::string&)>;

Field NormalizerField(std::string name, std::string json) {
  std::shared_ptr<Tokenizer> tok = Load(absl::StrCat(R"("normalizer": )", json));
  return [tok, name](const std::string& c) -> std::optional<std::string> {
    std::string r;
    EXPECT_TRUE(tok->parts().normalizer.Apply(c, &r).ok());
    if (r == c) return std::nullopt;
    if (name == "clean") return r.empty() ? "x" : r == " " ? "s" : absl::StrCat("r", Hex(r));
    if (name == "cjk") return r == " " + c + " " ? "c" : absl::StrCat("r", Hex(r));
    if (name == "stripacc") return r.empty() ? "x" : absl::StrCat("r", Hex(r));
    return Hex(r);
  };
}

Field PreTokenizerField(std::string name, std::string json) {
  std::shared_ptr<Tokenizer> tok = Load(absl::StrCat(R"("pre_tokenizer": )", json));
  return [tok, name](const std::string& c) -> std::optional<std::string> {
    Pieces p;
    EXPECT_TRUE(tok->parts().pre_tokenizer.Run("a" + c + "a", true, &p).ok());
    size_t n = p.ranges.size();
    if (name == "ws") return n == 1 ? std::optional<std::string>("w") : n == 2 ? std::optional<std::string>("s") : std::nullopt;
    if (n == 1) return std::nullopt;
    if (name == "wsplit") return n == 2 ? "s" : absl::StrCat("n", n);
    if (n == 3) return name == "punct" ? "p" : "n";
    return absl::StrCat("n", n);
  };
}

TEST(WordPieceUnicode, EveryCodePointAsHfTokenizers) {
  std::vector<std::pair<std::string, Field>> fields = {
      {"clean", NormalizerField("clean", R"({"type": "BertNormalizer", "clean_text": true, "handle_chinese_chars": false, "strip_accents": false, "lowercase": false})")},
      {"cjk", NormalizerField("cjk", R"({"type": "BertNormalizer", "clean_text": false, "handle_chinese_chars": true, "strip_accents": false, "lowercase": false})")},
      {"accents", NormalizerField("accents", R"({"type": "BertNormalizer", "clean_text": false, "handle_chinese_chars": false, "strip_accents": true, "lowercase": false})")},
      {"lower", NormalizerField("lower", R"({"type": "BertNormalizer", "clean_text": false, "handle_chinese_chars": false, "strip_accents": false, "lowercase": true})")},
      {"stripacc", NormalizerField("stripacc", R"({"type": "StripAccents"})")},
      {"punct", PreTokenizerField("punct", R"({"type": "Punctuation", "behavior": "Isolated"})")},
      {"wsplit", PreTokenizerField("wsplit", R"({"type": "WhitespaceSplit"})")},
      {"ws", PreTokenizerField("ws", R"({"type": "Whitespace"})")},
      {"digits", PreTokenizerField("digits", R"({"type": "Digits", "individual_digits": false})")},
  };
  std::vector<std::string> ours;
  for (auto& [name, fn] : fields) {
    std::optional<std::string> prev;
    int64_t start = -1, last = -1;
    auto flush = [&]() {
      if (prev) ours.push_back(absl::StrFormat("%X %X %s %s", start, last, name, *prev));
    };
    for (int64_t cp = 0; cp <= 0x10FFFF; ++cp) {
      if (cp >= 0xD800 && cp <= 0xDFFF) continue;
      std::string c;
      AppendUtf8(&c, static_cast<char32_t>(cp));
      std::optional<std::string> v = fn(c);
      if (v != prev || (cp != last + 1 && !(last == 0xD7FF && cp == 0xE000))) {
        flush();
        start = cp;
        prev = v;
      }
      last = cp;
    }
    flush();
  }
  if (const char* dump = std::getenv("LLMTK_WORDPIECE_UNICODE_DUMP")) {
    std::ofstream f(dump);
    for (const std::string& l : ours) f << l << '\n';
  }
  auto data = ReadFileToString(std::string(LLMTK_TESTDATA) + "/tok/wordpiece-unicode.txt.zst");
  ASSERT_TRUE(data.ok()) << data.status();
  std::vector<std::string> want;
  for (absl::string_view l : absl::StrSplit(*data, '\n'))
    if (!l.empty() && l[0] != '#') want.emplace_back(l);
  // Known differences, each a line only HF or only llmtk gives: the
  // letters, digits and case pairs Unicode 16 and 17 added (Rust's std knows
  // them, utf8proc 2.8 does not) and one NFD of Unicode 13's Dives Akuru.
  auto known = ReadFileToString(std::string(LLMTK_TESTDATA) + "/tok/wordpiece-unicode-known.txt");
  ASSERT_TRUE(known.ok()) << known.status();
  std::set<std::string> hf_only, ours_only;
  for (absl::string_view l : absl::StrSplit(*known, '\n')) {
    if (absl::ConsumePrefix(&l, "HF ")) hf_only.emplace(l);
    if (absl::ConsumePrefix(&l, "llmtk ")) ours_only.emplace(l);
  }
  std::erase_if(want, [&](const std::string& l) { return hf_only.erase(l) > 0; });
  std::erase_if(ours, [&](const std::string& l) { return ours_only.erase(l) > 0; });
  EXPECT_TRUE(hf_only.empty()) << "known HF-only lines HF no longer gives: " << hf_only.size();
  EXPECT_TRUE(ours_only.empty()) << "known llmtk-only lines llmtk no longer gives: " << ours_only.size();
  std::set<std::string> a(want.begin(), want.end()), b(ours.begin(), ours.end());
  int shown = 0;
  for (const std::string& l : want)
    if (!b.count(l) && shown++ < 20) ADD_FAILURE() << "HF only:    " << l;
  for (const std::string& l : ours)
    if (!a.count(l) && shown++ < 40) ADD_FAILURE() << "llmtk only: " << l;
  EXPECT_EQ(want.size(), ours.size());
}

}  // namespace
}  // namespace llmtk
