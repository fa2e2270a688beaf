#include "lib/eval/generation_task.h"

#include <cmath>
#include <fstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "absl/strings/match.h"

#include "lib/eval/answer_match.h"

namespace llmtk {
namespace {

const std::string kData = std::string(LLMTK_TESTDATA) + "/";

AnswerMatchOptions Opts(std::string extract, std::vector<std::string> ignore = {}, bool ignore_case = false,
                        bool ignore_punctuation = false, bool ignore_numbers = false, bool last = false) {
  AnswerMatchOptions o;
  o.extract = std::move(extract);
  o.regexes_to_ignore = std::move(ignore);
  o.ignore_case = ignore_case;
  o.ignore_punctuation = ignore_punctuation;
  o.ignore_numbers = ignore_numbers;
  o.extract_last = last;
  return o;
}

GenerationItem Item(std::string prompt, std::string gold, uint64_t line = 0) {
  GenerationItem i;
  i.prompt = std::move(prompt);
  i.gold = std::move(gold);
  i.line = line;
  return i;
}

std::unique_ptr<AnswerMatcher> Matcher(const AnswerMatchOptions& o) {
  auto m = AnswerMatcher::Create(o);
  EXPECT_TRUE(m.ok()) << m.status();
  return m.ok() ? std::move(*m) : nullptr;
}

std::string Extract(const std::string& pattern, const std::string& text, bool last = false) {
  auto m = Matcher(Opts(pattern, {}, false, false, false, last));
  auto r = m->Extract(text);
  EXPECT_TRUE(r.ok()) << r.status();
  return r.ok() ? *r : "<error>";
}

TEST(StripPythonSpace, BothEnds) {
  EXPECT_EQ(StripPythonSpace(" \t a b \n"), "a b");
  EXPECT_EQ(StripPythonSpace("\xC2\xA0x\xE3\x80\x80"), "x");
  EXPECT_EQ(StripPythonSpace("  "), "");
  EXPECT_EQ(StripPythonSpace(""), "");
}

TEST(AnswerMatcher, ExtractsTheFirstMatchAsLmEvalsRegexFilter) {
  // GSM8K's strict-match pattern: group 1 of the first match.
  const std::string gsm = R"(#### (\-?[0-9\.\,]+))";
  EXPECT_EQ(Extract(gsm, "5 + 3 = 8\n#### 8.\n\nQuestion: #### 9"), "8.");
  EXPECT_EQ(Extract(gsm, "so #### -1,234 apples"), "-1,234");
  EXPECT_EQ(Extract(gsm, "the answer is 8"), "[invalid]");
  // "The answer is ..." style: the group is stripped of whitespace.
  EXPECT_EQ(Extract("The answer is (.*)", "Well. The answer is  42 \nnext"), "42");
  // No group: the whole match. A letter for multiple choice.
  EXPECT_EQ(Extract("[A-D]", "I think B, not C"), "B");
  // Several groups: the first non-empty one of the first match.
  EXPECT_EQ(Extract(R"(\(([A-D])\)|([A-D])\.)", "It is C. Or (D)"), "C");
  EXPECT_EQ(Extract(R"(\(([A-D])\)|([A-D])\.)", "(D) or C."), "D");
  // group_select -1: the last match.
  EXPECT_EQ(Extract(R"((\d+))", "3 then 5 then 7!", /*last=*/true), "7");
  // An empty first match counts, as in re.findall(r"\d*", "a1")[0] == "".
  EXPECT_EQ(Extract(R"(\d*)", "a1"), "");
  // No pattern: the completion unchanged.
  EXPECT_EQ(Extract("", " B\n"), " B\n");
  // Invalid UTF-8 (a token cut inside a character) is matched as U+FFFD.
  EXPECT_EQ(Extract("x(.)y", "x\xE6y"), "\xEF\xBF\xBD");
}

TEST(Regex, FindAllGroupsWalksMatchesAsPythonFindall) {
  auto re = Regex::Compile(R"(\d*)");
  ASSERT_TRUE(re.ok());
  std::vector<Regex::Groups> m;
  ASSERT_TRUE((*re)->FindAllGroups("a12", &m).ok());
  // re.findall(r"\d*", "a12") == ['', '12', '']
  ASSERT_EQ(m.size(), 3u);
  EXPECT_EQ(m[0][0], std::make_pair(size_t{0}, size_t{0}));
  EXPECT_EQ(m[1][0], std::make_pair(size_t{1}, size_t{3}));
  EXPECT_EQ(m[2][0], std::make_pair(size_t{3}, size_t{3}));
  auto g = Regex::Compile("(a)|(b)");
  ASSERT_TRUE(g.ok());
  EXPECT_EQ((*g)->capture_count(), 2);
  m.clear();
  ASSERT_TRUE((*g)->FindAllGroups("b", &m).ok());
  ASSERT_EQ(m.size(), 1u);
  EXPECT_EQ(m[0][1].first, Regex::kUnset);
  EXPECT_EQ(m[0][2], std::make_pair(size_t{0}, size_t{1}));
}

TEST(AnswerMatcher, NormalisesAsLmEvalsExactMatch) {
  // GSM8K's exact_match settings: regexes_to_ignore, then ignore_case.
  auto gsm = Matcher(Opts("", {",", R"(\$)", "(?s).*#### ", R"(\.$)"}, /*ignore_case=*/true));
  EXPECT_EQ(*gsm->Normalize("Half of 2,468 is $1,234.\n#### 1,234"), "1234");
  EXPECT_EQ(*gsm->Normalize("$1,234."), "1234");
  EXPECT_TRUE(*gsm->Matches("$1,234.", "She pays 1234 dollars.\n#### 1,234"));
  EXPECT_FALSE(*gsm->Matches("1,235", "#### 1234"));
  EXPECT_FALSE(*gsm->Matches("[invalid]", "#### 1234"));
  // re.sub(r"x*", "", "abxd") == "abd": empty matches remove nothing.
  EXPECT_EQ(*Matcher(Opts("", {"x*"}))->Normalize("abxd"), "abd");
  // Case: Unicode lowercase.
  auto ci = Matcher(Opts("", {}, true));
  EXPECT_EQ(*ci->Normalize("Paris \xC3\x80"), "paris \xC3\xA0");
  EXPECT_TRUE(*ci->Matches("PARIS", "Paris"));
  // Punctuation: Python's string.punctuation (ASCII) only.
  auto punct = Matcher(Opts("", {}, false, true));
  EXPECT_EQ(*punct->Normalize("a.b,c!(d)_~ \xC2\xAB" "e\xC2\xBB"), "abcd \xC2\xAB" "e\xC2\xBB");
  auto digits = Matcher(Opts("", {}, false, false, true));
  EXPECT_EQ(*digits->Normalize("a1b22"), "ab");
  // Nothing asked: byte-for-byte equality.
  auto exact = Matcher(Opts(""));
  EXPECT_FALSE(*exact->Matches("Paris", "paris"));
  EXPECT_FALSE(*exact->Matches("Paris ", "Paris"));
  EXPECT_TRUE(*exact->Matches("Paris", "Paris"));
}

TEST(AnswerMatcher, BadPatternIsAUsageErrorNamingIt) {
  auto m = AnswerMatcher::Create(Opts("#### ([0-9]+"));
  ASSERT_FALSE(m.ok());
  EXPECT_TRUE(absl::IsInvalidArgument(m.status()));
  EXPECT_EQ(m.status().message(),
            "--extract: regex pattern \"#### ([0-9]+\" does not compile at offset 12: missing closing parenthesis");
  auto i = AnswerMatcher::Create(Opts("", {"[a-"}));
  ASSERT_FALSE(i.ok());
  EXPECT_TRUE(absl::IsInvalidArgument(i.status()));
  EXPECT_EQ(i.status().message(),
            "--ignore: regex pattern \"[a-\" does not compile at offset 3: missing terminating ] for character class");
}

std::string WriteFile(const std::string& name, const std::string& text) {
  const std::string path = testing::TempDir() + name;
  std::ofstream(path) << text;
  return path;
}

TEST(ReadGenerationItems, FieldsAndForms) {
  const std::string path = WriteFile(
      "items.jsonl",
      "{\"question\": \"2+2?\", \"answer\": \"#### 4\"}\n"
      "\n"
      "{\"prompt\": \"Capital of France?\", \"target\": \"Paris\", \"id\": 7}\n"
      "{\"question\": \"Six times seven?\", \"answer\": 42}\n"
      "{\"question\": \"Which is red?\", \"choices\": [\"sky\", \"blood\"], \"answer\": 1}\n");
  auto items = ReadGenerationItems(path);
  ASSERT_TRUE(items.ok()) << items.status();
  ASSERT_EQ(items->size(), 4u);
  EXPECT_EQ((*items)[0].prompt, "2+2?");
  EXPECT_EQ((*items)[0].gold, "#### 4");
  EXPECT_EQ((*items)[0].line, 1u);
  EXPECT_EQ((*items)[1].prompt, "Capital of France?");
  EXPECT_EQ((*items)[1].gold, "Paris");
  EXPECT_EQ((*items)[1].line, 3u);
  EXPECT_EQ((*items)[2].gold, "42");
  EXPECT_EQ((*items)[3].gold, "B");
  EXPECT_EQ(RenderGenerationTemplate("Q: {question}\n{choices}\nAnswer:", (*items)[3]),
            "Q: Which is red?\nA. sky\nB. blood\nAnswer:");
}

TEST(ReadGenerationItems, ErrorsNameFileAndLine) {
  struct Case {
    std::string text, message;
  };
  const std::vector<Case> cases = {
      {"{\"prompt\": \"a\", \"answer\": \"b\"}\n{\"prompt\": \"a\", \"answer\": \"b\"\n",
       "malformed JSON (The JSON document has an improper structure: missing or superfluous commas, braces, missing "
       "keys, etc.), PATH:2"},
      {"{\"answer\": \"b\"}\n", "the item has no string field \"prompt\", \"question\" or \"context\", PATH:1"},
      {"{\"prompt\": \"a\"}\n", "the item has no field \"answer\" or \"target\", PATH:1"},
      {"{\"prompt\": \"a\", \"choices\": [\"x\", \"y\"], \"answer\": 2}\n",
       "\"answer\" index 2 is outside the 2 choices, PATH:1"},
      {"{\"prompt\": \"a\", \"answer\": [1]}\n", "\"answer\" is neither a string nor a number, PATH:1"},
      {"[1, 2]\n", "the line is not a JSON object, PATH:1"},
  };
  for (const Case& c : cases) {
    const std::string path = WriteFile("bad.jsonl", c.text);
    auto items = ReadGenerationItems(path);
    ASSERT_FALSE(items.ok()) << c.text;
    EXPECT_TRUE(absl::IsDataLoss(items.status()));
    std::string want = c.message;
    want.replace(want.find("PATH"), 4, path);
    EXPECT_EQ(items.status().message(), want);
  }
}

TEST(GenerationTask, FewShotPrefixAsLmEvalBuildsIt) {
  GenerationTaskOptions o;
  o.template_text = "Question: {question}\nAnswer:";
  o.shots = {Item("1+1?", "#### 2"), Item("2+3?", "#### 5")};
  EXPECT_EQ(BuildGenerationPrompt(o, Item("3+4?", "#### 7")),
            "Question: 1+1?\nAnswer: #### 2\n\nQuestion: 2+3?\nAnswer: #### 5\n\nQuestion: 3+4?\nAnswer:");
  o.shots.clear();
  EXPECT_EQ(BuildGenerationPrompt(o, Item("{choices}", "")), "Question: {choices}\nAnswer:");
}

TEST(GenerationTask, SummaryWithLmEvalsStandardError) {
  // 3 of 4: p = 0.75, sqrt(0.75 * 0.25 / 3) = 0.25.
  GenerationSummary s = SummarizeGeneration({true, false, true, true}, 1);
  EXPECT_EQ(s.items, 4u);
  EXPECT_EQ(s.correct, 3u);
  EXPECT_EQ(s.invalid, 1u);
  EXPECT_DOUBLE_EQ(s.exact_match, 0.75);
  ASSERT_TRUE(s.exact_match_stderr);
  EXPECT_DOUBLE_EQ(*s.exact_match_stderr, 0.25);
  EXPECT_FALSE(SummarizeGeneration({true}, 0).exact_match_stderr);
  EXPECT_DOUBLE_EQ(*SummarizeGeneration({true, true}, 0).exact_match_stderr, 0.0);
}

// The real model: stories260K's greedy story is ", there was a little girl
// named Lily. She loved ..." (llama.cpp and llama2.c print the same).
TEST(GenerationTask, GeneratesUntilStopExtractsAndScoresOnTheModel) {
  auto model = Model::Load(kData + "run/stories260K-hf-f32.gguf");
  ASSERT_TRUE(model.ok()) << model.status();
  const std::vector<GenerationItem> items = {
      Item("Once upon a time", "Lily", 1),
      Item("Once upon a time", "lily", 2),
      Item("Once upon a time, there was a little girl named Lily. She loved to play outside in the", "park", 3),
  };
  GenerationTaskOptions o;
  o.generate.sampling.temperature = 0;
  o.generate.max_tokens = 64;
  o.generate.stop = {"."};
  auto matcher = Matcher(Opts(R"(named (\w+)|(\w+)$)"));
  std::vector<std::vector<GenerationRecord>> runs;
  for (int threads : {1, 2}) {
    SessionOptions so;
    so.n_ctx = 128;
    so.threads = threads;
    auto runner = Runner::Create(**model, so);
    ASSERT_TRUE(runner.ok()) << runner.status();
    std::vector<GenerationRecord> records;
    auto s = RunGenerationTask(**runner, items, "items.jsonl", o, *matcher, [&](const GenerationRecord& r) {
      records.push_back(r);
      return absl::OkStatus();
    });
    ASSERT_TRUE(s.ok()) << s.status();
    EXPECT_EQ(s->items, 3u);
    EXPECT_EQ(s->correct, 2u);
    EXPECT_EQ(s->invalid, 0u);
    runs.push_back(records);
  }
  const std::vector<GenerationRecord>& r = runs[0];
  ASSERT_EQ(r.size(), 3u);
  EXPECT_EQ(r[0].completion, ", there was a little girl named Lily");
  EXPECT_EQ(r[0].extracted, "Lily");
  EXPECT_TRUE(r[0].correct);
  EXPECT_EQ(r[0].finish_reason, "stop");
  EXPECT_FALSE(r[1].correct);  // exact match is case-sensitive unless asked
  EXPECT_EQ(r[2].completion, " park");
  EXPECT_EQ(r[2].extracted, "park");
  EXPECT_TRUE(r[2].correct);
  EXPECT_EQ(GenerationRecordJson(r[0]),
            "{\"index\":0,\"source\":\"items.jsonl:1\",\"prompt\":\"Once upon a time\",\"completion\":\", there was a little girl named "
            "Lily\",\"extracted\":\"Lily\",\"gold\":\"Lily\",\"correct\":true,\"prompt_tokens\":5,"
            "\"completion_tokens\":11,\"finish_reason\":\"stop\"}");
  for (size_t i = 0; i < r.size(); ++i) EXPECT_EQ(GenerationRecordJson(runs[1][i]), GenerationRecordJson(r[i]));
  // A prompt past the context names the item.
  SessionOptions tiny;
  tiny.n_ctx = 8;
  auto small = Runner::Create(**model, tiny);
  ASSERT_TRUE(small.ok());
  auto s = RunGenerationTask(**small, {items[2]}, "items.jsonl", o, *matcher, nullptr);
  ASSERT_FALSE(s.ok());
  EXPECT_TRUE(absl::StrContains(s.status().message(), "items.jsonl:3")) << s.status();
}

// Stop strings as lm-evaluation-harness's `until`: the completion is cut
// before the earliest occurrence of any of them, also when one spans tokens.
TEST(GenerationTask, StopStringsCutAtTheFirstOccurrence) {
  auto model = Model::Load(kData + "run/stories260K-hf-f32.gguf");
  ASSERT_TRUE(model.ok()) << model.status();
  SessionOptions so;
  so.n_ctx = 128;
  auto runner = Runner::Create(**model, so);
  ASSERT_TRUE(runner.ok()) << runner.status();
  auto matcher = Matcher(Opts(""));
  auto complete = [&](std::vector<std::string> stops, int max_tokens) {
    GenerationTaskOptions o;
    o.generate.sampling.temperature = 0;
    o.generate.max_tokens = max_tokens;
    o.generate.stop = std::move(stops);
    GenerationRecord rec;
    auto s = RunGenerationTask(**runner, {Item("Once upon a time", "x", 1)}, "t.jsonl", o, *matcher,
                               [&](const GenerationRecord& r) {
                                 rec = r;
                                 return absl::OkStatus();
                               });
    EXPECT_TRUE(s.ok()) << s.status();
    return std::make_pair(rec.completion, rec.finish_reason);
  };
  EXPECT_EQ(complete({". She", "zzz"}, 64), std::make_pair(std::string(", there was a little girl named Lily"),
                                                          std::string("stop")));
  EXPECT_EQ(complete({"Lily", "girl"}, 64), std::make_pair(std::string(", there was a little "), std::string("stop")));
  EXPECT_EQ(complete({"\n\n"}, 5), std::make_pair(std::string(", there was a little"), std::string("length")));
}

}  // namespace
}  // namespace llmtk
