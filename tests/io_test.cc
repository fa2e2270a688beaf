#include "lib/base/io.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zstd.h>

#include <filesystem>
#include <fstream>
#include <thread>

#include "absl/strings/match.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace llmtk {
namespace {

namespace fs = std::filesystem;

class IoTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("llmtk_io_test_" + std::to_string(getpid()) + "_" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string Path(const std::string& name) { return (dir_ / name).string(); }
  void WriteRaw(const std::string& name, const std::string& bytes) {
    std::ofstream(Path(name), std::ios::binary) << bytes;
  }
  static std::string Compress(const std::string& s, int level = 3) {
    std::string out(ZSTD_compressBound(s.size()), '\0');
    size_t n = ZSTD_compress(out.data(), out.size(), s.data(), s.size(), level);
    out.resize(n);
    return out;
  }
  std::vector<std::string> Lines(const std::string& path) {
    auto in = OpenInput(path);
    EXPECT_TRUE(in.ok()) << in.status();
    LineReader r(std::move(*in));
    std::vector<std::string> out;
    std::string_view line;
    for (;;) {
      auto got = r.Next(&line);
      EXPECT_TRUE(got.ok()) << got.status();
      if (!got.ok() || !*got) break;
      out.emplace_back(line);
    }
    return out;
  }
  fs::path dir_;
};

TEST_F(IoTest, PlainAndZstdReadTheSame) {
  std::string text;
  for (int i = 0; i < 10000; ++i) text += "line " + std::to_string(i) + "\n";
  WriteRaw("a.txt", text);
  WriteRaw("a.txt.zst", Compress(text));
  EXPECT_EQ(ReadFileToString(Path("a.txt")).value(), text);
  EXPECT_EQ(ReadFileToString(Path("a.txt.zst")).value(), text);
  // Detection is by magic number, not by name.
  WriteRaw("noext", Compress(text));
  EXPECT_EQ(ReadFileToString(Path("noext")).value(), text);
}

TEST_F(IoTest, MultiFrameZstd) {
  WriteRaw("m.zst", Compress("first\n") + Compress("second\n") + Compress(""));
  EXPECT_EQ(Lines(Path("m.zst")), (std::vector<std::string>{"first", "second"}));
}

TEST_F(IoTest, TruncatedZstdIsDataLossWithOffset) {
  std::string text(200000, 'x');
  for (size_t i = 0; i < text.size(); i += 7) text[i] = static_cast<char>('a' + i % 26);
  std::string z = Compress(text);
  WriteRaw("t.zst", z.substr(0, z.size() - 10));
  auto s = ReadFileToString(Path("t.zst")).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kDataLoss);
  EXPECT_EQ(s.message(), absl::StrCat("truncated zstd stream (ends inside a frame at compressed byte ",
                                      z.size() - 10, "), ", Path("t.zst"),
                                      "; the file is incomplete: fetch or compress it again"));
}

TEST_F(IoTest, CorruptZstdIsDataLoss) {
  // With a content checksum any flipped byte is caught; flip one in it.
  std::string text = "tail of a corrupt file\n";
  ZSTD_CCtx* cctx = ZSTD_createCCtx();
  ZSTD_CCtx_setParameter(cctx, ZSTD_c_checksumFlag, 1);
  std::string z(ZSTD_compressBound(text.size()), '\0');
  z.resize(ZSTD_compress2(cctx, z.data(), z.size(), text.data(), text.size()));
  ZSTD_freeCCtx(cctx);
  z[z.size() - 2] ^= 0x5A;
  WriteRaw("c.zst", z);
  auto s = ReadFileToString(Path("c.zst")).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kDataLoss) << s;
  EXPECT_EQ(std::string(s.message()), absl::StrCat("corrupt zstd stream (Restored data doesn't match checksum) near "
                                      "compressed byte ", z.size(), ", ", Path("c.zst")));
}

TEST_F(IoTest, MissingFileIsNotFound) {
  auto s = OpenInput(Path("nope.jsonl")).status();
  EXPECT_EQ(s, absl::NotFoundError(absl::StrCat("cannot open input: No such file or directory, ",
                                                Path("nope.jsonl"))));
  auto e = ExpandInputs({Path("nope.jsonl")}).status();
  EXPECT_EQ(e, absl::NotFoundError(absl::StrCat("input not found: No such file or directory, ",
                                                Path("nope.jsonl"))));
}

TEST_F(IoTest, EmptyInput) {
  WriteRaw("e", "");
  EXPECT_TRUE(Lines(Path("e")).empty());
  WriteRaw("e.zst", Compress(""));
  EXPECT_TRUE(Lines(Path("e.zst")).empty());
}

TEST_F(IoTest, LineEndings) {
  WriteRaw("l", "a\r\nb\n\nc\r\nlast");
  EXPECT_EQ(Lines(Path("l")), (std::vector<std::string>{"a", "b", "", "c", "last"}));
  WriteRaw("l2", "only\n");
  EXPECT_EQ(Lines(Path("l2")), (std::vector<std::string>{"only"}));
  WriteRaw("l3", "\n\n");
  EXPECT_EQ(Lines(Path("l3")), (std::vector<std::string>{"", ""}));
}

TEST_F(IoTest, LineLargerThanAnyBuffer) {
  std::string big(100u << 20, 'z');  // 100 MB, far beyond the 1 MB read buffer
  big[12345] = 'y';
  WriteRaw("big", "short\n" + big + "\nend");
  auto in = OpenInput(Path("big"));
  ASSERT_TRUE(in.ok());
  LineReader r(std::move(*in));
  std::string_view line;
  ASSERT_TRUE(r.Next(&line).value());
  EXPECT_EQ(line, "short");
  ASSERT_TRUE(r.Next(&line).value());
  EXPECT_EQ(line.size(), big.size());
  EXPECT_EQ(line[12345], 'y');
  EXPECT_EQ(r.line_number(), 2u);
  EXPECT_EQ(r.line_offset(), 6u);
  ASSERT_TRUE(r.Next(&line).value());
  EXPECT_EQ(line, "end");
  EXPECT_FALSE(r.Next(&line).value());
}

TEST_F(IoTest, ExpandInputsSortsDirectories) {
  fs::create_directories(dir_ / "d" / "sub");
  WriteRaw("d/b.jsonl", "b\n");
  WriteRaw("d/a.jsonl", "a\n");
  WriteRaw("d/sub/c.jsonl", "c\n");
  WriteRaw("z.jsonl", "z\n");
  auto got = ExpandInputs({Path("z.jsonl"), Path("d"), "-"}).value();
  EXPECT_EQ(got, (std::vector<std::string>{Path("z.jsonl"), Path("d/a.jsonl"), Path("d/b.jsonl"),
                                           Path("d/sub/c.jsonl"), "-"}));
}

TEST_F(IoTest, ExpandInputsReadsOnlyDocumentFilesOfDirectories) {
  // A llmtk-mix output directory, a hidden file, an output still being written.
  fs::create_directories(dir_ / "m" / ".spool");
  WriteRaw("m/manifest.json", "{}\n");
  WriteRaw("m/shard-00001.jsonl.zst", "");
  WriteRaw("m/shard-00000.jsonl", "");
  WriteRaw("m/notes.TXT", "");
  WriteRaw("m/.hidden.jsonl", "");
  WriteRaw("m/.spool/0", "");
  WriteRaw("m/kept.jsonl.tmp.123.0", "");
  EXPECT_EQ(ExpandInputs({Path("m")}).value(),
            (std::vector<std::string>{Path("m/notes.TXT"), Path("m/shard-00000.jsonl"), Path("m/shard-00001.jsonl.zst")}));
  // Named explicitly, any file is read.
  EXPECT_EQ(ExpandInputs({Path("m/manifest.json")}).value(), (std::vector<std::string>{Path("m/manifest.json")}));
  WriteRaw("m/README.md", "");
  auto s = ExpandInputs({Path("m")}).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(s.message()), testing::HasSubstr(Path("m/README.md")));
}

TEST_F(IoTest, OutputFileIsAtomic) {
  std::string path = Path("out.txt");
  {
    auto f = OutputFile::Open(path).value();
    ASSERT_TRUE(f->Write("hello\n").ok());
    EXPECT_FALSE(fs::exists(path));  // only the temporary exists until Close
    ASSERT_TRUE(f->Close().ok());
  }
  EXPECT_EQ(ReadFileToString(path).value(), "hello\n");
  {
    auto f = OutputFile::Open(Path("failed.txt")).value();
    ASSERT_TRUE(f->Write("partial").ok());
    // Destroyed without Close(): a failed run.
  }
  EXPECT_FALSE(fs::exists(Path("failed.txt")));
  int files = 0;
  for (auto& e : fs::directory_iterator(dir_)) files += e.is_regular_file();
  EXPECT_EQ(files, 1);  // no temporaries left behind
}

// A device or FIFO is written in place: a rename over it would replace the
// node (run as root, /dev/null itself).
TEST_F(IoTest, OutputToDeviceOrFifoIsWrittenInPlace) {
  {
    auto f = OutputFile::Open("/dev/null").value();
    ASSERT_TRUE(f->Write("discarded\n").ok());
    ASSERT_TRUE(f->Close().ok());
  }
  struct stat st;
  ASSERT_EQ(stat("/dev/null", &st), 0);
  EXPECT_TRUE(S_ISCHR(st.st_mode));
  const std::string fifo = Path("fifo");
  ASSERT_EQ(mkfifo(fifo.c_str(), 0600), 0);
  std::string got;
  std::thread reader([&] { got = ReadFileToString(fifo).value(); });
  {
    auto f = OutputFile::Open(fifo).value();
    ASSERT_TRUE(f->Write("through the pipe\n").ok());
    ASSERT_TRUE(f->Close().ok());
  }
  reader.join();
  EXPECT_EQ(got, "through the pipe\n");
  ASSERT_EQ(stat(fifo.c_str(), &st), 0);
  EXPECT_TRUE(S_ISFIFO(st.st_mode));
  EXPECT_EQ(OutputFile::Open(dir_.string()).status(),
            absl::FailedPreconditionError("output is a directory, " + dir_.string()));
}

TEST_F(IoTest, ZstOutputRoundTrip) {
  std::string text;
  for (int i = 0; i < 50000; ++i) text += "row " + std::to_string(i * 7) + "\n";
  auto f = OutputFile::Open(Path("o.jsonl.zst")).value();
  for (size_t i = 0; i < text.size(); i += 1000) ASSERT_TRUE(f->Write(std::string_view(text).substr(i, 1000)).ok());
  ASSERT_TRUE(f->Close().ok());
  auto raw = ReadFileToString(Path("o.jsonl.zst"));  // decompressed by magic
  EXPECT_EQ(raw.value(), text);
  EXPECT_LT(fs::file_size(Path("o.jsonl.zst")), text.size() / 3);
}

TEST_F(IoTest, BadZstdLevelIsUsageError) {
  OutputOptions o;
  o.zstd_level = 40;
  EXPECT_EQ(OutputFile::Open(Path("x.zst"), o).status(),
            absl::InvalidArgumentError("--zstd-level must be between 1 and 22, got 40"));
}

TEST_F(IoTest, OutputCreatesMissingDirectories) {
  auto f = OutputFile::Open(Path("no/such/dir/out.txt")).value();
  ASSERT_TRUE(f->Write("x").ok());
  ASSERT_TRUE(f->Close().ok());
  EXPECT_EQ(ReadFileToString(Path("no/such/dir/out.txt")).value(), "x");
}

TEST_F(IoTest, UnwritableOutputDirectory) {
  WriteRaw("plain", "");
  auto s = OutputFile::Open(Path("plain/out.txt")).status();
  EXPECT_FALSE(s.ok());
  EXPECT_TRUE(absl::StartsWith(s.message(), "cannot create the output's directory " + Path("plain"))) << s;
}

TEST_F(IoTest, BrokenPipeIsReported) {
  signal(SIGPIPE, SIG_IGN);
  int fds[2];
  ASSERT_EQ(pipe(fds), 0);
  close(fds[0]);
  int saved = dup(1);
  dup2(fds[1], 1);
  close(fds[1]);
  absl::Status s;
  {
    auto f = OutputFile::Open("-").value();
    s = f->Write(std::string(4 << 20, 'x'));
    if (s.ok()) s = f->Close();
  }
  dup2(saved, 1);
  close(saved);
  EXPECT_TRUE(IsBrokenPipe(s)) << s;
}

TEST_F(IoTest, MappedFile) {
  WriteRaw("m.bin", "abcdef");
  auto m = MappedFile::Open(Path("m.bin")).value();
  ASSERT_EQ(m->size(), 6u);
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(m->data()), 6), "abcdef");
  WriteRaw("empty.bin", "");
  EXPECT_EQ(MappedFile::Open(Path("empty.bin")).value()->size(), 0u);
  EXPECT_EQ(MappedFile::Open(Path("none")).status().code(), absl::StatusCode::kNotFound);
}

}  // namespace
}  // namespace llmtk
