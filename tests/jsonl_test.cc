#include "lib/base/jsonl.h"

#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "absl/strings/match.h"
#include "gtest/gtest.h"

namespace llmtk {
namespace {

namespace fs = std::filesystem;

class JsonlTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("llmtk_jsonl_test_" + std::to_string(getpid()) + "_" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string Write(const std::string& name, const std::string& bytes) {
    std::string p = (dir_ / name).string();
    std::ofstream(p, std::ios::binary) << bytes;
    return p;
  }
  // Reads all documents; returns texts, or the error as "ERROR <code>: <msg>".
  std::vector<std::string> Read(const std::vector<std::string>& paths,
                                const DocumentReaderOptions& opts = {},
                                DocumentReader** keep = nullptr) {
    auto r = DocumentReader::Open(paths, opts);
    if (!r.ok()) return {"OPEN " + r.status().ToString()};
    std::vector<std::string> out;
    Document d;
    for (;;) {
      auto got = (*r)->Next(&d);
      if (!got.ok()) {
        out.push_back("ERROR " + got.status().ToString());
        break;
      }
      if (!*got) break;
      out.emplace_back(d.text);
    }
    last_ = std::move(*r);
    if (keep) *keep = last_.get();
    return out;
  }
  fs::path dir_;
  std::unique_ptr<DocumentReader> last_;
};

using Texts = std::vector<std::string>;

TEST_F(JsonlTest, TextKeyAndPassThrough) {
  std::string p = Write("a.jsonl", R"({"id":1,"text":"hello","x":[1,{"y":2}]})" "\n"
                                   R"({"text":"wor\"ld","id":2})" "\n");
  auto r = DocumentReader::Open({p}, {}).value();
  Document d;
  ASSERT_TRUE(r->Next(&d).value());
  EXPECT_EQ(d.text, "hello");
  EXPECT_EQ(d.raw, R"({"id":1,"text":"hello","x":[1,{"y":2}]})");
  EXPECT_EQ(d.line_number, 1u);
  EXPECT_EQ(d.index, 0u);
  EXPECT_TRUE(d.is_json);
  EXPECT_EQ(*d.source, p);
  ASSERT_TRUE(r->Next(&d).value());
  EXPECT_EQ(d.text, "wor\"ld");
  EXPECT_EQ(d.line_number, 2u);
  EXPECT_FALSE(r->Next(&d).value());
  EXPECT_EQ(r->documents(), 2u);
}

TEST_F(JsonlTest, NestedKey) {
  std::string p = Write("n.jsonl", R"({"meta":{"lang":"en","content":"deep"},"text":"top"})" "\n");
  DocumentReaderOptions o;
  o.text_key = "meta.content";
  EXPECT_EQ(Read({p}, o), Texts{"deep"});
  o.text_key = "meta.missing";
  EXPECT_EQ(Read({p}, o), Texts{"ERROR DATA_LOSS: missing key \"meta.missing\" (choose the field with "
                                "--text-key), " + p + ":1"});
  o.text_key = "text.inner";
  EXPECT_EQ(Read({p}, o), Texts{"ERROR DATA_LOSS: \"text\" is not an object, " + p + ":1"});
}

TEST_F(JsonlTest, EscapesAndSurrogatePairs) {
  std::string p = Write("e.jsonl", R"({"text":"tab\there\nnl \u00e9 \ud83d\ude42 \\ \/"})" "\n");
  EXPECT_EQ(Read({p}), Texts{"tab\there\nnl \xC3\xA9 \xF0\x9F\x99\x82 \\ /"});
}

TEST_F(JsonlTest, LoneSurrogateIsAnError) {
  std::string p = Write("s.jsonl", R"({"text":"bad \ud83d alone"})" "\n");
  EXPECT_EQ(Read({p}), Texts{"ERROR DATA_LOSS: malformed JSON (Problem while parsing a string; use "
                             "--on-bad-line=skip to skip such lines), " + p + ":1"});
}

TEST_F(JsonlTest, MalformedJsonNamesFileAndLine) {
  std::string p = Write("m.jsonl", "{\"text\":\"ok\"}\n{\"text\":\"cut\n{\"text\":\"x\"}\n");
  EXPECT_EQ(Read({p}), (Texts{"ok", "ERROR DATA_LOSS: malformed JSON (A string is opened, but never "
                                    "closed.; use --on-bad-line=skip to skip such lines), " + p + ":2"}));
}

TEST_F(JsonlTest, TrailingGarbageIsMalformed) {
  std::string p = Write("t.jsonl", "{\"text\":\"a\"} x\n");
  EXPECT_EQ(Read({p}).size(), 1u);
  EXPECT_TRUE(absl::StartsWith(Read({p})[0], "ERROR DATA_LOSS: malformed JSON (")) << Read({p})[0];
  std::string q = Write("u.jsonl", "{\"text\":\"a\",\"b\":}\n");
  EXPECT_TRUE(absl::StartsWith(Read({q})[0], "ERROR DATA_LOSS: malformed JSON (")) << Read({q})[0];
}

TEST_F(JsonlTest, NotAnObject) {
  std::string p = Write("n.jsonl", "{\"text\":\"a\"}\n[1,2]\n");
  EXPECT_EQ(Read({p}, {.format = InputFormat::kJsonl}),
            (Texts{"a", "ERROR DATA_LOSS: line is not a JSON object (The JSON element does not have the "
                        "requested type.; use --on-bad-line=skip to skip such lines), " + p + ":2"}));
}

TEST_F(JsonlTest, MissingKeyAndNonString) {
  std::string p = Write("k.jsonl", "{\"body\":\"a\"}\n");
  EXPECT_EQ(Read({p}), Texts{"ERROR DATA_LOSS: missing key \"text\" (choose the field with --text-key), " +
                             p + ":1"});
  std::string q = Write("v.jsonl", "{\"text\":\"fine\"}\n{\"text\":42}\n");
  EXPECT_EQ(Read({q}), (Texts{"fine", "ERROR DATA_LOSS: key \"text\" is a number, not a string, " + q + ":2"}));
  std::string r = Write("w.jsonl", "{\"text\":null}\n");
  EXPECT_EQ(Read({r}), Texts{"ERROR DATA_LOSS: key \"text\" is null, not a string, " + r + ":1"});
}

TEST_F(JsonlTest, SkipPolicyCountsAndReports) {
  std::string p = Write("s.jsonl", "{\"text\":\"a\"}\nnot json at all\n{\"text\":1}\n\n{\"text\":\"b\"}\n");
  DocumentReader* r = nullptr;
  EXPECT_EQ(Read({p}, {.format = InputFormat::kJsonl, .on_bad_line = BadLinePolicy::kSkip}, &r),
            (Texts{"a", "b"}));
  EXPECT_EQ(r->skipped(), 2u);
  EXPECT_EQ(r->blank_lines(), 1u);
  EXPECT_EQ(r->first_skip_reason(),
            "line is not a JSON object (The JSON element does not have the requested type.; use "
            "--on-bad-line=skip to skip such lines), " + p + ":2");
}

TEST_F(JsonlTest, InvalidUtf8ErrorOrReplace) {
  std::string p = Write("u.jsonl", "{\"text\":\"ab\xFF" "cd\",\"k\":1}\n");
  EXPECT_EQ(Read({p}), Texts{"ERROR DATA_LOSS: invalid UTF-8 at byte 11 of the line (use "
                             "--invalid-utf8=replace to substitute U+FFFD, or --on-bad-line=skip), " + p + ":1"});
  DocumentReaderOptions o;
  o.invalid_utf8 = InvalidUtf8Policy::kReplace;
  auto r = DocumentReader::Open({p}, o).value();
  Document d;
  ASSERT_TRUE(r->Next(&d).value());
  EXPECT_EQ(d.text, "ab\xEF\xBF\xBD" "cd");
  EXPECT_EQ(d.raw, "{\"text\":\"ab\xEF\xBF\xBD" "cd\",\"k\":1}");
  EXPECT_EQ(r->replaced_utf8(), 1u);
}

TEST_F(JsonlTest, PlainTextAutoDetected) {
  std::string p = Write("t.txt", "first line\r\n\nthird {not json}\nlast");
  EXPECT_EQ(Read({p}), (Texts{"first line", "", "third {not json}", "last"}));
  auto r = DocumentReader::Open({p}, {}).value();
  Document d;
  ASSERT_TRUE(r->Next(&d).value());
  EXPECT_FALSE(d.is_json);
}

TEST_F(JsonlTest, FormatDetectedPerInputAndLeadingBlankLines) {
  std::string a = Write("a.jsonl", "\n  \n{\"text\":\"j\"}\n");
  std::string b = Write("b.txt", "plain\n");
  EXPECT_EQ(Read({a, b}), (Texts{"j", "plain"}));
}

TEST_F(JsonlTest, ZstdAndPlainGiveTheSameDocuments) {
  std::string dir = LLMTK_TESTDATA "/corpus/";
  auto plain = Read({dir + "sample.jsonl"});
  auto zst = Read({dir + "sample.jsonl.zst"});
  ASSERT_EQ(plain.size(), 550u);
  EXPECT_EQ(plain, zst);
  EXPECT_EQ(plain[1].substr(0, 10), "\xE2\x80\x9CMy Lady");
}

TEST_F(JsonlTest, EmptyKeyIsUsageError) {
  DocumentReaderOptions o;
  o.text_key = "";
  EXPECT_EQ(DocumentReader::Open({"-"}, o).status(), absl::InvalidArgumentError("--text-key must not be empty"));
  o.text_key = "a..b";
  EXPECT_EQ(DocumentReader::Open({"-"}, o).status(),
            absl::InvalidArgumentError("--text-key 'a..b' has an empty path component"));
}

TEST(JsonlLines, IsDocumentLineDecidesTheFormatFromTheFirstNonBlankLine) {
  InputFormat f = InputFormat::kAuto;
  EXPECT_FALSE(IsDocumentLine(" \t", &f));
  EXPECT_EQ(f, InputFormat::kAuto);
  EXPECT_TRUE(IsDocumentLine("  {\"text\":\"a\"}", &f));
  EXPECT_EQ(f, InputFormat::kJsonl);
  EXPECT_FALSE(IsDocumentLine("", &f));
  EXPECT_TRUE(IsDocumentLine("not json", &f));  // a bad line, not a blank one
  f = InputFormat::kAuto;
  EXPECT_TRUE(IsDocumentLine("plain {", &f));
  EXPECT_EQ(f, InputFormat::kText);
  EXPECT_TRUE(IsDocumentLine("", &f));  // blank lines are plain-text documents
  f = InputFormat::kText;
  EXPECT_TRUE(IsDocumentLine("\r", &f));
}

// Parse gives what DocumentReader gives, without the location.
TEST(JsonlLines, LineParserMatchesTheReader) {
  DocumentReaderOptions o;
  o.text_key = "m.t";
  auto p = LineParser::Create(o).value();
  std::string_view text, raw;
  bool repaired = true;
  std::string line = std::string("{\"m\":{\"t\":\"a\\u00e9\"},\"z\":1}") + std::string(kLinePadding, ' ');
  std::string_view l(line.data(), line.find('}') + 2 + 6);
  ASSERT_EQ(l, "{\"m\":{\"t\":\"a\\u00e9\"},\"z\":1}");
  ASSERT_TRUE(p->Parse(l, true, &text, &raw, &repaired).ok());
  EXPECT_EQ(text, "a\xC3\xA9");
  EXPECT_EQ(raw, l);
  EXPECT_FALSE(repaired);
  std::string padded;  // outlives the lambda: text and raw point into it
  auto bad = [&](std::string s, bool json = true) {
    padded = s + std::string(kLinePadding, '\0');
    absl::Status st = p->Parse(std::string_view(padded.data(), s.size()), json, &text, &raw, &repaired);
    return st.ToString();
  };
  EXPECT_EQ(bad("{\"m\":{\"t\":1}}"), "DATA_LOSS: key \"m.t\" is a number, not a string");
  EXPECT_EQ(bad("{\"m\":2}"), "DATA_LOSS: \"m\" is not an object");
  EXPECT_EQ(bad("{\"m\":{}}"), "DATA_LOSS: missing key \"m.t\" (choose the field with --text-key)");
  EXPECT_EQ(bad("{\"x\":1}"), "DATA_LOSS: missing key \"m.t\" (choose the field with --text-key)");
  EXPECT_EQ(bad("[1]"), "DATA_LOSS: line is not a JSON object (The JSON element does not have the requested "
                        "type.; use --on-bad-line=skip to skip such lines)");
  EXPECT_EQ(bad("{\"m\":{\"t\":\"a\xFF\"}}"),
            "DATA_LOSS: invalid UTF-8 at byte 12 of the line (use --invalid-utf8=replace to substitute "
            "U+FFFD, or --on-bad-line=skip)");
  EXPECT_FALSE(repaired);
  EXPECT_EQ(bad("[1] plain", false), "OK");
  EXPECT_EQ(text, "[1] plain");

  o.invalid_utf8 = InvalidUtf8Policy::kReplace;
  auto q = LineParser::Create(o).value();
  std::string u = std::string("{\"m\":{\"t\":\"a\xFF\"}}") + std::string(kLinePadding, '\0');
  ASSERT_TRUE(q->Parse(std::string_view(u.data(), u.size() - kLinePadding), true, &text, &raw, &repaired).ok());
  EXPECT_TRUE(repaired);
  EXPECT_EQ(text, "a\xEF\xBF\xBD");
  EXPECT_EQ(raw, "{\"m\":{\"t\":\"a\xEF\xBF\xBD\"}}");
  // Repaired, then found bad: still reported as repaired (the reader counts it).
  std::string v = std::string("{\"m\":\xFF}") + std::string(kLinePadding, '\0');
  EXPECT_FALSE(q->Parse(std::string_view(v.data(), v.size() - kLinePadding), true, &text, &raw, &repaired).ok());
  EXPECT_TRUE(repaired);

  o.text_key = "a..b";
  EXPECT_EQ(LineParser::Create(o).status(),
            absl::InvalidArgumentError("--text-key 'a..b' has an empty path component"));
}

TEST(JsonWrite, AppendJsonString) {
  std::string out;
  AppendJsonString(&out, "a\"b\\c\n\t\x01 \xC3\xA9 \xFF");
  EXPECT_EQ(out, "\"a\\\"b\\\\c\\n\\t\\u0001 \xC3\xA9 \xEF\xBF\xBD\"");
}

TEST(JsonWrite, SetJsonFields) {
  EXPECT_EQ(SetJsonFields(R"({"a":1,"text":"x"})", {{"ids", "[1,2]"}}).value(),
            R"({"a":1,"text":"x","ids":[1,2]})");
  EXPECT_EQ(SetJsonFields(R"({ "ids" : [9], "b":{"ids":3} } )", {{"ids", "[1]"}, {"n", "2"}}).value(),
            R"({ "ids":[1], "b":{"ids":3} ,"n":2} )");
  EXPECT_EQ(SetJsonFields("{}", {{"k", "\"v\""}}).value(), R"({"k":"v"})");
  EXPECT_EQ(SetJsonFields(R"({"s":"}{,\"","z":[1,[2]]})", {{"z", "0"}}).value(), R"({"s":"}{,\"","z":0})");
  EXPECT_EQ(SetJsonFields("[1]", {{"k", "1"}}).status(),
            absl::DataLossError("cannot add fields: the line is not a well-formed JSON object"));
}

TEST(JsonWrite, Writer) {
  JsonWriter w;
  w.BeginObject().Key("n").Int(-3).Key("u").Uint(18446744073709551615ull).Key("d").Double(0.1)
      .Key("nan").Double(NAN).Key("xs").BeginArray().Bool(true).Null().String("q\"").EndArray()
      .Key("o").BeginObject().EndObject().Key("r").Raw("[1]").EndObject();
  EXPECT_EQ(w.str(),
            R"({"n":-3,"u":18446744073709551615,"d":0.1,"nan":null,"xs":[true,null,"q\""],"o":{},"r":[1]})");
}

}  // namespace
}  // namespace llmtk
