#include "lib/formats/token_files.h"

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "gtest/gtest.h"

namespace llmtk {
namespace {

namespace fs = std::filesystem;

class TokenFilesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("llmtk_token_files_test_" + std::to_string(getpid()) + "_" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string Path(const std::string& name) { return (dir_ / name).string(); }
  std::string Slurp(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
  }
  void Spit(const std::string& path, const std::string& bytes) {
    std::ofstream(path, std::ios::binary | std::ios::trunc) << bytes;
  }
  fs::path dir_;
};

// Independent decoding: byte by byte, as the format's documentation states,
// sharing no code with lib/formats/token_files.cc.
uint64_t Le(const std::string& b, size_t at, size_t n) {
  uint64_t v = 0;
  for (size_t i = 0; i < n; ++i) v += static_cast<uint64_t>(static_cast<unsigned char>(b.at(at + i))) << (8 * i);
  return v;
}

std::string U16(std::initializer_list<uint16_t> xs) {
  std::string s;
  for (uint16_t x : xs) s += {static_cast<char>(x & 0xff), static_cast<char>(x >> 8)};
  return s;
}

TEST_F(TokenFilesTest, NanoGptDtypeChoice) {
  EXPECT_EQ(NanoGptDtypeForVocab(50257), NanoGptDtype::kUint16);
  EXPECT_EQ(NanoGptDtypeForVocab(65536), NanoGptDtype::kUint16);
  EXPECT_EQ(NanoGptDtypeForVocab(65537), NanoGptDtype::kUint32);
  EXPECT_EQ(NanoGptDtypeForVocab(128256), NanoGptDtype::kUint32);
}

TEST_F(TokenFilesTest, NanoGptUint16Bytes) {
  auto w = NanoGptWriter::Open(Path("a.bin"), NanoGptDtype::kUint16);
  ASSERT_TRUE(w.ok()) << w.status();
  std::vector<uint32_t> a = {1, 258, 65535};
  std::vector<uint32_t> b = {0, 50256};
  ASSERT_TRUE((*w)->Append(a).ok());
  ASSERT_TRUE((*w)->Append(b).ok());
  EXPECT_FALSE(fs::exists(Path("a.bin")));  // not before Close()
  ASSERT_TRUE((*w)->Close().ok());
  EXPECT_EQ(Slurp(Path("a.bin")), U16({1, 258, 65535, 0, 50256}));

  auto r = NanoGptReader::Open(Path("a.bin"), NanoGptDtype::kUint16);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ((*r)->size(), 5u);
  EXPECT_EQ(*(*r)->Read(1, 3), (std::vector<uint32_t>{258, 65535, 0}));
  EXPECT_EQ((*r)->Read(4, 2).status().code(), absl::StatusCode::kOutOfRange);
}

TEST_F(TokenFilesTest, NanoGptUint32Bytes) {
  auto w = NanoGptWriter::Open(Path("a.bin"), NanoGptDtype::kUint32);
  ASSERT_TRUE(w.ok());
  std::vector<uint32_t> a = {128000, 7};
  ASSERT_TRUE((*w)->Append(a).ok());
  ASSERT_TRUE((*w)->Close().ok());
  EXPECT_EQ(Slurp(Path("a.bin")), std::string("\x00\xf4\x01\x00\x07\x00\x00\x00", 8));
}

TEST_F(TokenFilesTest, NanoGptRejectsIdTooLarge) {
  auto w = NanoGptWriter::Open(Path("a.bin"), NanoGptDtype::kUint16);
  ASSERT_TRUE(w.ok());
  std::vector<uint32_t> a = {5, 65536};
  absl::Status s = (*w)->Append(a);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(s.message(), "token id 65536 does not fit uint16, " + Path("a.bin") +
                             " (use uint32 for vocabularies over 65536)");
  EXPECT_EQ((*w)->tokens_written(), 0u);
}

TEST_F(TokenFilesTest, NanoGptTruncated) {
  Spit(Path("t.bin"), std::string("\x01\x00\x02\x00\x03", 5));
  auto r = NanoGptReader::Open(Path("t.bin"), NanoGptDtype::kUint16);
  EXPECT_EQ(r.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_EQ(r.status().message(), "truncated token file: 5 bytes is not a multiple of 2 (uint16); "
                                  "the last token at byte 4 is incomplete, " + Path("t.bin"));
}

TEST_F(TokenFilesTest, MegatronDtypeCodes) {
  // Megatron's DType enum values.
  EXPECT_EQ(static_cast<int>(MegatronDtype::kUint8), 1);
  EXPECT_EQ(static_cast<int>(MegatronDtype::kInt32), 4);
  EXPECT_EQ(static_cast<int>(MegatronDtype::kUint16), 8);
  EXPECT_EQ(MegatronDtypeForVocab(50257), MegatronDtype::kUint16);
  EXPECT_EQ(MegatronDtypeForVocab(65500), MegatronDtype::kInt32);
  EXPECT_EQ(*ParseMegatronDtype("int64"), MegatronDtype::kInt64);
  EXPECT_EQ(ParseMegatronDtype("uint32").status().code(), absl::StatusCode::kInvalidArgument);
}

// Writes three documents (the second split into two sequences, the third
// empty) and checks every byte of both files by hand.
TEST_F(TokenFilesTest, MegatronLayoutReadBackIndependently) {
  const std::string prefix = Path("ds");
  auto w = MegatronWriter::Open(prefix, MegatronDtype::kUint16);
  ASSERT_TRUE(w.ok()) << w.status();
  std::vector<uint32_t> d0 = {10, 11, 12};
  std::vector<uint32_t> d1 = {20, 21, 22, 23, 65535};
  std::vector<int32_t> d1_lengths = {2, 3};
  ASSERT_TRUE((*w)->AddDocument(d0).ok());
  ASSERT_TRUE((*w)->AddDocument(d1, d1_lengths).ok());
  ASSERT_TRUE((*w)->AddDocument(std::span<const uint32_t>()).ok());
  EXPECT_EQ((*w)->documents(), 3u);
  EXPECT_EQ((*w)->sequences(), 4u);
  ASSERT_TRUE((*w)->Close().ok());

  EXPECT_EQ(Slurp(prefix + ".bin"), U16({10, 11, 12, 20, 21, 22, 23, 65535}));
  const std::string idx = Slurp(prefix + ".idx");
  ASSERT_EQ(idx.size(), 9u + 8 + 1 + 8 + 8 + 4 * 4 + 8 * 4 + 8 * 4);
  EXPECT_EQ(idx.substr(0, 9), std::string("MMIDIDX\0\0", 9));
  EXPECT_EQ(Le(idx, 9, 8), 1u);   // version
  EXPECT_EQ(Le(idx, 17, 1), 8u);  // uint16
  EXPECT_EQ(Le(idx, 18, 8), 4u);  // sequences
  EXPECT_EQ(Le(idx, 26, 8), 4u);  // document index entries = documents + 1
  size_t at = 34;
  for (uint64_t len : {3, 2, 3, 0}) EXPECT_EQ(Le(idx, (at += 4) - 4, 4), len);
  for (uint64_t ptr : {0, 6, 10, 16}) EXPECT_EQ(Le(idx, (at += 8) - 8, 8), ptr);
  for (uint64_t d : {0, 1, 3, 4}) EXPECT_EQ(Le(idx, (at += 8) - 8, 8), d);
  EXPECT_EQ(at, idx.size());

  auto r = MegatronReader::Open(prefix);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ((*r)->num_documents(), 3u);
  EXPECT_EQ((*r)->num_sequences(), 4u);
  EXPECT_EQ((*r)->num_tokens(), 8u);
  EXPECT_EQ(*(*r)->Document(1), d1);
  EXPECT_EQ(*(*r)->Sequence(2), (std::vector<uint32_t>{22, 23, 65535}));
  EXPECT_TRUE((*r)->Document(2)->empty());
  EXPECT_EQ((*r)->Document(3).status().code(), absl::StatusCode::kOutOfRange);
}

TEST_F(TokenFilesTest, MegatronInt32AndStreamingApi) {
  const std::string prefix = Path("ds");
  auto w = MegatronWriter::Open(prefix, MegatronDtype::kInt32);
  ASSERT_TRUE(w.ok());
  std::vector<uint32_t> a = {128000, 1}, b = {2};
  ASSERT_TRUE((*w)->AddSequence(a).ok());
  ASSERT_TRUE((*w)->AddSequence(b).ok());
  ASSERT_TRUE((*w)->Close().ok());  // ends the open document
  const std::string bin = Slurp(prefix + ".bin");
  EXPECT_EQ(bin, std::string("\x00\xf4\x01\x00\x01\x00\x00\x00\x02\x00\x00\x00", 12));
  const std::string idx = Slurp(prefix + ".idx");
  EXPECT_EQ(Le(idx, 17, 1), 4u);
  EXPECT_EQ(Le(idx, 26, 8), 2u);
  EXPECT_EQ(Le(idx, 34 + 8 + 8, 8), 8u);  // second pointer: 2 tokens * 4 bytes
  EXPECT_EQ(Le(idx, 34 + 8 + 16 + 8, 8), 2u);
  auto r = MegatronReader::Open(prefix);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(*(*r)->Document(0), (std::vector<uint32_t>{128000, 1, 2}));
}

TEST_F(TokenFilesTest, MegatronWriterRejects) {
  EXPECT_EQ(MegatronWriter::Open(Path("x"), MegatronDtype::kFloat32).status().code(),
            absl::StatusCode::kInvalidArgument);
  auto w = MegatronWriter::Open(Path("x"), MegatronDtype::kUint8);
  ASSERT_TRUE(w.ok());
  std::vector<uint32_t> a = {256};
  EXPECT_EQ((*w)->AddDocument(a).message(), "token id 256 does not fit uint8, " + Path("x") + ".bin");
  std::vector<uint32_t> b = {1, 2};
  std::vector<int32_t> lens = {1};
  EXPECT_EQ((*w)->AddDocument(b, lens).message(), "sequence lengths sum to 1 but the document has 2 tokens");
  std::vector<uint32_t> c = {1, 300};
  std::vector<int32_t> two = {1, 1};
  EXPECT_EQ((*w)->AddDocument(c, two).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ((*w)->sequences(), 0u);  // nothing of the rejected documents
  EXPECT_EQ((*w)->documents(), 0u);
}

TEST_F(TokenFilesTest, MegatronNoFilesBeforeClose) {
  {
    auto w = MegatronWriter::Open(Path("x"), MegatronDtype::kUint16);
    ASSERT_TRUE(w.ok());
    std::vector<uint32_t> a = {1};
    ASSERT_TRUE((*w)->AddDocument(a).ok());
  }  // destroyed unclosed
  EXPECT_TRUE(fs::is_empty(dir_));
}

class MegatronCorruptTest : public TokenFilesTest {
 protected:
  void SetUp() override {
    TokenFilesTest::SetUp();
    prefix_ = Path("ds");
    auto w = MegatronWriter::Open(prefix_, MegatronDtype::kUint16);
    ASSERT_TRUE(w.ok());
    std::vector<uint32_t> a = {1, 2, 3}, b = {4, 5};
    ASSERT_TRUE((*w)->AddDocument(a).ok());
    ASSERT_TRUE((*w)->AddDocument(b).ok());
    ASSERT_TRUE((*w)->Close().ok());
    idx_ = Slurp(prefix_ + ".idx");  // 34 + 8 + 16 + 24 = 82 bytes
    bin_ = Slurp(prefix_ + ".bin");
  }
  absl::Status OpenWith(const std::string& idx, const std::string& bin) {
    Spit(prefix_ + ".idx", idx);
    Spit(prefix_ + ".bin", bin);
    return MegatronReader::Open(prefix_).status();
  }
  void Put(std::string* s, size_t at, uint64_t v, size_t n) {
    for (size_t i = 0; i < n; ++i) (*s)[at + i] = static_cast<char>((v >> (8 * i)) & 0xff);
  }
  std::string prefix_, idx_, bin_;
};

TEST_F(MegatronCorruptTest, Intact) { EXPECT_TRUE(OpenWith(idx_, bin_).ok()); }

TEST_F(MegatronCorruptTest, BadMagic) {
  std::string idx = idx_;
  idx[0] = 'X';
  absl::Status s = OpenWith(idx, bin_);
  EXPECT_EQ(s.code(), absl::StatusCode::kDataLoss);
  EXPECT_EQ(s.message(), "not a Megatron index (no MMIDIDX magic), " + prefix_ + ".idx at byte 0");
}

TEST_F(MegatronCorruptTest, BadVersionAndDtype) {
  std::string idx = idx_;
  Put(&idx, 9, 2, 8);
  EXPECT_EQ(OpenWith(idx, bin_).message(),
            "unsupported index version 2 (only 1 is defined), " + prefix_ + ".idx at byte 9");
  idx = idx_;
  idx[17] = 9;
  EXPECT_EQ(OpenWith(idx, bin_).message(), "unknown dtype code 9 (Megatron's are 1..8), " + prefix_ + ".idx at byte 17");
}

TEST_F(MegatronCorruptTest, TruncatedIndex) {
  absl::Status s = OpenWith(idx_.substr(0, 70), bin_);
  EXPECT_EQ(s.code(), absl::StatusCode::kDataLoss);
  EXPECT_EQ(s.message(), "truncated index: 2 sequences and 3 document index entries need 82 bytes, "
                         "the file has 70, " + prefix_ + ".idx at byte 70");
  EXPECT_EQ(OpenWith(idx_.substr(0, 20), bin_).message(),
            "truncated index header: 20 bytes, the header alone has 34, " + prefix_ + ".idx at byte 20");
}

TEST_F(MegatronCorruptTest, TrailingBytesAndHugeCounts) {
  EXPECT_EQ(OpenWith(idx_ + "abc", bin_).message(),
            "index has 3 unexpected trailing bytes (2 sequences and 3 document index entries need 82), " + prefix_ +
                ".idx at byte 82");
  std::string idx = idx_;
  Put(&idx, 18, uint64_t{1} << 62, 8);
  EXPECT_EQ(OpenWith(idx, bin_).code(), absl::StatusCode::kDataLoss);
}

TEST_F(MegatronCorruptTest, MultimodalModesAccepted) {
  EXPECT_TRUE(OpenWith(idx_ + std::string("\0\0", 2), bin_).ok());
}

TEST_F(MegatronCorruptTest, BadLengthPointerDocIndex) {
  std::string idx = idx_;
  Put(&idx, 38, 0xffffffff, 4);  // length of sequence 1 = -1
  EXPECT_EQ(OpenWith(idx, bin_).message(), "sequence 1 has negative length -1, " + prefix_ + ".idx at byte 38");
  idx = idx_;
  Put(&idx, 50, 4, 8);  // pointer of sequence 1 (should be 6)
  EXPECT_EQ(OpenWith(idx, bin_).message(), "sequence 1 starts at data byte 4, expected 6 (sequences are stored "
                                           "back to back), " + prefix_ + ".idx at byte 50");
  idx = idx_;
  Put(&idx, 66, 3, 8);  // document index entry 1 = 3 > S
  EXPECT_EQ(OpenWith(idx, bin_).message(), "document index entry 1 is 3, outside [0, 2], " + prefix_ + ".idx at byte 66");
  idx = idx_;
  Put(&idx, 74, 1, 8);  // last entry 1 != S
  EXPECT_EQ(OpenWith(idx, bin_).message(),
            "document index ends at sequence 1, not at the sequence count 2, " + prefix_ + ".idx at byte 74");
}

TEST_F(MegatronCorruptTest, TruncatedData) {
  absl::Status s = OpenWith(idx_, bin_.substr(0, 7));
  EXPECT_EQ(s.code(), absl::StatusCode::kDataLoss);
  EXPECT_EQ(s.message(), "truncated data file: 7 bytes, the index describes 10 (5 uint16 tokens), " + prefix_ +
                             ".bin at byte 7");
}

TEST_F(MegatronCorruptTest, MissingData) {
  fs::remove(prefix_ + ".bin");
  EXPECT_EQ(MegatronReader::Open(prefix_).status().code(), absl::StatusCode::kNotFound);
}

TEST_F(MegatronCorruptTest, NegativeTokenInSignedData) {
  std::string idx = idx_;
  idx[17] = 3;  // int16
  std::string bin = bin_;
  Put(&bin, 2, 0xfffe, 2);  // token 1 of document 0 = -2
  ASSERT_TRUE(OpenWith(idx, bin).ok());
  auto r = MegatronReader::Open(prefix_);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ((*r)->Document(0).status().message(), "token -2 is not a valid id, " + prefix_ + ".bin at byte 2");
  EXPECT_EQ(*(*r)->Document(1), (std::vector<uint32_t>{4, 5}));
}

}  // namespace
}  // namespace llmtk
