#include "tools/common/cli.h"

#include "absl/strings/match.h"
#include "gtest/gtest.h"

namespace llmtk {
namespace {

int RunWith(std::vector<std::string> args, const std::function<absl::Status()>& fn,
            CommonOptions* common = nullptr, DocumentReaderOptions* reader = nullptr) {
  Tool tool("demo", "A demo tool", "llmtk-demo in.jsonl");
  CommonOptions c;
  DocumentReaderOptions r;
  std::string out;
  OutputOptions oo;
  tool.AddCommonFlags(common ? common : &c);
  tool.AddReaderFlags(reader ? reader : &r);
  tool.AddOutputFlags(&out, &oo);
  std::vector<char*> argv;
  args.insert(args.begin(), "llmtk-demo");
  for (auto& a : args) argv.push_back(a.data());
  return tool.Run(static_cast<int>(argv.size()), argv.data(), fn);
}

TEST(Cli, ExitCodes) {
  EXPECT_EQ(ExitCodeFor(absl::OkStatus()), 0);
  EXPECT_EQ(ExitCodeFor(BrokenPipeError()), 0);
  EXPECT_EQ(ExitCodeFor(absl::InvalidArgumentError("bad flag")), 2);
  EXPECT_EQ(ExitCodeFor(absl::DataLossError("bad data")), 1);
  EXPECT_EQ(ExitCodeFor(absl::NotFoundError("no file")), 1);
  EXPECT_EQ(ExitCodeFor(absl::UnimplementedError("no")), 1);
}

TEST(Cli, RunMapsStatusAndPrintsError) {
  testing::internal::CaptureStderr();
  EXPECT_EQ(RunWith({}, [] { return absl::DataLossError("truncated, x.jsonl:3"); }), 1);
  EXPECT_EQ(testing::internal::GetCapturedStderr(), "llmtk-demo: error: truncated, x.jsonl:3\n");
  testing::internal::CaptureStderr();
  EXPECT_EQ(RunWith({}, [] { return BrokenPipeError(); }), 0);
  EXPECT_EQ(testing::internal::GetCapturedStderr(), "");
}

TEST(Cli, ParseErrorsAreUsageErrors) {
  bool ran = false;
  testing::internal::CaptureStderr();
  EXPECT_EQ(RunWith({"--no-such-flag"}, [&] { ran = true; return absl::OkStatus(); }), 2);
  EXPECT_EQ(testing::internal::GetCapturedStderr(),
            "llmtk-demo: error: The following argument was not expected: --no-such-flag\n"
            "Run with --help for usage.\n");
  testing::internal::CaptureStderr();
  EXPECT_EQ(RunWith({"--on-bad-line", "maybe"}, [&] { ran = true; return absl::OkStatus(); }), 2);
  std::string err = testing::internal::GetCapturedStderr();
  EXPECT_NE(err.find("--on-bad-line"), std::string::npos) << err;
  EXPECT_FALSE(ran);
}

TEST(Cli, FlagsBind) {
  CommonOptions c;
  DocumentReaderOptions r;
  EXPECT_EQ(RunWith({"--threads", "3", "--json", "--quiet", "--text-key", "meta.body", "--input-format", "text",
                     "--on-bad-line", "skip", "--invalid-utf8", "replace"},
                    [] { return absl::OkStatus(); }, &c, &r),
            0);
  EXPECT_EQ(c.threads, 3);
  EXPECT_EQ(c.Threads(), 3);
  EXPECT_TRUE(c.json);
  EXPECT_FALSE(c.ShowProgress());
  EXPECT_EQ(r.text_key, "meta.body");
  EXPECT_EQ(r.format, InputFormat::kText);
  EXPECT_EQ(r.on_bad_line, BadLinePolicy::kSkip);
  EXPECT_EQ(r.invalid_utf8, InvalidUtf8Policy::kReplace);
}

TEST(Cli, HelpAndVersion) {
  testing::internal::CaptureStdout();
  EXPECT_EQ(RunWith({"--help"}, [] { return absl::InternalError("must not run"); }), 0);
  std::string help = testing::internal::GetCapturedStdout();
  EXPECT_NE(help.find("A demo tool"), std::string::npos);
  EXPECT_NE(help.find("Example:\n  llmtk-demo in.jsonl"), std::string::npos);
  EXPECT_NE(help.find("--threads"), std::string::npos);
  testing::internal::CaptureStdout();
  EXPECT_EQ(RunWith({"--version"}, [] { return absl::InternalError("must not run"); }), 0);
  EXPECT_EQ(testing::internal::GetCapturedStdout(), "llmtk-demo " LLMTK_VERSION "\n");
}

TEST(Cli, UnescapeFlagValue) {
  EXPECT_EQ(UnescapeFlagValue("--stop", R"(\n\n)").value(), "\n\n");
  EXPECT_EQ(UnescapeFlagValue("--stop", R"(a\tb\r\\ \"q\" \'s\')").value(), "a\tb\r\\ \"q\" 's'");
  EXPECT_EQ(UnescapeFlagValue("--stop", R"(\x2e\x2E\x41B)").value(), "..AB");
  EXPECT_EQ(UnescapeFlagValue("--stop", R"(\u00e9\u4e2d)").value(), "\xC3\xA9\xE4\xB8\xAD");
  EXPECT_EQ(UnescapeFlagValue("--stop", "plain ä").value(), "plain ä");
  EXPECT_EQ(UnescapeFlagValue("--stop", R"(\0)").value(), std::string(1, '\0'));
  EXPECT_EQ(UnescapeFlagValue("--stop", R"(\q)").status(),
            absl::InvalidArgumentError(R"(--stop "\q": unknown escape \q (escapes: \n \t \r \0 \\ \" \' \xHH )"
                                       R"(\uXXXX; write \\ for a backslash))"));
  EXPECT_EQ(UnescapeFlagValue("--stop", "a\\").status().message(),
            R"(--stop "a\": ends in a lone backslash (escapes: \n \t \r \0 \\ \" \' \xHH \uXXXX; write \\ for )"
            R"(a backslash))");
  EXPECT_FALSE(UnescapeFlagValue("--stop", R"(\x4)").ok());
  EXPECT_FALSE(UnescapeFlagValue("--stop", R"(\xg0)").ok());
  EXPECT_FALSE(UnescapeFlagValue("--stop", R"(\u12)").ok());
  EXPECT_FALSE(UnescapeFlagValue("--stop", R"(\ud800)").ok());
}

TEST(Cli, NearestNameSuggestsMisspellings) {
  EXPECT_EQ(EditDistance("sign", "sing"), 1u);  // a transposition is one edit
  EXPECT_EQ(EditDistance("instpect", "inspect"), 1u);
  EXPECT_EQ(EditDistance("", "abc"), 3u);
  const std::vector<std::string> names = {"encode", "decode", "inspect", "stats", "train"};
  EXPECT_EQ(NearestName("instpect", names), "inspect");
  EXPECT_EQ(NearestName("encod", names), "encode");
  EXPECT_EQ(NearestName("foo", names), "");
  EXPECT_EQ(NearestName("model.gguf", names), "");
}

TEST(Cli, HumanBytes) {
  EXPECT_EQ(HumanBytes(512), "512 B");
  EXPECT_EQ(HumanBytes(1234567), "1.23 MB");
  EXPECT_EQ(HumanBytes(107e6), "107 MB");
  EXPECT_EQ(HumanBytes(25.5e9), "25.5 GB");
}

}  // namespace
}  // namespace llmtk

namespace llmtk {
namespace {

TEST(Cli, ProgressDrawsOnStderrAndEndsTheLine) {
  testing::internal::CaptureStderr();
  {
    Progress p("reading", /*enabled=*/true);
    p.Add(5, 1000);
    p.Finish();
    p.Finish();  // idempotent
  }
  std::string err = testing::internal::GetCapturedStderr();
  EXPECT_TRUE(absl::StartsWith(err, "\rreading: 5 docs, 1.00 kB")) << err;
  EXPECT_TRUE(absl::EndsWith(err, "\x1b[K\n")) << err;
  testing::internal::CaptureStderr();
  {
    Progress p("quiet", /*enabled=*/false);
    p.Add(5, 1000);
  }
  EXPECT_EQ(testing::internal::GetCapturedStderr(), "");
}

}  // namespace
}  // namespace llmtk
