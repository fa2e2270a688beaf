#include "lib/mix/mixer.h"

#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/match.h"
#include "gtest/gtest.h"
#include "lib/base/io.h"
#include "lib/base/sha256.h"
#include "lib/formats/token_files.h"
#include "lib/tokenizer/tokenizer.h"
#include "simdjson.h"

namespace llmtk {
namespace {

namespace fs = std::filesystem;

class MixerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("llmtk_mixer_test_" + std::to_string(getpid()) + "_" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    // Split the sample corpus by its "source" field, as a user would.
    std::ifstream in(std::string(LLMTK_TESTDATA) + "/corpus/sample.jsonl");
    std::map<std::string, std::ofstream> outs;
    std::string line;
    while (std::getline(in, line)) {
      for (const char* s : {"en", "zh_novels", "zh_poetry"}) {
        if (line.find(absl::StrCat("\"source\": \"", s, "\"")) != std::string::npos) {
          if (!outs.count(s)) outs[s].open(Path(absl::StrCat(s, ".jsonl")));
          outs[s] << line << "\n";
        }
      }
    }
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string Path(const std::string& name) { return (dir_ / name).string(); }
  static std::string Slurp(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
  }
  MixOptions Basic(const std::string& out) {
    MixOptions o;
    o.sources.push_back({"en", {{Path("en.jsonl"), ""}}, 0.5});
    o.sources.push_back({"zh", {{Path("zh_novels.jsonl"), ""}, {Path("zh_poetry.jsonl"), ""}}, 0.3});
    o.sources.push_back({"poetry", {{Path("zh_poetry.jsonl"), ""}}, 0.2});
    o.settings.total = 1000;
    o.settings.max_epochs = 3;
    o.settings.shard_size = 128;
    o.settings.seed = 42;
    o.output_dir = Path(out);
    return o;
  }
  // Every file of a directory, by name.
  std::map<std::string, std::string> Files(const std::string& d) {
    std::map<std::string, std::string> m;
    for (auto& e : fs::directory_iterator(d)) m[e.path().filename().string()] = Slurp(e.path().string());
    return m;
  }
  // Only `expected` left in the test directory: no OUTDIR, no OUTDIR.tmp.*.
  void ExpectNoOutput() {
    for (auto& e : fs::directory_iterator(dir_)) {
      EXPECT_EQ(e.path().extension(), ".jsonl") << e.path();
    }
  }
  fs::path dir_;
};

TEST_F(MixerTest, SameBytesForAnyThreadCount) {
  MixOptions a = Basic("a");
  a.threads = 1;
  MixOptions b = Basic("b");
  b.threads = 4;
  auto ra = RunMix(a);
  ASSERT_TRUE(ra.ok()) << ra.status();
  auto rb = RunMix(b);
  ASSERT_TRUE(rb.ok()) << rb.status();
  auto fa = Files(Path("a")), fb = Files(Path("b"));
  EXPECT_EQ(fa.size(), 9u);  // 1000 docs / 128 = 8 shards + manifest
  EXPECT_EQ(fa, fb);
  EXPECT_EQ(fa["manifest.json"], ra->manifest_json);
}

TEST_F(MixerTest, ManifestReproducesByteForByte) {
  auto r = RunMix(Basic("a"));
  ASSERT_TRUE(r.ok()) << r.status();
  MixOptions again;
  again.recipe_path = Path("a/manifest.json");
  again.output_dir = Path("b");
  again.threads = 3;
  auto r2 = RunMix(again);
  ASSERT_TRUE(r2.ok()) << r2.status();
  EXPECT_EQ(Files(Path("a")), Files(Path("b")));
  // An input that changed since is refused.
  std::ofstream(Path("en.jsonl"), std::ios::app) << "{\"text\": \"one more\"}\n";
  again.output_dir = Path("c");
  auto r3 = RunMix(again);
  EXPECT_EQ(r3.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_TRUE(absl::StrContains(r3.status().message(), "input changed since the manifest was written: sha256 "))
      << r3.status();
  EXPECT_FALSE(fs::exists(Path("c")));
}

TEST_F(MixerTest, DifferentSeedSameCountsDifferentOrder) {
  auto r1 = RunMix(Basic("a"));
  MixOptions o = Basic("b");
  o.settings.seed = 43;
  auto r2 = RunMix(o);
  ASSERT_TRUE(r1.ok() && r2.ok());
  EXPECT_NE(Slurp(Path("a/shard-00000.jsonl.zst")), Slurp(Path("b/shard-00000.jsonl.zst")));
  simdjson::dom::parser p1, p2;
  simdjson::dom::element m1 = p1.parse(r1->manifest_json), m2 = p2.parse(r2->manifest_json);
  for (size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(uint64_t(m1["sources"].at(i)["documents_taken"]), uint64_t(m2["sources"].at(i)["documents_taken"]));
  }
}

// At every shard boundary each source's cumulative count is within one
// document of its share, read from the output itself.
TEST_F(MixerTest, SharesHoldAtEveryShardBoundary) {
  MixOptions o = Basic("a");
  o.settings.format = MixFormat::kJsonl;
  auto r = RunMix(o);
  ASSERT_TRUE(r.ok()) << r.status();
  simdjson::dom::parser parser;
  simdjson::dom::element m = parser.parse(r->manifest_json);
  std::map<std::string, double> share;
  for (auto s : m["sources"].get_array()) {
    share[std::string(std::string_view(s["name"]))] = double(s["achieved_share"]);
    EXPECT_NEAR(double(s["achieved_share"]), double(s["target_share"]), 0.5 / 1000 + 1e-12);
  }
  std::map<std::string, uint64_t> seen;
  uint64_t total = 0;
  for (auto shard : m["shards"].get_array()) {
    const std::string name = std::string(std::string_view(shard["name"]));
    std::ifstream in(Path("a/" + name));
    std::string line;
    uint64_t docs = 0;
    simdjson::dom::parser lp;
    while (std::getline(in, line)) {
      simdjson::dom::element doc = lp.parse(line);
      ++seen[std::string(std::string_view(doc["source"]))];
      ++docs;
    }
    EXPECT_EQ(docs, uint64_t(shard["documents"]));
    total += docs;
    for (auto& [src, sh] : share) EXPECT_LE(std::abs(double(seen[src]) - sh * double(total)), 1.0) << name << src;
  }
  EXPECT_EQ(total, 1000u);
  EXPECT_EQ(seen["en"], 500u);
  EXPECT_EQ(seen["zh"], 300u);
  EXPECT_EQ(seen["poetry"], 200u);
}

TEST_F(MixerTest, SourceFieldOffKeepsLinesAndTextWrapped) {
  {
    std::ofstream t(Path("plain.txt"));
    t << "first line\nsecond \"quoted\" line\n";
  }
  MixOptions o;
  o.sources.push_back({"txt", {{Path("plain.txt"), ""}}, 1});
  o.settings.format = MixFormat::kJsonl;
  o.settings.shuffle = ShuffleMode::kNone;
  o.output_dir = Path("a");
  auto r = RunMix(o);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(Slurp(Path("a/shard-00000.jsonl")),
            "{\"text\":\"first line\",\"source\":\"txt\"}\n{\"text\":\"second \\\"quoted\\\" line\",\"source\":\"txt\"}\n");
  o.settings.source_field = "";
  o.output_dir = Path("b");
  ASSERT_TRUE(RunMix(o).ok());
  EXPECT_EQ(Slurp(Path("b/shard-00000.jsonl")),
            "{\"text\":\"first line\"}\n{\"text\":\"second \\\"quoted\\\" line\"}\n");
}

TEST_F(MixerTest, TokensKey) {
  {
    std::ofstream a(Path("a.jsonl")), b(Path("b.jsonl"));
    for (int i = 0; i < 10; ++i) a << "{\"text\": \"a" << i << "\", \"ntok\": 10}\n";
    for (int i = 0; i < 10; ++i) b << "{\"text\": \"b" << i << "\", \"ntok\": 30}\n";
  }
  MixOptions o;
  o.sources.push_back({"a", {{Path("a.jsonl"), ""}}, 1});
  o.sources.push_back({"b", {{Path("b.jsonl"), ""}}, 3});
  o.settings.by = MixUnit::kTokens;
  o.settings.tokens_key = "ntok";
  o.settings.total = 400;
  o.output_dir = Path("out");
  auto r = RunMix(o);
  ASSERT_TRUE(r.ok()) << r.status();
  simdjson::dom::parser parser;
  simdjson::dom::element m = parser.parse(r->manifest_json);
  EXPECT_EQ(uint64_t(m["sources"].at(0)["tokens_taken"]), 100u);  // 10 docs of 10
  EXPECT_EQ(uint64_t(m["sources"].at(1)["tokens_taken"]), 300u);  // 10 docs of 30
  EXPECT_EQ(uint64_t(m["achieved_units"]), 400u);

  std::ofstream(Path("a.jsonl"), std::ios::app) << "{\"text\": \"x\"}\n";
  o.output_dir = Path("out2");
  auto bad = RunMix(o);
  EXPECT_EQ(bad.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_EQ(bad.status().message(), "no \"ntok\" field (--tokens-key), " + Path("a.jsonl") + ":11");
  o.on_bad_line = BadLinePolicy::kSkip;
  o.output_dir = Path("out3");
  auto skipped = RunMix(o);
  ASSERT_TRUE(skipped.ok()) << skipped.status();
  EXPECT_TRUE(absl::StrContains(skipped->manifest_json, "\"skipped_lines\":1,\"first_skip\":\"no \\\"ntok\\\" field"));
}

// -t: tokens counted by the tokenizer; Megatron shards hold, document for
// document, exactly the ids of the JSONL mixture made with the same plan.
TEST_F(MixerTest, TokenizerAndMegatronShards) {
  const std::string tok_path = std::string(LLMTK_TESTDATA) + "/tok/stories260K-tokenizer.json";
  auto tok = Tokenizer::Load(tok_path);
  ASSERT_TRUE(tok.ok()) << tok.status();
  auto base = [&](const std::string& out, MixFormat format, int threads) {
    MixOptions o;
    o.sources.push_back({"en", {{Path("en.jsonl"), ""}}, 0.7});
    o.sources.push_back({"novels", {{Path("zh_novels.jsonl"), ""}}, 0.3});
    o.settings.by = MixUnit::kTokens;
    o.settings.tokenizer = tok_path;
    o.settings.total = 30000;
    o.settings.max_epochs = 2;
    o.settings.shard_size = 12000;
    o.settings.format = format;
    o.threads = threads;
    o.output_dir = Path(out);
    return RunMix(o);
  };
  auto js = base("j", MixFormat::kJsonl, 1);
  ASSERT_TRUE(js.ok()) << js.status();
  auto mg = base("m", MixFormat::kMegatron, 3);
  ASSERT_TRUE(mg.ok()) << mg.status();
  auto mg1 = base("m1", MixFormat::kMegatron, 1);
  ASSERT_TRUE(mg1.ok()) << mg1.status();
  EXPECT_EQ(Files(Path("m")), Files(Path("m1")));

  simdjson::dom::parser parser;
  simdjson::dom::element m = parser.parse(mg->manifest_json);
  uint64_t total_tokens = 0;
  size_t shard_index = 0;
  std::vector<std::string> texts;
  for (auto shard : m["shards"].get_array()) {
    const std::string jname = absl::StrFormat("shard-%05d.jsonl", shard_index);
    std::ifstream in(Path("j/" + jname));
    std::string line;
    simdjson::dom::parser lp;
    texts.clear();
    while (std::getline(in, line)) texts.emplace_back(std::string_view(lp.parse(line)["text"]));
    const std::string prefix = Path(absl::StrFormat("m/shard-%05d", shard_index));
    // The header, read by hand.
    const std::string idx = Slurp(prefix + ".idx");
    ASSERT_GE(idx.size(), 34u);
    EXPECT_EQ(idx.substr(0, 9), std::string("MMIDIDX\0\0", 9));
    EXPECT_EQ(idx[17], 8);  // uint16: 512 ids
    auto r = MegatronReader::Open(prefix);
    ASSERT_TRUE(r.ok()) << r.status();
    ASSERT_EQ((*r)->num_documents(), texts.size());
    EXPECT_EQ((*r)->num_documents(), uint64_t(shard["documents"]));
    EXPECT_EQ((*r)->num_tokens(), uint64_t(shard["units"]));
    for (size_t d = 0; d < texts.size(); ++d) {
      std::vector<uint32_t> ids;
      // The post-processor's ids (here BOS), as llmtk-tok encode writes them.
      ASSERT_TRUE((*tok)->Encode(texts[d], true, &ids).ok());
      ASSERT_EQ(*(*r)->Document(d), ids) << prefix << " document " << d;
    }
    total_tokens += (*r)->num_tokens();
    ++shard_index;
  }
  EXPECT_EQ(total_tokens, uint64_t(m["achieved_units"]));
  EXPECT_GE(total_tokens, 30000u);
  EXPECT_EQ(std::string_view(m["tokenizer_sha256"]), *Sha256File(tok_path));

  MixOptions bad;
  bad.sources.push_back({"en", {{Path("en.jsonl"), ""}}, 1});
  bad.settings.format = MixFormat::kMegatron;
  bad.output_dir = Path("x");
  EXPECT_EQ(RunMix(bad).status().message(), "--format megatron needs -t tokenizer.json (the shards hold token ids)");
  // A tokenizer with no EOS token (none declared, none of the usual names).
  std::string no_eos = Path("no_eos.json");
  std::ofstream(no_eos) << R"({"version":"1.0","added_tokens":[],"normalizer":null,"pre_tokenizer":null,)"
                           R"("post_processor":null,"decoder":null,"model":{"type":"BPE","vocab":{"a":0,"b":1},)"
                           R"("merges":[]}})";
  bad.settings.tokenizer = no_eos;
  bad.settings.append_eod = true;
  EXPECT_EQ(RunMix(bad).status().message(), "--append-eod: the tokenizer defines no EOS token, " + no_eos);
}

TEST_F(MixerTest, RecipeFile) {
  std::ofstream(Path("recipe.json")) << R"({"sources": [
    {"name": "en", "paths": [")" << Path("en.jsonl") << R"("], "weight": 3},
    {"name": "novels", "paths": [")" << Path("zh_novels.jsonl") << R"("], "weight": 1}],
    "by": "docs", "total": 200, "seed": 9, "format": "jsonl", "source_field": null, "shard_size": 50})";
  MixOptions o;
  o.recipe_path = Path("recipe.json");
  o.settings.shard_size = 100;  // an explicit flag wins over the recipe
  o.output_dir = Path("out");
  auto r = RunMix(o);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_TRUE(absl::StrContains(r->manifest_json, "\"seed\":9,\"shard_size\":100,\"format\":\"jsonl\",\"source_field\":null"))
      << r->manifest_json;
  auto files = Files(Path("out"));
  EXPECT_EQ(files.size(), 3u);  // 2 shards of 100 + manifest
  EXPECT_EQ(std::count(files["shard-00000.jsonl"].begin(), files["shard-00000.jsonl"].end(), '\n'), 100);
  EXPECT_FALSE(absl::StrContains(files["shard-00000.jsonl"], "\"source\":\"en\""));  // unchanged lines

  std::ofstream(Path("bad.json")) << R"({"sources": [{"name": "en", "weight": 1}]})";
  o.recipe_path = Path("bad.json");
  o.output_dir = Path("out2");
  EXPECT_EQ(RunMix(o).status().message(), "recipe " + Path("bad.json") + ": source 'en' needs \"paths\" (or \"inputs\")");
  std::ofstream(Path("bad.json")) << "{\"sources\": [";
  EXPECT_EQ(RunMix(o).status().code(), absl::StatusCode::kDataLoss);
  o.sources.push_back({"x", {{Path("en.jsonl"), ""}}, 1});
  EXPECT_EQ(RunMix(o).status().message(), "give --source flags or --recipe, not both");
}

TEST_F(MixerTest, BadInputsLeaveNothing) {
  MixOptions o = Basic("out");
  o.sources[1].inputs.push_back({Path("missing.jsonl"), ""});
  auto r = RunMix(o);
  EXPECT_EQ(r.status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(r.status().message(),
            "input not found: No such file or directory, " + Path("missing.jsonl") + ", source 'zh'");
  ExpectNoOutput();

  o = Basic("out");
  o.sources[2].weight = -1;
  EXPECT_EQ(RunMix(o).status().message(), "source 'poetry': weight must be a positive number, got -1");
  o.sources[2].weight = 0;
  EXPECT_EQ(RunMix(o).status().code(), absl::StatusCode::kInvalidArgument);

  std::ofstream(Path("empty.jsonl")) << "\n\n";
  o = Basic("out");
  o.sources.push_back({"empty", {{Path("empty.jsonl"), ""}}, 1});
  r = RunMix(o);
  EXPECT_EQ(r.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(r.status().message(), "source 'empty' has no documents");
  ExpectNoOutput();

  o = Basic("out");
  o.settings.max_epochs = 1;
  r = RunMix(o);
  EXPECT_EQ(r.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(r.status().message(),
            "source 'en' needs 1.67 epochs for its 50% share (500 of 1000 docs; it has 300) but --max-epochs is 1; "
            "lower its weight or --total, raise --max-epochs, or pass --allow-short to take what fits");
  ExpectNoOutput();

  {
    std::ofstream bad(Path("bad.jsonl"));
    bad << "{\"text\": \"ok\"}\n{\"text\": \"broken\n{\"text\": \"ok too\"}\n";
  }
  o = Basic("out");
  o.sources.push_back({"bad", {{Path("bad.jsonl"), ""}}, 0.001});
  r = RunMix(o);
  EXPECT_EQ(r.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_TRUE(absl::StrContains(r.status().message(), Path("bad.jsonl") + ":2")) << r.status();
  ExpectNoOutput();
  o.on_bad_line = BadLinePolicy::kSkip;
  r = RunMix(o);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_TRUE(absl::StrContains(r->manifest_json, "\"documents\":2,\"skipped_lines\":1")) << r->manifest_json;
  EXPECT_TRUE(absl::StrContains(r->summary, "(1 bad lines skipped)"));

  r = RunMix(Basic("out"));  // exists now
  EXPECT_EQ(r.status().code(), absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(r.status().message(), "output directory exists, " + Path("out") + "; remove it or choose another");
}

TEST_F(MixerTest, SpecsAndCounts) {
  auto s = ParseSourceSpec("web=a.jsonl,dir/b.jsonl.zst:0.6");
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->name, "web");
  ASSERT_EQ(s->inputs.size(), 2u);
  EXPECT_EQ(s->inputs[1].path, "dir/b.jsonl.zst");
  EXPECT_EQ(s->weight, 0.6);
  EXPECT_EQ(ParseSourceSpec("web=a.jsonl").status().message(),
            "--source 'web=a.jsonl': no :WEIGHT (expected NAME=PATH[,PATH...]:WEIGHT)");
  EXPECT_EQ(ParseSourceSpec("web=a.jsonl:x").status().message(),
            "--source 'web=a.jsonl:x': weight 'x' is not a number (expected NAME=PATH[,PATH...]:WEIGHT)");
  EXPECT_EQ(*ParseCount("200M"), 200000000u);
  EXPECT_EQ(*ParseCount("1.5k"), 1500u);
  EXPECT_EQ(*ParseCount("2GB"), 2000000000u);
  EXPECT_EQ(ParseCount("lots").status().code(), absl::StatusCode::kInvalidArgument);
  ShuffleMode m;
  uint64_t w = 0;
  ASSERT_TRUE(ParseShuffle("window:1k", &m, &w).ok());
  EXPECT_EQ(m, ShuffleMode::kWindow);
  EXPECT_EQ(w, 1000u);
  EXPECT_EQ(ParseShuffle("random", &m, &w).message(), "--shuffle 'random': expected none, global or window:N");
}

TEST_F(MixerTest, ZstdInputAndStdinNamesInManifest) {
  auto text = ReadFileToString(Path("en.jsonl"));
  ASSERT_TRUE(text.ok());
  {
    auto out = OutputFile::Open(Path("en2.jsonl.zst"));
    ASSERT_TRUE(out.ok());
    ASSERT_TRUE((*out)->Write(*text).ok());
    ASSERT_TRUE((*out)->Close().ok());
  }
  MixOptions a = Basic("a"), b = Basic("b");
  b.sources[0].inputs[0].path = Path("en2.jsonl.zst");
  ASSERT_TRUE(RunMix(a).ok());
  ASSERT_TRUE(RunMix(b).ok());
  // Same documents, so the same shards; only the manifest's input differs.
  auto fa = Files(Path("a")), fb = Files(Path("b"));
  fa.erase("manifest.json");
  fb.erase("manifest.json");
  EXPECT_EQ(fa, fb);
}

}  // namespace
}  // namespace llmtk
