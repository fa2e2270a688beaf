#include "lib/dedup/dedup.h"

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "lib/dedup/stage.h"
#include "lib/base/jsonl.h"
#include "lib/dedup/minhash.h"
#include "lib/dedup/shingle.h"

namespace llmtk {
namespace {

namespace fs = std::filesystem;

const std::string kPlanted = std::string(LLMTK_TESTDATA) + "/dedup/planted.jsonl";

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

class DedupTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("llmtk_dedup_test_" + std::to_string(getpid()) + "_" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string P(const std::string& name) const { return (dir_ / name).string(); }
  std::string Write(const std::string& name, const std::string& bytes) {
    std::ofstream(P(name), std::ios::binary) << bytes;
    return P(name);
  }
  DedupOptions Opts(const std::string& tag) {
    DedupOptions o;
    o.inputs = {kPlanted};
    o.output = P(tag + ".kept");
    o.removed = P(tag + ".removed");
    o.clusters = P(tag + ".clusters");
    o.id_key = "id";
    o.quiet = true;
    return o;
  }
  // The planted file split into 3 inputs.
  std::vector<std::string> SplitPlanted() {
    auto lines = Lines(Slurp(kPlanted));
    std::vector<std::string> parts;
    for (int i = 0; i < 3; ++i) {
      std::string s;
      for (size_t k = lines.size() * i / 3; k < lines.size() * (i + 1) / 3; ++k) s += lines[k] + "\n";
      parts.push_back(Write("part" + std::to_string(i) + ".jsonl", s));
    }
    return parts;
  }
  absl::Status Stage(DedupOptions o, const std::string& stage, int shard, int n) {
    StageOptions s;
    s.stage = stage;
    s.work = P("work");
    s.shard = shard;
    s.num_shards = n;
    return RunDedupStage(o, s);
  }
  absl::Status AllStages(const DedupOptions& base, const std::string& tag, int n) {
    for (int i = 0; i < n; ++i) RETURN_IF_ERROR(Stage(base, "sign", i, n));
    RETURN_IF_ERROR(Stage(base, "pairs", 0, n));
    RETURN_IF_ERROR(Stage(base, "clusters", 0, n));
    for (int i = 0; i < n; ++i) {
      DedupOptions o = base;
      o.output = P(tag + ".kept." + std::to_string(i));
      o.removed = P(tag + ".removed." + std::to_string(i));
      o.clusters = P(tag + ".clusters." + std::to_string(i));
      RETURN_IF_ERROR(Stage(o, "filter", i, n));
    }
    return absl::OkStatus();
  }
  std::string Cat(const std::string& prefix, int n) {
    std::string s;
    for (int i = 0; i < n; ++i) s += Slurp(P(prefix + "." + std::to_string(i)));
    return s;
  }
  fs::path dir_;
};

TEST_F(DedupTest, KeptAndRemovedPartitionTheInputInOrder) {
  DedupOptions o = Opts("a");
  o.threshold = 0.8;
  auto r = RunDedup(o);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->documents, 290u);
  EXPECT_EQ(r->kept + r->exact_duplicates + r->near_duplicates, 290u);
  EXPECT_GT(r->near_duplicates, 0u);
  EXPECT_GT(r->exact_duplicates, 0u);
  // Kept and removed lines are the input lines, each in input order.
  auto in = Lines(Slurp(kPlanted)), kept = Lines(Slurp(o.output)), removed = Lines(Slurp(o.removed));
  EXPECT_EQ(kept.size(), r->kept);
  EXPECT_EQ(removed.size() + kept.size(), in.size());
  size_t k = 0, m = 0;
  for (const auto& line : in) {
    if (k < kept.size() && line == kept[k]) {
      ++k;
    } else {
      ASSERT_LT(m, removed.size());
      EXPECT_EQ(line, removed[m++]);
    }
  }
  EXPECT_EQ(Lines(Slurp(o.clusters)).size(), removed.size());
}

// Brute force over all pairs with the same shingles: with exact
// verification, every removed document has a partner at or above the
// threshold, and here (seeded, recall-first bands) all duplicates are found.
TEST_F(DedupTest, ExactVerificationMatchesBruteForce) {
  DedupOptions o = Opts("b");
  o.threshold = 0.8;
  ASSERT_TRUE(RunDedup(o).ok());
  auto in = Lines(Slurp(kPlanted));
  std::vector<std::vector<uint64_t>> sets;
  ShingleOptions so;
  so.seed = 42;
  auto reader = DocumentReader::Open({kPlanted}, {});
  ASSERT_TRUE(reader.ok());
  Document doc;
  while (*(*reader)->Next(&doc)) sets.push_back(ShingleHashes(NormalizeForDedup(doc.text, {}), so));
  ASSERT_EQ(sets.size(), in.size());
  UnionFind uf(in.size());
  for (uint32_t i = 0; i < in.size(); ++i)
    for (uint32_t j = i + 1; j < in.size(); ++j)
      if (SortedJaccard(sets[i], sets[j]) >= 0.8) uf.Union(i, j);
  // Compared by id ("d<line-1>") to keep failure messages short.
  auto id = [](const std::string& line) { return line.substr(7, line.find('"', 8) - 7); };
  std::set<std::string> want_removed, got_removed;
  for (uint32_t i = 0; i < in.size(); ++i)
    if (uf.Find(i) != i) want_removed.insert(id(in[i]));
  for (const auto& l : Lines(Slurp(o.removed))) got_removed.insert(id(l));
  EXPECT_GT(got_removed.size(), 40u);
  EXPECT_EQ(got_removed, want_removed);
}

TEST_F(DedupTest, OutputDoesNotDependOnThreads) {
  std::string first;
  for (int threads : {1, 2, 5}) {
    for (VerifyMode v : {VerifyMode::kExact, VerifyMode::kEstimate}) {
      DedupOptions o = Opts(absl::StrCat("t", threads, static_cast<int>(v)));
      o.threads = threads;
      o.verify = v;
      ASSERT_TRUE(RunDedup(o).ok());
      std::string all = Slurp(o.output) + Slurp(o.removed) + Slurp(o.clusters);
      if (v == VerifyMode::kExact && threads == 1) first = all;
      if (v == VerifyMode::kExact) {
        EXPECT_EQ(all, first) << threads;
      }
    }
  }
}

TEST_F(DedupTest, KeepPolicies) {
  std::string a = "the quick brown fox jumps over the lazy dog and runs far away into the woods";
  std::string in = "{\"id\":1,\"q\":0.5,\"text\":\"" + a + "\"}\n" + "{\"id\":2,\"q\":0.9,\"text\":\"" + a +
                   " today\"}\n" + "{\"id\":3,\"q\":0.1,\"text\":\"" + a + " \"}\n";
  // 16 words: 12 five-word shingles; "today" adds one: J = 12/13 = 0.9231.
  DedupOptions o = Opts("k");
  o.inputs = {Write("k.jsonl", in)};
  o.threshold = 0.7;
  ASSERT_TRUE(RunDedup(o).ok());
  EXPECT_EQ(Lines(Slurp(o.output)).size(), 1u);
  EXPECT_NE(Slurp(o.output).find("\"id\":1"), std::string::npos);
  EXPECT_EQ(Slurp(o.clusters),
            "{\"id\":2,\"kept_id\":1,\"cluster\":0,\"kind\":\"near\",\"jaccard\":0.9231}\n"
            "{\"id\":3,\"kept_id\":1,\"cluster\":0,\"kind\":\"exact\",\"jaccard\":1}\n");
  o.keep = KeepPolicy::kLongest;
  ASSERT_TRUE(RunDedup(o).ok());
  EXPECT_NE(Slurp(o.output).find("\"id\":2"), std::string::npos);
  o.keep = KeepPolicy::kField;
  o.keep_field = "q";
  ASSERT_TRUE(RunDedup(o).ok());
  EXPECT_NE(Slurp(o.output).find("\"id\":2"), std::string::npos);
  EXPECT_EQ(Slurp(o.clusters),
            "{\"id\":1,\"kept_id\":2,\"cluster\":1,\"kind\":\"near\",\"jaccard\":0.9231}\n"
            "{\"id\":3,\"kept_id\":2,\"cluster\":1,\"kind\":\"near\",\"jaccard\":0.9231}\n");
}

TEST_F(DedupTest, DistinctShortTextsAreNotMerged) {
  DedupOptions o = Opts("s");
  o.inputs = {Write("s.txt", "hello world\nhello there\nHello,  World!\n你好\n你们好\n")};
  o.verify = VerifyMode::kNone;
  o.id_key.clear();
  auto r = RunDedup(o);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(Slurp(o.output), "hello world\nhello there\n你好\n你们好\n");
  EXPECT_EQ(Slurp(o.clusters), "{\"id\":3,\"kept_id\":1,\"cluster\":0,\"kind\":\"exact\",\"jaccard\":1}\n");
}

TEST_F(DedupTest, BadLinesFollowThePolicy) {
  DedupOptions o = Opts("bad");
  o.inputs = {Write("bad.jsonl", "{\"text\":\"a b\"}\n{\"text\":\n{\"text\":\"a b\"}\n")};
  auto r = RunDedup(o);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_NE(std::string(r.status().message()).find("bad.jsonl:2"), std::string::npos) << r.status();
  o.reader.on_bad_line = BadLinePolicy::kSkip;
  r = RunDedup(o);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->skipped, 1u);
  EXPECT_EQ(r->kept, 1u);
  EXPECT_EQ(r->exact_duplicates, 1u);
}

// The sign pass splits lines on one thread and parses them on others; its
// counters and its first error are DocumentReader's, over several batches.
TEST_F(DedupTest, SignPassCountsAndFailsAsTheReader) {
  auto planted = Lines(Slurp(kPlanted));
  std::string messy, late;
  for (size_t k = 0; k < 10 * planted.size(); ++k) {
    const std::string& clean = planted[k % planted.size()];
    std::string l = clean;
    if (k % 7 == 0) messy += "\n  \n";
    if (k % 11 == 0) messy += "{\"text\": truncated\n";
    if (k % 13 == 0) l.insert(l.find("\"text\": \"") + 9, "\xff");
    if (k % 17 == 0) messy += "[\"not an object\"]\n";
    messy += l + (k % 3 == 0 ? "\r\n" : "\n");
    // Bad lines only in later batches: the first of them is reported.
    late += (k == 1500 ? "{\"id\":1}" : k == 2500 ? "{\"text\":" : clean) + "\n";
  }
  std::string text = "\n\n";
  for (size_t k = 0; k < 1500; ++k) text += (k % 9 == 0 ? std::string() : "plain " + std::to_string(k % 10)) + "\n";
  const std::vector<std::string> files = {Write("messy.jsonl", messy), Write("plain.txt", text),
                                          Write("late.jsonl", late)};
  for (auto skip : {BadLinePolicy::kSkip, BadLinePolicy::kError}) {
    for (auto utf8 : {InvalidUtf8Policy::kReplace, InvalidUtf8Policy::kError}) {
      for (const auto& inputs : {files, std::vector<std::string>{files[2]}, std::vector<std::string>{files[1]}}) {
        DocumentReaderOptions ro;
        ro.on_bad_line = skip;
        ro.invalid_utf8 = utf8;
        // The reader's account, file by file as the pass opens them.
        DedupReport want;
        absl::Status want_status;
        for (const std::string& f : inputs) {
          auto reader = DocumentReader::Open({f}, ro).value();
          Document doc;
          for (;;) {
            auto more = reader->Next(&doc);
            if (!more.ok()) want_status = more.status();
            if (!more.ok() || !*more) break;
            want.bytes += doc.raw.size() + 1;
          }
          if (!want_status.ok()) break;
          want.documents += reader->documents();
          want.skipped += reader->skipped();
          want.blank_lines += reader->blank_lines();
          want.replaced_utf8 += reader->replaced_utf8();
        }
        for (int threads : {1, 2, 3}) {
          DedupOptions o = Opts("s");
          o.inputs = inputs;
          o.reader = ro;
          o.threads = threads;
          o.verify = VerifyMode::kNone;
          auto r = RunDedup(o);
          const std::string what = absl::StrCat(inputs.size(), " inputs, skip ", skip == BadLinePolicy::kSkip,
                                                ", replace ", utf8 == InvalidUtf8Policy::kReplace, ", threads ",
                                                threads);
          if (!want_status.ok()) {
            EXPECT_EQ(r.status(), want_status) << what;
            continue;
          }
          ASSERT_TRUE(r.ok()) << r.status() << what;
          EXPECT_EQ(r->documents, want.documents) << what;
          EXPECT_EQ(r->bytes, want.bytes) << what;
          EXPECT_EQ(r->skipped, want.skipped) << what;
          EXPECT_EQ(r->blank_lines, want.blank_lines) << what;
          EXPECT_EQ(r->replaced_utf8, want.replaced_utf8) << what;
        }
      }
    }
  }
  // The cases above include each outcome.
  DedupOptions o = Opts("s");
  o.inputs = {files[2]};
  EXPECT_EQ(RunDedup(o).status(),
            absl::DataLossError("missing key \"text\" (choose the field with --text-key), " + files[2] + ":1501"));
  o.reader.on_bad_line = BadLinePolicy::kSkip;
  o.inputs = files;
  auto r = RunDedup(o);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_GT(r->skipped, 2u);
  EXPECT_GT(r->blank_lines, 0u);
  EXPECT_EQ(r->replaced_utf8, 0u);
  o.reader.invalid_utf8 = InvalidUtf8Policy::kReplace;
  r = RunDedup(o);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_GT(r->replaced_utf8, 0u);
}

TEST_F(DedupTest, LshOptionConflictsAreUsageErrors) {
  DedupOptions o = Opts("u");
  o.bands = 10;
  auto r = RunDedup(o);
  EXPECT_EQ(r.status(), absl::InvalidArgumentError("--bands and --rows go together; give both or neither"));
  o.rows = 5;
  o.num_perm = 64;
  r = RunDedup(o);
  EXPECT_EQ(r.status(),
            absl::InvalidArgumentError("--num-perm 64 does not equal --bands 10 x --rows 5; drop --num-perm"));
}

TEST_F(DedupTest, LshParamsDependOnValuesAndHonourNumPerm) {
  DedupOptions o;
  bool chosen = false;
  // The default threshold, given or not, is one setting.
  LshParams def = ResolveLshParams(o, &chosen).value();
  EXPECT_TRUE(chosen);
  EXPECT_EQ(def.bands, 16);
  EXPECT_EQ(def.rows, 6);
  o.verify = VerifyMode::kNone;
  LshParams none = ResolveLshParams(o, &chosen).value();
  EXPECT_EQ(none.num_perm(), 108);  // 9 x 12
  o.verify = VerifyMode::kExact;
  // A requested hash count is what is used.
  for (int n : {64, 96, 112, 128, 256}) {
    o.num_perm = n;
    EXPECT_EQ(ResolveLshParams(o, &chosen).value().num_perm(), n) << n;
  }
  o.num_perm = 97;
  EXPECT_EQ(ResolveLshParams(o, &chosen).status(),
            absl::InvalidArgumentError("--num-perm 97 does not split into bands x rows (both at least 2); the "
                                       "nearest that do are 96 and 98, or give --bands and --rows"));
  o.num_perm = 2;
  EXPECT_EQ(ResolveLshParams(o, &chosen).status(),
            absl::InvalidArgumentError("--num-perm 2 does not split into bands x rows (both at least 2); the "
                                       "nearest that does is 4, or give --bands and --rows"));
}

TEST_F(DedupTest, StagedEqualsSingleCommand) {
  for (VerifyMode v : {VerifyMode::kExact, VerifyMode::kEstimate}) {
    fs::remove_all(P("work"));
    DedupOptions o = Opts("single");
    o.inputs = SplitPlanted();
    o.verify = v;
    o.keep = KeepPolicy::kLongest;
    ASSERT_TRUE(RunDedup(o).ok());
    ASSERT_TRUE(AllStages(o, "staged", 3).ok());
    EXPECT_EQ(Cat("staged.kept", 3), Slurp(o.output));
    EXPECT_EQ(Cat("staged.removed", 3), Slurp(o.removed));
    EXPECT_EQ(Cat("staged.clusters", 3), Slurp(o.clusters));
    EXPECT_FALSE(Slurp(o.removed).empty());
  }
}

// The single command finds documents' lines again by number, without
// parsing; the staged filter parses. Lines that are not documents, CRLF
// endings, repaired UTF-8 and plain-text inputs must not shift them.
TEST_F(DedupTest, LineFindingMatchesParsingOnMessyInputs) {
  auto lines = Lines(Slurp(kPlanted));
  std::string messy;
  for (size_t k = 0; k < lines.size(); ++k) {
    if (k % 7 == 0) messy += "\n  \n";
    if (k % 11 == 0) messy += "{\"text\": truncated\n";
    std::string l = lines[k];
    const size_t at = l.find("\"text\": \"");
    ASSERT_NE(at, std::string::npos) << l;
    if (k % 13 == 0) l.insert(at + 9, "\xff");
    messy += l + (k % 3 == 0 ? "\r\n" : "\n");
  }
  std::string text;
  for (size_t k = 0; k < 40; ++k) text += (k % 9 == 0 ? std::string() : "plain " + std::to_string(k % 10) +
                                           " words of a line that repeats now and then") + "\n";
  for (VerifyMode v : {VerifyMode::kExact, VerifyMode::kNone}) {
    fs::remove_all(P("work"));
    DedupOptions o = Opts("single");
    o.inputs = {Write("messy.jsonl", messy), Write("plain.txt", text), SplitPlanted()[1]};
    o.id_key = "";
    o.verify = v;
    o.reader.on_bad_line = BadLinePolicy::kSkip;
    o.reader.invalid_utf8 = InvalidUtf8Policy::kReplace;
    auto r = RunDedup(o);
    ASSERT_TRUE(r.ok()) << r.status();
    EXPECT_GT(r->skipped, 0u);
    EXPECT_GT(r->replaced_utf8, 0u);
    EXPECT_GT(r->near_duplicates, 0u);
    ASSERT_TRUE(AllStages(o, "staged", 3).ok());
    EXPECT_EQ(Cat("staged.kept", 3), Slurp(o.output));
    EXPECT_EQ(Cat("staged.removed", 3), Slurp(o.removed));
    EXPECT_EQ(Cat("staged.clusters", 3), Slurp(o.clusters));
  }
}

TEST_F(DedupTest, ResumeAfterKilledStage) {
  DedupOptions o = Opts("single");
  o.inputs = SplitPlanted();
  ASSERT_TRUE(RunDedup(o).ok());
  ASSERT_TRUE(Stage(o, "sign", 0, 3).ok());
  ASSERT_TRUE(Stage(o, "sign", 1, 3).ok());
  // Shard 2 killed mid-way: some band files written, no .docs marker, and a
  // temporary file left behind.
  ASSERT_TRUE(Stage(o, "sign", 2, 3).ok());
  fs::remove(P("work/sign-2-of-3.docs"));
  fs::remove(P("work/sign-2-of-3.band-5"));
  Write("work/sign-2-of-3.docs.tmp.1234.0", "partial");
  // Pairs cannot run on a missing shard.
  absl::Status s = Stage(o, "pairs", 0, 3);
  EXPECT_EQ(s.code(), absl::StatusCode::kNotFound) << s;
  // The rerun redoes shard 2, and the completed shards are skipped.
  auto before = fs::last_write_time(P("work/sign-0-of-3.docs"));
  ASSERT_TRUE(AllStages(o, "staged", 3).ok());
  EXPECT_EQ(fs::last_write_time(P("work/sign-0-of-3.docs")), before);
  EXPECT_EQ(Cat("staged.kept", 3), Slurp(o.output));
  EXPECT_EQ(Cat("staged.clusters", 3), Slurp(o.clusters));
}

TEST_F(DedupTest, CorruptStageFileIsDetected) {
  DedupOptions o = Opts("c");
  o.inputs = SplitPlanted();
  ASSERT_TRUE(AllStages(o, "c", 3).ok());
  const std::string pairs = P("work/pairs-3");
  std::string bytes = Slurp(pairs);
  fs::remove(P("work/clusters"));
  // One flipped bit in the payload.
  std::string flipped = bytes;
  flipped[40] ^= 0x10;
  std::ofstream(pairs, std::ios::binary) << flipped;
  absl::Status s = Stage(o, "clusters", 0, 3);
  ASSERT_EQ(s.code(), absl::StatusCode::kDataLoss) << s;
  EXPECT_TRUE(absl::StartsWith(ToAbsl(std::string(s.message())), "corrupt stage file " + pairs + ": checksum ")) << s;
  EXPECT_TRUE(absl::EndsWith(ToAbsl(std::string(s.message())),
                             "; delete it and rerun the stage that writes it")) << s;
  // Truncated.
  std::ofstream(pairs, std::ios::binary) << bytes.substr(0, bytes.size() - 3);
  s = Stage(o, "clusters", 0, 3);
  EXPECT_EQ(s, absl::DataLossError(absl::StrCat("corrupt stage file ", pairs, ": payload of ", bytes.size() - 40,
                                                " bytes declared, ", bytes.size() - 43,
                                                " present (truncated?); delete it and rerun the stage that writes it")));
  // The pairs stage sees its own corrupt output and redoes it.
  ASSERT_TRUE(Stage(o, "pairs", 0, 3).ok());
  EXPECT_EQ(Slurp(pairs), bytes);
  // A corrupt band file: pairs refuses it, and rerunning sign redoes the shard.
  ASSERT_TRUE(Stage(o, "pairs", 0, 3).ok());
  const std::string band = P("work/sign-1-of-3.band-3");
  std::string band_bytes = Slurp(band);
  std::string bad = band_bytes;
  bad[bad.size() - 1] ^= 1;  // the checksum itself
  std::ofstream(band, std::ios::binary) << bad;
  fs::remove(pairs);
  s = Stage(o, "pairs", 0, 3);
  EXPECT_EQ(s.code(), absl::StatusCode::kDataLoss) << s;
  EXPECT_TRUE(absl::StartsWith(ToAbsl(std::string(s.message())), "corrupt stage file " + band + ": checksum ")) << s;
  ASSERT_TRUE(Stage(o, "sign", 1, 3).ok());
  EXPECT_EQ(Slurp(band), band_bytes);
  ASSERT_TRUE(Stage(o, "pairs", 0, 3).ok());
  EXPECT_EQ(Slurp(pairs), bytes);
  // Other options: the stage files are not reused.
  DedupOptions other = o;
  other.ngram = 4;
  s = Stage(other, "clusters", 0, 3);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << s;
}

TEST(StageFileTest, RoundTripAndKindCheck) {
  std::string p = (fs::temp_directory_path() / ("llmtk_stagefile_" + std::to_string(getpid()))).string();
  ASSERT_TRUE(WriteStageFile(p, StageKind::kPairs, 77, "payload").ok());
  auto r = ReadStageFile(p, StageKind::kPairs, 77);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r, "payload");
  EXPECT_EQ(ReadStageFile(p, StageKind::kBand, 77).status(),
            absl::DataLossError(absl::StrCat("corrupt stage file ", p,
                                             ": a pairs file where a band file was expected; delete it and rerun "
                                             "the stage that writes it")));
  fs::remove(p);
}

TEST(ShardTest, Parse) {
  int i, n;
  ASSERT_TRUE(ParseShard("2/5", &i, &n).ok());
  EXPECT_EQ(i, 2);
  EXPECT_EQ(n, 5);
  EXPECT_EQ(ParseShard("5/5", &i, &n), absl::InvalidArgumentError("--shard '5/5' is not i/N with 0 <= i < N"));
}

}  // namespace
}  // namespace llmtk
