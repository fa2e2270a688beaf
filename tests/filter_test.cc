#include <cstdio>  // compact_lang_det.h uses FILE without including it
#include <cld2/public/compact_lang_det.h>

#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>
#include <map>
#include <sstream>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "lib/base/jsonl.h"
#include "lib/filter/attributes.h"
#include "lib/filter/c4.h"
#include "lib/filter/filter.h"
#include "lib/filter/fineweb.h"
#include "lib/filter/gopher.h"
#include "lib/filter/langid.h"
#include "lib/filter/langid_fasttext.h"
#include "lib/filter/pii.h"
#include "lib/filter/rules.h"
#include "lib/filter/text.h"
#include "simdjson.h"

namespace llmtk {
namespace {

namespace fs = std::filesystem;
const std::string kSample = std::string(LLMTK_TESTDATA) + "/filter/sample.jsonl";
// The reference port's output for kSample (scripts/reference/dolma_taggers.py).
const std::string kSampleDolma = std::string(LLMTK_TESTDATA) + "/filter/sample.dolma.jsonl";

std::string Slurp(const std::string& p) {
  std::ifstream f(p, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

std::vector<std::string> Lines(const std::string& s) {
  std::vector<std::string> out;
  std::istringstream in(s);
  for (std::string l; std::getline(in, l);) out.push_back(l);
  return out;
}

std::vector<std::string> SampleTexts() {
  std::vector<std::string> texts;
  simdjson::dom::parser p;
  for (const std::string& l : Lines(Slurp(kSample))) {
    std::string_view t;
    EXPECT_FALSE(p.parse(l).get_object()["text"].get_string().get(t));
    texts.emplace_back(t);
  }
  return texts;
}

TEST(FilterTextTest, SplitsOnPythonWhitespace) {
  std::vector<Word> w;
  SplitWords("a\u3000b\u00a0c\x1c" "d\u2028e\u200bf  g\u0085", &w);
  ASSERT_EQ(w.size(), 6u);  // U+200B is no whitespace for Python
  EXPECT_EQ(w[4].text, "e\u200bf");
  EXPECT_EQ(w[4].chars, 3u);
  EXPECT_EQ(w[5].text, "g");
  std::vector<std::string_view> lines;
  SplitLines("a\n\nb\n", &lines);
  EXPECT_EQ(lines, (std::vector<std::string_view>{"a", "", "b", ""}));
  EXPECT_EQ(StripPython("\u3000 x y\t\u00a0"), "x y");
  EXPECT_EQ(StripPython(" \u2029 "), "");
}

TEST(FilterTextTest, LowersAsPython) {
  EXPECT_EQ(LowerPython("İSTANBUL"), "i\u0307stanbul");
  EXPECT_EQ(LowerPython("ΟΔΥΣΣΕΥΣ ΣΑ Σ"), "οδυσσευς σα σ");
  EXPECT_EQ(LowerPython("K\u212a"), "kk");
}

TEST(FilterTextTest, RoundsAsPython) {
  // Python 3.11: round(v, 5) for each v.
  const std::pair<double, double> cases[] = {
      {0.123455, 0.12345}, {2.675, 2.675},     {1.0 / 3, 0.33333},  {2.0 / 3, 0.66667},
      {5e-06, 1e-05},      {4.9999e-06, 0.0},  {1e-07, 0.0},        {123456.789012345, 123456.78901},
      {0.285714285714, 0.28571}, {1.5e-05, 2e-05}, {2.5e-05, 3e-05}, {0.999995, 0.99999},
      {0.9999949999, 0.99999}, {7.0, 7.0}};
  for (const auto& [v, want] : cases) {
    EXPECT_EQ(PythonRound5(v), want) << v;
    EXPECT_EQ(PythonRound5Reference(v), want) << v;
  }
}

// The fast path against the printf/strtod reference: every ratio a/b of small
// counts (what the taggers score), values at and next to .5 boundaries, and
// pseudo-random doubles over many magnitudes.
TEST(FilterTextTest, FastRoundEqualsReference) {
  size_t n = 0;
  auto same = [&](double v) {
    ++n;
    const double a = PythonRound5(v), b = PythonRound5Reference(v);
    ASSERT_TRUE(a == b && std::signbit(a) == std::signbit(b)) << std::hexfloat << v << " " << a << " " << b;
  };
  for (int b = 1; b <= 2000; ++b)
    for (int a = 0; a <= b; a += (b > 400 ? 7 : 1)) same(static_cast<double>(a) / b);
  for (int k = -300000; k <= 300000; ++k) {
    const double boundary = (k + 0.5) / 1e5;
    same(boundary);
    same(std::nextafter(boundary, 1e9));
    same(std::nextafter(boundary, -1e9));
  }
  uint64_t state = 0x9E3779B97F4A7C15ull;
  for (int i = 0; i < 1000000; ++i) {
    state = state * 6364136223846793005ull + 1442695040888963407ull;
    const double unit = static_cast<double>(state >> 11) / 9007199254740992.0;
    const double v = (unit - 0.5) * std::pow(10.0, static_cast<int>(state % 17) - 8);
    same(v);
  }
  same(-0.0);
  same(1e300);
  same(std::numeric_limits<double>::infinity());
  EXPECT_GT(n, 3000000u);
}

// AppendJson (keys quoted once per slot, numbers written directly) against
// the JsonWriter definition, on the sample with one Attributes reused across
// documents whose tagger sets change (so slots change names), keys that need
// escaping, and scores that are not finite.
TEST(FilterAttributesTest, JsonEqualsReference) {
  const std::vector<std::string> texts = SampleTexts();
  GopherTagger gopher;
  C4Tagger c4;
  Attributes a;
  size_t checked = 0;
  for (size_t i = 0; i < texts.size(); ++i) {
    a.Clear();
    if (i % 3 != 1) gopher.Tag(texts[i], &a);
    if (i % 2 == 0) c4.Tag(texts[i], &a);
    TagFineWeb(texts[i], &a);
    if (i % 5 == 0) TagLanguage(texts[i], &a);
    if (i % 7 == 0) a.Add("x", "quote\"back\\slash\nline\u00e9", 1, 2, std::numeric_limits<double>::infinity());
    if (i % 11 == 0) a.Add("x", "nan", 0, 3, std::nan(""));
    std::string fast = "prefix", ref = "prefix";
    a.AppendJson(&fast);
    a.AppendJsonReference(&ref);
    ASSERT_EQ(fast, ref) << "doc " << i;
    checked += fast.size();
  }
  EXPECT_GT(checked, 200000u);
}

// The counted median against std::nth_element, lengths above and below the
// counted range, odd and even counts, and the sample's word lengths.
TEST(FilterTaggersTest, MedianWordLengthEqualsReference) {
  std::vector<uint32_t> scratch;
  EXPECT_EQ(MedianWordLength({}, &scratch), 0.0);
  uint64_t state = 12345;
  for (int i = 0; i < 20000; ++i) {
    state = state * 6364136223846793005ull + 1442695040888963407ull;
    const size_t n = (state >> 33) % 40;
    const uint32_t range = (i % 3 == 0) ? 200 : (i % 3 == 1 ? 70 : 12);
    std::vector<uint32_t> lens(n);
    for (uint32_t& v : lens) {
      state = state * 6364136223846793005ull + 1442695040888963407ull;
      v = static_cast<uint32_t>((state >> 33) % range);
    }
    ASSERT_EQ(MedianWordLength(lens, &scratch), MedianWordLengthReference(lens)) << i;
  }
  std::vector<Word> words;
  for (const std::string& t : SampleTexts()) {
    SplitWords(t, &words);
    std::vector<uint32_t> lens;
    for (const Word& w : words) lens.push_back(w.chars);
    ASSERT_EQ(MedianWordLength(lens, &scratch), MedianWordLengthReference(lens));
  }
}

// Every gopher_v1 and c4_v1 attribute of the sample as the reference port
// (scripts/reference/dolma_taggers.py) gives it: same keys in the same order,
// same offsets, scores equal (bit for bit: both round with round(x, 5)).
TEST(FilterTaggersTest, MatchDolmaReferenceOnSample) {
  const std::vector<std::string> texts = SampleTexts();
  const std::vector<std::string> ref = Lines(Slurp(kSampleDolma));
  ASSERT_EQ(texts.size(), 214u);
  ASSERT_EQ(ref.size(), texts.size());
  GopherTagger gopher;
  C4Tagger c4;
  simdjson::dom::parser p;
  size_t compared = 0;
  for (size_t i = 0; i < texts.size(); ++i) {
    Attributes ours;
    gopher.Tag(texts[i], &ours);
    c4.Tag(texts[i], &ours);
    simdjson::dom::object want;
    ASSERT_FALSE(p.parse(ref[i]).get_object()["attributes"].get_object().get(want));
    size_t k = 0;
    for (auto [key, spans] : want) {
      ASSERT_LT(k, ours.items().size()) << "doc " << i;
      const Attribute& a = ours.items()[k++];
      ASSERT_EQ(a.name, key) << "doc " << i;
      simdjson::dom::array arr = spans.get_array();
      ASSERT_EQ(a.spans.size(), arr.size()) << "doc " << i << " " << a.name;
      size_t j = 0;
      for (auto s : arr) {
        simdjson::dom::array v = s.get_array();
        EXPECT_EQ(a.spans[j].start, uint64_t(v.at(0).get_int64().value()));
        EXPECT_EQ(a.spans[j].end, uint64_t(v.at(1).get_int64().value()));
        EXPECT_EQ(a.spans[j].score, v.at(2).get_double().value()) << "doc " << i << " " << a.name;
        ++j;
        ++compared;
      }
    }
    EXPECT_EQ(k, ours.items().size()) << "doc " << i;
  }
  EXPECT_GT(compared, 3000u);
}

TEST(FilterTaggersTest, DefaultBadWordsAreTheReferenceList) {
  EXPECT_EQ(DefaultBadWords(), Slurp(std::string(LLMTK_TESTDATA) + "/../scripts/reference/naughty_words_en.txt"));
}

TEST(FilterTaggersTest, GopherOnKnownText) {
  GopherTagger g;
  Attributes a;
  g.Tag("the cat\nthe cat\n- x…", &a);
  EXPECT_EQ(a.Find("gopher_v1__word_count")->spans[0].score, 6);
  EXPECT_EQ(a.Find("gopher_v1__gopher_v1__character_count")->spans[0].end, 20u);
  // "the cat" twice: 2 of 3 lines; 14 characters over the 15 in words (dolma
  // divides by the words' characters, not the text's).
  EXPECT_EQ(a.Find("gopher_v1__fraction_of_duplicate_lines")->spans[0].score, 0.66667);
  EXPECT_EQ(a.Find("gopher_v1__fraction_of_characters_in_duplicate_lines")->spans[0].score, 0.93333);
  EXPECT_EQ(a.Find("gopher_v1__fraction_of_characters_in_most_common_3grams")->spans[0].score, 0.6);
  EXPECT_EQ(a.Find("gopher_v1__fraction_of_characters_in_duplicate_6grams")->spans[0].score, 0);
  EXPECT_EQ(a.Find("gopher_v1__fraction_of_characters_in_duplicate_7grams"), nullptr);  // 6 words only
  EXPECT_EQ(a.Find("gopher_v1__fraction_of_lines_starting_with_bullet_point")->spans[0].score, 0.33333);
  EXPECT_EQ(a.Find("gopher_v1__symbol_to_word_ratio")->spans[0].score, 0.16667);
  EXPECT_EQ(a.Find("gopher_v1__required_word_count")->spans[0].score, 2);
}

TEST(FilterTaggersTest, C4LineSpans) {
  C4Tagger c4;
  Attributes a;
  c4.Tag("A sentence that is long enough to count.\nshort\nshort\n\n", &a);
  // The reference port's spans for this text.
  const std::vector<std::pair<uint64_t, uint64_t>> want = {{41, 47}, {47, 53}, {53, 54}, {54, 54}};
  for (const char* key : {"c4_v1__lines_with_no_ending_punctuation", "c4_v1__lines_with_too_few_words"}) {
    const Attribute* at = a.Find(key);
    ASSERT_NE(at, nullptr);
    ASSERT_EQ(at->spans.size(), want.size());
    for (size_t i = 0; i < want.size(); ++i) {
      EXPECT_EQ(at->spans[i].start, want[i].first);
      EXPECT_EQ(at->spans[i].end, want[i].second);
    }
  }
  EXPECT_EQ(a.Find("c4_v1__line_count")->spans[0].score, 5);
  EXPECT_EQ(a.Find("c4_v1__has_naughty_word"), nullptr);
  Attributes b;
  C4Tagger custom("lorem\nred fox");
  custom.Tag("The Red  Fox ran.", &b);
  EXPECT_EQ(b.Find("c4_v1__has_naughty_word"), nullptr);  // phrases match the lowered line as a substring
  custom.Tag("the red fox ran.", &b);
  EXPECT_NE(b.Find("c4_v1__has_naughty_word"), nullptr);
}

TEST(FilterTaggersTest, FineWebStatistics) {
  Attributes a;
  TagFineWeb("A sentence that is long enough to count.\nshort\nshort\n\n", &a);
  // 5 lines (two empty at the end): 1 ends in '.', 4 are <= 30 chars;
  // "short" repeated: 5 of the 50 characters without "\n".
  EXPECT_EQ(a.Find("fineweb_v1__line_punct_ratio")->spans[0].score, 0.2);
  EXPECT_EQ(a.Find("fineweb_v1__short_line_ratio")->spans[0].score, 0.8);
  EXPECT_EQ(a.Find("fineweb_v1__char_dup_ratio")->spans[0].score, 0.1);
}

// The cld2 attributes are CLD2's own answer, called directly.
TEST(FilterLangIdTest, SameAsCld2Directly) {
  size_t n = 0;
  for (const std::string& text : SampleTexts()) {
    CLD2::Language langs[3];
    int percents[3], text_bytes;
    bool reliable;
    const CLD2::Language top = CLD2::DetectLanguageSummary(text.data(), static_cast<int>(text.size()), true, langs,
                                                           percents, &text_bytes, &reliable);
    Attributes a;
    TagLanguage(text, &a);
    std::vector<std::pair<std::string, double>> want;
    for (int i = 0; i < 3; ++i)
      if (percents[i] > 0) want.push_back({absl::StrCat("cld2__cld2__", CLD2::LanguageCode(langs[i])), percents[i] / 100.0});
    if (want.empty()) want.push_back({absl::StrCat("cld2__cld2__", CLD2::LanguageCode(top)), 0.0});
    ASSERT_EQ(a.items().size(), want.size());
    for (size_t i = 0; i < want.size(); ++i) {
      EXPECT_EQ(a.items()[i].name, want[i].first);
      EXPECT_EQ(a.items()[i].spans[0].score, PythonRound5(want[i].second));
    }
    ++n;
  }
  EXPECT_EQ(n, 214u);
  EXPECT_EQ(DetectLanguages("The quick brown fox jumps over the lazy dog near the river bank today.")[0].code, "en");
  EXPECT_EQ(DetectLanguages("我们今天去公园散步，天气非常好，大家都很开心。")[0].code, "zh");
}

// testdata/filter/lid-tiny.predictions is `fasttext predict-prob lid-tiny.bin
// TEXTS 3` (Debian fasttext 0.9.2) with each sample document as one line,
// '\n' replaced by ' ' (scripts/reference/fasttext-lid-tiny): llmtk's labels
// and probabilities, printed as the CLI prints them, are the same text.
TEST(FilterLangIdTest, FastTextSameAsFastTextCli) {
  auto id = FastTextLangId::Load(std::string(LLMTK_TESTDATA) + "/filter/lid-tiny.bin");
  ASSERT_TRUE(id.ok()) << id.status();
  const std::vector<std::string> want = Lines(Slurp(std::string(LLMTK_TESTDATA) + "/filter/lid-tiny.predictions"));
  const std::vector<std::string> texts = SampleTexts();
  ASSERT_EQ(want.size(), texts.size());
  std::map<std::string, int> top;
  for (size_t i = 0; i < texts.size(); ++i) {
    const auto got = (*id)->Predict(texts[i], 3);
    std::ostringstream line;  // the CLI's printing: label, ' ', the float as ostream prints it
    for (size_t j = 0; j < got.size(); ++j) line << (j ? " " : "") << "__label__" << got[j].first << ' ' << got[j].second;
    EXPECT_EQ(line.str(), want[i]) << "document " << i;
    ++top[got.at(0).first];
    Attributes a;
    (*id)->Tag(texts[i], &a);
    ASSERT_EQ(a.items().size(), got.size());
    EXPECT_EQ(a.items()[0].name, "fasttext__fasttext__" + got[0].first);
    EXPECT_EQ(a.items()[0].spans[0].end, CodePoints(texts[i]));
    EXPECT_EQ(a.items()[0].spans[0].score, PythonRound5(got[0].second));
  }
  // The model tells the sample's English from its Chinese.
  EXPECT_EQ(top, (std::map<std::string, int>{{"en", 144}, {"lzh", 47}, {"zh", 23}}));
}

TEST(FilterLangIdTest, FastTextErrors) {
  EXPECT_EQ(FastTextLangId::Load("no/such.bin").status().message(), "--fasttext no/such.bin: No such file or directory");
  const auto not_model = FastTextLangId::Load(kSample);
  ASSERT_FALSE(not_model.ok());
  EXPECT_TRUE(absl::StartsWith(not_model.status().message(), "--fasttext " + kSample + ": not a fastText model ("))
      << not_model.status();
}

TEST(FilterPiiTest, PublicIpsAsPythonIpaddress) {
  // Python 3.11.7: ipaddress.ip_address(s).is_global (leading zeros: invalid).
  const std::pair<const char*, bool> cases[] = {
      {"8.8.8.8", true},        {"10.1.2.3", false},     {"192.168.0.1", false},   {"172.16.5.4", false},
      {"172.32.0.1", true},     {"127.0.0.1", false},    {"100.64.0.1", false},    {"100.128.0.1", true},
      {"169.254.1.1", false},   {"0.1.2.3", false},      {"224.0.0.1", true},      {"240.0.0.1", false},
      {"255.255.255.255", false}, {"192.0.2.5", false},  {"198.51.100.7", false},  {"203.0.113.9", false},
      {"198.18.0.1", false},    {"192.0.0.9", true},     {"192.0.0.171", false},   {"01.2.3.4", false},
      {"1.2.3.04", false},      {"93.184.216.34", true}, {"1.1.1.1", true},        {"192.0.0.8", true}};
  for (const auto& [ip, global] : cases) EXPECT_EQ(IsPublicIpv4(ip), global) << ip;
}

TEST(FilterPiiTest, ReplacesPlantedAddressesOnly) {
  auto r = PiiReplacer::Create();
  ASSERT_TRUE(r.ok());
  PiiCounts c;
  auto out = (*r)->Replace(
      "mail john.doe@mail.example.net or ops@[192.168.1.1]; Bob@Example.com stays (upper case); "
      "servers 8.8.8.8, 10.0.0.1 and 93.184.216.34, version 1.2.3.4.5; third a@b.co",
      &c);
  ASSERT_TRUE(out.ok());
  EXPECT_EQ(*out,
            "mail email@example.com or firstname.lastname@example.org; Bob@Example.com stays (upper case); "
            "servers 22.214.171.124, 10.0.0.1 and 126.96.36.199, version 188.8.131.52.5; third email@example.com");
  EXPECT_EQ(c.emails, 3u);
  EXPECT_EQ(c.ips, 3u);
  // Text without addresses comes back byte for byte.
  size_t unchanged = 0;
  for (const std::string& text : SampleTexts()) {
    PiiCounts none;
    auto same = (*r)->Replace(text, &none);
    ASSERT_TRUE(same.ok());
    if (none.emails + none.ips > 0) continue;
    EXPECT_TRUE(*same == text);
    ++unchanged;
  }
  EXPECT_EQ(unchanged, 212u);  // two sample documents hold real addresses
}

TEST(FilterRulesTest, PresetsLoad) {
  auto all = LoadRules("gopher,c4,fineweb");
  ASSERT_TRUE(all.ok()) << all.status();
  EXPECT_EQ(all->rules.size(), 18u + 3u + 3u);
  EXPECT_EQ(all->taggers, (std::vector<std::string>{"gopher_v1", "c4_v1", "fineweb_v1"}));
  EXPECT_EQ(all->rules[0].name, "gopher_word_count");
  EXPECT_EQ(*all->rules[0].min, 50);
}

TEST(FilterRulesTest, ErrorsNameFileAndLine) {
  auto e = ParseRules("# comment\n{\"attribute\": \"gopher_v1__word_count\", \"min\": 5}\n{\"attribute\": 3}\n", "r.jsonl");
  EXPECT_EQ(e.status().message(), "r.jsonl:3: \"attribute\" must be a string");
  e = ParseRules("\n{\"attribute\": \"gopher_v1__word_count\", \"mni\": 5}\n", "r.jsonl");
  EXPECT_EQ(e.status().message(),
            "r.jsonl:2: unknown field \"mni\" (a rule has attribute, of, min, max, above, below, name, languages, "
            "unless_script)");
  e = ParseRules("{\"attribute\": \"nope__x\", \"min\": 1}", "r.jsonl");
  EXPECT_EQ(e.status().message(),
            "r.jsonl:1: attribute 'nope__x' belongs to no tagger (gopher_v1, c4_v1, fineweb_v1, cld2, fasttext)");
  e = ParseRules("{\"attribute\": \"cld2__en\"}", "r.jsonl");
  EXPECT_EQ(e.status().message(), "r.jsonl:1: a rule needs a bound: min, max, above or below");
  e = ParseRules("{\"attribute\": \"cld2__en\", \"min\": 1\n", "r.jsonl");
  EXPECT_TRUE(absl::StartsWith(e.status().message(), "r.jsonl:1: not a JSON object")) << e.status();
  EXPECT_EQ(LoadRules("nosuchpreset").status().message(),
            "--rules 'nosuchpreset' is neither a rule file nor a preset (gopher, c4, fineweb)");
}

TEST(FilterRulesTest, YamlIsTheSameSchema) {
  const auto yaml = ParseYamlRules(R"(# per-language thresholds
- name: min_words
  attribute: gopher_v1__word_count
  min: 50
  max: 1e5
  unless_script: cjk
- {attribute: "cld2__en", min: 0.65, languages: [en, un]}
- attribute: c4_v1__lines_with_too_few_words
  of: fraction
  below: .5
)", "r.yaml");
  ASSERT_TRUE(yaml.ok()) << yaml.status();
  const auto json = ParseRules(R"({"name": "min_words", "attribute": "gopher_v1__word_count", "min": 50, "max": 100000, "unless_script": "cjk"}
{"attribute": "cld2__en", "min": 0.65, "languages": ["en", "un"]}
{"attribute": "c4_v1__lines_with_too_few_words", "of": "fraction", "below": 0.5}
)", "r.jsonl");
  ASSERT_TRUE(json.ok()) << json.status();
  ASSERT_EQ(yaml->rules.size(), 3u);
  for (size_t i = 0; i < 3; ++i) {
    const Rule &a = yaml->rules[i], &b = json->rules[i];
    EXPECT_EQ(a.name, b.name);
    EXPECT_EQ(a.attribute, b.attribute);
    EXPECT_EQ(a.of, b.of);
    EXPECT_EQ(a.min, b.min);
    EXPECT_EQ(a.max, b.max);
    EXPECT_EQ(a.above, b.above);
    EXPECT_EQ(a.below, b.below);
    EXPECT_EQ(a.languages, b.languages);
    EXPECT_EQ(a.unless_cjk, b.unless_cjk);
  }
  EXPECT_EQ(yaml->taggers, json->taggers);
  EXPECT_TRUE(yaml->needs_language);
}

TEST(FilterRulesTest, YamlErrorsNameFileAndLine) {
  auto msg = [](std::string_view text) { return std::string(ParseYamlRules(text, "r.yaml").status().message()); };
  EXPECT_EQ(msg("- attribute: gopher_v1__word_count\n  min: 5\n- attribute: gopher_v1__word_count\n  mn: 5\n"),
            "r.yaml:4: unknown field \"mn\" (a rule has attribute, of, min, max, above, below, name, languages, "
            "unless_script)");
  EXPECT_EQ(msg("\n- attribute: c4_v1__has_naughty_word\n  max: \"0\"\n"), "r.yaml:3: \"max\" must be a number");
  EXPECT_EQ(msg("- attribute: c4_v1__has_naughty_word\n  max: zero\n"), "r.yaml:2: \"max\" must be a number");
  EXPECT_EQ(msg("# c\n\n- name: x\n  attribute: cld2__en\n"), "r.yaml:3: a rule needs a bound: min, max, above or below");
  EXPECT_EQ(msg("attribute: cld2__en\nmin: 1\n"),
            "r.yaml:1: a YAML rule file is a list of rules, each starting with '- '");
  EXPECT_EQ(msg("- attribute: cld2__en\n  min: 1\n- [1, 2]\n"),
            "r.yaml:3: a rule must be a mapping (attribute: ..., min: ...)");
  EXPECT_EQ(msg("- attribute: cld2__en\n  languages: {en: 1}\n"),
            "r.yaml:2: \"languages\" must be a value or a list, not a mapping");
  EXPECT_EQ(msg("- attribute: cld2__en\n  languages: en\n  min: 1\n"),
            "r.yaml:2: \"languages\" must be a list of language codes");
  EXPECT_EQ(msg("- attribute: cld2__en\n  min: [1\n"), "r.yaml:2: not valid YAML (end of sequence flow not found)");
  EXPECT_TRUE(ParseYamlRules("", "r.yaml")->rules.empty());
}

// The form is told by the name (.yaml/.yml, .json/.jsonl), else by the first
// line that is not blank or a comment: '{' starts JSON Lines.
TEST(FilterRulesTest, FileFormByNameOrContent) {
  const fs::path dir = fs::temp_directory_path() / absl::StrCat("llmtk_rules_", getpid());
  fs::create_directories(dir);
  auto load = [&](const std::string& name, const std::string& text) {
    std::ofstream(dir / name) << text;
    return LoadRules((dir / name).string());
  };
  const std::string yaml = "# c\n\n- {attribute: gopher_v1__word_count, min: 50}\n";
  const std::string jsonl = "# c\n\n{\"attribute\": \"gopher_v1__word_count\", \"min\": 50}\n";
  for (const auto& [name, text] : {std::pair{"a.txt", yaml}, {"b", jsonl}, {"c.yml", yaml}, {"d.jsonl", jsonl}}) {
    auto r = load(name, text);
    ASSERT_TRUE(r.ok()) << name << ": " << r.status();
    ASSERT_EQ(r->rules.size(), 1u) << name;
    EXPECT_EQ(*r->rules[0].min, 50) << name;
  }
  // A YAML-named file is read as YAML even when it looks like JSON Lines.
  auto e = load("e.yaml", jsonl + jsonl);
  EXPECT_FALSE(e.ok());
  EXPECT_TRUE(absl::StartsWith(e.status().message(), (dir / "e.yaml").string() + ":")) << e.status();
  fs::remove_all(dir);
}

TEST(FilterRulesTest, BoundsAndValues) {
  Rule r;
  r.above = 0.12;
  EXPECT_FALSE(RulePasses(r, 0.12));
  EXPECT_TRUE(RulePasses(r, 0.13));
  Rule m;
  m.max = 0;
  EXPECT_TRUE(RulePasses(m, 0));
  Attributes a;
  a.Add("c4_v1", "lines_with_too_few_words", 0, 5);
  a.Add("c4_v1", "lines_with_too_few_words", 10, 15);
  Rule f;
  f.attribute = "c4_v1__lines_with_too_few_words";
  f.of = Rule::Of::kFraction;
  EXPECT_EQ(RuleValue(f, a, 20), 0.5);
  f.of = Rule::Of::kSpans;
  EXPECT_EQ(RuleValue(f, a, 20), 2);
  f.attribute = "c4_v1__has_naughty_word";
  f.of = Rule::Of::kScore;
  EXPECT_EQ(RuleValue(f, a, 20), 0);  // absent: 0
  EXPECT_TRUE(IsMostlyCjk("我们今天去公园 ok"));
  EXPECT_FALSE(IsMostlyCjk("mostly English 中文"));
}

class FilterRunTest : public ::testing::Test {
 protected:
  std::string dir_ = (fs::temp_directory_path() / absl::StrCat("filter_test_", getpid())).string();
  void SetUp() override { fs::create_directories(dir_); }
  void TearDown() override { fs::remove_all(dir_); }
};

TEST_F(FilterRunTest, OutputIndependentOfThreadsAndShardsConcatenate) {
  FilterOptions o;
  o.inputs = {kSample};
  o.rules = "gopher,c4,fineweb";
  o.pii = true;
  o.output = dir_ + "/kept1.jsonl";
  o.removed = dir_ + "/removed1.jsonl";
  o.threads = 1;
  auto r1 = RunFilter(o);
  ASSERT_TRUE(r1.ok()) << r1.status();
  o.output = dir_ + "/kept3.jsonl";
  o.removed = dir_ + "/removed3.jsonl";
  o.threads = 3;
  auto r3 = RunFilter(o);
  ASSERT_TRUE(r3.ok());
  EXPECT_EQ(Slurp(dir_ + "/kept1.jsonl"), Slurp(dir_ + "/kept3.jsonl"));
  EXPECT_EQ(Slurp(dir_ + "/removed1.jsonl"), Slurp(dir_ + "/removed3.jsonl"));
  EXPECT_EQ(r1->documents, 214u);
  EXPECT_EQ(r1->kept + r1->removed, 214u);
  EXPECT_EQ(Lines(Slurp(dir_ + "/kept1.jsonl")).size(), r1->kept);
  uint64_t by_rule = 0;
  for (const auto& [rule, n] : r1->removed_by_rule) by_rule += n;
  EXPECT_EQ(by_rule, r1->removed);
  // Two input files in two shards: the shards' outputs are the whole run's.
  fs::copy_file(kSample, dir_ + "/a.jsonl");
  fs::copy_file(kSample, dir_ + "/b.jsonl");
  FilterOptions s;
  s.tag = true;
  s.taggers = {"gopher", "c4", "fineweb", "cld2"};
  s.inputs = {dir_ + "/a.jsonl", dir_ + "/b.jsonl"};
  s.output = dir_ + "/all.jsonl";
  ASSERT_TRUE(RunFilter(s).ok());
  s.num_shards = 2;
  std::string joined;
  for (int i = 0; i < 2; ++i) {
    s.shard = i;
    s.output = dir_ + absl::StrCat("/shard", i, ".jsonl");
    ASSERT_TRUE(RunFilter(s).ok());
    joined += Slurp(s.output);
  }
  EXPECT_EQ(joined, Slurp(dir_ + "/all.jsonl"));
}

TEST_F(FilterRunTest, BadLinesNameFileAndLineOrAreCounted) {
  const std::string in = dir_ + "/bad.jsonl";
  std::ofstream(in) << "{\"text\": \"fine line here.\"}\n{\"text\": oops}\n{\"text\": \"another.\"}\n";
  FilterOptions o;
  o.tag = true;
  o.taggers = {"c4"};
  o.inputs = {in};
  o.output = dir_ + "/out.jsonl";
  auto r = RunFilter(o);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find(in + ":2"), std::string::npos) << r.status();
  o.reader.on_bad_line = BadLinePolicy::kSkip;
  r = RunFilter(o);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->documents, 2u);
  EXPECT_EQ(r->skipped, 1u);
}

}  // namespace
}  // namespace llmtk
